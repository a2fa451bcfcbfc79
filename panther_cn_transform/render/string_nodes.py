"""YAML whose only changes are strings replaced by strings: each found at its node by its path.

Why: the general diff (`diff.py`) walks the node tree beside both models and compares
every entry of every mapping and list that an edit copied on its way down, to find the
few scalars that changed.  When the edit log knows that all it did was replace strings,
and where (`EditLog.string_changes`), each changed scalar's node is taken from the nodes
the decode recorded in document order (`Template.string_nodes`, by the string's place), or
reached by following its path down the node tree, and replaced the way the diff replaces it.

The walk follows the diff's own rules: a short-form intrinsic (`!Sub ...`) is the node
of its one-key mapping (`{"Fn::Sub": ...}`), and a node inside a flow collection gets a
flow-safe scalar.  Whatever the diff treats specially makes this give up, and the
general diff runs: anchors and aliases (the caller checks the text for anchors), a
scalar `!GetAtt A.b` (its model is a list), an unknown tag, a path the tree does not
have.
"""

from __future__ import annotations

import yaml

from ..model.intrinsics import long_name_of_tag
from ..model.paths import JsonPath
from ..model.template import RecordedStrings


class StringNodes:
    """Finds the scalar node of a string's path in one node tree.

    Paths come in document order, and one mostly shares its start with the one before: the
    walk resumes where the two part.  A mapping with many keys is indexed when first passed.
    """

    def __init__(self, root: yaml.Node) -> None:
        self._keys: dict[int, dict[str, yaml.Node]] = {}
        self._path: JsonPath = ()
        self._states: list[tuple[yaml.Node, bool, bool]] = [(root, False, False)]  # (node, in flow, inside a short form) per step

    def find(self, path: JsonPath) -> tuple[yaml.ScalarNode, bool] | None:
        """The scalar node at `path` and whether it is inside a flow collection; None when the diff must decide."""
        shared = 0
        for part, previous in zip(path, self._path):
            if part != previous or type(part) is not type(previous):
                break
            shared += 1
        states = self._states
        del states[shared + 1 :]
        self._path = path[:shared]
        node, flow, inner = states[shared]
        for part in path[shared:]:
            if not inner and node.tag[:1] == "!":  # a short-form intrinsic: the node is its mapping's value
                if part != long_name_of_tag(node.tag) or (part == "Fn::GetAtt" and isinstance(node, yaml.ScalarNode)):
                    return None
                inner = True
            else:
                inner = False
                if node.__class__ is yaml.MappingNode and part.__class__ is str:
                    flow = flow or bool(node.flow_style)
                    child = self._child(node, part)
                elif node.__class__ is yaml.SequenceNode and part.__class__ is int and 0 <= part < len(node.value):
                    flow = flow or bool(node.flow_style)
                    child = node.value[part]
                else:
                    return None
                if child is None:
                    return None
                node = child
            states.append((node, flow, inner))
            self._path += (part,)
        if node.__class__ is not yaml.ScalarNode or (not inner and node.tag[:1] == "!"):
            return None
        return node, flow

    def _child(self, node: yaml.MappingNode, key: str) -> yaml.Node | None:
        pairs: list[tuple[yaml.Node, yaml.Node]] = node.value
        if len(pairs) <= 8:  # a scan costs less than an index used once or twice
            for key_node, value_node in pairs:
                if key_node.value == key and key_node.__class__ is yaml.ScalarNode:
                    return value_node
            return None
        children = self._keys.get(id(node))
        if children is None:
            children = self._keys[id(node)] = {k.value: v for k, v in pairs if k.__class__ is yaml.ScalarNode}
        return children.get(key)


def changed_nodes(root: yaml.Node, changes: list[tuple[JsonPath, str, str, int]],
                  recorded: RecordedStrings | None = None) -> list[tuple[yaml.ScalarNode, bool, str]] | None:
    """`(node, in flow, new string)` for each change; None when one of them is not a plain path to a scalar.

    With the nodes the decode recorded (`Template.string_nodes`), a change's node is the one
    at its place, if that node holds the change's input string; any other is found by its
    path (the decode records no node for the strings of a scalar `!GetAtt`, and none at
    all for a template with aliases).
    """
    walker: StringNodes | None = None
    found: list[tuple[yaml.ScalarNode, bool, str]] = []
    for path, old, new, place in changes:
        node = recorded.nodes[place] if recorded is not None and 0 <= place < len(recorded.nodes) else None
        if node is not None and node.value == old:
            found.append((node, place in recorded.in_flow, new))  # type: ignore[union-attr]  # recorded is set with node
            continue
        walker = walker or StringNodes(root)
        located = walker.find(path)
        if located is None:
            return None
        found.append((located[0], located[1], new))
    return found

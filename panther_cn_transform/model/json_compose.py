"""The node tree of valid JSON text, as libyaml would compose it, built without libyaml.

Why: a JSON template's node tree is needed only when an edit must be rendered, and is
then composed with libyaml (template.Template.root); but libyaml refuses a mapping key
longer than 1,024 characters, so valid JSON with such a key could not be rendered.
`compose_json` builds the same tree (tags, styles, marks) for that case.
"""

from __future__ import annotations

import bisect
import re
from json.decoder import scanstring  # type: ignore[attr-defined]  # public, but not in typeshed

import yaml

from .yaml_compose import MAP, SEQ, STR

_LINE_BREAK = re.compile("\r\n|[\r\n\x85\u2028\u2029]")
_JSON_SPACE = re.compile(r"[ \t\n\r]*")
_JSON_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?")


def compose_json(text: str, source: str) -> yaml.Node:
    """The node tree libyaml would compose for valid JSON `text`, built without libyaml.

    Why: libyaml refuses a mapping key longer than 1,024 characters (YAML's limit on
    implicit keys), so valid JSON with such a key could not be rendered.  The nodes here
    have the same tags (YAML 1.1 resolution, as libyaml's loader uses), styles and
    marks as libyaml's (tests/model/test_decode.py compares them on every corpus JSON
    template).  Iterative, so nesting depth costs no Python stack.  `text` must already
    be known to be valid JSON (json.loads accepted it).
    """
    line_starts = [0] + [m.end() for m in _LINE_BREAK.finditer(text)]  # libyaml's line breaks, for equal marks
    resolver = yaml.SafeLoader("")

    def mark(index: int) -> yaml.Mark:
        line = bisect.bisect_right(line_starts, index) - 1
        return yaml.Mark("<unicode string>", index, line, index - line_starts[line], None, None)  # type: ignore[arg-type]  # as libyaml's

    def scalar(index: int) -> tuple[yaml.ScalarNode, int]:
        if text[index] == '"':
            value, end = scanstring(text, index + 1)
            return yaml.ScalarNode(STR, value, mark(index), mark(end), style='"'), end
        for literal in ("true", "false", "null"):
            if text.startswith(literal, index):
                value, end = literal, index + len(literal)
                break
        else:
            number = _JSON_NUMBER.match(text, index)
            assert number is not None, "compose_json needs valid JSON"
            value, end = number.group(0), number.end()
        tag: str = resolver.resolve(yaml.ScalarNode, value, (True, False))  # type: ignore[no-untyped-call]
        return yaml.ScalarNode(tag, value, mark(index), mark(end), style=""), end

    def space(index: int) -> int:
        found = _JSON_SPACE.match(text, index)
        return found.end() if found else index

    root: yaml.Node | None = None
    open_nodes: list[tuple[yaml.CollectionNode, list[yaml.Node]]] = []  # node, [pending key]
    index = space(0)
    want_value = True
    while True:
        if want_value:
            if open_nodes and isinstance(open_nodes[-1][0], yaml.MappingNode) and not open_nodes[-1][1]:
                key, index = scalar(index)
                index = space(space(index) + 1)  # the ':'
                open_nodes[-1][1].append(key)
            node: yaml.Node
            if text[index] in "{[":
                collection: yaml.CollectionNode
                if text[index] == "{":
                    collection = yaml.MappingNode(MAP, [], mark(index), None, flow_style=True)
                else:
                    collection = yaml.SequenceNode(SEQ, [], mark(index), None, flow_style=True)
                _attach(open_nodes, collection)
                root = root or collection
                open_nodes.append((collection, []))
                index = space(index + 1)
                want_value = text[index] not in "}]"
                continue
            node, index = scalar(index)
            _attach(open_nodes, node)
            root = root or node
            index = space(index)
            want_value = False
            continue
        if not open_nodes:
            break
        if text[index] == ",":
            index = space(index + 1)
            want_value = True
            continue
        finished, _pending = open_nodes.pop()  # '}' or ']'
        finished.end_mark = mark(index + 1)
        index = space(index + 1)
    assert root is not None
    return root


def _attach(open_nodes: list[tuple[yaml.CollectionNode, list[yaml.Node]]], node: yaml.Node) -> None:
    if not open_nodes:
        return
    parent, pending = open_nodes[-1]
    if isinstance(parent, yaml.MappingNode):
        parent.value.append((pending.pop(), node))
    else:
        parent.value.append(node)

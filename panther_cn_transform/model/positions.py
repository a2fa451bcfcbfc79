"""Where a place of the model is written in the template's text: the line and column of a path.

Why: a warning or blocker names its place as a path of the long-form model
(`/Resources/Fn/Properties/Runtime`); a code-scanning tool or an editor wants the line and
column of the file (SARIF, docs/projects.md).  The decode keeps the libyaml node tree of
the text (`Template.root`, composed on first use for JSON), whose marks give them.

Places are those of the input text.  A path into the transformed model is first taken
back to the input's coordinates (`input_path`): an edit that removed or added a list item
moved the later items of that list.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import yaml

from .intrinsics import long_name_of_tag
from .paths import JsonPath

__all__ = ["input_path", "position"]


def position(root: yaml.Node, path: JsonPath, text: str | None = None) -> tuple[int, int]:
    """The 1-based `(line, column)` at which `text`, the text `root` was composed from, writes `path`.

    A mapping entry is placed at its key, a list item where the item starts.  A path that
    goes where the text has no node of its own stops at the deepest place it reaches:
    inside the scalar of a short-form tag (`!GetAtt Bucket.Arn`, whose two strings are one
    scalar), into a value an edit added, or through an alias (its node is its anchor's,
    written elsewhere: the place is the key that holds the alias, or the `*alias` item of
    a list, found in `text`; without it, where the item before it ends).  Columns count
    characters (Unicode code points), as libyaml's marks do.

    >>> root = yaml.compose("Resources:\\n  Fn:\\n    Properties: {Runtime: go1.x}\\n")
    >>> position(root, ("Resources", "Fn", "Properties", "Runtime"))
    (3, 18)
    >>> position(root, ("Resources", "Fn", "Properties", "Handler"))  # not in the text: its mapping
    (3, 5)
    """
    node = root
    mark = root.start_mark
    for part in path:
        if node.tag[:1] == "!" and long_name_of_tag(node.tag) == part:
            continue  # `!Sub x` is the mapping {"Fn::Sub": x}: one node for both
        child, place = _child(node, part)
        if child is None or place is None:
            break
        mark = place
        if child.start_mark.index < place.index:  # an alias: its node is the anchor's, written before this place
            if isinstance(node, yaml.SequenceNode) and text is not None:
                return _alias_after(text, place)
            break
        node = child
    return mark.line + 1, mark.column + 1


#: What may stand between the end of a list item and the next item: blanks, comments, `-` and `,`.
_BETWEEN_ITEMS = re.compile(r"(?:\s|#[^\n]*|[-,\[])*")


def _alias_after(text: str, mark: yaml.Mark) -> tuple[int, int]:
    """The place of the `*alias` item that follows `mark` (where the previous item, or the list, ends)."""
    found = _BETWEEN_ITEMS.match(text, mark.index)
    index = found.end() if found and text.startswith("*", found.end()) else mark.index
    line = mark.line + text.count("\n", mark.index, index)
    return line + 1, index - (text.rfind("\n", 0, index) + 1) + 1


def _child(node: yaml.Node, part: str | int) -> tuple[yaml.Node | None, yaml.Mark | None]:
    """The node at `part` of `node`, and the mark of the place that writes it (its key, or the item)."""
    if isinstance(node, yaml.MappingNode) and isinstance(part, str):
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode) and key.value == part:
                return value, key.start_mark
        return None, None
    if isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
        bound = node.start_mark
        for item in node.value[:part]:  # the item is written after the last item written in place before it
            if item.start_mark.index >= bound.index:
                bound = item.end_mark
        item = node.value[part]
        return item, item.start_mark if item.start_mark.index >= bound.index else bound
    return None, None


def input_path(path: JsonPath, alignment: Mapping[JsonPath, Sequence[int | None]]) -> JsonPath:
    """`path`, a path of the transformed model, in the coordinates of the input.

    `alignment` is `edits.list_alignment(input model, edits)`: for every list an edit
    resized, keyed by its input path, the input index of each of its final items (None
    for an item an edit added).  A path into an added item is cut where that item starts:
    the input has no text for it.

    >>> input_path(("Resources", "R", "Properties", "List", 1, "Key"), {("Resources", "R", "Properties", "List"): [0, 2]})
    ('Resources', 'R', 'Properties', 'List', 2, 'Key')
    >>> input_path(("Outputs", "L", "Value", 0), {("Outputs", "L", "Value"): [None, 0]})
    ('Outputs', 'L', 'Value')
    """
    if not alignment:
        return path
    mapped: list[str | int] = []
    for part in path:
        if isinstance(part, int):
            indexes = alignment.get(tuple(mapped))
            if indexes is not None:
                index = indexes[part] if 0 <= part < len(indexes) else None
                if index is None:
                    break
                part = index
        mapped.append(part)
    return tuple(mapped)

"""Alias handling: every `*name` in the output still means what it meant in the input.

libyaml's tree has no alias nodes: an alias is the anchored node object itself, seen a
second time.  `AliasIndex` walks the tree once, in document order, and finds each alias's
own characters, so that the rest of the renderer can tell an alias from its anchor.

`AliasRepair` then runs once over the output in document order, keeping for each anchor
name which value it stands for at that point (`scope`):

* an alias whose anchor was deleted (its resource removed) or edited gets a *copy of the
  anchored node's source text*, re-indented to the alias's place, never a re-emission of
  the model, so `0777`, `on`, `1:20`, `1.10` and `012` stay as they were written.  The first
  such copy carries the anchor (`&name ...`), so later aliases keep pointing at it: one
  copy per anchor, and the repair is linear in the number of aliases;
* an alias edited differently from its anchor gets its own text (a copy of the anchored
  node with the edit applied) and the anchor keeps its own;
* every copy counts its values against `Limits.max_nodes`, so a small template of
  nested anchors cannot grow into a huge output.

YAML forbids a second definition of an anchor name, so a name is defined at most once in
the output; a copy that cannot take the name is written out without one.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from ..errors import TemplateError
from ..limits import Limits
from ..model.intrinsics import long_name_of_tag
from .diff import Alignment, Differ, Place, list_order
from .emit import flow_item, yaml_scalar
from .placement import Layer, Layout, Slot, Source, value_slot
from .values import ValueWriter

_SKIPPED_BEFORE_ALIAS = " \t\r\n,:-?[]{}"
# Where an anchor or alias token may start: after a space, a flow indicator or at a line start.
_TOKEN = re.compile(r"(?:^|(?<=[\s\[{,]))[&*][^\s,\[\]{}]", re.MULTILINE)


@dataclass(eq=False)
class Anchor:
    """An anchored node: its name, the `&name` token and the block level of its entry."""

    name: str
    node: yaml.Node
    token: tuple[int, int]
    level: int
    size: int = 0  # values a copy of it writes, counted when first copied

    @property
    def position(self) -> int:
        return self.token[0]


@dataclass(eq=False)
class Alias:
    """One `*name` in the source: where it is, and the place (block level, flow) it is in."""

    anchor: Anchor
    slot: Slot
    start: int
    end: int
    level: int
    flow: bool

    @property
    def position(self) -> int:
        return self.start


@dataclass
class AliasIndex:
    """Every anchor and alias of a document, in document order."""

    anchors: dict[int, Anchor] = field(default_factory=dict)
    by_slot: dict[Slot, Alias] = field(default_factory=dict)
    events: list[Anchor | Alias] = field(default_factory=list)
    positions: list[int] = field(default_factory=list)

    @property
    def spans(self) -> dict[Slot, tuple[int, int]]:
        return {slot: (alias.start, alias.end) for slot, alias in self.by_slot.items()}

    def between(self, start: int, end: int) -> list[Anchor | Alias]:
        return self.events[bisect.bisect_left(self.positions, start) : bisect.bisect_left(self.positions, end)]

    @classmethod
    def build(cls, root: yaml.Node, source: Source) -> AliasIndex:
        """Walk the tree once; a node met again is an alias, found after the previous token.

        Only subtrees whose text holds an `&` or `*` where a token can start are entered,
        so a large template with a few aliases costs little more than one without.
        """
        index = cls()
        text = source.text
        tokens = [match.start() for match in _TOKEN.finditer(text)]

        def may_hold_one(node: yaml.Node) -> bool:
            first = bisect.bisect_left(tokens, node.start_mark.index)
            return first < len(tokens) and tokens[first] < node.end_mark.index

        cursor = 0
        stack: list[Any] = [(root, root, 0, False, 0)]
        while stack:
            item = stack.pop()
            if item[0] is None:  # leaving a flow collection
                cursor = max(cursor, item[1].end_mark.index)
                continue
            node, parent, slot, flow, level = item
            known = index.anchors.get(id(node))
            if known is not None:
                start = _alias_start(source, cursor, known.name)
                alias = Alias(known, (id(parent), slot), start, start + 1 + len(known.name), level, flow)
                index.by_slot[alias.slot] = alias
                index.events.append(alias)
                cursor = alias.end
                continue
            if not may_hold_one(node):
                cursor = max(cursor, node.end_mark.index)  # (a block collection ends at the next token)
                continue
            anchor_token, _, value_start = source.properties(node)
            if anchor_token is not None:
                anchor = Anchor(text[anchor_token[0] + 1 : anchor_token[1]], node, anchor_token, level)
                index.anchors[id(node)] = anchor
                index.events.append(anchor)
            if isinstance(node, yaml.ScalarNode):
                cursor = node.end_mark.index
                continue
            cursor = max(cursor, value_start)
            inner_flow = flow or bool(node.flow_style)
            inner_level = level if inner_flow else source.column(value_start)
            if node.flow_style:
                stack.append((None, node))
            children: list[tuple[yaml.Node, yaml.Node, int, bool, int]] = []
            if isinstance(node, yaml.MappingNode):
                for i, (key, value) in enumerate(node.value):
                    children.append((key, node, 2 * i, inner_flow, inner_level))
                    children.append((value, node, value_slot(i), inner_flow, inner_level))
            else:
                children.extend((child, node, i, inner_flow, inner_level) for i, child in enumerate(node.value))
            stack.extend(reversed(children))
        index.positions = [event.position for event in index.events]
        return index


def _size(node: yaml.Node, anchors: dict[int, Anchor]) -> int:
    """Values a copy of `node` writes: its nodes, an alias inside counted once."""
    start, end = node.start_mark.index, node.end_mark.index
    seen: set[int] = set()
    count = 0
    stack = [node]
    while stack:
        item = stack.pop()
        count += 1
        anchor = anchors.get(id(item))
        if anchor is not None and item is not node:
            if id(item) in seen or not start <= anchor.position < end:
                continue  # an alias: written as `*name`
            seen.add(id(item))
        if isinstance(item, yaml.MappingNode):
            stack.extend(value for pair in item.value for value in pair)
        elif isinstance(item, yaml.SequenceNode):
            stack.extend(item.value)
    return count


def _alias_start(source: Source, cursor: int, name: str) -> int:
    """The `*name` after `cursor`: only indicators, spaces and comments can come between."""
    text, index = source.text, cursor
    while index < len(text):
        char = text[index]
        if char in _SKIPPED_BEFORE_ALIAS:
            index += 1
        elif char == "#":
            index = source.content_line_end(index)
        else:
            break
    if not (text.startswith("*" + name, index) and source.token_end(index) == index + 1 + len(name)):
        raise source.fail(f"cannot find the alias *{name} in the source", cursor)
    return index


class _Original:
    """The value an anchor had in the input."""

    def __repr__(self) -> str:
        return "ORIGINAL"


ORIGINAL = _Original()


@dataclass(frozen=True)
class Edited:
    """An edited value an anchor name stands for."""

    value: Any


Version = _Original | Edited


class AliasRepair:
    """Makes every anchor and alias of the rendered text consistent, in one pass."""

    def __init__(self, index: AliasIndex, layout: Layout, writer: ValueWriter, alignment: Alignment, limits: Limits) -> None:
        self.index = index
        self.layout = layout
        self.writer = writer
        self.alignment = alignment
        self.limits = limits
        self.anchored = frozenset(index.anchors)
        self.scope: dict[str, Version] = {}
        # kept aliases that still want the input's value, per anchor, not yet reached
        self.remaining: dict[int, int] = {}
        self.written = 0

    def run(self, top: Layer, differ: Differ) -> None:
        covered = _Coverage(top)
        for event in self.index.events:
            if isinstance(event, Alias) and event.slot not in differ.alias_edits and not covered(event.start):
                self.remaining[id(event.anchor)] = self.remaining.get(id(event.anchor), 0) + 1
        self.process(top, differ, top.start, top.end, head=None)

    # -- one layer: the document, or a copy of an anchored node ---------------------------

    def process(self, layer: Layer, differ: Differ | None, start: int, end: int, head: Anchor | None) -> None:
        """Handle the anchors and aliases in `[start, end)` of `layer`, in document order."""
        covered = _Coverage(layer)
        skip_until = start
        edits = differ.alias_edits if differ else {}
        edited = differ.edited_definitions if differ else {}
        for event in self.index.between(start, end):
            if event is head or event.position < skip_until or covered(event.position):
                continue
            if isinstance(event, Anchor):
                version: Version = Edited(edited[id(event.node)]) if id(event.node) in edited else ORIGINAL
                skip_until = max(skip_until, self.definition(layer, event, version, in_copy=head is not None))
            else:
                edit = edits.get(event.slot)
                if head is None and edit is None:
                    self.remaining[id(event.anchor)] -= 1
                self.alias(layer, event, edit)

    def definition(self, layer: Layer, anchor: Anchor, version: Version, *, in_copy: bool) -> int:
        """Keep, drop or (inside a copy) collapse an `&name`; returns where to resume."""
        current = self.scope.get(anchor.name)
        if version is ORIGINAL:
            if current is None:
                self.scope[anchor.name] = ORIGINAL
                return 0
            if in_copy and current is ORIGINAL:
                end = self.node_end(anchor.node)
                layer.put(anchor.node.start_mark.index, end, "*" + anchor.name)
                return end
        elif current is None and not self.remaining.get(id(anchor)):
            self.scope[anchor.name] = version
            return 0
        self.strip(layer, anchor)
        return 0

    def alias(self, layer: Layer, alias: Alias, edit: Any) -> None:
        """Leave `*name` where it still means the right value, else give it a copy."""
        current = self.scope.get(alias.anchor.name)
        if edit is None and current is ORIGINAL:
            return
        if edit is not None and isinstance(current, Edited) and _same(current.value, edit.new):
            return
        self.copy(layer, alias, edit)

    # -- copies -----------------------------------------------------------------------------

    def copy(self, layer: Layer, alias: Alias, edit: Any) -> None:
        """Put the anchored node's text (edited by `edit`, if any) where `alias` is."""
        anchor = self.anchor_for_copy(alias.anchor, edit)
        node = alias.anchor.node
        head = ("&" + alias.anchor.name) if anchor else ""
        self.charge(alias.anchor)
        block_node = isinstance(node, yaml.CollectionNode) and not node.flow_style
        block_scalar = isinstance(node, yaml.ScalarNode) and node.style in ("|", ">")
        if alias.flow and (block_node or block_scalar):
            text = self.flow_form(node) if edit is None else self.flow_edited(node, edit.old, edit.new, edit.path)
            layer.put(alias.start, alias.end, _joined(head, text))
            return
        start = self.layout.value_start(node, skip_tag=False)
        end = self.layout.line_end(self.layout.content_end(node)) if block_node else node.end_mark.index
        copy = Layer(self.layout, start, end)
        differ = None
        if edit is not None:
            differ = Differ(copy, self.writer, self.alignment, self.anchored)
            differ.diff(node, False, edit.old, edit.new, Place(alias.flow, alias.anchor.level), edit.path)
        token = alias.anchor.token
        if start <= token[0] < end:  # `!Tag &name value`: the tag comes along, the anchor is decided here
            self.strip(copy, alias.anchor)
        self.process(copy, differ, start, end, head=alias.anchor)
        text = copy.stitch()
        if edit is None and isinstance(node, yaml.ScalarNode) and alias.flow:
            text = self.flow_scalar(node)
        if block_node and _stays_block(edit):
            self.place_block(layer, alias, head, text)
        elif block_scalar and text.rstrip("\r\n").count("\n") and text.lstrip().startswith(("|", ">", "!")):
            self.place_block_scalar(layer, alias, head, text)
        else:
            delta = alias.level - alias.anchor.level
            layer.put(alias.start, alias.end, _joined(head, _shift(text.rstrip("\r\n") if block_scalar else text, delta)))

    def anchor_for_copy(self, anchor: Anchor, edit: Any) -> bool:
        """Whether this copy may carry `&name` (then later aliases can point at it)."""
        if anchor.name in self.scope:
            return False
        if edit is not None and self.remaining.get(id(anchor)):
            return False  # keep the name for the input's value, which later aliases want
        self.scope[anchor.name] = ORIGINAL if edit is None else Edited(edit.new)
        return True

    def place_block(self, layer: Layer, alias: Alias, head: str, text: str) -> None:
        """A block collection: on the lines after the alias's, two columns in from its entry."""
        lines = text.split("\n")
        first = lines[0]
        tag = ""
        if not first.strip() or first.lstrip().startswith("!"):
            tag = first.strip()  # a tag line, or the newline a rewritten value starts with
            lines = lines[1:]
        elif not first.startswith(" "):  # the copy starts at the value's column (unless its first entry was deleted with its line)
            lines[0] = " " * self.layout.column(self.layout.value_start(alias.anchor.node, skip_tag=True)) + first
        entries = [line for line in lines if line.strip() and not line.lstrip().startswith("#")]
        source_column = len(entries[0]) - len(entries[0].lstrip(" ")) if entries else 0
        body = _shift_lines(lines, alias.level + 2 - source_column)
        if body and body[-1] == "":
            body.pop()  # the copy's last line break: the alias's line keeps its own
        self.put_lines(layer, alias, _joined(head, tag), body)

    def place_block_scalar(self, layer: Layer, alias: Alias, head: str, text: str) -> None:
        """A literal or folded scalar: header at the alias, body re-indented under it."""
        header, _, body = text.partition("\n")
        body = body.removesuffix("\n")  # the alias's line keeps its own line break
        lines = _shift_lines(body.split("\n"), alias.level - alias.anchor.level)
        self.put_lines(layer, alias, _joined(head, header.rstrip("\r")), lines)

    def put_lines(self, layer: Layer, alias: Alias, first: str, lines: list[str]) -> None:
        layout = self.layout
        start = alias.start
        if not first:
            while start > 0 and layout.text[start - 1] in " \t":
                start -= 1  # no `Key: ` with a trailing space
        line_end = layout.content_line_end(alias.end)
        rest = layout.text[alias.end : line_end]
        newline = layout.newline
        layer.put(start, line_end, first + rest + "".join(newline + line.rstrip("\r") for line in lines))

    def flow_edited(self, node: yaml.Node, old: Any, new: Any, path: tuple[Any, ...]) -> str:
        """`flow_form` of a node whose value changed from `old` to `new`.

        What the edit did not touch keeps its source text; what it changed is written in
        the form of what it replaces (substitutions included), or anew.
        """
        if old is new:
            return self.flow_form(node)
        layout, writer = self.layout, self.writer
        _, tag_token, value_start = layout.properties(node)
        if node.tag.startswith("!"):
            name = long_name_of_tag(node.tag)
            if not (isinstance(new, dict) and list(new) == [name] and isinstance(old, dict) and name in old):
                return writer.flow(new)
            if isinstance(node, yaml.ScalarNode) and name == "Fn::GetAtt":
                return writer.flow(new)
            tag = layout.text[tag_token[0] : tag_token[1]] + " " if tag_token else ""
            return tag + self.flow_edited_value(node, old[name], new[name], path + (name,), value_start)
        return self.flow_edited_value(node, old, new, path, value_start)

    def flow_edited_value(self, node: yaml.Node, old: Any, new: Any, path: tuple[Any, ...], value_start: int) -> str:
        writer = self.writer
        if old is new:
            return self.flow_form(node, with_tag=False)
        if isinstance(node, yaml.ScalarNode):
            if isinstance(new, (dict, list)):
                return writer.flow(new)
            return writer.scalar(node, self.layout.text[value_start : node.end_mark.index], new, flow=True).rstrip("\r\n")
        if isinstance(node, yaml.MappingNode) and isinstance(old, dict) and isinstance(new, dict):
            children = {key.value: (i, value) for i, (key, value) in enumerate(node.value)}
            parts = []
            for key, value in new.items():
                if key in children and key in old:
                    i, child = children[key]
                    text = self.flow_edited_child(node, value_slot(i), child, old[key], value, path + (key,))
                    parts.append(f"{self.flow_form(node.value[i][0])}: {text}")
                else:
                    parts.append(f"{writer.flow_key(key)}: {writer.flow(value)}")
            return "{" + ", ".join(parts) + "}"
        if isinstance(node, yaml.SequenceNode) and isinstance(old, list) and isinstance(new, list):
            order = list_order(self.alignment, path, old, new)
            if order is None:
                return writer.flow(new)
            items = []
            for position, source in enumerate(order):
                if source is None:
                    items.append(writer.flow(new[position]))
                else:
                    child = node.value[source]
                    items.append(self.flow_edited_child(node, source, child, old[source], new[position], path + (source,)))
            return "[" + ", ".join(items) + "]"
        return writer.flow(new)

    def flow_edited_child(self, parent: yaml.Node, slot: int, child: yaml.Node, old: Any, new: Any, path: tuple[Any, ...]) -> str:
        if old is new:
            return self.flow_child(parent, slot, child)
        alias = self.index.by_slot.get((id(parent), slot))
        anchor = alias.anchor if alias else self.index.anchors.get(id(child))
        if anchor is not None:
            self.charge(anchor)  # an edited copy: written out, without the anchor
        return self.flow_edited(child, old, new, path)

    def flow_form(self, node: yaml.Node, *, with_tag: bool = True) -> str:
        """A block node written in flow style (for an alias inside a flow collection).

        Scalars keep their source text where it is valid in flow; aliases inside follow
        the same rules as everywhere else.
        """
        layout = self.layout
        _, tag_token, _ = layout.properties(node)
        tag = layout.text[tag_token[0] : tag_token[1]] + " " if tag_token and with_tag else ""
        if isinstance(node, yaml.ScalarNode):
            return self.flow_scalar(node, with_tag=with_tag)
        parts: list[str] = []
        mapping = isinstance(node, yaml.MappingNode)
        for i, entry in enumerate(node.value):
            child = entry[1] if mapping else entry
            value = self.flow_child(node, value_slot(i) if mapping else i, child)
            parts.append(f"{self.flow_form(entry[0])}: {value}" if mapping else value)
        inner = ", ".join(parts)
        return tag + ("{" + inner + "}" if mapping else "[" + inner + "]")

    def flow_child(self, parent: yaml.Node, slot: int, child: yaml.Node) -> str:
        alias = self.index.by_slot.get((id(parent), slot))
        anchor = alias.anchor if alias else self.index.anchors.get(id(child))
        if anchor is None:
            return self.flow_form(child)
        current = self.scope.get(anchor.name)
        if current is ORIGINAL:
            return "*" + anchor.name
        head = ""
        if current is None:
            self.scope[anchor.name] = ORIGINAL
            head = "&" + anchor.name
        self.charge(anchor)
        return _joined(head, self.flow_form(child))

    def flow_scalar(self, node: yaml.ScalarNode, *, with_tag: bool = True) -> str:
        """A scalar's source text (tag included) where it reads the same inside `[...]`.

        libyaml itself is asked: `1:20`, `0777` or `on` are fine in flow, `a, b` or a
        literal block are not and are written anew (a string quoted, a null as `null`).
        """
        layout = self.layout
        _, tag_token, value_start = layout.properties(node)
        tag = layout.text[tag_token[0] : tag_token[1]] + " " if tag_token and with_tag else ""
        text = layout.text[value_start : node.end_mark.index]
        if "\n" not in text and text.strip():
            item = flow_item(text)
            if item is not None and item.value == node.value and (item.tag == node.tag or tag):
                return tag + text
        if node.tag == "tag:yaml.org,2002:null":
            return tag + "null"
        return tag + yaml_scalar(node.value, flow=True)

    # -- small helpers ----------------------------------------------------------------------

    def strip(self, layer: Layer, anchor: Anchor) -> None:
        """Remove `&name` (and the space that separated it) from the text."""
        text = self.layout.text
        start, end = anchor.token
        if self.layout.blank_after(end):
            while start > 0 and text[start - 1] in " \t":
                start -= 1
        else:
            while end < len(text) and text[end] in " \t":
                end += 1
        layer.put(start, end, "")

    def node_end(self, node: yaml.Node) -> int:
        end = self.layout.content_end(node)
        if isinstance(node, yaml.ScalarNode) and node.style in ("|", ">"):
            while end > node.start_mark.index and self.layout.text[end - 1] in "\r\n":
                end -= 1
        return end

    def charge(self, anchor: Anchor) -> None:
        """Count a copy's values against the limit that stops alias bombs."""
        if not anchor.size:
            anchor.size = _size(anchor.node, self.index.anchors)
        self.written += anchor.size
        if self.written > self.limits.max_nodes:
            raise TemplateError(
                f"repairing aliases would write more than {self.limits.max_nodes:,} values (alias bomb? limit max_nodes)",
                file=self.layout.source,
                line=anchor.node.start_mark.line + 1,
            )


class _Coverage:
    """Which positions the replacements of a layer (as they are now) claim."""

    def __init__(self, layer: Layer) -> None:
        self.ranges = sorted(key for key in layer.replacements if key[1] > key[0])
        self.starts = [start for start, _ in self.ranges]

    def __call__(self, index: int) -> bool:
        position = bisect.bisect_right(self.starts, index) - 1
        return position >= 0 and index < self.ranges[position][1]


def _stays_block(edit: Any) -> bool:
    """Whether the copy of a block collection is block lines, to go under the alias's key.

    It is the node's own text, or what the diff writes for a non-empty collection (block
    lines, even when there is one); only a scalar or an empty collection replaces it with
    a one-line value.
    """
    return edit is None or (isinstance(edit.new, (dict, list)) and bool(edit.new))


def _joined(head: str, text: str) -> str:
    return f"{head} {text}" if head and text else head or text


def _shift(text: str, delta: int) -> str:
    """Move every line after the first by `delta` columns."""
    if delta == 0 or "\n" not in text:
        return text
    first, _, rest = text.partition("\n")
    return first + "\n" + "\n".join(_shift_lines(rest.split("\n"), delta))


def _shift_lines(lines: list[str], delta: int) -> list[str]:
    shifted = []
    for line in lines:
        if line in ("", "\r"):
            shifted.append(line)
        elif delta >= 0:
            shifted.append(" " * delta + line)
        else:
            spaces = len(line) - len(line.lstrip(" "))
            shifted.append(line[min(spaces, -delta) :])
    return shifted


def _same(a: Any, b: Any) -> bool:
    """Equal, and of the same types all the way down (`1` is not `True`)."""
    stack = [(a, b)]
    while stack:
        x, y = stack.pop()
        if x is y:
            continue
        if type(x) is not type(y):
            return False
        if isinstance(x, dict):
            if list(x) != list(y):
                return False
            stack.extend((x[k], y[k]) for k in x)
        elif isinstance(x, list):
            if len(x) != len(y):
                return False
            stack.extend(zip(x, y))
        elif x != y:
            return False
    return True

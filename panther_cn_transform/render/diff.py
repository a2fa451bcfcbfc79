"""Diffing: walk the node tree beside the old and new models and turn each difference into text edits.

Untouched values are shared objects between the two models (see `EditLog`), so they are
skipped by identity and cost nothing.  What a place allows comes down the walk from the
parent in a `Place`: inside a flow collection a new plain scalar may not hold `, [ ] { }`
and no block may start; new block entries line up with their siblings.

An alias (`*name`) is the anchored node itself in libyaml's tree, so editing through it
must not touch the anchor's text.  The walk records such an edit as an `AliasEdit` and
leaves it to `aliases.py`, which gives the alias its own text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

import yaml

from ..model.builder import TEXT_TAGS
from ..model.intrinsics import long_name_of_tag
from .placement import Layer, Slot, value_slot
from .values import ValueWriter

Alignment = dict[tuple[Any, ...], list[int | None]]


def list_order(alignment: Alignment, path: tuple[Any, ...], old: list[Any], new: list[Any]) -> list[int | None] | None:
    """For each item of `new`, the index of the `old` item it keeps (None: an item added).

    From the edit log's alignment when it knows the list; else item for item when the
    length is the same; None when neither says how the items correspond (rewrite the list).
    """
    order = alignment.get(path)
    if order is not None and len(order) == len(new):
        return order
    return list(range(len(old))) if len(old) == len(new) else None


class Place(NamedTuple):
    """Where a value sits (a named tuple: the diff makes one per changed container, and a frozen dataclass took 1 µs each).

    **Parameters:**

    * **flow** - inside a flow collection (`[...]`, `{...}`), where blocks cannot start.
    * **indent** - the column of the entry (key or `-`) that holds the value: its block level.
    """

    flow: bool
    indent: int


@dataclass(frozen=True)
class AliasEdit:
    """An edit that reaches a value through an alias: `old` (the anchored value) becomes `new`."""

    old: Any
    new: Any
    place: Place
    path: tuple[Any, ...]


class Differ:
    """Collects into `layer` the text edits that turn `old` into `new`."""

    def __init__(self, layer: Layer, writer: ValueWriter, alignment: Alignment, anchored: frozenset[int] = frozenset()) -> None:
        self.layer = layer
        self.layout = layer.layout
        self.writer = writer
        self.alignment = alignment
        self.anchored = anchored
        #: edits through aliases, by the alias's slot
        self.alias_edits: dict[Slot, AliasEdit] = {}
        #: anchored nodes whose value changed where they are defined: id -> new value
        self.edited_definitions: dict[int, Any] = {}

    def diff(self, node: yaml.Node, inner: bool, old: Any, new: Any, place: Place, path: tuple[Any, ...]) -> None:
        """Render the change from `old` (what `node` holds) to `new`."""
        if old is new:
            return
        if not inner and id(node) in self.anchored:
            self.edited_definitions[id(node)] = new
        tagged = node.tag.startswith("!") and not inner
        if tagged:
            name = long_name_of_tag(node.tag)
            getatt_scalar = name == "Fn::GetAtt" and isinstance(node, yaml.ScalarNode)
            if isinstance(new, dict) and list(new) == [name] and not getatt_scalar:
                self.diff(node, True, old[name], new[name], place, path + (name,))
            elif old != new:
                self.replace(node, new, place, keep_tag=False)
            return
        if isinstance(node, yaml.ScalarNode) or type(old) is not type(new) or not isinstance(new, (dict, list)):
            if old != new or type(old) is not type(new):
                self.replace(node, new, place, keep_tag=True)
            return
        if isinstance(node, yaml.MappingNode) and isinstance(old, dict) and isinstance(new, dict):
            self.diff_mapping(node, old, new, place, path)
        elif isinstance(node, yaml.SequenceNode) and isinstance(old, list) and isinstance(new, list):
            self.diff_sequence(node, old, new, place, path)
        else:
            self.replace(node, new, place, keep_tag=True)

    def child(self, parent: yaml.Node, slot: int, node: yaml.Node, old: Any, new: Any, place: Place, path: tuple[Any, ...]) -> None:
        """Diff one entry's value, or record the edit when the entry is an alias."""
        if old is new:
            return
        if self.layout.alias_at(parent, slot) is not None:
            self.alias_edits[(id(parent), slot)] = AliasEdit(old, new, place, path)
            return
        self.diff(node, False, old, new, place, path)

    def diff_mapping(self, node: yaml.MappingNode, old: dict[str, Any], new: dict[str, Any], place: Place, path: tuple[Any, ...]) -> None:
        pairs = node.value
        kept = [key_node.value in new for key_node, _ in pairs]
        added = {k: v for k, v in new.items() if k not in old}
        if not any(kept):
            if node.flow_style and not added:
                self.empty_flow(node)
            else:
                self.replace(node, new, place, keep_tag=True)
            return
        flow = place.flow or bool(node.flow_style)
        entry_indent = place.indent if flow else self.layout.column(self.layout.first_entry_start(node))
        inside = Place(flow, entry_indent)
        for index, (key_node, value_node) in enumerate(pairs):
            key = key_node.value
            if key in new and old[key] is not new[key]:  # most entries of a changed mapping are shared, not changed
                self.child(node, value_slot(index), value_node, old[key], new[key], inside, path + (key,))
        if all(kept) and not added:
            return
        spans = self.layout.entry_spans(node)
        starts = [start for start, _ in spans]
        ends = [end for _, end in spans]
        if not all(kept):
            self.delete_runs(node, kept, starts, ends)
        if added:
            last = max(i for i, keep in enumerate(kept) if keep)
            texts = self.mapping_entries(node, added, starts, entry_indent)
            self.insert(node, texts, starts, ends[last], separator_deleted=not all(kept[last + 1 :]))

    def diff_sequence(self, node: yaml.SequenceNode, old: list[Any], new: list[Any], place: Place, path: tuple[Any, ...]) -> None:
        items = node.value
        flow = place.flow or bool(node.flow_style)
        order = list_order(self.alignment, path, old, new)
        if order is None:
            self.replace(node, new, place, keep_tag=True)  # no alignment known: rewrite the list
            return
        item_indent = place.indent if flow or not items else self.layout.column(self.layout.dash_before(self.layout.first_entry_start(node)))
        kept = [False] * len(old)
        appended: list[Any] = []
        last_kept = -1
        changes: list[tuple[int, int]] = []
        for position, source in enumerate(order):
            if source is None:
                if any(s is not None for s in order[position:]):
                    self.replace(node, new, place, keep_tag=True)  # insertion mid-list: rewrite the list
                    return
                appended.append(new[position])
                continue
            if source < last_kept:
                self.replace(node, new, place, keep_tag=True)  # reordered: rewrite the list
                return
            last_kept = source
            kept[source] = True
            changes.append((position, source))
        if not any(kept) and (appended or old):
            if node.flow_style and not appended:
                self.empty_flow(node)
            else:
                self.replace(node, new, place, keep_tag=True)
            return
        resized = not all(kept) or bool(appended)
        inside = Place(flow, item_indent)
        for position, source in changes:
            if old[source] is not new[position]:
                self.child(node, source, items[source], old[source], new[position], inside, path + (source,))
        if not resized:
            return
        spans = self.layout.entry_spans(node) if items else []
        starts = [start for start, _ in spans]
        if not node.flow_style:
            starts = [self.layout.dash_before(start) for start in starts]
        ends = [end for _, end in spans]
        if not all(kept):
            self.delete_runs(node, kept, starts, ends)
        if appended:
            last = max(i for i, keep in enumerate(kept) if keep)
            texts = self.sequence_items(node, appended, starts)
            self.insert(node, texts, starts, ends[last], separator_deleted=not all(kept[last + 1 :]))

    # -- deletions ----------------------------------------------------------------------

    def delete_runs(self, node: yaml.CollectionNode, kept: list[bool], starts: list[int], ends: list[int]) -> None:
        """Delete every run of entries not kept, with the separators and comments that belong to it.

        A comment on an entry's line belongs to that entry; a comment on a line of its own
        stays where it is.
        """
        count = len(kept)
        i = 0
        while i < count:
            if kept[i]:
                i += 1
                continue
            j = i
            while j + 1 < count and not kept[j + 1]:
                j += 1
            if node.flow_style:
                self.delete_flow_run(node, i, j, starts, ends)
            else:
                self.delete_block_run(i, j, starts, ends)
            i = j + 1

    def delete_block_run(self, i: int, j: int, starts: list[int], ends: list[int]) -> None:
        layout = self.layout
        if layout.only_space_before(starts[i]):
            self.layer.put(layout.line_start(starts[i]), layout.line_end(ends[j]), "")
        elif j + 1 < len(starts):
            # first entry of a `- Key: value` or `- - item` item: pull the next entry up after the dash
            self.layer.put(starts[i], starts[j + 1], "")
        else:  # pragma: no cover - unreachable: only a first entry shares its line, and one is kept after it
            raise layout.fail("cannot delete entry", starts[i])

    def delete_flow_run(self, node: yaml.CollectionNode, i: int, j: int, starts: list[int], ends: list[int]) -> None:
        layout = self.layout
        closing = node.end_mark.index - 1
        if j + 1 < len(starts):
            separator = layout.separator_after(ends[j], closing)
            if layout.only_space_before(starts[i]) and separator is not None and layout.blank_after(separator + 1):
                # entries on lines of their own: drop those lines (and the comments on them)
                self.layer.put(layout.line_start(starts[i]), layout.line_end(separator + 1), "")
            else:
                self.layer.put(starts[i], starts[j + 1], "")
            return
        # the last entries: the separator before them goes, the previous entry's comment stays
        separator = layout.separator_after(ends[i - 1], closing)
        if separator is not None:
            self.layer.put(separator, separator + 1, "")
        after = layout.separator_after(ends[j], closing)
        end = after + 1 if after is not None else ends[j]  # a trailing comma goes too
        if layout.only_space_before(starts[i]) and layout.blank_after(end):
            self.layer.put(layout.line_start(starts[i]), layout.line_end(end), "")
            return
        start = starts[i]
        while start > 0 and layout.text[start - 1] in " \t" and start - 1 > (separator if separator is not None else -1):
            start -= 1
        self.layer.put(start, end, "")

    def empty_flow(self, node: yaml.CollectionNode) -> None:
        """Delete every entry of a flow collection; its brackets (and their lines) stay."""
        layout = self.layout
        spans = layout.entry_spans(node)
        start, end = spans[0][0], spans[-1][1]
        separator = layout.separator_after(end, node.end_mark.index - 1)
        end = separator + 1 if separator is not None else end
        if layout.only_space_before(start) and layout.blank_after(end):
            self.layer.put(layout.line_start(start), layout.line_end(end), "")
        else:
            self.layer.put(start, end, "")

    # -- insertions ---------------------------------------------------------------------

    def mapping_entries(self, node: yaml.MappingNode, added: dict[str, Any], starts: list[int], indent: int) -> list[str]:
        writer = self.writer
        if writer.json:
            base = self.layout.indentation(starts[0])
            return [f"{writer.json_key(k)}: {writer.json_value(v, base)}" for k, v in added.items()]
        if node.flow_style:
            return [f"{writer.flow_key(k)}: {writer.flow(v)}" for k, v in added.items()]
        return [self.layout.newline.join(writer.block({k: v}, indent)) for k, v in added.items()]

    def sequence_items(self, node: yaml.SequenceNode, appended: list[Any], starts: list[int]) -> list[str]:
        writer = self.writer
        if writer.json:
            base = self.layout.indentation(starts[0])
            return [writer.json_value(v, base) for v in appended]
        if node.flow_style:
            return [writer.flow(v) for v in appended]
        return [self.layout.newline.join(writer.block([v], self.layout.column(starts[0]))) for v in appended]

    def insert(self, node: yaml.CollectionNode, texts: list[str], starts: list[int], last_end: int, *, separator_deleted: bool) -> None:
        """Add entries after the entry that ends at `last_end`, laid out like their siblings.

        `separator_deleted`: the entries after that one are being deleted, and with them
        the `,` that follows it in a flow collection.
        """
        layout, newline = self.layout, self.layout.newline
        if not node.flow_style:
            position = layout.line_end(last_end)
            prefix = "" if position == 0 or layout.text[position - 1] == "\n" else newline
            self.layer.put(position, position, prefix + "".join(text + newline for text in texts))
            return
        closing = node.end_mark.index - 1
        separator = layout.separator_after(last_end, closing)
        after = separator + 1 if separator is not None else last_end
        keeps_separator = separator is not None and not separator_deleted  # a trailing `,` stays last
        if layout.only_space_before(starts[0]) and layout.blank_after(after):
            # one entry a line: `,` after the last entry, new lines after its comment
            pad = layout.indentation(starts[0])
            if not keeps_separator:
                self.layer.put(last_end, last_end, ",")
            position = layout.content_line_end(after)
            body = ("," + newline).join(pad + text for text in texts)
            self.layer.put(position, position, newline + body + ("," if keeps_separator else ""))
            return
        opening = layout.value_start(node, skip_tag=True)  # the bracket, after an anchor or a tag
        if layout.text[opening] not in "[{":
            raise layout.fail("cannot find the flow collection's bracket", opening)
        gap = layout.text[opening + 1 : starts[0]] if self.writer.json else " "
        self.layer.put(last_end, last_end, "".join(f",{gap}{text}" for text in texts))

    # -- whole-value replacement --------------------------------------------------------

    def replace(self, node: yaml.Node, new: Any, place: Place, *, keep_tag: bool) -> None:
        """Replace the node's value text with `new` (keeping its anchor, and tag if asked and it still fits)."""
        if keep_tag and not _standard_tag_fits(node.tag, new):
            keep_tag = False  # `!!int` or `!!map` written before what is now a string would misread it
        layout, writer = self.layout, self.writer
        start = layout.value_start(node, skip_tag=keep_tag)
        if isinstance(node, yaml.ScalarNode):
            end = node.end_mark.index
        else:
            end = layout.content_end(node)
            while end > start and layout.text[end - 1] in "\r\n":
                end -= 1  # a block scalar at the end owns its line break; the line keeps it
        if isinstance(node, yaml.ScalarNode) and not isinstance(new, (dict, list)):
            self.layer.put(start, end, writer.scalar(node, layout.text[start:end], new, flow=place.flow))
            return
        if writer.json:
            self.layer.put(start, end, writer.json_value(new, layout.indentation(start)))
            return
        block = isinstance(node, yaml.CollectionNode) and not node.flow_style
        # a block sequence written at its key's column (`Key:` then `- item`): anything but
        # another such list must go further in, or it would read as the next key
        indentless = block and layout.column(start) <= place.indent
        flow_text = writer.flow(new)
        if isinstance(new, (dict, list)) and new and not place.flow and (block or len(flow_text) > 100):
            newline = layout.newline
            if indentless and isinstance(new, dict):
                self.layer.put(layout.line_start(start), end, newline.join(writer.block(new, place.indent + 2)))
            elif block and not (node.tag.startswith("!") and not keep_tag):
                column = layout.column(start)
                lines = writer.block(new, column)
                self.layer.put(start, end, newline.join(lines)[column:])
            else:
                lines = writer.block(new, place.indent + 2)
                while start > 0 and layout.text[start - 1] == " ":
                    start -= 1
                self.layer.put(start, end, newline + newline.join(lines))
            return
        if isinstance(node, yaml.ScalarNode) and node.style in ("|", ">"):
            flow_text += layout.newline
        if indentless:
            self.layer.put(layout.line_start(start), end, " " * (place.indent + 2) + flow_text)
            return
        self.layer.put(start, end, flow_text)


_STANDARD_KINDS: dict[str, tuple[type, ...]] = {
    "str": (str,), "int": (int,), "float": (float,), "bool": (bool,), "null": (type(None),), "map": (dict,), "seq": (list,),
    **{tag.rsplit(":", 1)[1]: (str,) for tag in TEXT_TAGS},  # read as their text (model/builder.py)
}


def _standard_tag_fits(tag: str, new: Any) -> bool:
    """False when `tag` is a YAML standard tag (`!!int`, explicit or resolved) that `new` is not of.

    Only an explicit tag is in the text, and only an explicit one can be kept; a resolved
    one (a plain `5` is `!!int`) has no text, so dropping it changes nothing.
    """
    if not tag.startswith("tag:yaml.org,2002:"):
        return True
    kinds = _STANDARD_KINDS.get(tag.rsplit(":", 1)[1])
    return kinds is not None and type(new) in kinds

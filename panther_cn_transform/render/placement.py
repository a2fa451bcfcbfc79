"""Text placement: where a value, an entry or a line is in the source, and edits to ranges of it.

The renderer never rewrites a file.  It collects replacements of character ranges of the
original text (`Layer`) and stitches them in at the end, so every character no edit
claims stays as it was.  `Layout` answers the position questions the diff walk asks:
where a node's value starts (after its anchor and tag), where an entry ends, which
characters a deleted entry owns (its separator, and a comment on its line), and where a
new entry goes.  Positions come from libyaml's marks; an alias has no node of its own,
so its position comes from the alias index (`aliases.py`).
"""

from __future__ import annotations

from collections.abc import Mapping

import yaml

from ..errors import RenderError

# A child's place in its parent: a sequence item's index, or 2*i (key) / 2*i+1 (value)
# of a mapping's i-th pair.  Keyed by the parent's id: nodes have no identity of their own
# once an alias shares them.
Slot = tuple[int, int]
_NAME_END = " \t\r\n,[]{}"


def value_slot(index: int) -> int:
    """The slot number of the i-th mapping pair's value."""
    return 2 * index + 1


class Source:
    """The template text and the line arithmetic every placement needs."""

    def __init__(self, text: str, newline: str, source: str) -> None:
        self.text = text
        self.newline = newline
        self.source = source

    def line_of(self, index: int) -> int:
        return self.text.count("\n", 0, index) + 1

    def line_start(self, index: int) -> int:
        return self.text.rfind("\n", 0, index) + 1

    def line_end(self, index: int) -> int:
        """Just after the line break that ends the line holding `index - 1`'s content."""
        if index > 0 and self.text[index - 1] == "\n":
            return index
        found = self.text.find("\n", index)
        return len(self.text) if found < 0 else found + 1

    def content_line_end(self, index: int) -> int:
        """Where the line holding `index` ends, before its line break (`\\r\\n` or `\\n`)."""
        found = self.text.find("\n", index)
        if found < 0:
            return len(self.text)
        return found - 1 if found > 0 and self.text[found - 1] == "\r" else found

    def column(self, index: int) -> int:
        return index - self.line_start(index)

    def indentation(self, index: int) -> str:
        """The leading whitespace of the line holding `index`."""
        start = self.line_start(index)
        end = start
        while end < len(self.text) and self.text[end] in " \t":
            end += 1
        return self.text[start:end]

    def only_space_before(self, index: int) -> bool:
        return not self.text[self.line_start(index) : index].strip()

    def blank_after(self, index: int) -> bool:
        """Only spaces, or a comment, between `index` and the end of its line."""
        rest = self.text[index : self.content_line_end(index)].lstrip(" \t")
        return not rest or rest.startswith("#")

    def skip_space_and_comments(self, index: int, limit: int | None = None) -> int:
        """The first position at or after `index` that is not whitespace or a comment."""
        text, end = self.text, len(self.text) if limit is None else limit
        while index < end:
            char = text[index]
            if char in " \t\r\n":
                index += 1
            elif char == "#" and (index == 0 or text[index - 1] in " \t\r\n"):
                index = self.content_line_end(index)
            else:
                break
        return index

    def token_end(self, index: int) -> int:
        """End of an anchor, alias or tag token that starts at `index`."""
        text, end = self.text, len(self.text)
        while index < end and text[index] not in _NAME_END:
            index += 1
        return index

    def properties(self, node: yaml.Node) -> tuple[tuple[int, int] | None, tuple[int, int] | None, int]:
        """The node's anchor token, tag token (either may be None) and where its value starts."""
        text, index = self.text, node.start_mark.index
        limit = node.end_mark.index
        anchor = tag = None
        while index < limit and text[index] in "&!":
            end = self.token_end(index)
            if text[index] == "&":
                anchor = (index, end)
            else:
                tag = (index, end)
            index = self.skip_space_and_comments(end, limit)
        if isinstance(node, yaml.ScalarNode):
            index = min(index, limit)
        return anchor, tag, index

    def value_start(self, node: yaml.Node, *, skip_tag: bool) -> int:
        """Where the node's value starts, after its anchor (and tag, if `skip_tag`)."""
        _, tag, value = self.properties(node)
        if tag is not None and not skip_tag:
            return tag[0]  # an anchor written after the tag goes with it
        return value

    def fail(self, message: str, index: int) -> RenderError:
        return RenderError(message, file=self.source, line=self.line_of(index))


class Layout(Source):
    """Positions of entries in collections, aliases included."""

    def __init__(self, text: str, newline: str, source: str, alias_spans: Mapping[Slot, tuple[int, int]]) -> None:
        super().__init__(text, newline, source)
        self.alias_spans = alias_spans
        self._spans: dict[int, list[tuple[int, int]]] = {}

    def alias_at(self, parent: yaml.Node, slot: int) -> tuple[int, int] | None:
        """The `*name` text of the child in `slot` of `parent`, when that child is an alias."""
        if not self.alias_spans:
            return None
        return self.alias_spans.get((id(parent), slot))

    def content_end(self, node: yaml.Node) -> int:
        """End of the node's last character of content (block collections exclude trailing comments).

        The end of its last entry, followed down the last entries only: `entry_spans(node)`
        would measure every entry of every level below.
        """
        if not isinstance(node, yaml.CollectionNode) or node.flow_style or not node.value:
            return int(node.end_mark.index)
        cached = self._spans.get(id(node))
        return cached[-1][1] if cached is not None else self._entry_end(node, len(node.value) - 1)

    def entry_spans(self, node: yaml.Node) -> list[tuple[int, int]]:
        """`(start, end)` of each entry's text: key to end of value, or the item itself."""
        cached = self._spans.get(id(node))
        if cached is None:
            cached = self._spans[id(node)] = self._entry_spans(node)
        return cached

    def first_entry_start(self, node: yaml.Node) -> int:
        """`entry_spans(node)[0][0]` without the ends of every entry (which need their whole subtrees)."""
        cached = self._spans.get(id(node))
        return cached[0][0] if cached is not None else self._entry_start(node, 0)

    def _entry_start(self, node: yaml.Node, index: int) -> int:
        """Where entry `index` starts: its key (mapping) or its item (sequence), or the `*name` of an alias there."""
        if isinstance(node, yaml.MappingNode):
            alias = self.alias_at(node, 2 * index)  # the key's slot
            return alias[0] if alias else self._explicit_key_start(int(node.value[index][0].start_mark.index))
        alias = self.alias_at(node, index)
        return alias[0] if alias else int(node.value[index].start_mark.index)

    def _explicit_key_start(self, key_start: int) -> int:
        """Where a key written after the explicit-key indicator (`? key`) starts its entry: at the `?`."""
        text = self.text
        if key_start == 0 or text[key_start - 1] not in " \t":
            return key_start
        # back over the spaces before the key, on its line (sliced, not a loop: keys are indented)
        line_start = text.rfind("\n", 0, key_start) + 1
        position = line_start + len(text[line_start:key_start].rstrip(" \t"))
        before = text[position - 2] if position >= 2 else "\n"
        if position > 0 and text[position - 1] == "?" and position < key_start and before in " \t\r\n{[,":
            return position - 1
        return key_start

    def _entry_end(self, node: yaml.Node, index: int) -> int:
        """Where entry `index` ends: its value's content, or the `*name` of an alias there."""
        mapping = isinstance(node, yaml.MappingNode)
        alias = self.alias_at(node, value_slot(index) if mapping else index)
        if alias:
            return alias[1]
        return self.content_end(node.value[index][1] if mapping else node.value[index])

    def _entry_spans(self, node: yaml.Node) -> list[tuple[int, int]]:
        return [(self._entry_start(node, index), self._entry_end(node, index)) for index in range(len(node.value))]

    def dash_before(self, index: int) -> int:
        """The `-` of the block sequence item that starts at `index`."""
        return self.text.rfind("-", 0, index)

    def separator_after(self, index: int, limit: int) -> int | None:
        """The `,` that follows a flow entry ending at `index`, if any."""
        position = self.skip_space_and_comments(index, limit)
        return position if position < limit and self.text[position] == "," else None


class Layer:
    """Replacements of character ranges inside `[start, end)` of the source, stitched on demand.

    The whole document is one layer; a copy of an anchored node made for an alias is
    another, over the node's own text, so that the copy can carry its own edits.
    """

    def __init__(self, layout: Layout, start: int, end: int) -> None:
        self.layout = layout
        self.start = start
        self.end = end
        self.replacements: dict[tuple[int, int], str] = {}

    def put(self, start: int, end: int, text: str) -> None:
        start = max(start, self.start)  # a copy holds only its own node's text
        key = (start, end)
        if start == end and key in self.replacements:
            # two insertions at one place (a nested mapping's new keys, then its parent's):
            # the walk visits inner before outer, so call order is document order
            self.replacements[key] += text
            return
        if self.replacements.get(key, text) != text:
            raise self.layout.fail("two different edits of one value", start)
        self.replacements[key] = text

    def stitch(self) -> str:
        text = self.layout.text
        pieces: list[str] = []
        position = self.start
        for (start, end), replacement in sorted(self.replacements.items()):
            if start < position:
                raise self.layout.fail("two edits overlap", start)
            pieces.append(text[position:start])
            pieces.append(replacement)
            position = end
        pieces.append(text[position : self.end])
        return "".join(pieces)

"""Render a changed model back into the template's own text.

Why not dump the model: a dump rewrites every line (quoting, key order, comments,
folding), so a reviewer's diff would show noise instead of changes.  Instead the renderer
walks the original libyaml node tree beside the old and new models and turns each
difference into a replacement of a character range of the source.  Untouched values are
shared objects between the two models (see `EditLog`), so they are skipped by identity
and cost nothing.  Everything not edited stays byte for byte.

After rendering, `verify` parses the result and compares it with the planned model; a
string edit that used substring substitutions and failed that check is rendered again
with whole-scalar replacement before giving up with `RenderError`.
"""

from __future__ import annotations

import bisect
import json
import re
from typing import Any

import yaml

from .decode import Template, _ModelBuilder, decode_text
from .emit import _literal_header, json_text, yaml_block_lines, yaml_flow, yaml_scalar
from .errors import RenderError, TemplateError
from .intrinsics import SHORT_TAGS, long_name_of_tag
from .walk import first_difference

Substitutions = dict[tuple[str, str], tuple[tuple[str, str], ...]]
Alignment = dict[tuple[Any, ...], list[int | None]]
_SHORT_TAG_RE = re.compile(r"(?<![\w'\"])!(" + "|".join(t[1:] for t in SHORT_TAGS) + r")\b")
_SAFE_FRAGMENT = re.compile(r"[A-Za-z0-9._:/*@+=${}-]*")


def render(
    template: Template,
    new_model: dict[str, Any],
    substitutions: Substitutions | None = None,
    alignment: Alignment | None = None,
) -> str:
    """The text of `template` changed to `new_model`, touching only what differs.

    `substitutions` (from `EditLog.substitutions`) lets a string edit change only the
    substituted characters; `alignment` (from `edits.list_alignment`) says which input
    item each item of a resized list is.
    """
    if new_model is template.model:
        return _with_bom(template, template.text)
    for use_substitutions in (True, False):
        renderer = _Renderer(template, substitutions if use_substitutions else None, alignment or {})
        renderer.diff(template.root, False, template.model, new_model, 0, ())
        renderer.keep_orphaned_aliases()
        text = renderer.result()
        try:
            reparsed = decode_text(text, source=template.source, limits=template.limits, trusted=True).model
        except TemplateError as exc:
            problem = f"rendered text does not parse ({exc.message}, line {exc.line})"
        else:
            if reparsed == new_model:
                return _with_bom(template, text)
            problem = f"rendered text differs from the planned model at {first_difference(reparsed, new_model)}"
        if not substitutions:
            break
    raise RenderError(problem, file=template.source)


def _with_bom(template: Template, text: str) -> str:
    return ("\ufeff" + text) if template.bom else text


class _Renderer:
    def __init__(self, template: Template, substitutions: Substitutions | None, alignment: Alignment) -> None:
        self.template = template
        self.alignment = alignment
        self.text = template.text
        self.json = template.format == "json"
        self.substitutions = substitutions or {}
        self.short_tags = bool(_SHORT_TAG_RE.search(self.text)) if not self.json else False
        self.ensure_ascii = self.json and "\\u" in self.text and self.text.isascii()
        self.json_indent = _json_indent(self.text) if self.json else None
        self.replacements: dict[tuple[int, int], str] = {}
        self._aliases: list[tuple[int, int]] | None = None
        self._spans: dict[int, list[tuple[int, int]]] = {}

    # -- collecting text replacements -------------------------------------------------

    def put(self, start: int, end: int, text: str) -> None:
        key = (start, end)
        if start == end and key in self.replacements:
            # two insertions at one place (a nested mapping's new keys, then its parent's):
            # the walk visits inner before outer, so call order is document order
            self.replacements[key] += text
            return
        if self.replacements.get(key, text) != text:
            raise RenderError(
                f"an anchored value at line {self.line_of(start)} is edited differently through two aliases",
                file=self.template.source,
                line=self.line_of(start),
            )
        self.replacements[key] = text

    def result(self) -> str:
        pieces: list[str] = []
        position = 0
        for (start, end), text in sorted(self.replacements.items()):
            if start < position:
                raise RenderError(f"two edits overlap at line {self.line_of(start)}", file=self.template.source)
            pieces.append(self.text[position:start])
            pieces.append(text)
            position = end
        pieces.append(self.text[position:])
        return "".join(pieces)

    def keep_orphaned_aliases(self) -> None:
        """An alias whose anchor was deleted with its owner gets a copy of the value.

        Without this, `*name` would point at nothing and the template would not parse.
        """
        if self.json or "&" not in self.text or "*" not in self.text:
            return  # JSON has no aliases (and libyaml cannot scan all valid JSON: keys over 1,024 characters)
        gone = [(start, end) for (start, end), text in self.replacements.items() if end > start]
        if not gone:
            return
        anchors: dict[str, int] = {}
        for token in yaml.scan(self.text, Loader=yaml.CSafeLoader):
            if isinstance(token, yaml.AnchorToken):
                anchors[token.value] = token.start_mark.index
            elif isinstance(token, yaml.AliasToken):
                anchor = anchors.get(token.value)
                start, end = token.start_mark.index, token.end_mark.index
                if anchor is None or not _inside(anchor, gone) or _inside(start, gone):
                    continue
                node = self.node_at(anchor)
                if node is not None:
                    value = _ModelBuilder(self.template.source, self.template.limits).value(node, 1)
                    self.put(start, end, yaml_flow(value, short_tags=self.short_tags))

    def node_at(self, index: int) -> yaml.Node | None:
        """The node whose text starts at `index` (where its anchor is)."""
        stack: list[yaml.Node] = [self.template.root]
        while stack:
            node = stack.pop()
            if node.start_mark.index == index:
                return node
            if isinstance(node, yaml.MappingNode):
                stack.extend(value for pair in node.value for value in pair)
            elif isinstance(node, yaml.SequenceNode):
                stack.extend(node.value)
        return None

    # -- positions ----------------------------------------------------------------------

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

    def column(self, index: int) -> int:
        return index - self.line_start(index)

    def value_start(self, node: yaml.Node, *, skip_tag: bool) -> int:
        """Where the node's value starts, after its anchor (and tag, if `skip_tag`)."""
        text, index, end = self.text, node.start_mark.index, node.end_mark.index
        while index < end and text[index] in "!&":
            if text[index] == "!" and not skip_tag:
                break
            while index < end and text[index] not in " \t\r\n":
                index += 1
            while index < end and text[index] in " \t\r\n":
                index += 1
        return index

    def content_end(self, node: yaml.Node) -> int:
        """End of the node's last character of content (block collections exclude trailing comments)."""
        if not isinstance(node, yaml.CollectionNode) or node.flow_style or not node.value:
            return int(node.end_mark.index)
        return self.entry_spans(node)[-1][1]

    def entry_spans(self, node: yaml.Node) -> list[tuple[int, int]]:
        """`(start, end)` of each entry's text: key to end of value, or the item itself.

        An alias (`*name`) is the anchored node object itself, whose marks point at the
        anchor; its own text is found among the alias tokens after the entry's start.
        """
        cached = self._spans.get(id(node))
        if cached is None:
            cached = self._spans[id(node)] = self._entry_spans(node)
        return cached

    def _entry_spans(self, node: yaml.Node) -> list[tuple[int, int]]:
        spans: list[tuple[int, int]] = []
        previous_end = node.start_mark.index
        for entry in node.value:
            if isinstance(node, yaml.MappingNode):
                key, value = entry
                start, window = key.start_mark.index, key.end_mark.index
            else:
                value = entry
                start = window = value.start_mark.index
            if value.start_mark.index < max(window, previous_end):
                alias_start, alias_end = self.alias_after(max(window, previous_end))
                if start == window and not isinstance(node, yaml.MappingNode):
                    start = alias_start
                end = alias_end
            else:
                end = self.content_end(value)
            spans.append((start, end))
            previous_end = end
        return spans

    def alias_after(self, index: int) -> tuple[int, int]:
        if self._aliases is None:
            self._aliases = [
                (t.start_mark.index, t.end_mark.index)
                for t in yaml.scan(self.text, Loader=yaml.CSafeLoader)
                if isinstance(t, yaml.AliasToken)
            ]
        position = bisect.bisect_left(self._aliases, (index, -1))
        if position >= len(self._aliases):
            raise RenderError("cannot find an alias in the source", file=self.template.source, line=self.line_of(index))
        return self._aliases[position]

    def only_space_before(self, index: int) -> bool:
        return not self.text[self.line_start(index) : index].strip()

    # -- the diff walk ------------------------------------------------------------------

    def diff(self, node: yaml.Node, inner: bool, old: Any, new: Any, indent: int, path: tuple[Any, ...]) -> None:
        """Render the change from `old` (what `node` holds) to `new`."""
        if old is new:
            return
        tagged = node.tag.startswith("!") and not inner
        if tagged:
            name = long_name_of_tag(node.tag)
            getatt_scalar = name == "Fn::GetAtt" and isinstance(node, yaml.ScalarNode)
            if isinstance(new, dict) and list(new) == [name] and not getatt_scalar:
                self.diff(node, True, old[name], new[name], indent, path + (name,))
            elif old != new:
                self.replace(node, new, indent, keep_tag=False)
            return
        if isinstance(node, yaml.ScalarNode) or type(old) is not type(new) or not isinstance(new, (dict, list)):
            if old != new or type(old) is not type(new):
                self.replace(node, new, indent, keep_tag=True)
            return
        if isinstance(node, yaml.MappingNode) and isinstance(old, dict) and isinstance(new, dict):
            self.diff_mapping(node, old, new, indent, path)
        elif isinstance(node, yaml.SequenceNode) and isinstance(old, list) and isinstance(new, list):
            self.diff_sequence(node, old, new, indent, path)
        else:
            self.replace(node, new, indent, keep_tag=True)

    def diff_mapping(self, node: yaml.MappingNode, old: dict[str, Any], new: dict[str, Any], indent: int, path: tuple[Any, ...]) -> None:
        pairs = node.value
        kept = [key_node.value in new for key_node, _ in pairs]
        added = {k: v for k, v in new.items() if k not in old}
        if not any(kept):
            self.replace(node, new, indent, keep_tag=True)
            return
        entry_indent = self.column(pairs[0][0].start_mark.index)
        for key_node, value_node in pairs:
            key = key_node.value
            if key in new and new[key] is not old[key]:
                self.diff(value_node, False, old[key], new[key], entry_indent, path + (key,))
        if all(kept) and not added:
            return
        spans = self.entry_spans(node)
        starts = [start for start, _ in spans]
        ends = [end for _, end in spans]
        if not all(kept):
            self.delete_runs(node, kept, starts, ends)
        if added:
            last = max(i for i, keep in enumerate(kept) if keep)
            self.insert_entries(node, added, starts, ends[last], entry_indent)

    def diff_sequence(self, node: yaml.SequenceNode, old: list[Any], new: list[Any], indent: int, path: tuple[Any, ...]) -> None:
        items = node.value
        block = not node.flow_style
        order = self.alignment.get(path)
        if order is None or len(order) != len(new):
            if len(old) != len(new):
                self.replace(node, new, indent, keep_tag=True)  # no alignment known: rewrite the list
                return
            order = list(range(len(old)))
        kept = [False] * len(old)
        appended: list[Any] = []
        last_kept = -1
        for position, source in enumerate(order):
            if source is None:
                if any(s is not None for s in order[position:]):
                    self.replace(node, new, indent, keep_tag=True)  # insertion mid-list: rewrite the list
                    return
                appended.append(new[position])
                continue
            if source < last_kept:
                self.replace(node, new, indent, keep_tag=True)  # reordered: rewrite the list
                return
            last_kept = source
            kept[source] = True
            if new[position] is not old[source]:
                item_indent = self.column(self.dash_of(items[source])) if block else indent
                if items[source].start_mark.index < node.start_mark.index:
                    item_indent = indent + 2  # an alias: its anchored node lives elsewhere
                self.diff(items[source], False, old[source], new[position], item_indent, path + (source,))
        if all(kept) and not appended:
            return
        if not any(kept):
            self.replace(node, new, indent, keep_tag=True)
            return
        spans = self.entry_spans(node)
        ends = [end for _, end in spans]
        if node.flow_style:
            starts = [start for start, _ in spans]
        else:
            starts = [self.text.rfind("-", 0, start) for start, _ in spans]
            if not all(self.only_space_before(s) for s in starts):
                self.replace(node, new, indent, keep_tag=True)
                return
        if not all(kept):
            self.delete_runs(node, kept, starts, ends)
        if appended:
            last = max(i for i, keep in enumerate(kept) if keep)
            self.insert_items(node, appended, starts, ends[last])

    def dash_of(self, item: yaml.Node) -> int:
        return self.text.rfind("-", 0, item.start_mark.index)

    # -- deletions and insertions -------------------------------------------------------

    def delete_runs(self, node: yaml.Node, kept: list[bool], starts: list[int], ends: list[int]) -> None:
        """Delete every run of entries not kept, with the separators that belong to it."""
        count = len(kept)
        i = 0
        while i < count:
            if kept[i]:
                i += 1
                continue
            j = i
            while j + 1 < count and not kept[j + 1]:
                j += 1
            after = j + 1 < count
            if isinstance(node, yaml.CollectionNode) and node.flow_style:
                if after:
                    self.put(starts[i], starts[j + 1], "")
                else:
                    self.put(ends[i - 1], ends[j], "")
            elif self.only_space_before(starts[i]):
                self.put(self.line_start(starts[i]), self.line_end(ends[j]), "")
            elif after:
                # first key of a `- Key: value` item: pull the next entry up after the dash
                self.put(starts[i], starts[j + 1], "")
            else:  # pragma: no cover - unreachable: a kept entry exists before
                raise RenderError("cannot delete entry", file=self.template.source)
            i = j + 1

    def insert_entries(self, node: yaml.MappingNode, added: dict[str, Any], starts: list[int], last_end: int, indent: int) -> None:
        if node.flow_style:
            separator = self.text[node.start_mark.index + 1 : starts[0]] if self.json else " "
            if self.json:
                base = self.column(starts[0])
                text = "".join(
                    f",{separator}{json.dumps(k, ensure_ascii=self.ensure_ascii)}: "
                    + json_text(v, indent=self.json_indent, base=base, ensure_ascii=self.ensure_ascii)
                    for k, v in added.items()
                )
            else:
                text = "".join(f", {yaml_scalar(k, flow=True)}: {yaml_flow(v, short_tags=self.short_tags)}" for k, v in added.items())
            self.put(last_end, last_end, text)
            return
        position = self.line_end(last_end)
        lines = yaml_block_lines(added, indent, short_tags=self.short_tags)
        self.put(position, position, self.block_text(position, lines))

    def insert_items(self, node: yaml.SequenceNode, appended: list[Any], starts: list[int], last_end: int) -> None:
        if node.flow_style:
            if self.json:
                base = self.column(starts[0])
                separator = self.text[node.start_mark.index + 1 : starts[0]]
                text = "".join(
                    f",{separator}" + json_text(v, indent=self.json_indent, base=base, ensure_ascii=self.ensure_ascii)
                    for v in appended
                )
            else:
                text = "".join(f", {yaml_flow(v, short_tags=self.short_tags)}" for v in appended)
            self.put(last_end, last_end, text)
            return
        position = self.line_end(last_end)
        lines = yaml_block_lines(appended, self.column(starts[0]), short_tags=self.short_tags)
        self.put(position, position, self.block_text(position, lines))

    def block_text(self, position: int, lines: list[str]) -> str:
        newline = self.template.newline
        prefix = "" if position == 0 or self.text[position - 1] == "\n" else newline
        return prefix + newline.join(lines) + newline

    # -- whole-value replacement --------------------------------------------------------

    def replace(self, node: yaml.Node, new: Any, indent: int, *, keep_tag: bool) -> None:
        """Replace the node's value text with `new` (keeping its anchor, and tag if asked)."""
        start = self.value_start(node, skip_tag=keep_tag)
        if isinstance(node, yaml.ScalarNode):
            end = node.end_mark.index
        else:
            end = self.content_end(node)
            while end > start and self.text[end - 1] in "\r\n":
                end -= 1  # a block scalar at the end owns its line break; the line keeps it
        if self.json:
            text = json_text(new, indent=self.json_indent, base=self.column(self.line_start(start) + _indent_of(self.text, self.line_start(start))), ensure_ascii=self.ensure_ascii)
            self.put(start, end, text)
            return
        if isinstance(node, yaml.ScalarNode) and not isinstance(new, (dict, list)):
            self.put(start, end, self.scalar_text(node, start, end, new))
            return
        block = isinstance(node, (yaml.MappingNode, yaml.SequenceNode)) and not node.flow_style
        if isinstance(new, (dict, list)) and new and (block or len(yaml_flow(new, short_tags=self.short_tags)) > 100):
            if block and not (node.tag.startswith("!") and not keep_tag):
                column = self.column(start)
                lines = yaml_block_lines(new, column, short_tags=self.short_tags)
                self.put(start, end, self.template.newline.join(lines)[column:])
            else:
                lines = yaml_block_lines(new, indent + 2, short_tags=self.short_tags)
                while start > 0 and self.text[start - 1] == " ":
                    start -= 1
                self.put(start, end, self.template.newline + self.template.newline.join(lines))
            return
        flow = yaml_flow(new, short_tags=self.short_tags)
        if isinstance(node, yaml.ScalarNode) and node.style in ("|", ">"):
            flow += self.template.newline
        self.put(start, end, flow)

    def scalar_text(self, node: yaml.ScalarNode, start: int, end: int, new: Any) -> str:
        old_source = self.text[start:end]
        old_value = node.value
        if isinstance(new, str):
            steps = self.substitutions.get((old_value, new))
            if steps:
                substituted = self.substitute(old_source, old_value, new, steps, node.style)
                if substituted is not None:
                    return substituted
        if self.json:
            return json.dumps(new, ensure_ascii=self.ensure_ascii)
        if node.style in ("|", ">") and isinstance(new, str) and new and not new[0].isspace() and "\r" not in new:
            body_indent = _block_indent(old_source)
            lines = new.split("\n")
            if new.endswith("\n"):
                lines = lines[:-1]
            newline = self.template.newline
            body = newline.join((" " * body_indent + line) if line else "" for line in lines)
            return _literal_header(new) + newline + body + newline
        text = yaml_scalar(new, style=node.style or "", flow=self.in_flow(start))
        if node.style in ("|", ">"):
            text += self.template.newline
        return text

    def substitute(self, source: str, value: str, new: str, steps: tuple[tuple[str, str], ...], style: str | None) -> str | None:
        """Apply `steps` to the scalar's source text, or None when that is not safe."""
        for before, after in steps:
            if not before or not _SAFE_FRAGMENT.fullmatch(before) or not _SAFE_FRAGMENT.fullmatch(after):
                return None
            if not style and ("{" in after or "}" in after):
                return None
            if source.count(before) != value.count(before):
                return None
            source = source.replace(before, after)
            value = value.replace(before, after)
        return source if value == new else None

    def in_flow(self, index: int) -> bool:
        """Rough test for a flow context: an unclosed `[` or `{` earlier on the line."""
        line = self.text[self.line_start(index) : index]
        return line.count("[") + line.count("{") > line.count("]") + line.count("}")


def _inside(index: int, ranges: list[tuple[int, int]]) -> bool:
    return any(start <= index < end for start, end in ranges)


def _block_indent(source: str) -> int:
    for line in source.splitlines()[1:]:
        if line.strip():
            return len(line) - len(line.lstrip(" "))
    return 2


def _indent_of(text: str, line_start: int) -> int:
    index = line_start
    while index < len(text) and text[index] == " ":
        index += 1
    return index - line_start


def _json_indent(text: str) -> int | None:
    match = re.search(r"\n( +)\S", text)
    return len(match.group(1)) if match else None

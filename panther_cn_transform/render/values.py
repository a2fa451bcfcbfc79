"""Emission in place: the text of an edited value, in the form of the value it replaces.

A reviewer should see only what changed.  So a string edit that was a substring
substitution (`arn:aws:` to `arn:aws-cn:`) changes just those characters of the source,
keeping quoting, folding and escapes; otherwise a new string keeps the quoting style of
the one it replaces when that style can hold it, a literal block stays a literal block,
and JSON keeps the file's indentation, line ending and `\\u` escaping.  Whether a place
is inside a flow collection is told by the caller (from the node tree), never guessed.
"""

from __future__ import annotations

import json
import re
from typing import Any

import yaml

from ..model.intrinsics import SHORT_TAGS
from .emit import json_text, literal_header, literal_ok, yaml_block_lines, yaml_flow, yaml_scalar

Substitutions = dict[tuple[str, str], tuple[tuple[str, str], ...]]
_SHORT_TAG_RE = re.compile(r"(?<![\w'\"])!(" + "|".join(t[1:] for t in SHORT_TAGS) + r")\b")
_SHORT_TAG_SCAN = re.compile(r"!(?:" + "|".join(t[1:] for t in SHORT_TAGS) + r")\b")  # starts with a literal: a fast scan
_SAFE_FRAGMENT = re.compile(r"[A-Za-z0-9._:/*@+=${}-]*")
_JSON_INDENT = re.compile(r"\n([ \t]+)\S")


class ValueWriter:
    """Writes new values the way this template writes its own."""

    def __init__(self, text: str, *, is_json: bool, newline: str, substitutions: Substitutions | None) -> None:
        self.json = is_json
        self.newline = newline
        self.substitutions = substitutions or {}
        self._plain: dict[tuple[tuple[str, str], ...], bool] = {}
        self.short_tags = not is_json and _uses_short_tags(text)
        self.ensure_ascii = is_json and self.escapes_non_ascii(text)
        self.json_indent = _json_indent(text) if is_json else None

    @staticmethod
    def escapes_non_ascii(text: str) -> bool:
        """The JSON `text` writes characters beyond ASCII as `\\u` escapes (and so will its new strings)."""
        return "\\u" in text and text.isascii()

    def _plain_steps(self, steps: tuple[tuple[str, str], ...]) -> bool:
        """`plain_steps(steps)`, remembered: the strings of a template share a few step sequences (747 changed strings, 2 sequences in the benchmark)."""
        plain = self._plain.get(steps)
        if plain is None:
            plain = self._plain[steps] = plain_steps(steps)
        return plain

    def flow(self, value: Any) -> str:
        """`value` on one line (flow collections, short tags when the file uses them)."""
        return yaml_flow(value, short_tags=self.short_tags)

    def block(self, value: Any, column: int) -> list[str]:
        """`value` as block lines at `column`."""
        return yaml_block_lines(value, column, short_tags=self.short_tags)

    def json_value(self, value: Any, base: str) -> str:
        """`value` as JSON whose continuation lines start with `base` (the line's indentation)."""
        return json_text(value, indent=self.json_indent, base=base, ensure_ascii=self.ensure_ascii, newline=self.newline)

    def flow_key(self, key: str) -> str:
        """A mapping key inside a flow collection."""
        return yaml_scalar(key, flow=True)

    def json_key(self, key: str) -> str:
        return json.dumps(key, ensure_ascii=self.ensure_ascii)

    def json_string(self, source: str, old: str, new: str) -> str:
        """A JSON string token for `new` where the token `source` of the string `old` was (also `scalar`'s answer there)."""
        steps = self.substitutions.get((old, new))
        substituted = _substitute(source, old, new, steps, '"') if steps and self._plain_steps(steps) else None
        return substituted if substituted is not None else json.dumps(new, ensure_ascii=self.ensure_ascii)

    def scalar(self, node: yaml.ScalarNode, source: str, new: Any, *, flow: bool) -> str:
        """Text for `new` where `node` (whose value text is `source`) was."""
        if self.json and isinstance(new, str) and node.style == '"':
            return self.json_string(source, node.value, new)
        if isinstance(new, str):
            steps = self.substitutions.get((node.value, new))
            if steps and self._plain_steps(steps):
                substituted = _substitute(source, node.value, new, steps, node.style)
                if substituted is not None:
                    return substituted
        if self.json:
            return json.dumps(new, ensure_ascii=self.ensure_ascii)
        block = node.style in ("|", ">")
        if block and not flow and isinstance(new, str) and literal_ok(new):
            body_indent = _block_indent(source)
            lines = new.split("\n")
            if new.endswith("\n"):
                lines = lines[:-1]
            body = self.newline.join((" " * body_indent + line) if line else "" for line in lines)
            return literal_header(new) + self.newline + body + self.newline
        text = yaml_scalar(new, style=node.style if node.style in ("'", '"') else "", flow=flow)
        if block:
            text += self.newline  # a block scalar owned its line break; the line keeps one
        return text


def _uses_short_tags(text: str) -> bool:
    """`_SHORT_TAG_RE.search(text)`: each candidate of the fast scan is checked with the whole pattern."""
    return any(_SHORT_TAG_RE.match(text, match.start()) for match in _SHORT_TAG_SCAN.finditer(text))


def plain_steps(steps: tuple[tuple[str, str], ...]) -> bool:
    """Every substitution replaces a non-empty run of plain characters by plain characters.

    Plain: letters, digits and `._:/*@+=${}-`, which YAML's quoted styles and JSON write
    as themselves; so the substitution can be made on the source text as well.
    """
    return all(before and _SAFE_FRAGMENT.fullmatch(before) and _SAFE_FRAGMENT.fullmatch(after) for before, after in steps)


def _substitute(source: str, value: str, new: str, steps: tuple[tuple[str, str], ...], style: str | None) -> str | None:
    """Apply `steps` (`plain_steps`, which the caller checked) to the scalar's source text, or None when that is not safe.

    Safe: each step finds `before` as often in the source text as in the value (so each
    occurrence in the text is one in the value), and the steps turn the value into `new`.
    When a step changes the length, the lengths it adds to the two texts say whether it
    replaced as often in both (`replace` adds the same length per occurrence), so the texts
    are not also counted: the changed strings of a template include long scripts and state
    machines, and the counts were half of this function's time.
    """
    for before, after in steps:
        if not style and ("{" in after or "}" in after):
            return None
        replaced_source, replaced_value = source.replace(before, after), value.replace(before, after)
        if len(after) != len(before):
            if len(replaced_source) - len(source) != len(replaced_value) - len(value):
                return None
        elif source.count(before) != value.count(before):
            return None
        source, value = replaced_source, replaced_value
    return source if value == new else None


def _block_indent(source: str) -> int:
    for line in source.splitlines()[1:]:
        if line.strip():
            return len(line) - len(line.lstrip(" "))
    return 2


def _json_indent(text: str) -> int | str | None:
    match = _JSON_INDENT.search(text)
    if not match:
        return None
    indent = match.group(1)
    return indent if "\t" in indent else len(indent)

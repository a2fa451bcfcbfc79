"""The shipped packs and partition files read with libyaml, keeping the lines rules are reported at.

Why not ruamel.yaml, which reads the user's rule files: its pure-Python parser took about
half of a one-template `transform --check` (the china and panther packs are 40 KB of YAML,
read on every run), and importing it costs more.  The shipped files are the project's own
data, validated by the tests, so they need no error messages with places; what they need
from the parser is the values and the line of each key and item (a rule's `line`, shown in
reports and docs/rules.md).  libyaml composes the node tree in C; the values are built
here from it, with the same scalar resolution as a YAML 1.2 reader would give for what the
packs contain (tests/ruleset/test_rules.py checks that every shipped file reads to the same
values and lines as through ruamel.yaml, so a pack using a form the two read differently
fails there).

The containers answer `lc.key(k)` / `lc.item(i)` with `(line, column)`, 0-based, as
ruamel's round-trip containers do, so the loader's line lookups serve both.
"""

from __future__ import annotations

from typing import Any

import yaml


class _Lines:
    """0-based (line, column) of each key or item, answered like ruamel's `LineCol`."""

    __slots__ = ("_places",)

    def __init__(self, places: dict[Any, tuple[int, int]]) -> None:
        self._places = places

    def key(self, key: Any) -> tuple[int, int]:
        return self._places[key]

    def item(self, index: int) -> tuple[int, int]:
        return self._places[index]


class LinedDict(dict[Any, Any]):
    """A mapping that knows where its keys stand in the file."""

    lc: _Lines


class LinedList(list[Any]):
    """A sequence that knows where its items stand in the file."""

    lc: _Lines


def load_shipped(text: str) -> Any:
    """The values of a shipped YAML file, its mappings and sequences carrying their lines."""
    loader = yaml.CSafeLoader(text)
    try:
        node = loader.get_single_node()
        return _build(node, loader) if node is not None else None
    finally:
        loader.dispose()


def _build(node: yaml.Node, loader: yaml.CSafeLoader) -> Any:
    if isinstance(node, yaml.MappingNode):
        mapping = LinedDict()
        places: dict[Any, tuple[int, int]] = {}
        for key_node, value_node in node.value:
            key = _build(key_node, loader)
            mapping[key] = _build(value_node, loader)
            places[key] = (key_node.start_mark.line, key_node.start_mark.column)
        mapping.lc = _Lines(places)
        return mapping
    if isinstance(node, yaml.SequenceNode):
        sequence = LinedList(_build(item, loader) for item in node.value)
        sequence.lc = _Lines({i: (item.start_mark.line, item.start_mark.column) for i, item in enumerate(node.value)})
        return sequence
    return loader.construct_object(node, deep=True)

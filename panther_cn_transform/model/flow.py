"""Where a value is set: a property value expanded into the literal pieces that compose it.

Why: many templates compute asset locations instead of writing them.  A Quick Start builds
`TemplateURL` from a Sub whose bucket is `!If [UsingDefaultBucket, !Sub
'aws-quickstart-${AWS::Region}', !Ref QSS3BucketName]` and whose region is a Parameter
default; AWS Solutions write `!Sub solutions-${AWS::Region}`.  A rule that reads only
the property's own string sees no bucket at all.  `expansions` follows the value through
Parameter defaults, Mappings, Fn::If branches, Fn::Sub (with its variable map) and
Fn::Join, and returns each possible concatenation as a tuple of `Piece`s that remember
the path that *sets* their text, so a rule can rewrite or warn at that place.

Pseudo parameters stay placeholders (`${AWS::Region}`); anything unknown (a Ref to a
resource, a GetAtt, a parameter without a default) is a placeholder with no origin.
The number of expansions is bounded (`limit`): a value with more branches than that is
only partly followed, never an error.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from .paths import JsonPath

PieceKind = Literal["literal", "default", "mapping", "pseudo", "unknown"]
_SUB_PART = re.compile(r"\$\{([^!}][^}]*)\}")


@dataclass(frozen=True)
class Piece:
    """A run of text in one expansion, and the path of the string that sets it (if any)."""

    text: str
    origin: JsonPath | None
    kind: PieceKind


Expansion = tuple[Piece, ...]
#: the Fn::If conditions an expansion assumed, and which branch it took
_Assumed = frozenset[tuple[str, bool]]
_Choice = tuple[Expansion, _Assumed]
_NONE: _Assumed = frozenset()


def text_of(expansion: Expansion) -> str:
    """The concatenated text of an expansion (placeholders as `${Name}`)."""
    return "".join(piece.text for piece in expansion)


def pieces_at(expansion: Expansion, start: int, end: int) -> Iterator[tuple[Piece, int, int]]:
    """The pieces overlapping `[start, end)` of `text_of(expansion)`, with the overlap in piece coordinates."""
    position = 0
    for piece in expansion:
        after = position + len(piece.text)
        if after > start and position < end:
            yield piece, max(start, position) - position, min(end, after) - position
        position = after


def expansions(model: Mapping[str, Any], value: Any, path: JsonPath, *, limit: int = 32) -> list[Expansion]:
    """Each way `value` (found at `path` in `model`) can be spelled, as pieces with origins.

    Branches of Fn::If on the same condition are taken consistently: a Quick Start that
    picks both its bucket and its bucket's region with `UsingDefaultBucket` yields two
    spellings, not four.
    """
    return [expansion for expansion, _ in _Expander(model, limit).expand(value, path, 0)]


class _Expander:
    def __init__(self, model: Mapping[str, Any], limit: int) -> None:
        parameters = model.get("Parameters")
        mappings = model.get("Mappings")
        self.parameters = parameters if isinstance(parameters, dict) else {}
        self.mappings = mappings if isinstance(mappings, dict) else {}
        self.limit = limit

    def expand(self, value: Any, path: JsonPath, depth: int) -> list[_Choice]:
        if depth > 20:
            return [_unknown("${?}")]
        if isinstance(value, str):
            return [((Piece(value, path, "literal"),), _NONE)]
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return [((Piece(str(value), path, "literal"),), _NONE)]
        if isinstance(value, dict) and len(value) == 1:
            (function, argument), = value.items()
            if function == "Ref" and isinstance(argument, str):
                return [(self.reference(argument), _NONE)]
            if function == "Fn::If" and isinstance(argument, list) and len(argument) == 3 and isinstance(argument[0], str):
                found: list[_Choice] = []
                for branch in (1, 2):
                    if argument[branch] != {"Ref": "AWS::NoValue"}:
                        taken = (argument[0], branch == 1)
                        for expansion, assumed in self.expand(argument[branch], path + ("Fn::If", branch), depth + 1):
                            if (taken[0], not taken[1]) not in assumed:
                                found.append((expansion, assumed | {taken}))
                return found[: self.limit]
            if function == "Fn::Sub":
                return self.sub(argument, path, depth)
            if function == "Fn::Base64":  # UserData, lifecycle scripts: the text is inside
                return self.expand(argument, path + ("Fn::Base64",), depth + 1)
            if function == "Fn::Join" and isinstance(argument, list) and len(argument) == 2 and isinstance(argument[1], list):
                return self.join(str(argument[0]), argument[1], path + ("Fn::Join", 1), depth)
            if function == "Fn::FindInMap" and isinstance(argument, list) and len(argument) == 3:
                return [(e, _NONE) for e in self.find_in_map(argument)] or [_unknown("${FindInMap}")]
        return [_unknown("${?}")]

    def reference(self, name: str) -> Expansion:
        if name.startswith("AWS::"):
            return (Piece("${" + name + "}", None, "pseudo"),)
        parameter = self.parameters.get(name)
        if isinstance(parameter, dict) and isinstance(parameter.get("Default"), (str, int, float)):
            return (Piece(str(parameter["Default"]), ("Parameters", name, "Default"), "default"),)
        return (Piece("${" + name + "}", None, "unknown"),)

    def sub(self, argument: Any, path: JsonPath, depth: int) -> list[_Choice]:
        if isinstance(argument, str):
            text, variables, text_path = argument, {}, path + ("Fn::Sub",)
        elif isinstance(argument, list) and argument and isinstance(argument[0], str):
            text = argument[0]
            variables = argument[1] if len(argument) > 1 and isinstance(argument[1], dict) else {}
            text_path = path + ("Fn::Sub", 0)
        else:
            return [_unknown("${?}")]
        parts: list[list[_Choice]] = []
        position = 0
        for match in _SUB_PART.finditer(text):
            if match.start() > position:
                parts.append([((Piece(text[position : match.start()], text_path, "literal"),), _NONE)])
            name = match.group(1).strip()
            if name in variables:
                parts.append(self.expand(variables[name], path + ("Fn::Sub", 1, name), depth + 1))
            elif "." in name:
                parts.append([_unknown("${" + name + "}")])
            else:
                parts.append([(self.reference(name), _NONE)])
            position = match.end()
        if position < len(text) or not parts:
            parts.append([((Piece(text[position:], text_path, "literal"),), _NONE)])
        return self.product(parts)

    def join(self, delimiter: str, items: list[Any], path: JsonPath, depth: int) -> list[_Choice]:
        parts: list[list[_Choice]] = []
        for index, item in enumerate(items):
            if index and delimiter:
                parts.append([((Piece(delimiter, None, "literal"),), _NONE)])
            parts.append(self.expand(item, path + (index,), depth + 1))
        return self.product(parts)

    def find_in_map(self, argument: list[Any]) -> list[Expansion]:
        name, first, second = argument
        table = self.mappings.get(name) if isinstance(name, str) else None
        if not isinstance(table, dict) or not isinstance(second, str):
            return []
        keys = [first] if isinstance(first, str) else list(table)  # a Ref (AWS::Region...) may pick any entry
        found: list[Expansion] = []
        for key in keys:
            entry = table.get(key)
            if isinstance(entry, dict) and isinstance(entry.get(second), (str, int, float)):
                found.append((Piece(str(entry[second]), ("Mappings", name, key, second), "mapping"),))
        return found[: self.limit]

    def product(self, parts: list[list[_Choice]]) -> list[_Choice]:
        combined: list[_Choice] = []
        for choice in itertools.product(*parts):
            assumed = frozenset().union(*(a for _, a in choice))
            if any((name, not value) in assumed for name, value in assumed):
                continue  # two branches of one condition: never spelled this way
            combined.append((tuple(piece for expansion, _ in choice for piece in expansion), assumed))
            if len(combined) >= self.limit:
                break
        return combined


def _unknown(text: str) -> _Choice:
    return (Piece(text, None, "unknown"),), _NONE

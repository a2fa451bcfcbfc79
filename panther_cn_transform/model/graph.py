"""The graph of logical-id references in a template, built once and queried by rules.

Edges come from `Ref`, `Fn::GetAtt` (list and `A.B` forms), `${X}` and `${X.Attr}` in
`Fn::Sub` (string and list forms, skipping `${!Literal}`, pseudo parameters and the
Sub's own variable map), `DependsOn` (string and list), a resource's or output's
`Condition`, `Fn::If` condition names and `Condition` inside conditions, and
`Fn::ImportValue` of an export the same template declares.  Each edge records the
path of the referring value, so a rule can repair exactly that place.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple

from .paths import JsonPath
from .walk import is_sub_template

Kind = Literal["Ref", "GetAtt", "Sub", "DependsOn", "Condition", "If", "ImportValue"]
_SUB_VARIABLE = re.compile(r"\$\{([^!}][^}]*)\}")


class Reference(NamedTuple):
    """`owner` (a top-level entry such as `("Resources", "Fn")`) refers to `target` at `path`.

    A named tuple: a template has one per `Ref`, `GetAtt` and `${}` (33,000 in the 10 MB
    benchmark), and a frozen dataclass took 1 µs to make.
    """

    owner: tuple[str, str]
    target: str
    kind: Kind
    path: JsonPath
    attribute: str | None = None


@dataclass
class ReferenceGraph:
    """All references of a template, indexed by target logical id."""

    references: list[Reference] = field(default_factory=list)
    by_target: dict[str, list[Reference]] = field(default_factory=lambda: defaultdict(list))

    def add(self, reference: Reference) -> None:
        self.references.append(reference)
        self.by_target[reference.target].append(reference)

    def to(self, target: str) -> list[Reference]:
        """Every reference to `target`."""
        return self.by_target.get(target, [])

    def names_used(self) -> set[str]:
        return set(self.by_target)


def build_graph(model: dict[str, Any]) -> ReferenceGraph:
    """The reference graph of a long-form template model."""
    graph = ReferenceGraph()
    exports = _exports(model)
    for section in ("Resources", "Outputs", "Conditions", "Rules"):
        entries = model.get(section)
        if not isinstance(entries, dict):
            continue
        for name, entry in entries.items():
            owner = (section, str(name))
            base: JsonPath = (section, name)
            if section in ("Resources", "Outputs") and isinstance(entry, dict):
                depends = entry.get("DependsOn")
                if isinstance(depends, str):
                    graph.add(Reference(owner, depends, "DependsOn", base + ("DependsOn",)))
                elif isinstance(depends, list):
                    for index, item in enumerate(depends):
                        if isinstance(item, str):
                            graph.add(Reference(owner, item, "DependsOn", base + ("DependsOn", index)))
                if isinstance(entry.get("Condition"), str):
                    graph.add(Reference(owner, entry["Condition"], "Condition", base + ("Condition",)))
                for key, value in entry.items():
                    if key not in ("DependsOn", "Condition", "Type"):
                        _walk(value, base + (key,), owner, graph, exports)
            else:
                _walk(entry, base, owner, graph, exports)
    return graph


def names_in_values(written: list[tuple[JsonPath, Any]]) -> set[str] | None:
    """The names referred to by values written at paths, or None when a path alone cannot tell.

    A whole value (`{"Ref": X}`, a mapping) is walked like the template; the template
    string of an `Fn::Sub` is read for `${X}`.  A value written inside another
    intrinsic's arguments (a `Ref`'s name, a `GetAtt` list item) needs its surroundings:
    None, and the caller walks the template instead.
    """
    graph = ReferenceGraph()
    for path, value in written:
        if path[:1] == ("Parameters",):
            continue  # parameters refer to nothing
        if len(path) > 2 and is_sub_template(path):
            if not isinstance(value, str):
                return None
            _sub(value, path[:-1] if path[-1] == "Fn::Sub" else path[:-2], ("", ""), graph)
            continue
        if len(path) <= 2 or _names_a_target(path):
            return None  # a whole entry (its DependsOn and Condition are references), or a name argument
        _walk(value, path, (str(path[0]), str(path[1])), graph, {})
    return graph.names_used()


_NAME_KEYS = frozenset({"Ref", "Fn::GetAtt", "Fn::If", "Fn::Sub", "Condition", "DependsOn", "Fn::ImportValue"})


def _names_a_target(path: JsonPath) -> bool:
    """A value at `path` is (part of) a name argument: what it refers to depends on the key above it."""
    if path[-1] in _NAME_KEYS:
        return True
    if len(path) > 1 and path[-2] in ("Fn::GetAtt", "DependsOn"):
        return True
    return len(path) > 1 and path[-2] == "Fn::If" and path[-1] == 0


def _exports(model: dict[str, Any]) -> dict[str, str]:
    found = {}
    for name, output in (model.get("Outputs") or {}).items():
        if isinstance(output, dict) and isinstance(output.get("Export"), dict):
            export = output["Export"].get("Name")
            if isinstance(export, str):
                found[export] = name
    return found


def _walk(value: Any, path: JsonPath, owner: tuple[str, str], graph: ReferenceGraph, exports: dict[str, str]) -> None:
    """Add the references in `value` (at `path`, inside `owner`) to `graph`.

    Only mappings refer to anything (a string is read only as an `Fn::Sub` template, by
    its mapping), so only mappings and lists are put on the stack: most values are
    strings, and a path for each was most of the walk.
    """
    stack: list[tuple[JsonPath, Any]] = [(path, value)]
    while stack:
        here, item = stack.pop()
        if isinstance(item, list):
            stack.extend([(here + (i,), v) for i, v in enumerate(item) if isinstance(v, (dict, list))])
            continue
        if not isinstance(item, dict):
            continue
        if len(item) == 1:
            (key, arg), = item.items()
            if key == "Ref" and isinstance(arg, str):
                if not arg.startswith("AWS::"):
                    graph.add(Reference(owner, arg, "Ref", here))
                continue
            if key == "Fn::GetAtt":
                target, attribute = _getatt(arg)
                if target:
                    graph.add(Reference(owner, target, "GetAtt", here, attribute))
                    continue
            if key == "Fn::Sub":
                _sub(arg, here, owner, graph)
                if isinstance(arg, list) and len(arg) == 2:
                    stack.append((here + ("Fn::Sub", 1), arg[1]))
                continue
            if key == "Fn::If" and isinstance(arg, list) and arg and isinstance(arg[0], str):
                graph.add(Reference(owner, arg[0], "If", here + ("Fn::If", 0)))
                stack.extend([(here + ("Fn::If", i), v) for i, v in enumerate(arg) if i and isinstance(v, (dict, list))])
                continue
            if key == "Condition" and isinstance(arg, str) and owner[0] == "Conditions":
                graph.add(Reference(owner, arg, "Condition", here))
                continue
            if key == "Fn::ImportValue" and isinstance(arg, str) and arg in exports:
                graph.add(Reference(owner, f"Outputs/{exports[arg]}", "ImportValue", here))
                continue
        stack.extend([(here + (k,), v) for k, v in item.items() if isinstance(v, (dict, list))])


def _getatt(arg: Any) -> tuple[str | None, str | None]:
    if isinstance(arg, list) and len(arg) >= 1 and isinstance(arg[0], str):
        return arg[0], arg[1] if len(arg) > 1 and isinstance(arg[1], str) else None
    if isinstance(arg, str) and "." in arg:
        target, attribute = arg.split(".", 1)
        return target, attribute
    return None, None


def _sub(arg: Any, here: JsonPath, owner: tuple[str, str], graph: ReferenceGraph) -> None:
    if isinstance(arg, str):
        text, local, path = arg, set(), here + ("Fn::Sub",)
    elif isinstance(arg, list) and arg and isinstance(arg[0], str):
        variables = arg[1] if len(arg) > 1 and isinstance(arg[1], dict) else {}
        text, local, path = arg[0], set(variables), here + ("Fn::Sub", 0)
    else:
        return
    for match in _SUB_VARIABLE.finditer(text):
        name = match.group(1).strip()
        target, _, attribute = name.partition(".")
        if target in local or target.startswith("AWS::"):
            continue
        graph.add(Reference(owner, target, "Sub", path, attribute or None))

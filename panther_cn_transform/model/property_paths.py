"""Find a property by its path in a resource, the way CloudFormation would read it.

A rule names a property by a dotted path below `Properties` (`DistributionConfig.Aliases`,
`DistributionConfig.CacheBehaviors.*.LambdaFunctionAssociations`; `*` is any key or list
item).  What sits there is one of three things:

* **present** - a value the rule can test;
* **absent** - the key is missing, or it is `!Ref AWS::NoValue`, or an empty list or
  mapping (CloudFormation treats all of these as "not set", so does a rule);
* **opaque** - a value only known at deploy time (`!Ref Parameter`, `!FindInMap`, ...),
  either at the path or on the way to it.

`Fn::If` is looked through: each branch is a place of its own, so a rule can fix the
branch that needs it and leave the other alone.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from .intrinsics import intrinsic_name
from .paths import JsonPath

State = Literal["present", "absent", "opaque"]
NO_VALUE = {"Ref": "AWS::NoValue"}


@dataclass(frozen=True)
class Place:
    """Where a property path leads in one resource (or in one `Fn::If` branch of it).

    **Parameters:**

    * **path** - the full path of the property from the template root.
    * **state** - `present`, `absent` or `opaque` (see the module docstring).
    * **value** - the value there (for `absent`: `None`, `AWS::NoValue` or the empty container).
    * **existing** - how many leading parts of `path` exist in the template; for an absent
      property, `path[:existing]` is the mapping a new value is added to.
    """

    path: JsonPath
    state: State
    value: Any = None
    existing: int = 0


def parse(path: str) -> tuple[str, ...]:
    """`A.B.*.C` as its parts."""
    return tuple(path.split("."))


def resolve(node: Any, base: JsonPath, parts: Sequence[str]) -> Iterator[Place]:
    """Every place `parts` leads to from `node`, which sits at `base` in the template."""
    if intrinsic_name(node) == "Fn::If":
        branches = node["Fn::If"]
        if isinstance(branches, list) and len(branches) == 3:
            for index in (1, 2):
                yield from resolve(branches[index], base + ("Fn::If", index), parts)
            return
    if not parts:
        yield Place(base, state_of(node), node, len(base))
        return
    if node is None or node == NO_VALUE:
        yield from _absent(base, parts, len(base))
        return
    if intrinsic_name(node) is not None:
        yield Place(base, "opaque", node, len(base))
        return
    part, rest = parts[0], parts[1:]
    if part == "*":
        if isinstance(node, dict):
            for key, child in node.items():
                yield from resolve(child, base + (key,), rest)
        elif isinstance(node, list):
            for index, child in enumerate(node):
                yield from resolve(child, base + (index,), rest)
        return
    if isinstance(node, dict):
        if part in node:
            yield from resolve(node[part], base + (part,), rest)
        else:
            yield from _absent(base + (part,), rest, len(base))
    # a list or a scalar where the path expects a mapping: the path does not apply here


def _absent(path: JsonPath, rest: Sequence[str], existing: int) -> Iterator[Place]:
    if "*" in rest:
        return  # "every item of a missing list" names nothing
    yield Place(path + tuple(rest), "absent", None, existing)


def state_of(value: Any) -> State:
    """`present`, `absent` or `opaque` for a value found at the end of a path."""
    if value is None or value == NO_VALUE or value in ([], {}):
        return "absent"
    if intrinsic_name(value) is not None:
        return "opaque"
    return "present"


def is_literal(value: Any) -> bool:
    """True when `value` holds no intrinsic function anywhere (so it can be compared)."""
    if isinstance(value, dict):
        return intrinsic_name(value) is None and all(is_literal(v) for v in value.values())
    if isinstance(value, list):
        return all(is_literal(v) for v in value)
    return True


def nested(parts: Sequence[str | int], value: Any) -> Any:
    """`value` wrapped in mappings so that it sits at `parts` (`(A, B), 1` is `{A: {B: 1}}`)."""
    for part in reversed(parts):
        value = {part: value}
    return value

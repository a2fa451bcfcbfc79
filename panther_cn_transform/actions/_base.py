"""What every action shares: the context it runs in and the warnings it returns."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

from ..edits import EditLog, JsonPath, to_pointer


@dataclass(frozen=True)
class Warning:
    """Something the transform saw but could not (or chose not to) translate."""

    path: JsonPath
    message: str
    rule: str

    @property
    def pointer(self) -> str:
        return to_pointer(self.path)


@dataclass(frozen=True)
class RuleContext:
    """Where a rule runs: the target region, the caller's variables, the template, whether it is a release root."""

    region: str
    variables: Mapping[str, str] = field(default_factory=dict)
    source: str = "<input>"
    is_root: bool = True


class BoundRule(Protocol):
    """What an action reads of a rule (a `ruleset.Rule` after `RuleSet.bind`)."""

    @property
    def id(self) -> str: ...

    @property
    def description(self) -> str: ...

    @property
    def action(self) -> str: ...

    @property
    def params(self) -> Mapping[str, Any]: ...


class Action(Protocol):
    """The interface of an action class (see the package docstring)."""

    name: ClassVar[str]
    example: ClassVar[str]  # a small template the generated docs transform as Before/After

    def apply(self, log: EditLog, rule: BoundRule, context: RuleContext) -> list[Warning]: ...

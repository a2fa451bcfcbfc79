"""The contract between the engine and the actions: what an action reads and declares.

An action class declares itself once: its docstring says what it changes, its `ActionSpec`
why a port needs it, what it never does, its parameters with their defaults and an
example.  The rule-file schema
(`rules/schema.json`, rule_schema.py) and docs/rules.md (rule_docs.py) are generated
from those specs, so the list of actions and their parameters lives in one place.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from ..partitions.partition import Partition
from .findings import Finding

if TYPE_CHECKING:
    from ..model.edits import EditLog


@dataclass(frozen=True)
class Param:
    """One parameter of an action.

    `schema` is the JSON Schema of its value (without title and default, which are
    added from `title` and `default`).  A parameter with a `default` is filled in when
    the rules are bound, so actions read `rule.params[name]` without repeating it.
    """

    name: str
    title: str
    schema: Mapping[str, Any]
    default: Any = None
    required: bool = False


@dataclass(frozen=True)
class ActionSpec:
    """Everything a rule author needs to know about an action besides what it changes.

    What it changes is the action class's docstring (docs/rules.md prints it as written).
    """

    name: str
    why: str  # why a partition port needs it (markdown)
    safety: str  # what it never does
    params: tuple[Param, ...] = ()
    example: str = ""  # a small template the generated docs transform as Before/After
    example_params: Mapping[str, Any] = field(default_factory=dict)  # the rule parameters of that example
    schema_extra: Mapping[str, Any] = field(default_factory=dict)  # more JSON Schema for the rule (e.g. allOf)

    def defaults(self) -> dict[str, Any]:
        """Parameter name -> default, for the parameters that have one."""
        return {param.name: param.default for param in self.params if param.default is not None}


@dataclass(frozen=True)
class RuleContext:
    """Where a rule runs: the target region and partition, the partition templates come from,
    the caller's variables, the template, whether it is a release root."""

    region: str
    partition: Partition
    source_partition: Partition
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
    """An action class: its spec, and `apply`, which appends edits to the log and returns findings."""

    spec: ClassVar[ActionSpec]

    def apply(self, log: EditLog, rule: BoundRule, context: RuleContext) -> list[Finding]: ...

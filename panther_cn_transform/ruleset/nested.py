"""The warning a template transformed alone gets for the outputs of its nested stacks.

Why: the China transform of a child template may remove an output (Panther's bootstrap
stack loses `UserPoolId` with the Cognito pool).  Release mode transforms the children
first and repairs the parent's references to what they lost; a template transformed on
its own cannot know, so every `Fn::GetAtt Child.Outputs.X` would pass silently and fail
at deploy.  One warning per template says so and names the command that checks them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..model.graph import ReferenceGraph
from .findings import Finding

RULE = "nested-outputs-unchecked"
_NESTED_TYPES = ("AWS::CloudFormation::Stack", "AWS::Serverless::Application")


def unchecked_nested_outputs(model: dict[str, Any], graph: Callable[[], ReferenceGraph]) -> list[Finding]:
    """One warning naming every output of a nested stack the template reads, or none.

    `graph`: gives the reference graph of `model` (`EditLog.graph`, shared with the
    rules); asked only when the template has nested stacks.
    """
    resources = model.get("Resources")
    if not isinstance(resources, dict):
        return []
    nested = {name for name, body in resources.items()
              if isinstance(body, dict) and body.get("Type") in _NESTED_TYPES}
    if not nested:
        return []
    read: dict[str, set[str]] = {}
    places = []
    for reference in graph().references:
        attribute = reference.attribute or ""
        if reference.target in nested and attribute.startswith("Outputs."):
            read.setdefault(reference.target, set()).add(attribute.removeprefix("Outputs."))
            places.append(reference.path)
    if not read:
        return []
    outputs = ", ".join(f"{stack}.Outputs.{name}" for stack in sorted(read) for name in sorted(read[stack]))
    message = (
        f"this template reads outputs of its nested stacks ({outputs}), whose templates are not transformed with it: "
        "an output the transform of a child removes would be left dangling; for a Panther release, transform "
        "it whole with the release command (docs/release.md), which transforms the children first and repairs these "
        "references; otherwise transform each child and check these outputs"
    )
    return [Finding(min(places, key=_order), message, RULE)]


def _order(path: tuple[Any, ...]) -> tuple[tuple[int, str], ...]:
    """A total order on JSON paths (keys and list indexes mixed), for a deterministic first place."""
    return tuple((0, f"{part:012d}") if isinstance(part, int) else (1, str(part)) for part in path)

"""Every stack change of `deploy` goes through a CloudFormation change set, read before it runs.

Why change sets: CloudFormation itself says, before anything changes, which resources it
will add, modify, remove and **replace** (`Replacement`: a new physical resource, with a new
id or value, the old one deleted).  A replacement is what an operator must not discover
afterwards (a bridge key replaced without the secret moving to the new one is an outage),
so the plan shown is CloudFormation's answer, never this tool's guess.  With
`IncludeNestedStacks`, CloudFormation makes a change set for each nested stack that changes;
they are read too, so a replacement inside `Core` is shown as `Core/...`.

A change set that "didn't contain changes" is how CloudFormation says a stack is already
as asked: the step is done (a rerun after a failure skips it).  A change set is deleted
when it is not executed (`--plan`, a "no"); for a first install that also deletes the empty
`REVIEW_IN_PROGRESS` stack CloudFormation made to hold it, so the account is left as it was.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

from ..errors import DeployError
from .stack_events import aws_reason, one_line

if TYPE_CHECKING:
    from mypy_boto3_cloudformation import CloudFormationClient

CAPABILITIES = ("CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND")
_NO_CHANGES = ("didn't contain changes", "no updates are to be performed")
_VERBS = {"Add": "add", "Remove": "remove", "Import": "import", "Dynamic": "re-evaluate"}

Kind = Literal["CREATE", "UPDATE"]


@dataclass(frozen=True)
class ResourceChange:
    """One resource in a change set: CloudFormation's action and its `Replacement` answer."""

    action: str  # Add, Modify, Remove, Import, Dynamic
    logical_id: str
    resource_type: str
    replacement: str = ""  # True, False, Conditional (Modify only)
    path: str = ""  # the nested stacks it is in: "Core", "Onboard/ComplianceRoles"
    properties: tuple[str, ...] = ()  # the properties that change (Modify)

    @property
    def name(self) -> str:
        return f"{self.path}/{self.logical_id}" if self.path else self.logical_id

    @property
    def verb(self) -> str:
        """add, modify, replace, "may replace", remove."""
        if self.action == "Modify":
            return {"True": "replace", "Conditional": "may replace"}.get(self.replacement, "modify")
        return _VERBS.get(self.action, self.action.lower())


@dataclass
class ChangeSet:
    """A change set CloudFormation made for one stack (`empty`: the stack is already as asked)."""

    stack: str
    where: str  # "cn-north-1 stack panther"
    kind: Kind
    change_set_id: str
    stack_id: str
    changes: list[ResourceChange] = field(default_factory=list)
    empty: bool = False

    def counts(self) -> str:
        """`3 to add, 1 to modify, 1 to replace, 0 to remove`."""
        verbs = [change.verb for change in self.changes]
        parts = [f"{verbs.count('add')} to add", f"{verbs.count('modify')} to modify",
                 f"{verbs.count('replace') + verbs.count('may replace')} to replace", f"{verbs.count('remove')} to remove"]
        return ", ".join(parts)

    def lines(self, expected: Mapping[str, str] | None = None) -> list[str]:
        """One line per change, replacements first; `expected` says why a replacement is expected (by name)."""
        expected = expected or {}
        order = {"replace": 0, "may replace": 1, "remove": 2, "add": 3, "modify": 4}
        width = max((len(change.name) for change in self.changes), default=0)
        shown = []
        for change in sorted(self.changes, key=lambda c: order.get(c.verb, 5)):
            note = ""
            if change.name in expected and change.verb in ("replace", "may replace"):
                note = f"  ({expected[change.name]})"
            elif change.verb == "replace":
                note = "  (a new physical resource; the old one is deleted)"
            elif change.verb == "may replace":
                note = "  (CloudFormation decides while it runs: it depends on a value known only then)"
            elif change.properties:
                note = f"  ({', '.join(change.properties)})"
            shown.append(f"  {change.verb:<11} {change.name:<{width}}  {change.resource_type}{note}")
        return shown


def change_set_name(now: datetime | None = None) -> str:
    """`panther-cn-transform-20261127-101500`: starts with a letter, letters, digits and hyphens only."""
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%d-%H%M%S")
    return f"panther-cn-transform-{stamp}"


def propose(cloudformation: CloudFormationClient, *, stack: str, where: str, kind: Kind, parameters: list[dict[str, Any]],
            template_url: str | None = None, description: str = "", interval: float = 2.0,
            sleep: Callable[[float], None] = time.sleep) -> ChangeSet:
    """Create a change set (from `template_url`, or the stack's current template when None) and read it whole."""
    from botocore.exceptions import BotoCoreError, ClientError

    request: dict[str, Any] = {
        "StackName": stack, "ChangeSetName": change_set_name(), "ChangeSetType": kind, "Parameters": parameters,
        "Capabilities": list(CAPABILITIES), "IncludeNestedStacks": True, "Description": description[:1024],
    }
    if template_url:
        request["TemplateURL"] = template_url
    else:
        request["UsePreviousTemplate"] = True
    try:
        made = cloudformation.create_change_set(**request)
    except ClientError as exc:
        if any(text in aws_reason(exc).lower() for text in _NO_CHANGES):
            return ChangeSet(stack, where, kind, "", "", empty=True)
        raise DeployError(f"CloudFormation refused the change set: {aws_reason(exc)}", file=where) from None
    except BotoCoreError as exc:
        raise DeployError(f"cannot create the change set: {aws_reason(exc)}", file=where) from None
    change_set = ChangeSet(stack, where, kind, str(made["Id"]), str(made["StackId"]))
    answer = _settled(cloudformation, change_set, interval, sleep)
    if answer.get("Status") == "FAILED":
        reason = one_line(str(answer.get("StatusReason", "")))
        if any(text in reason.lower() for text in _NO_CHANGES):
            change_set.empty = True
            discard(cloudformation, change_set)
            return change_set
        discard(cloudformation, change_set)
        raise DeployError(f"CloudFormation could not make the change set: {reason}", file=where)
    change_set.changes = _changes(cloudformation, change_set.change_set_id, "", where)
    return change_set


def _settled(cloudformation: CloudFormationClient, change_set: ChangeSet, interval: float,
             sleep: Callable[[float], None]) -> dict[str, Any]:
    """The change set's description once CloudFormation has finished making it."""
    from botocore.exceptions import BotoCoreError, ClientError

    while True:
        try:
            answer: dict[str, Any] = dict(cloudformation.describe_change_set(ChangeSetName=change_set.change_set_id))
        except (BotoCoreError, ClientError) as exc:
            raise DeployError(f"cannot read the change set: {aws_reason(exc)}", file=change_set.where) from None
        if answer.get("Status") in ("CREATE_COMPLETE", "FAILED"):
            return answer
        sleep(interval)


def _changes(cloudformation: CloudFormationClient, change_set_id: str, path: str, where: str) -> list[ResourceChange]:
    """Every resource change of a change set and of the nested change sets it names."""
    from botocore.exceptions import BotoCoreError, ClientError

    found: list[ResourceChange] = []
    token: str | None = None
    while True:
        try:
            page = (cloudformation.describe_change_set(ChangeSetName=change_set_id, NextToken=token) if token
                    else cloudformation.describe_change_set(ChangeSetName=change_set_id))
        except (BotoCoreError, ClientError) as exc:
            raise DeployError(f"cannot read the change set: {aws_reason(exc)}", file=where) from None
        for item in page.get("Changes", []):
            raw: Any = item.get("ResourceChange") or {}
            details = raw.get("Details") or []
            properties = tuple(sorted({str(d.get("Target", {}).get("Name")) for d in details
                                       if d.get("Target", {}).get("Attribute") == "Properties" and d.get("Target", {}).get("Name")}))
            change = ResourceChange(str(raw.get("Action", "")), str(raw.get("LogicalResourceId", "")),
                                    str(raw.get("ResourceType", "")), str(raw.get("Replacement", "") or ""), path, properties)
            found.append(change)
            nested = raw.get("ChangeSetId")
            if nested and change.resource_type == "AWS::CloudFormation::Stack":
                found += _changes(cloudformation, str(nested), change.name, where)
        token = page.get("NextToken")
        if not token:
            return found


def discard(cloudformation: CloudFormationClient, change_set: ChangeSet, *, interval: float = 2.0,
            sleep: Callable[[float], None] = time.sleep) -> None:
    """Delete a change set that will not run; for a first install, also the empty stack made to hold it."""
    from botocore.exceptions import BotoCoreError, ClientError

    if not change_set.change_set_id:
        return
    try:
        cloudformation.delete_change_set(ChangeSetName=change_set.change_set_id)
        if change_set.kind == "CREATE":
            status = _status(cloudformation, change_set.stack_id)
            if status == "REVIEW_IN_PROGRESS":
                cloudformation.delete_stack(StackName=change_set.stack_id)
                while _status(cloudformation, change_set.stack_id) not in ("DELETE_COMPLETE", ""):
                    sleep(interval)
    except (BotoCoreError, ClientError) as exc:
        raise DeployError(f"cannot delete change set {change_set.change_set_id}: {aws_reason(exc)}", file=change_set.where) from None


def execute(cloudformation: CloudFormationClient, change_set: ChangeSet) -> None:
    """Start the change set (CloudFormation works on asynchronously; follow it with a `StackWatch`)."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        cloudformation.execute_change_set(ChangeSetName=change_set.change_set_id)
    except (BotoCoreError, ClientError) as exc:
        raise DeployError(f"CloudFormation did not start the change set: {aws_reason(exc)}", file=change_set.where) from None


def _status(cloudformation: CloudFormationClient, stack_id: str) -> str:
    from botocore.exceptions import ClientError

    try:
        stacks = cloudformation.describe_stacks(StackName=stack_id)["Stacks"]
    except ClientError as exc:
        if "does not exist" in aws_reason(exc):
            return ""
        raise
    return str(stacks[0]["StackStatus"]) if stacks else ""

"""Follow a stack while CloudFormation works on it: its events as they come, and why it failed.

A stack operation is asynchronous: `ExecuteChangeSet` and `DeleteStack` return at once and
CloudFormation reports its progress only as stack events (newest first, paginated).  A
Panther stack is mostly nested stacks, whose resources' events are in the nested stacks,
not the root's, so the watch follows every nested stack the root's events name.

When the operation fails, the root's first failed resource is usually a nested stack whose
reason only says "Embedded stack ... was not successfully created"; the cause is in the
nested stack.  `first_failure` descends to the deepest first failure, skipping the
"Resource creation cancelled" events CloudFormation writes for everything stopped because of
it, so the operator reads the one line that says what went wrong.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ..errors import DeployError

if TYPE_CHECKING:
    from mypy_boto3_cloudformation import CloudFormationClient

#: stack states an operation ends in successfully
SUCCEEDED = frozenset({"CREATE_COMPLETE", "UPDATE_COMPLETE", "DELETE_COMPLETE", "IMPORT_COMPLETE"})
_CANCELLED = ("cancelled", "canceled")


def in_progress(status: str) -> bool:
    """True while CloudFormation is still working on the stack (`REVIEW_IN_PROGRESS` is a stack that only has a change set)."""
    return status.endswith("_IN_PROGRESS") and status != "REVIEW_IN_PROGRESS"


@dataclass(frozen=True)
class StackEvent:
    """One event of the root stack or of a nested stack (`path`: the nested stacks' logical ids, `Core/...`)."""

    path: str
    logical_id: str
    resource_type: str
    status: str
    reason: str
    physical_id: str
    event_id: str
    timestamp: datetime | None

    @property
    def name(self) -> str:
        return f"{self.path}/{self.logical_id}" if self.path else self.logical_id

    @property
    def failed(self) -> bool:
        return self.status.endswith("_FAILED") and not any(word in self.reason.lower() for word in _CANCELLED)

    def line(self) -> str:
        """`Core/SourceApiFunction  AWS::Lambda::Function  CREATE_FAILED: reason` on one line."""
        reason = f": {one_line(self.reason)}" if self.reason else ""
        return f"{self.name}  {self.resource_type}  {self.status}{reason}"


def one_line(text: str) -> str:
    """`text` with its line breaks and runs of spaces folded into single spaces."""
    return " ".join(str(text).split())


@dataclass
class StackWatch:
    """The events of one operation on a stack and its nested stacks (events from before it are not reported).

    Create it before the operation starts (it marks the events already there as seen), then
    call `wait`.
    """

    cloudformation: CloudFormationClient
    stack_id: str
    where: str  # "cn-north-1 stack panther", for errors
    interval: float = 5.0
    sleep: Callable[[float], None] = time.sleep
    events: list[StackEvent] = field(default_factory=list)  # of this operation, oldest first
    _seen: set[str] = field(default_factory=set)
    _nested: dict[str, str] = field(default_factory=dict)  # nested stack id -> its path
    _started: datetime | None = None

    def __post_init__(self) -> None:
        # events come newest first and a read stops at the first event seen: the newest page is enough to mark
        self._seen.update(event.event_id for event in self._read(self.stack_id, "", pages=1))

    def wait(self, on_event: Callable[[StackEvent], None]) -> str:
        """Report each new event (oldest first) until the stack is no longer in progress; its final state."""
        while True:
            for event in self.poll():
                if event.path == "" or not self._about_stack_itself(event):  # a nested stack's own events repeat its parent's
                    on_event(event)
            status = self.status()
            if not in_progress(status):
                for event in self.poll():
                    if event.path == "" or not self._about_stack_itself(event):
                        on_event(event)
                return status
            self.sleep(self.interval)

    def status(self) -> str:
        """The stack's state now."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            stacks = self.cloudformation.describe_stacks(StackName=self.stack_id)["Stacks"]
        except (BotoCoreError, ClientError) as exc:
            raise DeployError(f"cannot read the stack's state: {aws_reason(exc)}", file=self.where) from None
        return str(stacks[0]["StackStatus"]) if stacks else "DELETE_COMPLETE"

    def poll(self) -> list[StackEvent]:
        """The events that arrived since the last poll, root and nested stacks, oldest first."""
        fresh = [event for event in reversed(self._read(self.stack_id, "")) if event.event_id not in self._seen]
        if fresh and self._started is None:
            self._started = min((e.timestamp for e in fresh if e.timestamp), default=None)
        self._mark(fresh)
        index = 0
        while index < len(self._nested):  # a nested stack found now may have nested stacks of its own
            nested_id, path = list(self._nested.items())[index]
            index += 1
            events = [e for e in reversed(self._read(nested_id, path)) if e.event_id not in self._seen]
            early = [e for e in events if self._started and e.timestamp and e.timestamp < self._started]
            self._seen.update(e.event_id for e in early)  # an earlier operation's
            events = [e for e in events if e not in early]
            self._mark(events)
            fresh += events
        fresh.sort(key=lambda e: e.timestamp.timestamp() if e.timestamp else 0.0)  # stable: each stack's own order kept
        self.events.extend(fresh)
        return fresh

    def _mark(self, events: list[StackEvent]) -> None:
        """Seen from now on; a nested stack an event names is followed from now on."""
        for event in events:
            self._seen.add(event.event_id)
            if (event.resource_type == "AWS::CloudFormation::Stack" and event.physical_id.startswith("arn:")
                    and event.physical_id != self.stack_id and event.physical_id not in self._nested):
                self._nested[event.physical_id] = f"{event.path}/{event.logical_id}" if event.path else event.logical_id

    def _read(self, stack_id: str, path: str, pages: int = 0) -> list[StackEvent]:
        """A stack's events, newest first, up to the first one already seen (at most `pages` pages when given)."""
        from botocore.exceptions import BotoCoreError, ClientError

        found: list[StackEvent] = []
        token: str | None = None
        try:
            while True:
                page = (self.cloudformation.describe_stack_events(StackName=stack_id, NextToken=token) if token
                        else self.cloudformation.describe_stack_events(StackName=stack_id))
                for raw in page.get("StackEvents", []):
                    event = _event(raw, path)
                    if event.event_id in self._seen:
                        return found
                    found.append(event)
                token = page.get("NextToken")
                pages -= 1
                if not token or pages == 0:
                    return found
        except (BotoCoreError, ClientError) as exc:
            if stack_id != self.stack_id:
                return found  # a nested stack CloudFormation no longer shows: its parent's events tell enough
            raise DeployError(f"cannot read the stack's events: {aws_reason(exc)}", file=self.where) from None

    def first_failure(self) -> StackEvent | None:
        """The operation's first failed resource, inside the nested stack that failed first when there is one."""
        path, found = "", None
        while True:
            own = [e for e in self.events if e.path == path and e.failed and not self._about_stack_itself(e)]
            if not own:
                return found
            found = own[0]
            if found.physical_id not in self._nested:
                return found
            path = self._nested[found.physical_id]

    def _about_stack_itself(self, event: StackEvent) -> bool:
        """An event a stack writes about itself, not about one of its resources."""
        if not event.path:
            return event.physical_id == self.stack_id
        return self._nested.get(event.physical_id) == event.path


def _event(raw: Any, path: str) -> StackEvent:
    return StackEvent(
        path=path,
        logical_id=str(raw.get("LogicalResourceId", "")),
        resource_type=str(raw.get("ResourceType", "")),
        status=str(raw.get("ResourceStatus", "")),
        reason=str(raw.get("ResourceStatusReason") or ""),
        physical_id=str(raw.get("PhysicalResourceId") or ""),
        event_id=str(raw.get("EventId", "")),
        timestamp=raw.get("Timestamp"),
    )


def aws_reason(exc: BaseException) -> str:
    """What an AWS call's error says, on one line (the error's message, else its first line)."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        message = (response.get("Error") or {}).get("Message")
        if message:
            return one_line(str(message))
    text = str(exc)
    return one_line(text.splitlines()[0]) if text else type(exc).__name__

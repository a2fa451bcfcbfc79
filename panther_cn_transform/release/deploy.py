"""`deploy`: the rest of Panther's China guide after the upload, as commands.

`deploy all` runs the guide in order (docs/release.md):

1. the China half: its stack from the root template in the China bucket;
2. connect: the bridge's URL and the key in use into the web region's secret, after checking the
   bridge answers with it (on an upgrade, the key rotation of `key_slots.py` instead);
3. the web half: its stack from the web bucket, with `SecretID`;
4. on a first install, the China stack updated with the web half's values (`UserPoolId`,
   `AppDomainURL`, ...: `deploy_inputs.web_sources`) in place of its placeholders;
5. the end-to-end check: both stacks complete with the outputs the other half reads, the secret
   holding the bridge's URL and the key the China stack's outputs name, and the bridge answering
   the guide's `{"listIntegrations": {}}` with it.

`deploy china` and `deploy web` are steps 1 and 3 alone; `deploy rotate-key` rotates the key.

Nothing is remembered between runs: whether a stack is created or updated, and which steps
are already done, is read from the account each time (a change set "without changes" is a
step done; a secret that already holds the key in use is a connect done), so a run that
failed is continued by running it again.  A first install that failed is left by
CloudFormation in `ROLLBACK_COMPLETE`, which can only be deleted: it is deleted and created
again once the operator agrees.  `UPDATE_ROLLBACK_FAILED` needs the operator (continue the
rollback); it is reported, never retried.

Every stack change is a change set shown before it runs (`changesets.py`), executed only with
`--yes` or an interactive yes; `--plan` shows the change sets it can make and deletes them,
and says what the later steps will do.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TextIO

from ..errors import ConnectError, DeployError, InputError
from ..partitions.endpoint_data import partition_for
from . import key_slots
from .changesets import ChangeSet, Kind, discard, execute, propose
from .connect import (
    Bridge,
    api_key_value,
    bridge_url_override,
    check_bridge,
    checked_output_url,
    read_bridge,
    read_secret,
    restore_secret,
    secret_bridge,
    store_secret,
)
from .deploy_inputs import PLACEHOLDERS, Root, deployed_template, parameter_list, placeholder, read_root, web_sources
from .stack_events import SUCCEEDED, StackWatch, aws_reason, in_progress, one_line

if TYPE_CHECKING:
    from mypy_boto3_apigateway import APIGatewayClient
    from mypy_boto3_cloudformation import CloudFormationClient
    from mypy_boto3_secretsmanager import SecretsManagerClient

#: the global regions Panther's China guide runs the web half in
WEB_REGIONS = ("ap-southeast-1", "ap-southeast-2")
_COMPLETE = frozenset({"CREATE_COMPLETE", "UPDATE_COMPLETE"})
_STUCK = {
    "UPDATE_ROLLBACK_FAILED": ("continue the rollback first (aws cloudformation continue-update-rollback --region {region} "
                               "--stack-name {stack}, with --resources-to-skip for a resource that cannot roll back), "
                               "then run deploy again"),
    "ROLLBACK_FAILED": "its first install failed and could not roll back: delete it (aws cloudformation delete-stack), then run deploy again",
    "DELETE_FAILED": "a deletion failed: delete it again (aws cloudformation delete-stack, retaining what cannot be deleted), then run deploy again",
    "IMPORT_ROLLBACK_FAILED": "an import failed and could not roll back: resolve it in the console, then run deploy again",
}


@dataclass(frozen=True)
class Half:
    """One half of the deployment: where its stack is and which bucket its release is in."""

    name: str  # "China", "web"
    region: str
    stack: str
    profile: str | None = None
    bucket: str | None = None

    @property
    def where(self) -> str:
        return f"{self.region} stack {self.stack}"


@dataclass(frozen=True)
class DeployOptions:
    """What `deploy` was asked (see `panther-cn-transform deploy --help`)."""

    china: Half
    web: Half
    release: str | None = None
    secret_id: str = "panther/china"
    first_user_email: str | None = None
    parameters: Mapping[str, str] = field(default_factory=dict)
    yes: bool = False
    plan: bool = False
    accept_blockers: bool = False  # deploy a release whose root records blockers the global release does not have
    interval: float = 5.0  # seconds between polls of a running stack operation


class _Stack:
    """A stack as `describe-stacks` shows it now (or absent)."""

    def __init__(self, raw: Mapping[str, Any] | None) -> None:
        self.raw = raw

    @property
    def exists(self) -> bool:
        return self.raw is not None

    @property
    def status(self) -> str:
        return str(self.raw["StackStatus"]) if self.raw else ""

    @property
    def stack_id(self) -> str:
        return str(self.raw["StackId"]) if self.raw else ""

    @property
    def parameters(self) -> dict[str, str]:
        return {str(p["ParameterKey"]): str(p.get("ParameterValue", "")) for p in (self.raw or {}).get("Parameters") or []}

    @property
    def outputs(self) -> dict[str, str]:
        return {str(o["OutputKey"]): str(o.get("OutputValue", "")) for o in (self.raw or {}).get("Outputs") or []}


class Deployment:
    """One `deploy` command: its steps, run in order, each saying what it did on `stream`.

    `confirm(question)` asks the operator (None when standard input is not a terminal: then
    only `--yes` executes a change set).
    """

    def __init__(self, options: DeployOptions, stream: TextIO, *, confirm: Callable[[str], bool] | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.options = options
        self.stream = stream
        self.confirm = confirm
        self.sleep = sleep
        self._clients: dict[tuple[str, str], Any] = {}
        self._sessions: dict[str, Any] = {}
        self._roots: dict[str, Root] = {}

    # --- the commands -------------------------------------------------------------------------------------------

    def deploy_china(self) -> None:
        """The China half's stack (step 1)."""
        self._check_options(china=True)
        self._gate(self.options.china)
        self._china_step()

    def deploy_web(self) -> None:
        """The web half's stack (step 3)."""
        self._check_options(web=True)
        self._gate(self.options.web)
        self._web_step()

    def deploy_all(self) -> None:
        """The guide in order: China half, connect (or the key rotation), web half, the web values into China, the check."""
        self._check_options(china=True, web=True)
        self._gate(self.options.china, self.options.web)
        planned = self._china_step()
        self._connect_step(planned)
        self._web_step()
        self._web_values_step()
        self._check_step()

    def rotate_key(self) -> None:
        """A new bridge key with no outage (`key_slots.py`): the idle slot regenerated, tested, in the secret, then in use."""
        self._check_options()
        china = self._describe(self.options.china)
        self._require_complete(china, self.options.china)
        slots = self._slots(china)
        if slots is None:
            raise DeployError("the stack has no bridge key slots (BridgeKeyInUse): deploy a release made with this "
                              "version's panther pack first", file=self.options.china.where)
        idle_key = api_key_value(self._apigateway(), slots.key_ids[slots.idle], where=self.options.china.where)
        held = secret_bridge(read_secret(self._secrets(), self.options.secret_id, where=self.options.web.region))
        generation = key_slots.new_generation()
        if held and held[1] == idle_key:
            self._say(f"rotate: the secret already holds the key of slot {slots.idle} (an earlier rotation stopped before "
                      "its end); finishing it")
            self._switch_slots(slots, generation)
            return
        self._say(f"rotate: slot {slots.in_use} is in use; slot {slots.idle} gets a new key ({generation})")
        values = {key_slots.IN_USE: slots.in_use, key_slots.generation_parameter(slots.in_use): slots.generations[slots.in_use],
                  key_slots.generation_parameter(slots.idle): generation}
        done = self._apply(self.options.china, None, values, "rotate",
                           key_slots.expected_replacements(slots.idle, f"slot {slots.idle}'s new key (slot {slots.in_use}'s key stays in use)"))
        if done == "planned":
            self._say(f"rotate (plan): then the bridge is checked with slot {slots.idle}'s new key, the secret "
                      f"{self.options.secret_id} moves to it, and slot {slots.in_use}'s key is replaced (a second change set)")
            return
        refreshed = self._slots(self._describe(self.options.china))
        assert refreshed is not None
        self._rotate_to_idle(refreshed, generation)

    # --- steps --------------------------------------------------------------------------------------------------

    def _china_step(self) -> dict[str, str]:
        """Deploy the China half from its bucket; the slot values it asked for (to tell a due rotation in a plan)."""
        half = self.options.china
        assert half.bucket and self.options.release
        root = self._root(half)
        china, web = self._describe(half), self._describe(self.options.web)
        decided = self._given(root.parameters)
        web_model = self._web_model(web)
        linked: dict[str, tuple[str, str] | None] = dict(web_sources(root.model, web_model))
        if not web_model:  # no web root to compare with: the parameters Panther's split lifts
            linked = {name: None for name, spec in root.parameters.items()
                      if name in PLACEHOLDERS and not (isinstance(spec, dict) and "Default" in spec)}
        notes = []
        for parameter, origin in linked.items():
            if parameter in decided:
                continue
            value = self._web_output(web, *origin) if origin else None
            if value:
                decided[parameter] = value
            elif not (china.exists and parameter in china.parameters):
                decided[parameter] = placeholder(parameter, self.options.web.region)
                notes.append(f"{parameter}={decided[parameter]}")
        slot_values: dict[str, str] = {}
        expected: dict[str, str] = {}
        slots = self._slots(china) if china.exists else None
        if slots and key_slots.declares_slots(root.parameters):
            slot_values = key_slots.upgrade_values(slots, self.options.release)
            decided.update(slot_values)
            if slot_values[key_slots.generation_parameter(slots.idle)] != slots.generations[slots.idle]:
                expected = key_slots.expected_replacements(
                    slots.idle, f"slot {slots.idle}'s new key for {self.options.release} (slot {slots.in_use}'s key stays "
                                "in use until the secret moves)")
        if notes:
            self._say(f"China: the web half does not exist yet: placeholders {', '.join(notes)} (deploy all replaces them "
                      "once the web half is deployed)")
        self._apply(half, root, decided, "China", expected)
        return slot_values

    def _connect_step(self, planned_slots: Mapping[str, str]) -> None:
        """Step 2: the bridge's URL and key in use into the secret, or the upgrade's key rotation."""
        china = self._describe(self.options.china)
        release = self.options.release or ""
        if self.options.plan and (not china.exists or china.status not in _COMPLETE):
            self._say(f"connect (plan): then the bridge's URL and key are read from {self.options.china.where}, the bridge "
                      f"is checked with them, and both are stored in secret {self.options.secret_id} ({self.options.web.region})")
            return
        self._require_complete(china, self.options.china)
        slots = self._slots(china)
        if self.options.plan and slots and (slots.rotation_due(release) or planned_slots.get(
                key_slots.generation_parameter(slots.idle), slots.generations[slots.idle]) != slots.generations[slots.idle]):
            self._say(f"rotate (plan): then the bridge is checked with slot {slots.idle}'s new key, secret "
                      f"{self.options.secret_id} moves to it, and a second change set makes slot {slots.idle} the one in "
                      f"use and replaces slot {slots.in_use}'s key")
            return
        if slots and slots.rotation_due(release):
            self._rotate_to_idle(slots, release)
            return
        self._connect(china)

    def _connect(self, china: _Stack) -> None:
        """Store the bridge and the key in use in the secret unless it holds them already."""
        half = self.options.china
        bridge = read_bridge(self._cloudformation(half), self._apigateway(), half.stack, where=half.region)
        override = bridge_url_override()
        if override:
            bridge = Bridge(override, bridge.api_key_id, bridge.api_key)
        held = secret_bridge(read_secret(self._secrets(), self.options.secret_id, where=self.options.web.region))
        if held == (bridge.url, bridge.api_key):
            self._say(f"connect: secret {self.options.secret_id} ({self.options.web.region}) already holds the bridge "
                      f"and its key in use ({bridge.api_key_id}): done")
            return
        if self.options.plan:
            self._say(f"connect (plan): the bridge {bridge.url} is checked with key {bridge.api_key_id} and both go into "
                      f"secret {self.options.secret_id} ({self.options.web.region})")
            return
        self._say(f"connect: {check_bridge(bridge)}")
        outcome = store_secret(self._secrets(), self.options.secret_id, bridge, where=self.options.web.region)
        self._say(f"connect: secret {self.options.secret_id} {outcome} in {self.options.web.region} "
                  f"(bridge {bridge.url}, API key {bridge.api_key_id})")

    def _rotate_to_idle(self, slots: key_slots.KeySlots, generation: str) -> None:
        """Rotation steps 2 and 3: check the idle slot's new key, move the secret to it, then make it the one in use."""
        half = self.options.china
        china = self._describe(half)
        url = checked_output_url(china.outputs.get("BridgeUrl", ""), place=half.where, region=half.region)
        url = bridge_url_override() or url
        new = Bridge(url, slots.key_ids[slots.idle], api_key_value(self._apigateway(), slots.key_ids[slots.idle], where=half.where))
        try:
            answer = check_bridge(new)
        except ConnectError as exc:
            raise DeployError(f"the bridge refused slot {slots.idle}'s new key ({exc.message}); nothing else changed: "
                              f"the secret still holds slot {slots.in_use}'s key, which still works", file=half.where) from None
        self._say(f"rotate: slot {slots.idle}'s new key {new.api_key_id} works: {answer}")
        secrets, region = self._secrets(), self.options.web.region
        previous = read_secret(secrets, self.options.secret_id, where=region)
        store_secret(secrets, self.options.secret_id, new, where=region)
        try:
            held = secret_bridge(read_secret(secrets, self.options.secret_id, where=region))
            if held is None:
                raise ConnectError("the secret does not read back as URL and API_KEY", file=f"{region} secret {self.options.secret_id}")
            check_bridge(Bridge(held[0], new.api_key_id, held[1]))
        except ConnectError as exc:
            restore_secret(secrets, self.options.secret_id, previous, where=region)
            raise DeployError(f"the bridge did not answer through the secret ({exc.message}); the secret was put back "
                              f"(slot {slots.in_use}'s key, which still works)", file=f"{region} secret {self.options.secret_id}") from None
        self._say(f"rotate: secret {self.options.secret_id} ({region}) holds slot {slots.idle}'s key {new.api_key_id}; "
                  "the web proxies take it on their next refusal or within five minutes")
        self._switch_slots(slots, generation)

    def _switch_slots(self, slots: key_slots.KeySlots, generation: str) -> None:
        """Rotation step 3: the idle slot in use (the outputs name its key), the old slot's key replaced."""
        self._apply(self.options.china, None, key_slots.switch_values(slots, generation), "rotate",
                    key_slots.expected_replacements(slots.in_use, f"slot {slots.in_use}'s old key is retired "
                                                                  f"(slot {slots.idle} is in use from now on)"))

    def _web_step(self) -> None:
        """Deploy the web half from its bucket, with `SecretID` (step 3)."""
        half = self.options.web
        assert half.bucket and self.options.release
        root = self._root(half)
        decided = self._given(root.parameters)
        if "SecretID" in root.parameters:
            decided["SecretID"] = self.options.secret_id
            secret = read_secret(self._secrets(), self.options.secret_id, where=half.region)
            if secret is None and not self.options.plan:
                raise DeployError(f"secret {self.options.secret_id} does not exist in {half.region}: the web half's proxies "
                                  "read the bridge from it; deploy the China half and connect first (deploy all does both)",
                                  file=half.where)
        self._apply(half, root, decided, "web", {})

    def _web_values_step(self) -> None:
        """Step 4: the China stack takes the web half's values where it has placeholders (or older values)."""
        china, web = self._describe(self.options.china), self._describe(self.options.web)
        if not (china.exists and web.exists):
            if self.options.plan:
                self._say("web values (plan): then the China stack is updated with the web half's values in place of its "
                          "placeholders (its Bootstrap outputs)")
            return
        model = deployed_template(self._cloudformation(self.options.china), self.options.china.stack, where=self.options.china.where)
        decided: dict[str, str] = {}
        for parameter, (stack, output) in web_sources(model, self._web_model(web)).items():
            value = self._web_output(web, stack, output)
            if value and china.parameters.get(parameter) != value:
                decided[parameter] = value
        if not decided:
            self._say("web values: the China stack already has the web half's values: done")
            return
        self._say(f"web values: the China stack takes {', '.join(f'{k}={v}' for k, v in decided.items())} from the web half")
        self._apply(self.options.china, None, decided, "web values", {})

    def _check_step(self) -> None:
        """Step 5: the end-to-end check of Panther's guide."""
        if self.options.plan:
            self._say("check (plan): then both stacks must be complete with the outputs the other half reads, the secret "
                      "must hold the bridge's URL and the key the China stack names, and the bridge must answer "
                      '{"listIntegrations": {}} with it')
            return
        china_half, web_half = self.options.china, self.options.web
        china, web = self._describe(china_half), self._describe(web_half)
        self._require_complete(china, china_half)
        self._require_complete(web, web_half)
        outputs = china.outputs
        missing = [name for name in ("BridgeUrl", "BridgeApiKeyId") if not outputs.get(name)]
        if missing:
            raise DeployError(f"no output {' or '.join(missing)}: the China half has no bridge", file=china_half.where)
        model = deployed_template(self._cloudformation(china_half), china_half.stack, where=china_half.where)
        for parameter, (stack, output) in web_sources(model, self._web_model(web)).items():
            value = self._web_output(web, stack, output)
            if not value:
                raise DeployError(f"the web half's {stack} stack has no output {output} (the China stack's {parameter})",
                                  file=web_half.where)
            if china.parameters.get(parameter) != value:
                raise DeployError(f"the China stack's {parameter} is {china.parameters.get(parameter)!r}, the web half's "
                                  f"{stack}.{output} is {value!r}: run deploy all again", file=china_half.where)
        key = api_key_value(self._apigateway(), outputs["BridgeApiKeyId"], where=china_half.where)
        url = checked_output_url(outputs["BridgeUrl"], place=china_half.where, region=china_half.region)
        url = bridge_url_override() or url
        held = secret_bridge(read_secret(self._secrets(), self.options.secret_id, where=web_half.region))
        place = f"{web_half.region} secret {self.options.secret_id}"
        if held is None:
            raise DeployError("the secret does not hold the bridge (URL and API_KEY): run connect (or deploy all) again", file=place)
        if held[0] != url:
            raise DeployError(f"the secret's URL is {held[0]}, the bridge's is {url}: run connect again", file=place)
        if held[1] != key:
            raise DeployError(f"the secret does not hold the key the China stack names ({outputs['BridgeApiKeyId']}): "
                              "run connect again", file=place)
        answer = check_bridge(Bridge(held[0], outputs["BridgeApiKeyId"], held[1]))
        self._say(f"check: {china_half.where} {china.status}, {web_half.where} {web.status}; the secret holds the bridge "
                  f"and key {outputs['BridgeApiKeyId']}; {answer}")

    # --- one stack change ---------------------------------------------------------------------------------------

    def _apply(self, half: Half, root: Root | None, decided: Mapping[str, str], label: str,
               expected: Mapping[str, str]) -> str:
        """Create or update `half`'s stack through a change set (`root` None: its current template); what happened."""
        cloudformation = self._cloudformation(half)
        stack = self._describe(half)
        if stack.status == "REVIEW_IN_PROGRESS":  # only a change set, left by an interrupted run: nothing to keep
            if self.options.plan:
                self._say(f"{label} (plan): {half.where} holds only a change set (REVIEW_IN_PROGRESS, left by an "
                          "interrupted run); deploy deletes it, then creates the stack")
                return "planned"
            self._delete(half, stack, "holds only a change set (REVIEW_IN_PROGRESS)")
            stack = _Stack(None)
        elif stack.status == "ROLLBACK_COMPLETE":
            self._say(f"{label}: {half.where} is ROLLBACK_COMPLETE: its first install failed, and such a stack can only be "
                      "deleted; it is deleted and created again")
            if self.options.plan:
                self._say(f"{label} (plan): the create change set is shown once the stack is deleted")
                return "planned"
            self._agree(f"delete stack {half.stack} ({half.region}) and create it again?", half, None)
            self._delete(half, stack, "ROLLBACK_COMPLETE")
            stack = _Stack(None)
        elif stack.status in _STUCK:
            raise DeployError(f"the stack is {stack.status}: " + _STUCK[stack.status].format(region=half.region, stack=half.stack),
                              file=half.where)
        elif stack.status and in_progress(stack.status):
            raise DeployError(f"the stack is {stack.status}: another operation is running; wait for it to end, then run "
                              "deploy again", file=half.where)
        if root is None and not stack.exists:
            raise DeployError("the stack does not exist", file=half.where)
        declared = root.parameters if root else (deployed_template(cloudformation, half.stack, where=half.where).get("Parameters") or {})
        parameters = parameter_list(declared, decided, stack.parameters if stack.exists else None, where=half.where)
        kind: Kind = "UPDATE" if stack.exists else "CREATE"
        source = f"from s3://{root.bucket}/{root.key}" if root else "with its current template"
        change_set = propose(cloudformation, stack=half.stack, where=half.where, kind=kind, parameters=parameters,
                             template_url=root.url if root else None, interval=min(self.options.interval, 2.0), sleep=self.sleep,
                             description=f"panther-cn-transform deploy: {label} {source}")
        if change_set.empty:
            self._say(f"{label}: {half.where} is already as asked (the change set had no changes): done")
            return "unchanged"
        verb = "create" if kind == "CREATE" else "update"
        self._say(f"{label}: {verb} {half.where} {source}: {change_set.counts()}")
        for line in change_set.lines(expected):
            self._say(line)
        if self.options.plan:
            discard(cloudformation, change_set, sleep=self.sleep)
            self._say(f"{label} (plan): change set deleted, nothing changed"
                      + ("; the empty stack made to hold it too" if kind == "CREATE" else ""))
            return "planned"
        self._agree(f"{verb} {half.where} with this change set?", half, change_set)
        status = self._run(half, change_set)
        self._say(f"{label}: {half.where} {status}")
        return "created" if kind == "CREATE" else "updated"

    def _run(self, half: Half, change_set: ChangeSet) -> str:
        """Execute a change set and show its events until it ends; a failure is one line with its first failed resource."""
        from .display import StackProgress

        cloudformation = self._cloudformation(half)
        watch = StackWatch(cloudformation, change_set.stack_id, half.where, interval=self.options.interval, sleep=self.sleep)
        execute(cloudformation, change_set)
        with StackProgress(self.stream, half.where) as progress:
            status = watch.wait(progress.event)
        if status in SUCCEEDED:
            return status
        failure = watch.first_failure()
        cause = (f"{failure.name} ({failure.resource_type}) {failure.status}: {one_line(failure.reason) or 'no reason given'}"
                 if failure else "CloudFormation reported no failed resource")
        if status in _STUCK:
            then = _STUCK[status].format(region=half.region, stack=half.stack)
        elif change_set.kind == "CREATE":
            then = "fix the cause and run deploy again (the stack is deleted and created again)"
        else:
            then = "the stack is back as it was; fix the cause and run deploy again"
        raise DeployError(f"{cause}; the stack is {status}: {then}", file=half.where)

    def _delete(self, half: Half, stack: _Stack, why: str) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        from .display import StackProgress

        cloudformation = self._cloudformation(half)
        watch = StackWatch(cloudformation, stack.stack_id, half.where, interval=self.options.interval, sleep=self.sleep)
        try:
            cloudformation.delete_stack(StackName=stack.stack_id)
        except (BotoCoreError, ClientError) as exc:
            raise DeployError(f"cannot delete the stack ({why}): {aws_reason(exc)}", file=half.where) from None
        with StackProgress(self.stream, half.where) as progress:
            status = watch.wait(progress.event)
        if status != "DELETE_COMPLETE":
            raise DeployError(f"the stack ({why}) could not be deleted; it is {status}", file=half.where)
        self._say(f"{half.name}: {half.where} deleted ({why})")

    def _agree(self, question: str, half: Half, change_set: ChangeSet | None) -> None:
        """Go on only with --yes or an interactive yes; otherwise the change set is deleted and nothing changes."""
        if self.options.yes:
            return
        if self.confirm is not None and self.confirm(question):
            return
        if change_set is not None:
            discard(self._cloudformation(half), change_set, sleep=self.sleep)
        why = ("not confirmed" if self.confirm is not None
               else "standard input is not a terminal: run again with --yes to go on (or --plan to see the plan)")
        raise DeployError(f"nothing changed ({why}){'; the change set was deleted' if change_set else ''}", file=half.where)

    # --- reading the account ------------------------------------------------------------------------------------

    def _describe(self, half: Half) -> _Stack:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            stacks = self._cloudformation(half).describe_stacks(StackName=half.stack)["Stacks"]
        except ClientError as exc:
            if "does not exist" in aws_reason(exc):
                return _Stack(None)
            raise DeployError(f"cannot read the stack: {aws_reason(exc)}", file=half.where) from None
        except BotoCoreError as exc:
            raise DeployError(f"cannot read the stack: {aws_reason(exc)}", file=half.where) from None
        return _Stack(stacks[0] if stacks else None)

    def _require_complete(self, stack: _Stack, half: Half) -> None:
        if not stack.exists:
            raise DeployError(f"the {half.name} half's stack does not exist: deploy it first", file=half.where)
        if stack.status not in _COMPLETE:
            raise DeployError(f"the stack is {stack.status}, not complete: run deploy again", file=half.where)

    def _slots(self, stack: _Stack) -> key_slots.KeySlots | None:
        return key_slots.read_slots(stack.parameters, stack.outputs)

    def _web_model(self, web: _Stack) -> dict[str, Any]:
        """The web root to compare with: the deployed web stack's, else the one in the web bucket, else none."""
        if web.exists and web.status not in ("REVIEW_IN_PROGRESS", "ROLLBACK_COMPLETE"):
            return deployed_template(self._cloudformation(self.options.web), self.options.web.stack, where=self.options.web.where)
        half = self.options.web
        if half.bucket and self.options.release:
            return self._root(half).model
        return {}

    def _web_output(self, web: _Stack, nested: str, output: str) -> str | None:
        """Output `output` of the web stack's nested stack `nested` (None when it has none yet)."""
        from botocore.exceptions import BotoCoreError, ClientError

        if not web.exists or web.status not in _COMPLETE:
            return None
        cloudformation = self._cloudformation(self.options.web)
        try:
            physical = cloudformation.describe_stack_resource(StackName=web.stack_id, LogicalResourceId=nested)
            stack_id = str(physical["StackResourceDetail"].get("PhysicalResourceId") or "")
            found = cloudformation.describe_stacks(StackName=stack_id)["Stacks"] if stack_id else []
        except (BotoCoreError, ClientError) as exc:
            raise DeployError(f"cannot read the web half's {nested} stack: {aws_reason(exc)}", file=self.options.web.where) from None
        values = _Stack(found[0] if found else None).outputs
        return values.get(output) or None

    def _given(self, declared: Mapping[str, Any]) -> dict[str, str]:
        """The values the command line gives for the parameters a root declares."""
        decided = {name: value for name, value in self.options.parameters.items() if name in declared}
        if self.options.first_user_email and "FirstUserEmail" in declared:
            decided["FirstUserEmail"] = self.options.first_user_email
        return decided

    def _check_options(self, *, china: bool = False, web: bool = False) -> None:
        options = self.options
        if partition_for(options.china.region) != "aws-cn":
            raise InputError(f"--china-region {options.china.region} is not a China region (cn-north-1, cn-northwest-1)",
                             file="<command line>")
        if options.web.region not in WEB_REGIONS:
            raise InputError(f"--web-region {options.web.region}: Panther's China guide runs the web half in "
                             f"{' or '.join(WEB_REGIONS)}", file="<command line>")
        if (china or web) and not options.release:
            raise InputError("deploy needs --release (the release folder in the bucket, e.g. v1.18.1)", file="<command line>")
        if china and not options.china.bucket:
            raise InputError("deploy needs --bucket (the China bucket the release was uploaded to)", file="<command line>")
        if web and not options.web.bucket:
            raise InputError("deploy needs --web-bucket (the web half's bucket)", file="<command line>")
        if options.first_user_email is not None and "@" not in options.first_user_email:
            raise InputError(f"--first-user-email {options.first_user_email!r} is not an email address", file="<command line>")

    def _root(self, half: Half) -> Root:
        """The half's root template in its bucket, read once per run."""
        assert half.bucket and self.options.release
        if half.name not in self._roots:
            self._roots[half.name] = read_root(
                bucket=half.bucket, region=half.region, release=self.options.release, profile=half.profile,
                half="China" if half.name == "China" else "web", option="--china-profile" if half.name == "China" else "--web-profile")
        return self._roots[half.name]

    def _gate(self, *halves: Half) -> None:
        """Stop before anything is deployed when a half's release has blockers the global release does not have.

        How deploy knows them: `release --upload` records the count (and the places) of those blockers in
        the root template's own S3 metadata (`s3target.BLOCKERS_METADATA`), the object deploy reads anyway.
        Only the upload can tell them: a blocker is "own" by comparison with the global source release,
        which deploy never sees, so running the check again on the root in the bucket could not tell a
        China-specific blocker from a shared one (v1.16's `go1.x` runtimes).  The upload stops on them
        unless `--accept-blockers`, so a root that records any was accepted at upload time and is stopped
        here again unless `deploy --accept-blockers`.  A root with no record (uploaded by hand, or by an
        older version) is said to be unchecked, in one line, and does not stop.  `--plan` says what would
        stop and goes on showing (it deploys nothing).
        """
        from .s3target import BLOCKER_PLACES_METADATA, BLOCKERS_METADATA

        for half in halves:
            root = self._root(half)
            where = f"s3://{root.bucket}/{root.key}"
            recorded = root.metadata.get(BLOCKERS_METADATA)
            if recorded is None or not recorded.isdigit():
                self._say(f"blockers: {where} carries no record of its blockers (uploaded by hand or by an older "
                          "version): not checked; its release report lists them")
                continue
            count = int(recorded)
            if not count:
                continue
            places = root.metadata.get(BLOCKER_PLACES_METADATA, "")
            line = (f"{count} blocker(s) the global release does not have in the {half.name} half's release {where}"
                    f"{f' ({places})' if places else ''}; its release report lists them under \"What blocks a deployment\"")
            if self.options.accept_blockers:
                self._say(f"blockers: {line}; deploying anyway (--accept-blockers)")
            elif self.options.plan:
                self._say(f"blockers (plan): {line}; deploy stops on them before anything is deployed, unless --accept-blockers")
            else:
                raise DeployError(f"{line}; nothing deployed: fix them, or add --accept-blockers to deploy anyway",
                                  file=half.where)

    # --- clients --------------------------------------------------------------------------------------------------

    def _session(self, half: Half) -> Any:
        """The boto3 session of a half (its profile, else the environment), made once."""
        import boto3
        from botocore.exceptions import BotoCoreError

        if half.name not in self._sessions:
            try:
                self._sessions[half.name] = boto3.Session(profile_name=half.profile, region_name=half.region)
            except BotoCoreError as exc:
                option = "--china-profile" if half.name == "China" else "--web-profile"
                raise InputError(f"{option}: {exc}", file="<aws configuration>") from None
        return self._sessions[half.name]

    def _cloudformation(self, half: Half) -> CloudFormationClient:
        key = ("cloudformation", half.name)
        if key not in self._clients:
            self._clients[key] = self._session(half).client("cloudformation", config=_config())
        client: CloudFormationClient = self._clients[key]
        return client

    def _apigateway(self) -> APIGatewayClient:
        key = ("apigateway", "China")
        if key not in self._clients:
            self._clients[key] = self._session(self.options.china).client("apigateway", config=_config())
        client: APIGatewayClient = self._clients[key]
        return client

    def _secrets(self) -> SecretsManagerClient:
        key = ("secretsmanager", "web")
        if key not in self._clients:
            self._clients[key] = self._session(self.options.web).client("secretsmanager", config=_config())
        client: SecretsManagerClient = self._clients[key]
        return client

    def _say(self, line: str) -> None:
        print(line, file=self.stream, flush=True)



def _config() -> Any:
    """botocore's standard retry mode, as the S3 edges use it."""
    from botocore.config import Config

    return Config(retries={"mode": "standard", "max_attempts": 5})

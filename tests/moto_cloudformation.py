"""moto's CloudFormation, completed where the deploy tests need it (installed in the test process).

moto 5 runs CloudFormation in the process that runs its server (the threaded server of
tests/aws_servers.py runs in the test process), so what it lacks can be added here, backed by
moto's own services, without touching a client.  Measured with moto 5.2 on the bundled release,
it lacks:

* resource models for `AWS::ApiGateway::ApiKey`, `UsagePlan`, `UsagePlanKey` and `Stage`,
  `AWS::Serverless::Function`, `AWS::Cognito::UserPool` and `UserPoolClient`: a stack reached
  `CREATE_COMPLETE` having created none of them, and the outputs that read them were dropped.
  Added below, each backed by moto's API Gateway, Lambda/IAM or Cognito backend, so the keys,
  usage plans, functions and pools exist there and the services' APIs return them;
* `!GetAtt Child.Outputs.X` on a nested stack (moto's `Stack` has no `get_cfn_attribute`: the
  execution failed with HTTP 500).  Added;
* `AWS::URLSuffix` and `AWS::Partition` are `amazonaws.com` and `aws` in every region.  Set
  from the region's partition;
* resource events: moto records the stack's own events only.  Every resource's
  `*_IN_PROGRESS`, `*_COMPLETE` and `*_FAILED` is recorded, with moto's error as the reason;
* failure: a resource that fails made `ExecuteChangeSet` answer HTTP 500 and left the stack
  `REVIEW_IN_PROGRESS`.  Now a create rolls back (what was created is deleted, the stack ends
  `ROLLBACK_COMPLETE`; a nested stack ends `DELETE_COMPLETE`, its parent's event saying
  "Embedded stack ... was not successfully created"), an update ends `UPDATE_ROLLBACK_COMPLETE`
  (moto cannot restore the old resources: they stay as the failed update left them);
* change sets: moto diffs resources by their template text only, ignores parameters (a key whose
  `Name` is a `!Sub` of a changed parameter was "unchanged"), never says `Replacement`, never
  cascades a replacement to what references it, and did not refresh the stack's outputs after
  `ExecuteChangeSet`.  The diff below also follows parameters (in `Ref`, `GetAtt` and `Sub`),
  says `Replacement: True` when a changed property is create-only in the type's schema (cfn-lint's
  bundled resource schemas, the same `createOnlyProperties` CloudFormation uses), cascades a
  replacement to the resources whose properties reference it, and orders updates by reference;
  the models below replace themselves exactly when the diff said so;
* a change set whose parameters have the values the stack has (one given its default, or its previous
  value) was a change: values are compared, defaults included, as CloudFormation does;
* a nested stack's update deleted and re-created it (new name, new resources); it is updated in
  place;
* moto's Lambda creates a function whose code object is missing from S3 (its lookup answers None
  instead of failing); the SAM function model fails as Lambda does ("S3 Error Code: NoSuchKey");
* `Ref` of an `AWS::Lambda::LayerVersion` gave moto's model object, not the layer version's ARN;
* `IncludeNestedStacks` was ignored: a nested stack that changes now gets its own change set
  (its template from its `TemplateURL`, its parameters from the parent's new values and the
  outputs of the stacks that exist), named by the parent's change (`ChangeSetId`), deleted or
  executed with the parent.

`install()` does all of it once per process; `unsupported` collects every resource type or
attribute moto still skipped with only a warning, so a test can fail on it
(`strict_cloudformation`).
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import re
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ClassVar

from moto.apigateway.models import apigateway_backends
from moto.awslambda.models import LayerVersion, lambda_backends
from moto.cloudformation import models as cfn_models
from moto.cloudformation import parsing
from moto.cloudformation.exceptions import UnformattedGetAttTemplateException, ValidationError
from moto.cloudformation.models import Change, ChangeSet, CloudFormationBackend, Event, Stack, cloudformation_backends
from moto.cloudformation.responses import CloudFormationResponse
from moto.cloudformation.utils import generate_changeset_id, get_stack_from_s3_url
from moto.cognitoidp.models import cognitoidp_backends
from moto.core.common_models import CloudFormationModel
from moto.iam.models import iam_backends
from moto.s3.models import s3_backends
from moto.utilities.utils import get_partition

unsupported: list[str] = []  # what moto skipped with only a warning since the last `strict_cloudformation()`
_installed = threading.Lock()
_done = False


def install() -> None:
    """Complete moto's CloudFormation in this process (idempotent)."""
    global _done
    with _installed:
        if _done:
            return
        _patch_parsing()
        _patch_stacks()
        _patch_change_sets()
        LayerVersion.physical_resource_id = property(lambda self: self.arn)  # type: ignore[attr-defined]
        for cached in (parsing.get_model_list, parsing.get_model_map, parsing.get_name_type_map):
            cached.cache_clear()
        logging.getLogger("moto").addHandler(_WarningRecorder())
        _done = True


@contextmanager
def strict_cloudformation() -> Iterator[None]:
    """Fail the block when moto skipped a resource type or attribute with only a warning."""
    install()
    unsupported.clear()
    yield
    found, unsupported[:] = list(unsupported), []
    assert not found, f"not supported by moto: {found}"


class _WarningRecorder(logging.Handler):
    """moto logs, without failing, a type it has no model for and a `GetAtt` it cannot answer."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if "CloudFormation" in message or "GetAtt" in message or "attribute" in message.lower():
            unsupported.append(message)


# --- create-only properties, from the schemas CloudFormation publishes (cfn-lint bundles them) ---------------------

_SAM_CREATE_ONLY = {"AWS::Serverless::Function": frozenset({"FunctionName"})}


@functools.cache
def create_only(resource_type: str) -> frozenset[str]:
    """The top-level properties of `resource_type` whose change replaces the resource."""
    if resource_type in _SAM_CREATE_ONLY:
        return _SAM_CREATE_ONLY[resource_type]
    import cfnlint

    schemas = Path(cfnlint.__file__).parent / "data" / "schemas"
    digest = json.loads((schemas / "providers" / "us-east-1.json").read_text()).get(resource_type)
    if not digest:
        return frozenset()
    schema = json.loads((schemas / "resources" / f"{digest}.json").read_text())
    return frozenset(path.split("/")[2] for path in schema.get("createOnlyProperties", []) if path.count("/") >= 2)


# --- references in a template value -------------------------------------------------------------------------------

_SUB = re.compile(r"\$\{([^!}][^}]*)\}")


def references(value: Any) -> set[str]:
    """Names a value reads: `Ref`, `GetAtt` (list or dotted) and `Sub`'s `${X}` / `${X.Attr}` (not `${!X}`)."""
    found: set[str] = set()
    if isinstance(value, dict):
        if "Ref" in value and isinstance(value["Ref"], str):
            found.add(value["Ref"])
        target = value.get("Fn::GetAtt")
        if isinstance(target, str):
            found.add(target.split(".", 1)[0])
        elif isinstance(target, list) and target and isinstance(target[0], str):
            found.add(target[0])
        sub = value.get("Fn::Sub")
        if sub is not None:
            text, names = (sub[0], sub[1] if len(sub) > 1 else {}) if isinstance(sub, list) else (sub, {})
            if isinstance(text, str):
                found |= {name.split(".", 1)[0] for name in _SUB.findall(text) if name.split(".", 1)[0] not in names}
            found |= references(names)
        for key, item in value.items():
            if key not in ("Ref", "Fn::GetAtt", "Fn::Sub"):
                found |= references(item)
    elif isinstance(value, list):
        for item in value:
            found |= references(item)
    return found


# --- the diff: what an update adds, modifies (and replaces) and removes --------------------------------------------

def _resolved_parameters(template: dict[str, Any], given: dict[str, Any]) -> dict[str, str]:
    values = {name: str(spec.get("Default")) for name, spec in (template.get("Parameters") or {}).items()
              if isinstance(spec, dict) and "Default" in spec}
    values.update({name: str(value) for name, value in given.items()})
    return values


def plan_update(resource_map: parsing.ResourceMap, template: dict[str, Any],
                parameters: dict[str, Any] | None) -> tuple[dict[str, list[str]], dict[str, str], dict[str, set[str]]]:
    """CloudFormation's answer for an update: names by action, `Replacement` by modified name, and why."""
    old: dict[str, Any] = resource_map._resource_json_map
    new: dict[str, Any] = template.get("Resources") or {}
    before = {name: str(value) for name, value in resource_map.resolved_parameters.items()}
    after = _resolved_parameters(template, parameters if parameters is not None else resource_map.input_parameters)
    changed_parameters = {name for name in set(before) | set(after) if before.get(name) != after.get(name)}
    changed: dict[str, set[str]] = {}  # modified resource -> its changed properties ("" for outside Properties)
    for name, resource in new.items():
        if name not in old:
            continue
        properties_old = old[name].get("Properties") or {}
        properties_new = resource.get("Properties") or {}
        why = {key for key in set(properties_old) | set(properties_new) if properties_old.get(key) != properties_new.get(key)}
        why |= {key for key, value in properties_new.items() if references(value) & changed_parameters}
        outside_old = {k: v for k, v in old[name].items() if k != "Properties"}
        outside_new = {k: v for k, v in resource.items() if k != "Properties"}
        if outside_old != outside_new:
            why.add("")
        if why:
            changed[name] = why
    replaced = {name for name, why in changed.items() if why & create_only(new[name]["Type"])}
    growing = True
    while growing:  # a replaced resource has a new physical id: what references it changes too
        growing = False
        for name, resource in new.items():
            if name not in old:
                continue
            for key, value in (resource.get("Properties") or {}).items():
                if references(value) & replaced and key not in changed.get(name, set()):
                    changed.setdefault(name, set()).add(key)
                    growing = True
                    if key in create_only(resource["Type"]):
                        replaced.add(name)
    modify = _by_reference([name for name in new if name in changed], new)
    actions = {"Add": [name for name in new if name not in old], "Modify": modify,
               "Remove": [name for name in old if name not in new]}
    return actions, {name: "True" if name in replaced else "False" for name in modify}, changed


def _by_reference(names: list[str], resources: dict[str, Any]) -> list[str]:
    """`names` in an order where each comes after the names it references (template order otherwise)."""
    pending, ordered = list(names), []
    while pending:
        for name in pending:
            needs = references(resources[name]) & set(pending) - {name}
            depends = resources[name].get("DependsOn") or []
            needs |= set([depends] if isinstance(depends, str) else depends) & set(pending) - {name}
            if not needs:
                break
        else:
            name = pending[0]  # a cycle: CloudFormation would refuse it; keep template order
        pending.remove(name)
        ordered.append(name)
    return ordered


# --- events ---------------------------------------------------------------------------------------------------------

def _stack_of(resource_map: parsing.ResourceMap) -> Stack | None:
    backend = cloudformation_backends[resource_map._account_id][resource_map._region_name]
    return backend.stacks.get(resource_map.stack_id) or backend.deleted_stacks.get(resource_map.stack_id)


def _event(stack: Stack | None, logical_id: str, resource_type: str, status: str, reason: str | None = None,
           physical_id: str | None = None) -> None:
    if stack is None:
        return
    stack.events.append(Event(stack_id=stack.stack_id, stack_name=stack.name, logical_resource_id=logical_id,
                              physical_resource_id=physical_id or "", resource_type=resource_type,
                              resource_status=status, resource_status_reason=reason, resource_properties=None))


def _reason(exc: BaseException) -> str:
    for name in ("message", "description"):
        text = getattr(exc, name, None)
        if isinstance(text, str) and text:
            return text
    return str(exc) or type(exc).__name__


class EmbeddedStackFailed(Exception):
    """A nested stack failed: what its parent's event says, and the nested stack's id."""

    def __init__(self, message: str, stack_id: str) -> None:
        super().__init__(message)
        self.message = message
        self.stack_id = stack_id


def _physical_id(resource: Any) -> str:
    if isinstance(resource, Stack):
        return resource.stack_id
    return str(getattr(resource, "physical_resource_id", "") or "")


# --- the patches ----------------------------------------------------------------------------------------------------

def _patch_parsing() -> None:
    original_init = parsing.ResourceMap.__init__

    def resource_map_init(self: parsing.ResourceMap, *args: Any, **kwargs: Any) -> None:
        original_init(self, *args, **kwargs)
        partition = get_partition(self._region_name)
        self._parsed_resources["AWS::Partition"] = partition
        self._parsed_resources["AWS::URLSuffix"] = "amazonaws.com.cn" if partition == "aws-cn" else "amazonaws.com"

    parsing.ResourceMap.__init__ = resource_map_init  # type: ignore[method-assign]

    original_class = parsing.resource_class_from_type

    def resource_class_from_type(resource_type: str) -> Any:
        found = original_class(resource_type)
        if found is None and resource_type not in parsing.NULL_MODELS:
            unsupported.append(resource_type)
        return found

    parsing.resource_class_from_type = resource_class_from_type

    original_create = parsing.parse_and_create_resource

    def parse_and_create_resource(logical_id: str, resource_json: dict[str, Any], resources_map: parsing.ResourceMap,
                                  account_id: str, region_name: str) -> Any:
        condition = resource_json.get("Condition")
        if condition and not resources_map.lazy_condition_map[condition]:
            return None
        stack, kind = _stack_of(resources_map), resource_json.get("Type", "")
        _event(stack, logical_id, kind, "CREATE_IN_PROGRESS")
        try:
            created = original_create(logical_id, resource_json, resources_map, account_id, region_name)
        except EmbeddedStackFailed as exc:
            _failed(resources_map, logical_id)
            _event(stack, logical_id, kind, "CREATE_FAILED", exc.message, exc.stack_id)
            raise
        except Exception as exc:
            _failed(resources_map, logical_id)
            _event(stack, logical_id, kind, "CREATE_FAILED", _reason(exc))
            raise
        _event(stack, logical_id, kind, "CREATE_COMPLETE", physical_id=_physical_id(created))
        return created

    parsing.parse_and_create_resource = parse_and_create_resource

    original_update = parsing.parse_and_update_resource

    def parse_and_update_resource(logical_id: str, resource_json: dict[str, Any], resources_map: parsing.ResourceMap,
                                  account_id: str, region_name: str) -> Any:
        stack, kind = _stack_of(resources_map), resource_json.get("Type", "")
        replacing = getattr(resources_map, "_replacing", set())
        previous = _physical_id(resources_map._parsed_resources.get(logical_id))
        _event(stack, logical_id, kind, "UPDATE_IN_PROGRESS",
               "Requested update requires the creation of a new physical resource; hence creating one."
               if logical_id in replacing else None, previous)
        try:
            updated = original_update(logical_id, resource_json, resources_map, account_id, region_name)
            if updated is None:
                raise NotImplementedError(f"moto cannot update {kind}")
        except Exception as exc:
            _failed(resources_map, logical_id)
            _event(stack, logical_id, kind, "UPDATE_FAILED", _reason(exc), previous)
            raise
        _event(stack, logical_id, kind, "UPDATE_COMPLETE", physical_id=_physical_id(updated))
        return updated

    parsing.parse_and_update_resource = parse_and_update_resource

    original_delete = parsing.ResourceMap._delete_resource

    def delete_resource(self: parsing.ResourceMap, parsed_resource: Any, resource_json: dict[str, Any]) -> None:
        stack, kind = _stack_of(self), resource_json.get("Type", "")
        logical_id = getattr(parsed_resource, "logical_resource_id", "") or ""
        _event(stack, logical_id, kind, "DELETE_IN_PROGRESS", physical_id=_physical_id(parsed_resource))
        original_delete(self, parsed_resource, resource_json)
        _event(stack, logical_id, kind, "DELETE_COMPLETE", physical_id=_physical_id(parsed_resource))

    parsing.ResourceMap._delete_resource = delete_resource  # type: ignore[method-assign]

    def build_resource_diff(self: parsing.ResourceMap, other_template: dict[str, Any],
                            parameters: dict[str, Any] | None = None) -> dict[str, Any]:
        actions, replacement, _ = plan_update(self, other_template, parameters)
        self._replacing = {name for name, answer in replacement.items() if answer == "True"}  # type: ignore[attr-defined]
        return actions

    parsing.ResourceMap.build_resource_diff = build_resource_diff  # type: ignore[method-assign]


def _failed(resources_map: parsing.ResourceMap, logical_id: str) -> None:
    failed = getattr(resources_map, "_failed", None)
    if failed is None:
        failed = resources_map._failed = []  # type: ignore[attr-defined]
    if logical_id not in failed:
        failed.append(logical_id)


def _patch_stacks() -> None:
    def get_cfn_attribute(self: Stack, attribute: str) -> Any:
        if not attribute.startswith("Outputs."):
            raise UnformattedGetAttTemplateException()
        key = attribute[len("Outputs."):]
        for output in self.outputs or []:
            if output["OutputKey"] == key:
                return output["OutputValue"]
        raise ValidationError(self.stack_id, message=f"Output '{key}' not found in stack '{self.stack_id}'")

    Stack.get_cfn_attribute = get_cfn_attribute  # type: ignore[attr-defined]

    def has_parameters(self: Stack, other_parameters: dict[str, Any]) -> bool:
        # CloudFormation compares values, defaults included: a parameter given its previous value is no change
        return _resolved_parameters(self.template_dict, self.parameters) == _resolved_parameters(self.template_dict, other_parameters)

    Stack.has_parameters = has_parameters  # type: ignore[method-assign]

    original_create_resources = Stack.create_resources

    def create_resources(self: Stack) -> None:
        try:
            original_create_resources(self)
        except Exception:  # noqa: BLE001 - any failure of a resource fails the stack, as in AWS
            failed = getattr(self.resource_map, "_failed", [])
            reason = f"The following resource(s) failed to create: [{', '.join(failed)}]. "
            self.status = "CREATE_FAILED"
            self._add_stack_event("CREATE_FAILED", resource_status_reason=reason)
            backend = cloudformation_backends[self.account_id][self.region_name]
            with contextlib.suppress(Exception):  # what moto cannot delete stays; the failure is what matters
                backend.delete_stack(self.stack_id)  # the parent's rollback deletes it
            raise EmbeddedStackFailed(f"Embedded stack {self.stack_id} was not successfully created: {reason}", self.stack_id) from None

    Stack.create_resources = create_resources  # type: ignore[method-assign]

    @classmethod  # type: ignore[misc]
    def update_from_cloudformation_json(cls: type[Stack], original_resource: Stack, new_resource_name: str,
                                        cloudformation_json: dict[str, Any], account_id: str, region_name: str) -> Stack:
        properties = cloudformation_json["Properties"]
        body = get_stack_from_s3_url(properties["TemplateURL"], account_id=account_id, partition=get_partition(region_name))
        parameters = {key: str(value) for key, value in (properties.get("Parameters") or {}).items()}
        try:
            original_resource.update(body, parameters=parameters)
        except Exception as exc:  # noqa: BLE001 - any failure of a resource fails the nested stack's update
            original_resource.status = "UPDATE_ROLLBACK_COMPLETE"
            original_resource._add_stack_event("UPDATE_ROLLBACK_COMPLETE")
            raise EmbeddedStackFailed(f"Embedded stack {original_resource.stack_id} was not successfully updated: "
                                      f"{_reason(exc)}", original_resource.stack_id) from None
        return original_resource

    Stack.update_from_cloudformation_json = update_from_cloudformation_json  # type: ignore[method-assign, assignment]


def _patch_change_sets() -> None:
    def diff(self: ChangeSet) -> list[Change]:
        actions, replacement, why = plan_update(self.stack.resource_map, self.template_dict, self.parameters)
        old = self.stack.resource_map._resource_json_map
        changes = []
        for action, names in actions.items():
            for name in names:
                resource = (self.template_dict.get("Resources") or {}).get(name) or old.get(name) or {}
                change = Change(action=action, logical_resource_id=name, resource_type=resource.get("Type", ""))
                if action == "Modify":
                    change.replacement = replacement[name]  # type: ignore[attr-defined]
                    change.scope = sorted({"Properties"} if why[name] - {""} else set())  # type: ignore[attr-defined]
                    change.details = [{"Target": {"Attribute": "Properties", "Name": key,  # type: ignore[attr-defined]
                                                  "RequiresRecreation": "Always" if key in create_only(change.resource_type) else "Never"}}
                                      for key in sorted(why[name] - {""})]
                    existing = self.stack.resource_map._parsed_resources.get(name)
                    change.physical_resource_id = _physical_id(existing) or None  # type: ignore[attr-defined]
                    if isinstance(existing, Stack) and getattr(_request, "nested", False):
                        _nested_change_set(self, change, existing, resource)
                changes.append(change)
        return changes

    ChangeSet.diff = diff  # type: ignore[method-assign]

    original_create = CloudFormationResponse.create_change_set

    def create_change_set(self: CloudFormationResponse) -> Any:
        _request.nested = self._get_bool_param("IncludeNestedStacks", False)
        try:
            return original_create(self)
        finally:
            _request.nested = False

    CloudFormationResponse.create_change_set = create_change_set  # type: ignore[method-assign]

    original_delete_change_set = CloudFormationBackend.delete_change_set

    def delete_change_set(self: CloudFormationBackend, change_set_name: str) -> None:
        found = self.describe_change_set(change_set_name)
        original_delete_change_set(self, change_set_name)
        _forget_nested(self, found)

    CloudFormationBackend.delete_change_set = delete_change_set  # type: ignore[method-assign]

    def execute_change_set(self: CloudFormationBackend, change_set_name: str, stack_name: str | None = None) -> None:
        change_set = self.describe_change_set(change_set_name)
        if change_set is None or change_set.execution_status != "AVAILABLE":
            raise ValidationError(change_set_name, message=f"ChangeSet [{change_set_name}] cannot be executed in its current status")
        stack = self.stacks[change_set.stack_id]
        kind = change_set.change_set_type
        stack.status = f"{kind}_IN_PROGRESS"
        stack._add_stack_event(stack.status, resource_status_reason="User Initiated")
        stack.resource_map._failed = []  # type: ignore[attr-defined]
        try:
            change_set.apply()
            stack.template = change_set.template
            stack._parse_template()
            stack.description = stack.template_dict.get("Description")
            stack.parameters = dict(change_set.parameters)
            stack.output_map = stack._create_output_map()
            stack.outputs  # noqa: B018 - evaluated now: an output that cannot be read fails the change, as in AWS
        except Exception:  # noqa: BLE001 - any failure of a resource fails the change set's execution
            failed = ", ".join(getattr(stack.resource_map, "_failed", []))
            if kind == "CREATE":
                stack.status = "ROLLBACK_IN_PROGRESS"
                stack._add_stack_event(stack.status, resource_status_reason=(
                    f"The following resource(s) failed to create: [{failed}]. Rollback requested by user."))
                with contextlib.suppress(Exception):  # what moto cannot delete stays, as a failed rollback would leave it
                    stack.resource_map.delete()
                stack.status = "ROLLBACK_COMPLETE"
            else:
                stack.status = "UPDATE_ROLLBACK_IN_PROGRESS"
                stack._add_stack_event(stack.status, resource_status_reason=(
                    f"The following resource(s) failed to update: [{failed}]. "))
                stack.status = "UPDATE_ROLLBACK_COMPLETE"
            stack._add_stack_event(stack.status)
            change_set.execution_status = "EXECUTE_FAILED"
        else:
            stack.status = f"{kind}_COMPLETE"
            stack._add_stack_event(stack.status)
            change_set.execution_status = "EXECUTE_COMPLETE"
        for other in [cs for cs in self.change_sets.values() if cs.stack_id == stack.stack_id and cs is not change_set]:
            del self.change_sets[other.change_set_id]  # executing one change set deletes the stack's others
        _forget_nested(self, change_set)  # the nested change sets ran with it

    CloudFormationBackend.execute_change_set = execute_change_set  # type: ignore[method-assign]

    original_delete_stack = CloudFormationBackend.delete_stack

    def delete_stack(self: CloudFormationBackend, name_or_stack_id: str) -> None:
        ids = {s.stack_id for s in self.stacks.values() if name_or_stack_id in (s.name, s.stack_id)}
        original_delete_stack(self, name_or_stack_id)
        for change_set_id in [i for i, cs in self.change_sets.items() if cs.stack_id in ids]:
            del self.change_sets[change_set_id]  # a stack's change sets go with it

    CloudFormationBackend.delete_stack = delete_stack  # type: ignore[method-assign]
    cfn_models.CloudFormationBackend.delete_stack = delete_stack  # type: ignore[method-assign]


# --- nested change sets (IncludeNestedStacks) ----------------------------------------------------------------------

_request = threading.local()  # IncludeNestedStacks of the CreateChangeSet request being answered


def _nested_change_set(parent: ChangeSet, change: Change, nested: Stack, resource: dict[str, Any]) -> None:
    """The change set CloudFormation makes for a nested stack that changes, named by the parent's change."""
    properties = resource.get("Properties") or {}
    url = properties.get("TemplateURL")
    if not isinstance(url, str):
        return  # a TemplateURL known only when it runs
    body = get_stack_from_s3_url(url, account_id=nested.account_id, partition=get_partition(nested.region_name))
    root_values = _resolved_parameters(parent.template_dict, parent.parameters)
    existing = parent.stack.resource_map._parsed_resources
    values = dict(nested.parameters)
    for key, value in (properties.get("Parameters") or {}).items():
        if isinstance(value, (str, int, float, bool)):
            values[key] = str(value)
        elif isinstance(value, dict) and list(value) == ["Ref"] and value["Ref"] in root_values:
            values[key] = root_values[value["Ref"]]
        elif isinstance(value, dict) and list(value) == ["Fn::GetAtt"]:
            target = value["Fn::GetAtt"] if isinstance(value["Fn::GetAtt"], list) else str(value["Fn::GetAtt"]).split(".", 1)
            source = existing.get(target[0])
            with contextlib.suppress(Exception):  # an output known only when it runs keeps its value here
                values[key] = str(source.get_cfn_attribute(target[1]))  # type: ignore[union-attr]
    backend = cloudformation_backends[nested.account_id][nested.region_name]
    name = f"{parent.change_set_name}-{change.logical_resource_id}"[:128]
    child = ChangeSet(change_set_type="UPDATE", change_set_id=generate_changeset_id(name, nested.region_name, nested.account_id),
                      change_set_name=name, stack=nested, template=body, parameters=values, description="")
    child.status, child.execution_status = "CREATE_COMPLETE", "AVAILABLE"
    child.parent_change_set_id = parent.change_set_id  # type: ignore[attr-defined]
    child.root_change_set_id = getattr(parent, "root_change_set_id", None) or parent.change_set_id  # type: ignore[attr-defined]
    backend.change_sets[child.change_set_id] = child
    change.change_set_id = child.change_set_id  # type: ignore[attr-defined]
    parent.include_nested_stacks = child.include_nested_stacks = True  # type: ignore[attr-defined]
    parent.nested_ids = [*getattr(parent, "nested_ids", []), child.change_set_id]  # type: ignore[attr-defined]


def _forget_nested(backend: CloudFormationBackend, change_set: ChangeSet) -> None:
    """A root change set's nested change sets go with it (deleted or executed)."""
    for nested_id in getattr(change_set, "nested_ids", []):
        nested = backend.change_sets.pop(nested_id, None)
        if nested is not None:
            _forget_nested(backend, nested)


# --- the resource models moto lacks ----------------------------------------------------------------------------------

def _true(value: Any) -> bool:
    return str(value).lower() == "true"


class _Model:
    """What the models share: properties kept for the update, replacement decided by the schema's create-only list."""

    TYPE: ClassVar[str] = ""
    NAME: ClassVar[str] = ""
    ATTRIBUTES: ClassVar[tuple[str, ...]] = ()
    properties: dict[str, Any]
    account_id: str
    region: str

    @classmethod
    def cloudformation_type(cls) -> str:
        return cls.TYPE

    @classmethod
    def cloudformation_name_type(cls) -> str:
        return cls.NAME

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr in cls.ATTRIBUTES

    def is_created(self) -> bool:
        return True

    @classmethod
    def create_from_cloudformation_json(cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str,
                                        region_name: str, **kwargs: Any) -> Any:
        model = cls.__new__(cls)
        model.properties, model.account_id, model.region = dict(cloudformation_json.get("Properties") or {}), account_id, region_name
        model.create(resource_name)
        return model

    @classmethod
    def update_from_cloudformation_json(cls, original_resource: Any, new_resource_name: str,
                                        cloudformation_json: dict[str, Any], account_id: str, region_name: str) -> Any:
        properties = dict(cloudformation_json.get("Properties") or {})
        changed = {key for key in set(properties) | set(original_resource.properties)
                   if properties.get(key) != original_resource.properties.get(key)}
        if changed & create_only(cls.TYPE):  # CloudFormation makes the new one first, then deletes the old one
            replacement = cls.create_from_cloudformation_json(new_resource_name, cloudformation_json, account_id, region_name)
            original_resource.delete(account_id, region_name)
            return replacement
        original_resource.properties = properties
        original_resource.change(properties)
        return original_resource

    @classmethod
    def delete_from_cloudformation_json(cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str,
                                        region_name: str) -> None:
        return None

    def create(self, name: str) -> None:
        raise NotImplementedError

    def change(self, properties: dict[str, Any]) -> None:
        return None

    def delete(self, account_id: str, region: str) -> None:
        return None


class ApiGatewayApiKey(_Model, CloudFormationModel):
    TYPE, NAME, ATTRIBUTES = "AWS::ApiGateway::ApiKey", "Name", ("APIKeyId",)

    def create(self, name: str) -> None:
        payload = {"name": name, "description": self.properties.get("Description", ""),
                   "enabled": _true(self.properties.get("Enabled", False))}
        if self.properties.get("Value"):
            payload["value"] = self.properties["Value"]
        self.key_id = apigateway_backends[self.account_id][self.region].create_api_key(payload).id

    @property
    def physical_resource_id(self) -> str:
        return self.key_id

    def get_cfn_attribute(self, attribute: str) -> str:
        if attribute == "APIKeyId":
            return self.key_id
        raise UnformattedGetAttTemplateException()

    def change(self, properties: dict[str, Any]) -> None:
        key = apigateway_backends[self.account_id][self.region].get_api_key(self.key_id)
        key.enabled = _true(properties.get("Enabled", False))
        key.description = properties.get("Description", "")

    def delete(self, account_id: str, region: str) -> None:
        backend = apigateway_backends[self.account_id][self.region]
        backend.keys.pop(self.key_id, None)
        for plan_keys in backend.usage_plan_keys.values():  # API Gateway removes a deleted key from its usage plans
            plan_keys.pop(self.key_id, None)


class ApiGatewayUsagePlan(_Model, CloudFormationModel):
    TYPE, NAME, ATTRIBUTES = "AWS::ApiGateway::UsagePlan", "UsagePlanName", ("Id",)

    def _payload(self, name: str) -> dict[str, Any]:
        stages = [{"apiId": s.get("ApiId"), "stage": s.get("Stage")} for s in self.properties.get("ApiStages") or []]
        return {"name": name, "description": self.properties.get("Description", ""), "apiStages": stages}

    def create(self, name: str) -> None:
        self.name = name
        self.plan_id = apigateway_backends[self.account_id][self.region].create_usage_plan(self._payload(name)).id

    @property
    def physical_resource_id(self) -> str:
        return self.plan_id

    def get_cfn_attribute(self, attribute: str) -> str:
        if attribute == "Id":
            return self.plan_id
        raise UnformattedGetAttTemplateException()

    def change(self, properties: dict[str, Any]) -> None:
        plan = apigateway_backends[self.account_id][self.region].get_usage_plan(self.plan_id)
        payload = self._payload(properties.get("UsagePlanName", self.name))
        plan.name, plan.description, plan.api_stages = payload["name"], payload["description"], payload["apiStages"]

    def delete(self, account_id: str, region: str) -> None:
        backend = apigateway_backends[self.account_id][self.region]
        backend.usage_plans.pop(self.plan_id, None)
        backend.usage_plan_keys.pop(self.plan_id, None)


class ApiGatewayUsagePlanKey(_Model, CloudFormationModel):
    TYPE, ATTRIBUTES = "AWS::ApiGateway::UsagePlanKey", ("Id",)

    def create(self, name: str) -> None:
        self.plan_id, self.key_id = self.properties["UsagePlanId"], self.properties["KeyId"]
        apigateway_backends[self.account_id][self.region].create_usage_plan_key(
            self.plan_id, {"keyId": self.key_id, "keyType": self.properties.get("KeyType", "API_KEY")})

    @property
    def physical_resource_id(self) -> str:
        return self.key_id

    def get_cfn_attribute(self, attribute: str) -> str:
        if attribute == "Id":
            return self.key_id
        raise UnformattedGetAttTemplateException()

    def delete(self, account_id: str, region: str) -> None:
        apigateway_backends[self.account_id][self.region].usage_plan_keys.get(self.plan_id, {}).pop(self.key_id, None)


class ApiGatewayStage(_Model, CloudFormationModel):
    TYPE, NAME = "AWS::ApiGateway::Stage", "StageName"

    def create(self, name: str) -> None:
        self.api_id, self.name = self.properties["RestApiId"], name
        backend = apigateway_backends[self.account_id][self.region]
        backend.get_rest_api(self.api_id).stages.pop(name, None)  # moto's deployment may have made one of that name
        backend.create_stage(self.api_id, name, deploymentId=self.properties.get("DeploymentId", ""),
                             variables=self.properties.get("Variables"), description=self.properties.get("Description", ""))

    @property
    def physical_resource_id(self) -> str:
        return self.name

    def change(self, properties: dict[str, Any]) -> None:
        stage = apigateway_backends[self.account_id][self.region].get_stage(self.api_id, self.name)
        stage.deployment_id = properties.get("DeploymentId", stage.deployment_id)
        stage.description = properties.get("Description", "")

    def delete(self, account_id: str, region: str) -> None:
        backend = apigateway_backends[self.account_id][self.region]
        api = backend.apis.get(self.api_id)
        if api is not None:
            api.stages.pop(self.name, None)


class ServerlessFunction(_Model, CloudFormationModel):
    """SAM's function, as the transform would make it: a role (unless `Role` is given) and a Lambda function."""

    TYPE, NAME, ATTRIBUTES = "AWS::Serverless::Function", "FunctionName", ("Arn",)

    def _spec(self, name: str) -> dict[str, Any]:
        code = self.properties.get("CodeUri")
        if isinstance(code, str) and code.startswith("s3://"):
            bucket, _, key = code[len("s3://"):].partition("/")
            source: dict[str, Any] = {"S3Bucket": bucket, "S3Key": key}
        elif isinstance(code, dict):
            source = {"S3Bucket": code.get("Bucket"), "S3Key": code.get("Key")}
        else:
            source = {"ZipFile": self.properties.get("InlineCode", "")}
        spec = {"FunctionName": name, "Code": source, "Handler": self.properties.get("Handler"),
                "Runtime": self.properties.get("Runtime"), "Role": self.role_arn,
                "Layers": [str(layer) for layer in self.properties.get("Layers") or []]}
        for key in ("Description", "MemorySize", "Timeout", "Environment"):
            if key in self.properties:
                spec[key] = self.properties[key]
        return spec

    def create(self, name: str) -> None:
        self.name, self.own_role = name, None
        self.role_arn = self.properties.get("Role")
        if not self.role_arn:
            trust = {"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
            role = iam_backends[self.account_id][get_partition(self.region)].create_role(
                role_name=f"{name[:48]}-role-{uuid.uuid4().hex[:8]}", assume_role_policy_document=json.dumps(trust), path="/",
                permissions_boundary=None, description="", tags=[], max_session_duration=None)
            self.own_role, self.role_arn = role.name, role.arn
        try:
            spec = self._spec(name)
            code = spec["Code"]
            if "S3Key" in code and s3_backends[self.account_id][get_partition(self.region)].get_object(code["S3Bucket"], code["S3Key"]) is None:
                raise ValueError("Error occurred while GetObject. S3 Error Code: NoSuchKey. S3 Error Message: The specified key "
                                 "does not exist.")  # what Lambda says; moto's Lambda takes code whose object is missing
            function = lambda_backends[self.account_id][self.region].create_function(spec)
        except Exception:
            if self.own_role:  # SAM's role goes with the function it was made for
                iam_backends[self.account_id][get_partition(self.region)].delete_role(self.own_role)
            raise
        self.arn = function.function_arn

    @property
    def physical_resource_id(self) -> str:
        return self.name

    def get_cfn_attribute(self, attribute: str) -> str:
        if attribute == "Arn":
            return self.arn
        raise UnformattedGetAttTemplateException()

    def change(self, properties: dict[str, Any]) -> None:
        function = lambda_backends[self.account_id][self.region].get_function(self.name)
        spec = self._spec(self.name)
        function.update_configuration({key: value for key, value in spec.items() if key not in ("Code", "FunctionName")})
        function.update_function_code({**spec["Code"], "Publish": False})

    def delete(self, account_id: str, region: str) -> None:
        lambda_backends[self.account_id][self.region].delete_function(self.name)
        if self.own_role:
            iam_backends[self.account_id][get_partition(self.region)].delete_role(self.own_role)


class CognitoUserPool(_Model, CloudFormationModel):
    TYPE, NAME, ATTRIBUTES = "AWS::Cognito::UserPool", "UserPoolName", ("Arn", "ProviderName", "ProviderURL", "UserPoolId")

    def create(self, name: str) -> None:
        self.pool = cognitoidp_backends[self.account_id][self.region].create_user_pool(name, {})

    @property
    def physical_resource_id(self) -> str:
        return str(self.pool.id)

    def get_cfn_attribute(self, attribute: str) -> str:
        values = {"Arn": self.pool.arn, "ProviderName": f"cognito-idp.{self.region}.amazonaws.com/{self.pool.id}",
                  "ProviderURL": f"https://cognito-idp.{self.region}.amazonaws.com/{self.pool.id}", "UserPoolId": self.pool.id}
        if attribute in values:
            return str(values[attribute])
        raise UnformattedGetAttTemplateException()

    def delete(self, account_id: str, region: str) -> None:
        cognitoidp_backends[self.account_id][self.region].user_pools.pop(self.pool.id, None)


class CognitoUserPoolClient(_Model, CloudFormationModel):
    TYPE, NAME, ATTRIBUTES = "AWS::Cognito::UserPoolClient", "ClientName", ("ClientId", "ClientSecret", "Name")

    def create(self, name: str) -> None:
        self.pool_id = self.properties["UserPoolId"]
        self.client = cognitoidp_backends[self.account_id][self.region].create_user_pool_client(
            self.pool_id, _true(self.properties.get("GenerateSecret", False)), {"ClientName": name})

    @property
    def physical_resource_id(self) -> str:
        return str(self.client.id)

    def get_cfn_attribute(self, attribute: str) -> str:
        values = {"ClientId": self.client.id, "ClientSecret": getattr(self.client, "secret", ""), "Name": self.client.name}
        if attribute in values:
            return str(values[attribute])
        raise UnformattedGetAttTemplateException()

    def delete(self, account_id: str, region: str) -> None:
        pool = cognitoidp_backends[self.account_id][self.region].user_pools.get(self.pool_id)
        if pool is not None:
            pool.clients.pop(self.client.id, None)


# --- what the stand-in bridge accepts ---------------------------------------------------------------------------------

def bridge_keys(region: str, account_id: str = "123456789012", api_name: str = "panther-cn-bridge") -> set[str]:
    """The key values API Gateway would accept on the bridge now: enabled, on a usage plan of the API's stages."""
    backend = apigateway_backends[account_id][region]
    apis = {api_id for api_id, api in backend.apis.items() if api.name == api_name}
    plans = {plan_id for plan_id, plan in backend.usage_plans.items()
             if any(stage.get("apiId") in apis for stage in plan.api_stages or [])}
    return {key.value for plan_id in plans for key_id in backend.usage_plan_keys.get(plan_id, {})
            if (key := backend.keys.get(key_id)) is not None and key.enabled}

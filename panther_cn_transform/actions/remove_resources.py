"""`remove_unsupported` and `remove_resources`: drop resources, keeping every reference whole.

Why: CloudFormation rejects a whole template that uses a resource type the region does
not have (Cognito user pools do not exist in either China region), and rejects a
template with a dangling reference just as firmly.  Which types a region has comes from
cfn-lint's region data (see region_data.py); what happens to references is planned by
removal.py.
"""

from __future__ import annotations

import fnmatch
from typing import ClassVar

from ..edits import EditLog
from ..region_data import load_region_data
from ..removal import plan_removal, unused_after, used_names
from ._base import BoundRule, RuleContext, Warning


class RemoveUnsupported:
    """Remove every resource whose type the target region lacks, and repair its references.

    Custom resources and third-party types are kept.  `on_reference: remove` removes
    every referencing resource instead of repairing policies and `Fn::If` branches.
    """

    name: ClassVar[str] = "remove_unsupported"
    example: ClassVar[str] = (
        "Resources:\n"
        "  UserPool:\n"
        "    Type: AWS::Cognito::UserPool\n"
        "  AuthFunction:\n"
        "    Type: AWS::Lambda::Function\n"
        "    Properties:\n"
        "      Role: arn:aws:iam::123456789012:role/r\n"
        "      Code: {ZipFile: 'def handler(e, c): pass'}\n"
        "      Environment:\n"
        "        Variables:\n"
        "          POOL_ID: !Ref UserPool\n"
        "  Queue:\n"
        "    Type: AWS::SQS::Queue\n"
        "    DependsOn: [UserPool]\n"
        "Outputs:\n"
        "  PoolId:\n"
        "    Value: !Ref UserPool\n"
        "  QueueUrl:\n"
        "    Value: !Ref Queue\n"
    )

    def apply(self, log: EditLog, rule: BoundRule, context: RuleContext) -> list[Warning]:
        region = str(rule.params.get("region") or context.region)
        data = load_region_data(region)
        initial = {
            logical_id: f"{logical_id} removed: {resource['Type']} does not exist in {region} ({data.source})"
            for logical_id, resource in (log.model.get("Resources") or {}).items()
            if isinstance(resource, dict) and isinstance(resource.get("Type"), str) and data.lacks(resource["Type"])
        }
        return _apply_plan(log, rule, initial, data.required_properties)


class RemoveResources:
    """Remove resources whose type or logical id matches a glob, and repair references.

    For what a pack decides to drop although the region has it (the Panther pack drops
    the web application, which stays in a global region).
    """

    name: ClassVar[str] = "remove_resources"
    example: ClassVar[str] = (
        "Resources:\n"
        "  WebService:\n"
        "    Type: AWS::ECS::Service\n"
        "    Properties:\n"
        "      Cluster: web\n"
    )

    def apply(self, log: EditLog, rule: BoundRule, context: RuleContext) -> list[Warning]:
        types = [str(t) for t in rule.params.get("types") or []]
        ids = [str(i) for i in rule.params.get("logical_ids") or []]
        why = str(rule.params.get("reason") or rule.description.split(".")[0])
        initial = {}
        for logical_id, resource in (log.model.get("Resources") or {}).items():
            rtype = resource.get("Type") if isinstance(resource, dict) else None
            if any(fnmatch.fnmatchcase(logical_id, g) for g in ids) or (
                isinstance(rtype, str) and any(fnmatch.fnmatchcase(rtype, g) for g in types)
            ):
                initial[logical_id] = f"{logical_id} removed: {rtype} - {why}"
        region_data = load_region_data(context.region) if initial else None
        return _apply_plan(log, rule, initial, region_data.required_properties if region_data else lambda _t: frozenset())


def _apply_plan(log: EditLog, rule: BoundRule, initial: dict[str, str], required: object) -> list[Warning]:
    if not initial:
        return []
    before = log.model
    used_before = used_names(before)  # now: the edits below may change this working model in place
    on_reference = rule.params.get("on_reference", "repair")
    warnings: list[Warning] = []
    for edit in plan_removal(before, initial, rule=rule.id, on_reference=on_reference, required=required, warnings=warnings):  # type: ignore[arg-type]
        log.apply(edit)
    warnings += unused_after(used_before, log.model, rule.id)
    if not log.model.get("Resources"):
        warnings.append(Warning(("Resources",), "every resource was removed; CloudFormation needs at least one", rule.id))
    return warnings

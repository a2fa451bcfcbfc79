"""`remove_resources`: drop what a pack decides to leave out, keeping every reference whole."""

from __future__ import annotations

import fnmatch
from typing import ClassVar

from ...model.edits import EditLog
from ...partitions.region_data import load_region_data
from ..findings import Finding
from ..removal import ON_REFERENCE_PARAM, apply_removal
from ..rule_api import ActionSpec, BoundRule, Param, RuleContext


class RemoveResources:
    """Remove resources whose type or logical id matches a glob, and repair references.

    For what a pack decides to drop although the region has it (the Panther pack drops
    the web application, which stays in a global region).
    """

    spec: ClassVar[ActionSpec] = ActionSpec(
        name="remove_resources",
        why=(
            "A pack may drop what the region has: Panther's China pack drops the web application, which stays in "
            'a global region. References are repaired as for `remove_unsupported` (removal.py).'
        ),
        safety='Removes resources; each reference to them is repaired without widening a permission, or its owner is removed too; all reported.',
        params=(
            Param('types', 'Resource type globs to remove', {'type': 'array', 'items': {'type': 'string', 'minLength': 1}}),
            Param('logical_ids', 'Logical id globs to remove', {'type': 'array', 'items': {'type': 'string', 'minLength': 1}}),
            Param('reason', 'Why, for the report', {'type': 'string'}),
            ON_REFERENCE_PARAM,
        ),
        example=(
            'Resources:\n'
            '  WebService:\n'
            '    Type: AWS::ECS::Service\n'
            '    Properties:\n'
            '      Cluster: web\n'
        ),
        example_params={'types': ['AWS::ECS::Service'], 'reason': 'the web application stays in a global region'},
    )

    def apply(self, log: EditLog, rule: BoundRule, context: RuleContext) -> list[Finding]:
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
        if not initial:
            return []
        required = load_region_data(context.region).required_properties
        return apply_removal(log, rule.id, initial, on_reference=rule.params.get("on_reference", "repair"), required=required)

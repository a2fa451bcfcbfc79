"""`keep_resources`: keep only the named resources of a template, removing the rest safely."""

from __future__ import annotations

import fnmatch
from typing import ClassVar

from ...model.edits import EditLog
from ...partitions.region_data import load_region_data
from ..findings import Finding
from ..removal import ON_REFERENCE_PARAM, apply_removal
from ..rule_api import ActionSpec, BoundRule, Param, RuleContext


class KeepResources:
    """Remove every resource whose logical id and type match none of `keep` (globs).

    Applies only to a template that has all of `when_resources` (logical-id globs; this is
    how a rule picks one nested template of a release), and with `root_only` only to a
    release's root template.
    """

    spec: ClassVar[ActionSpec] = ActionSpec(
        name="keep_resources",
        why=(
            "Panther's China deployment splits one release in two. The web half (global region) needs a few "
            'resources of some backend stacks (the users API of Core, the custom-resource function of '
            'BootstrapGateway) and none of the rest; naming what to keep is shorter and safer than naming what to '
            'drop, since a resource a later release adds to such a stack is then removed from the web half (and '
            'reported) instead of being deployed twice. Removal and the repair of references are those of '
            '`remove_resources` (removal.py).'
        ),
        safety='Removes resources, like `remove_resources`, with the same reference repairs and reports.',
        params=(
            Param('keep', 'Logical id or resource type globs to keep; every other resource is removed', {'type': 'array', 'minItems': 1, 'items': {'type': 'string', 'minLength': 1}}, required=True),
            Param('when_resources', 'Only templates that have all these logical ids (globs)', {'type': 'array', 'items': {'type': 'string', 'minLength': 1}}),
            Param('root_only', "Only a release's root template", {'type': 'boolean'}, default=False),
            Param('reason', 'Why, for the report', {'type': 'string'}),
            ON_REFERENCE_PARAM,
        ),
        example=(
            'Resources:\n'
            '  UsersApiFunction:\n'
            '    Type: AWS::Lambda::Function\n'
            '    Properties:\n'
            '      Role: arn:aws:iam::123456789012:role/r\n'
            "      Code: {ZipFile: 'def handler(e, c): pass'}\n"
            '  AlertsTable:\n'
            '    Type: AWS::DynamoDB::Table\n'
        ),
        example_params={'keep': ['UsersApiFunction']},
    )

    def apply(self, log: EditLog, rule: BoundRule, context: RuleContext) -> list[Finding]:
        if rule.params.get("root_only") and not context.is_root:
            return []
        resources = log.model.get("Resources") or {}
        for pattern in rule.params.get("when_resources") or []:
            if not any(fnmatch.fnmatchcase(logical_id, str(pattern)) for logical_id in resources):
                return []
        keep = [str(k) for k in rule.params.get("keep") or []]
        why = str(rule.params.get("reason") or rule.description.split(".")[0])
        initial = {}
        for logical_id, resource in resources.items():
            rtype = resource.get("Type") if isinstance(resource, dict) else None
            if not any(fnmatch.fnmatchcase(logical_id, k) or (isinstance(rtype, str) and fnmatch.fnmatchcase(rtype, k)) for k in keep):
                initial[logical_id] = f"{logical_id} removed: {rtype} - {why}"
        if not initial:
            return []
        required = load_region_data(context.region).required_properties
        return apply_removal(log, rule.id, initial, on_reference=rule.params.get("on_reference", "repair"), required=required)

"""`warn_managed_policies`: AWS managed policies the partition lacks, reported."""

from __future__ import annotations

import re
from typing import ClassVar

from ..edits import EditLog
from ..findings import Finding
from ..rule_api import ActionSpec, BoundRule, Param, RuleContext


class WarnManagedPolicies:
    """Warn about references to AWS managed policies that China does not have."""

    spec: ClassVar[ActionSpec] = ActionSpec(
        name="warn_managed_policies",
        why=(
            'Some AWS managed policies do not exist in every partition; attaching one fails at deploy time.'
        ),
        safety='Reports only.',
        params=(
            Param('missing', 'AWS managed policy names that do not exist in China', {'type': 'array', 'items': {'type': 'string', 'minLength': 1}}, required=True),
        ),
        example=(
            'Resources:\n'
            '  Role:\n'
            '    Type: AWS::IAM::Role\n'
            '    Properties:\n'
            '      ManagedPolicyArns: [arn:aws:iam::aws:policy/AmazonElasticContainerRegistryPublicReadOnly]\n'
        ),
        example_params={'missing': ['AmazonElasticContainerRegistryPublicReadOnly']},
    )

    def apply(self, log: EditLog, rule: BoundRule, context: RuleContext) -> list[Finding]:
        missing = set(rule.params.get("missing") or [])
        warnings = []
        for path, value in log.strings():
            if ":policy/" not in value:
                continue
            name = value.rsplit("/", 1)[-1]
            if name in missing and re.search(r":iam::aws:policy/", value):
                warnings.append(Finding(path, f"AWS managed policy {name} does not exist in China", rule.id))
        return warnings

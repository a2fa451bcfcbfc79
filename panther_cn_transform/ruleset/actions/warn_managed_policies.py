"""The `warn_managed_policies` action: AWS managed policies the partition lacks."""

from __future__ import annotations

import re
from typing import ClassVar

from ...model.edits import EditLog
from ..findings import Finding
from ..rule_api import ActionSpec, BoundRule, Param, RuleContext


class WarnManagedPolicies:
    """Reports references to AWS managed policies that the pack lists as missing in the target
    partition.
    """

    spec: ClassVar[ActionSpec] = ActionSpec(
        name="warn_managed_policies",
        why="Some AWS managed policies do not exist in every partition; attaching one fails at deploy time.",
        safety="Reports only.",
        params=(
            Param(
                "missing",
                "AWS managed policy names that do not exist in the target partition",
                {"type": "array", "items": {"type": "string", "minLength": 1}},
                required=True,
            ),
        ),
        example=(
            "Resources:\n"
            "  Role:\n"
            "    Type: AWS::IAM::Role\n"
            "    Properties:\n"
            "      ManagedPolicyArns: [arn:aws:iam::aws:policy/AmazonElasticContainerRegistryPublicReadOnly]\n"
        ),
        example_params={"missing": ["AmazonElasticContainerRegistryPublicReadOnly"]},
    )

    def apply(self, log: EditLog, rule: BoundRule, context: RuleContext) -> list[Finding]:
        missing = set(rule.params["missing"])
        findings = []
        for path, value in log.strings_containing(":policy/"):
            name = value.rsplit("/", 1)[-1]
            if name in missing and re.search(r":iam::aws:policy/", value):
                findings.append(Finding(path, f"AWS managed policy {name} does not exist in {context.partition.name}", rule.id))
        return findings

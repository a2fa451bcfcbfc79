"""`warn_arns`: ARNs that point into another partition's regions, reported."""

from __future__ import annotations

import re
from typing import ClassVar

from ..edits import EditLog
from ..findings import Finding
from ..rule_api import ActionSpec, BoundRule, Param, RuleContext
from ..walk import is_region

_ARN = re.compile(r"arn:(?:aws|aws-cn|\$\{AWS::Partition\}):(?P<service>[a-z0-9-]+):(?P<region>[a-z0-9-]*):(?P<account>\d{12}|[^:]*):")


class WarnArns:
    """Warn about ARNs whose region is hard-coded outside China."""

    spec: ClassVar[ActionSpec] = ActionSpec(
        name="warn_arns",
        why=(
            "An ARN with a hard-coded region outside China points into another partition's resources (a KMS key, "
            'a Serverless Application Repository app); rewriting its partition cannot make it exist in China.'
        ),
        safety='Reports only.',
        params=(
            Param('ignore_accounts', 'Account ids whose ARNs are not reported', {'type': 'array', 'items': {'type': 'string', 'minLength': 1}}),
        ),
        example=(
            'Resources:\n'
            '  Fn:\n'
            '    Type: AWS::Lambda::Function\n'
            '    Properties:\n'
            '      KmsKeyArn: arn:aws:kms:us-west-2:349240696275:key/k\n'
        ),
    )

    def apply(self, log: EditLog, rule: BoundRule, context: RuleContext) -> list[Finding]:
        ignored = set(rule.params.get("ignore_accounts") or [])
        warnings = []
        for path, value in log.strings():
            for match in _ARN.finditer(value):
                region, account = match.group("region"), match.group("account")
                if is_region(region) and not region.startswith("cn-") and account not in ignored:
                    warnings.append(
                        Finding(
                            path,
                            f"{match.group('service')} ARN in {region} (account {account or 'unknown'}) points outside "
                            "China; it cannot be ported by rewriting, provide the resource in China",
                            rule.id,
                        )
                    )
        return warnings

"""The `warn_arns` action: ARNs that point into another partition's regions."""

from __future__ import annotations

import functools
import re
from typing import ClassVar

from ...model.edits import EditLog
from ...model.walk import REGION_PATTERN, in_comment_line, is_region, is_text_field
from ..findings import Finding
from ..rule_api import ActionSpec, BoundRule, Param, RuleContext

_ARN = re.compile(r"arn:(?:[a-z][a-z0-9-]*|\$\{AWS::Partition\}):(?P<service>[a-z0-9-]+):(?P<region>[a-z0-9-]*):(?P<account>\d{12}|\$\{[^}]*\}|[^:]*):")


@functools.cache
def _foreign_arn(regions: tuple[str, ...]) -> re.Pattern[str]:
    """The start of an `_ARN` whose region is a region name outside `regions`.

    Why: most strings of a template that contain `arn:` name no region or a region of
    the target; this finds the few that may be reported with one search of the model's
    strings in C (`EditLog.strings_matching`), and `_ARN` then decides on those.
    """
    here = "|".join(re.escape(region) for region in regions)
    return re.compile(rf"arn:(?:[a-z][a-z0-9-]*|\$\{{AWS::Partition\}}):[a-z0-9-]+:(?!(?:{here}):){REGION_PATTERN}:")


class WarnArns:
    """Reports ARNs whose region is hard-coded outside the target partition (in any partition's ARN
    form, or with `${AWS::Partition}`). Text fields (descriptions, Metadata) and comment lines of
    scripts and inline code (`# ...`, `// ...`) are prose: not reported.
    """

    spec: ClassVar[ActionSpec] = ActionSpec(
        name="warn_arns",
        why=(
            "An ARN with a hard-coded region of another partition points at that partition's resources (a KMS key, "
            "a Serverless Application Repository app); rewriting its partition cannot make it exist in the target."
        ),
        safety="Reports only.",
        params=(
            Param("ignore_accounts", "Account ids whose ARNs are not reported", {"type": "array", "items": {"type": "string", "minLength": 1}}, default=[]),
        ),
        example=(
            "Resources:\n"
            "  Fn:\n"
            "    Type: AWS::Lambda::Function\n"
            "    Properties:\n"
            "      KmsKeyArn: arn:aws:kms:us-west-2:349240696275:key/k\n"
        ),
    )

    def apply(self, log: EditLog, rule: BoundRule, context: RuleContext) -> list[Finding]:
        ignored = set(rule.params["ignore_accounts"])
        findings = []
        partition = context.partition
        for path, value in log.strings_matching(_foreign_arn(partition.regions)):  # every ARN reported below is found by it
            if is_text_field(path) or partition.elsewhere(path):
                continue
            for match in _ARN.finditer(value):
                region, account = match.group("region"), match.group("account")
                if is_region(region) and not partition.has_region(region) and account not in ignored and not in_comment_line(value, match.start()):
                    findings.append(
                        Finding(
                            path,
                            f"{match.group('service')} ARN in {region} (account {account or 'unknown'}) points outside "
                            f"{partition.name}; it cannot be ported by rewriting, provide the resource there",
                            rule.id,
                        )
                    )
        return findings

"""Warning-only actions: what the transform sees but cannot port, reported, never dropped.

* `warn_arns` - an ARN with a hard-coded region outside China points into another
  partition's resources (a KMS key, a Serverless Application Repository app); rewriting
  its partition cannot make it exist in China.
* `warn_managed_policies` - AWS managed policies the pack lists as missing in China.
* `warn_region_mappings` - a region-keyed Mapping read with `!FindInMap [M, !Ref
  AWS::Region, ...]` that has no entry for the target region fails at deploy time.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

from ..edits import EditLog
from ..walk import is_region
from ._base import BoundRule, RuleContext, Warning

_ARN = re.compile(r"arn:(?:aws|aws-cn|\$\{AWS::Partition\}):(?P<service>[a-z0-9-]+):(?P<region>[a-z0-9-]*):(?P<account>\d{12}|[^:]*):")


class WarnArns:
    """Warn about ARNs whose region is hard-coded outside China."""

    name: ClassVar[str] = "warn_arns"
    example: ClassVar[str] = (
        'Resources:\n'
        '  Fn:\n'
        '    Type: AWS::Lambda::Function\n'
        '    Properties:\n'
        '      KmsKeyArn: arn:aws:kms:us-west-2:349240696275:key/k\n'
    )

    def apply(self, log: EditLog, rule: BoundRule, context: RuleContext) -> list[Warning]:
        ignored = set(rule.params.get("ignore_accounts") or [])
        warnings = []
        for path, value in log.strings():
            for match in _ARN.finditer(value):
                region, account = match.group("region"), match.group("account")
                if is_region(region) and not region.startswith("cn-") and account not in ignored:
                    warnings.append(
                        Warning(
                            path,
                            f"{match.group('service')} ARN in {region} (account {account or 'unknown'}) points outside "
                            "China; it cannot be ported by rewriting, provide the resource in China",
                            rule.id,
                        )
                    )
        return warnings


class WarnManagedPolicies:
    """Warn about references to AWS managed policies that China does not have."""

    name: ClassVar[str] = "warn_managed_policies"
    example: ClassVar[str] = (
        'Resources:\n'
        '  Role:\n'
        '    Type: AWS::IAM::Role\n'
        '    Properties:\n'
        '      ManagedPolicyArns: [arn:aws:iam::aws:policy/AmazonElasticContainerRegistryPublicReadOnly]\n'
    )

    def apply(self, log: EditLog, rule: BoundRule, context: RuleContext) -> list[Warning]:
        missing = set(rule.params.get("missing") or [])
        warnings = []
        for path, value in log.strings():
            if ":policy/" not in value:
                continue
            name = value.rsplit("/", 1)[-1]
            if name in missing and re.search(r":iam::aws:policy/", value):
                warnings.append(Warning(path, f"AWS managed policy {name} does not exist in China", rule.id))
        return warnings


class WarnRegionMappings:
    """Warn about region-keyed mappings that have no entry for the target region."""

    name: ClassVar[str] = "warn_region_mappings"
    example: ClassVar[str] = (
        'Mappings:\n'
        '  Ami: {us-east-1: {Id: ami-1}}\n'
        'Resources:\n'
        '  Host:\n'
        '    Type: AWS::EC2::Instance\n'
        '    Properties:\n'
        "      ImageId: !FindInMap [Ami, !Ref 'AWS::Region', Id]\n"
    )

    def apply(self, log: EditLog, rule: BoundRule, context: RuleContext) -> list[Warning]:
        mappings = log.model.get("Mappings") or {}
        if not mappings:
            return []
        seen: set[str] = set()
        warnings = []
        for path, find in _find_in_maps(log.model):
            args = find.get("Fn::FindInMap")
            if not isinstance(args, list) or len(args) < 2 or args[1] != {"Ref": "AWS::Region"}:
                continue
            name = args[0]
            if not isinstance(name, str) or name in seen or not isinstance(mappings.get(name), dict):
                continue
            seen.add(name)
            if context.region not in mappings[name]:
                warnings.append(
                    Warning(("Mappings", name), f"mapping {name} is read by AWS::Region but has no {context.region} entry; "
                            "the stack would fail to deploy there", rule.id)
                )
        return warnings


def _find_in_maps(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[tuple[Any, ...], dict[str, Any]]]:
    found = []
    stack = [(path, value)]
    while stack:
        here, item = stack.pop()
        if isinstance(item, dict):
            if "Fn::FindInMap" in item:
                found.append((here, item))
            stack.extend((here + (k,), v) for k, v in item.items())
        elif isinstance(item, list):
            stack.extend((here + (i,), v) for i, v in enumerate(item))
    return found

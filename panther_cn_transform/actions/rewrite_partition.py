"""`rewrite_partition`: ARNs name the `aws-cn` partition in China."""

from __future__ import annotations

import re
from typing import Any, ClassVar

from ..edits import Edit, EditLog, JsonPath
from ..findings import Finding
from ..rule_api import ActionSpec, BoundRule, Param, RuleContext
from ..walk import is_sub_template, partition_for, under_name_argument

_SUB_ALLOWED_SECTIONS = frozenset({"Resources", "Outputs"})
_NOT_FREE_TEXT = frozenset({"Type", "DependsOn", "Condition", "DeletionPolicy", "UpdateReplacePolicy"})


class RewritePartition:
    """Rewrite `arn:<from>:` to the target region's partition in every string.

    Style `literal` writes the partition (`arn:aws-cn:`); style `pseudo` writes
    `${AWS::Partition}` so that the template stays portable: inside an `Fn::Sub` string it
    is inserted as is; a plain string in Resources or Outputs becomes an `Fn::Sub`, with
    any `${` it already had escaped as `${!`.  Where an intrinsic is not allowed
    (Parameters, Mappings, descriptions) pseudo style falls back to literal.
    """

    spec: ClassVar[ActionSpec] = ActionSpec(
        name="rewrite_partition",
        why=(
            'An ARN with `arn:aws:` names a resource in the global partition, which China accounts cannot reach; '
            'IAM rejects such ARNs in policies and CloudFormation fails.'
        ),
        safety='Changes ARNs only; already partition-aware values (`${AWS::Partition}`) are untouched.',
        params=(
            Param('style', 'literal writes arn:aws-cn:, pseudo writes ${AWS::Partition}', {'enum': ['literal', 'pseudo']}, default='literal'),
            Param('from', 'Partition to rewrite', {'type': 'string'}, default='aws'),
            Param('to', "Partition to write (default: the target region's)", {'type': 'string'}),
        ),
        example=(
            'Resources:\n'
            '  Topic:\n'
            '    Type: AWS::SNS::Topic\n'
            '    Properties:\n'
            '      KmsMasterKeyId: arn:aws:kms:us-east-1:123456789012:key/k\n'
        ),
    )

    def apply(self, log: EditLog, rule: BoundRule, context: RuleContext) -> list[Finding]:
        source = str(rule.params.get("from", "aws"))
        target = str(rule.params.get("to") or partition_for(context.region))
        style = rule.params.get("style", "literal")
        if source == target:
            return []
        before = f"arn:{source}:"
        pattern = re.compile(re.escape(before))
        edits: list[Edit] = []
        for path, value in log.strings():
            if before not in value:
                continue
            if style == "pseudo" and self._pseudo_allowed(path):
                edits.append(self._pseudo_edit(path, value, before, rule))
                continue
            after = f"arn:{target}:"
            count = len(pattern.findall(value))
            edits.append(
                Edit(
                    path,
                    "replace",
                    rule.id,
                    f"{count} ARN{'s' if count > 1 else ''} in the {source} partition rewritten to {target}",
                    value=value.replace(before, after),
                    fragments=((before, after),),
                )
            )
        for edit in edits:
            log.apply(edit)
        return []

    @staticmethod
    def _pseudo_allowed(path: JsonPath) -> bool:
        if not path or path[0] not in _SUB_ALLOWED_SECTIONS or under_name_argument(path):
            return False
        return not (len(path) == 3 and path[0] == "Resources" and path[2] in _NOT_FREE_TEXT)

    @staticmethod
    def _pseudo_edit(path: JsonPath, value: str, before: str, rule: BoundRule) -> Edit:
        pseudo = "arn:${AWS::Partition}:"
        reason = "ARN partition made portable with ${AWS::Partition}"
        if is_sub_template(path):
            return Edit(path, "replace", rule.id, reason, value=value.replace(before, pseudo), fragments=((before, pseudo),))
        new: Any = {"Fn::Sub": value.replace("${", "${!").replace(before, pseudo)}
        return Edit(path, "replace", rule.id, reason + " (now an Fn::Sub)", value=new)

"""The `rewrite_partition` action: ARNs name the target partition."""

from __future__ import annotations

import re
from typing import Any, ClassVar

from ...model.edits import Edit, EditLog, JsonPath
from ...model.walk import (
    REGION_PATTERN,
    is_region,
    is_sub_template,
    is_text_field,
    join_parts_across,
    under_name_argument,
)
from ..findings import Finding
from ..rule_api import ActionSpec, BoundRule, Param, RuleContext

_SUB_ALLOWED_SECTIONS = frozenset({"Resources", "Outputs"})
_NOT_FREE_TEXT = frozenset({"Type", "DependsOn", "Condition", "DeletionPolicy", "UpdateReplacePolicy"})


class RewritePartition:
    """Rewrites `arn:<from>:` to the target partition in every string. An ARN with a hard-coded
    region outside the target partition names a resource that stays where it is: it is left
    whole (and `warn_arns` reports it, outside prose), never half-rewritten, in descriptions and
    Metadata too. Style `literal` writes the
    partition (`arn:aws-cn:`); style `pseudo` writes `${AWS::Partition}` so that the template
    stays portable: inside an `Fn::Sub` string it is inserted as is; a plain string in Resources
    or Outputs becomes an `Fn::Sub`, with any `${` it already had escaped as `${!`. Where an
    intrinsic is not allowed (Parameters, Mappings, descriptions) pseudo style falls back to
    literal. An ARN whose `arn:<from>:` only its `Fn::Join` parts spell together is reported
    at the Join, not rewritten.
    """

    spec: ClassVar[ActionSpec] = ActionSpec(
        name="rewrite_partition",
        why=(
            "An ARN with `arn:aws:` names a resource in the global partition, which accounts of another partition "
            "cannot reach; IAM rejects such ARNs in policies and CloudFormation fails."
        ),
        safety=(
            "Changes ARNs only; already partition-aware values (`${AWS::Partition}`) are untouched. "
            "An ARN spelled across `Fn::Join` parts is reported, not rewritten."
        ),
        params=(
            Param("style", "literal writes the partition (arn:aws-cn:), pseudo writes ${AWS::Partition}", {"enum": ["literal", "pseudo"]}, default="literal"),
            Param("from", "Partition to rewrite (default: the rules' source partition)", {"type": "string"}),
            Param("to", "Partition to write (default: the rules' target partition)", {"type": "string"}),
        ),
        example=(
            "Resources:\n"
            "  Role:\n"
            "    Type: AWS::IAM::Role\n"
            "    Properties:\n"
            "      ManagedPolicyArns: [arn:aws:iam::aws:policy/ReadOnlyAccess]\n"
            "      Policies:\n"
            "        - PolicyName: read\n"
            "          PolicyDocument:\n"
            "            Statement:\n"
            "              - {Effect: Allow, Action: 's3:GetObject', Resource: 'arn:aws:s3:::my-bucket/*'}\n"
            "              - {Effect: Allow, Action: 'kms:Decrypt', Resource: 'arn:aws:kms:us-west-2:123456789012:key/k'}\n"
        ),
    )

    def apply(self, log: EditLog, rule: BoundRule, context: RuleContext) -> list[Finding]:
        source = str(rule.params.get("from") or context.source_partition.name)
        target = str(rule.params.get("to") or context.partition.name)
        style = rule.params["style"]
        if source == target:
            return []
        before = f"arn:{source}:"
        after = f"arn:{target}:"
        pattern = re.compile(re.escape(before) + r"(?P<rest>[a-z0-9-]*:(?P<region>[^:\s\"']*):)?")
        # the strings with an ARN whose region is outside the target: only there may an ARN stay (found in C, at once)
        elsewhere = re.compile(re.escape(before) + rf"[a-z0-9-]*:(?!(?:{'|'.join(map(re.escape, context.partition.regions))}):){REGION_PATTERN}:")
        careful = {path for path, _ in log.strings_matching(elsewhere)}
        edits: list[Edit] = []
        reasons: dict[int, str] = {}
        for path, value in log.strings_containing(before):
            fragments: tuple[tuple[str, str], ...] = ((before, after),)
            if path not in careful:  # every ARN here moves
                if style == "pseudo" and self._pseudo_allowed(path):
                    edits.append(self._pseudo_edit(path, value, before, rule))
                    continue
                new = value.replace(before, after)
                # each one is rewritten: their number is in the lengths (`before` and `after` differ in length,
                # as two partition names do), without counting again in a string of thousands of characters
                count = (len(new) - len(value)) // (len(after) - len(before)) if len(after) != len(before) else value.count(before)
            else:
                matches = list(pattern.finditer(value))
                # an ARN in another partition's region stays whole, in prose (descriptions, Metadata) too:
                # `arn:aws-cn:sqs:us-east-1:...` names nothing anywhere, not even as an example
                moved = [m for m in matches if not (is_region(m.group("region") or "") and not context.partition.has_region(m.group("region")))]
                if not moved:
                    continue  # every ARN here names a resource in another partition's region: warn_arns reports it
                count = len(moved)
                if style == "pseudo" and len(moved) == len(matches) and self._pseudo_allowed(path):
                    edits.append(self._pseudo_edit(path, value, before, rule))
                    continue
                if len(moved) == len(matches):
                    new = value.replace(before, after)
                else:  # only the ARNs that stay in reach; each fragment names its service and region
                    pieces, position = [], 0
                    for match in moved:
                        pieces += [value[position : match.start()], after + (match.group("rest") or "")]
                        position = match.end()
                    new = "".join(pieces) + value[position:]
                    fragments = tuple(dict.fromkeys((m.group(0), after + (m.group("rest") or "")) for m in moved))
            reason = reasons.get(count)
            if reason is None:  # one text per number of ARNs: the same few for hundreds of strings
                reason = reasons[count] = f"{count} ARN{'s' if count > 1 else ''} in the {source} partition rewritten to {target}"
            edits.append(Edit(path, "replace", rule.id, reason, value=new, old=value, fragments=fragments))
        for edit in edits:
            log.apply(edit)
        return _split_arns(log, before, source, rule)

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


def _split_arns(log: EditLog, before: str, source: str, rule: BoundRule) -> list[Finding]:
    """One finding per `Fn::Join` whose parts spell `arn:<source>:` only together (`['arn', 'aws', 'sns', ...]`).

    Why: the rule rewrites the strings that contain `arn:<source>:`, and such a Join has
    none, so its ARN kept the global partition without a word.  Which part names the
    partition is not always plain (`'arn:'`, `'aws'`, `':s3:::b'`), so it is reported at
    the Join, not rewritten.
    """
    findings: list[Finding] = []
    joins: set[JsonPath] = set()
    for part_path, _ in join_parts_across(log.mappings_with("Fn::Join"), [before]):
        join = part_path[:-2]  # (..., "Fn::Join")
        if join in joins or is_text_field(part_path):
            continue
        joins.add(join)
        findings.append(Finding(join, f"an ARN built from Fn::Join parts names the {source} partition ({before!r} runs across "
                                      "the parts) and is left as is; write it as one string, or with ${AWS::Partition}", rule.id))
    return findings

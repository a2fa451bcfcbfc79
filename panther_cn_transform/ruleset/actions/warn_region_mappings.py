"""`warn_region_mappings`: region-keyed mappings without the target region, reported."""

from __future__ import annotations

from typing import ClassVar

from ...model.edits import EditLog
from ...model.walk import LastChildFirst
from ..findings import Finding
from ..rule_api import ActionSpec, BoundRule, RuleContext


class WarnRegionMappings:
    """Warn about region-keyed mappings that have no entry for the target region."""

    spec: ClassVar[ActionSpec] = ActionSpec(
        name="warn_region_mappings",
        why=(
            'A region-keyed Mapping read with `!FindInMap [M, !Ref AWS::Region, ...]` that has no entry for the '
            'target region fails at deploy time.'
        ),
        safety='Reports only.',
        example=(
            'Mappings:\n'
            '  Ami: {us-east-1: {Id: ami-1}}\n'
            'Resources:\n'
            '  Host:\n'
            '    Type: AWS::EC2::Instance\n'
            '    Properties:\n'
            "      ImageId: !FindInMap [Ami, !Ref 'AWS::Region', Id]\n"
        ),
    )

    def apply(self, log: EditLog, rule: BoundRule, context: RuleContext) -> list[Finding]:
        mappings = log.model.get("Mappings") or {}
        if not mappings:
            return []
        seen: set[str] = set()
        warnings = []
        walk = LastChildFirst()  # the order the findings always came in: that of a last-child-first walk
        for path, find in sorted(log.mappings_with("Fn::FindInMap"), key=lambda entry: walk.rank(log.model, entry[0])):
            args = find.get("Fn::FindInMap")
            if not isinstance(args, list) or len(args) < 2 or args[1] != {"Ref": "AWS::Region"}:
                continue
            name = args[0]
            if not isinstance(name, str) or name in seen or not isinstance(mappings.get(name), dict):
                continue
            seen.add(name)
            if context.region not in mappings[name]:
                warnings.append(
                    Finding(("Mappings", name), f"mapping {name} is read by AWS::Region but has no {context.region} entry; "
                            "the stack would fail to deploy there", rule.id)
                )
        return warnings


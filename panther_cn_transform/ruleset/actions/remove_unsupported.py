"""`remove_unsupported`: drop resource types the region lacks, keeping every reference whole."""

from __future__ import annotations

from typing import ClassVar

from ...model.edits import EditLog
from ...partitions.region_data import load_region_data
from ..findings import Finding
from ..removal import ON_REFERENCE_PARAM, apply_removal
from ..rule_api import ActionSpec, BoundRule, Param, RuleContext


class RemoveUnsupported:
    """Remove every resource whose type the target region lacks, and repair its references.

    Custom resources and third-party types are kept.  `on_reference: remove` removes
    every referencing resource instead of repairing policies and `Fn::If` branches.
    """

    spec: ClassVar[ActionSpec] = ActionSpec(
        name="remove_unsupported",
        why=(
            'CloudFormation rejects a whole template that uses a resource type the region does not have (Cognito '
            'user pools do not exist in either China region), and rejects a template with a dangling reference '
            "just as firmly. Which types a region has comes from cfn-lint's region data (see region_data.py); "
            'what happens to references is planned by removal.py. What only works with a removed user pool (a '
            "Cognito authorizer, OpenSearch's Cognito options, an ALB's authenticate-cognito action) is kept with "
            'the pool as a new parameter, named and described after what it holds (the pool\'s id for a Ref, its ARN '
            'for GetAtt Arn), and is a blocker of the report; an identity pool with another way in keeps working '
            'without the removed provider.'
        ),
        safety='Removes resources; each reference to them is repaired without widening a permission, or its owner is removed too; all reported.',
        params=(
            Param('region', 'Region whose resource types decide (default: the target region)', {'type': 'string'}),
            ON_REFERENCE_PARAM,
        ),
        example=(
            'Resources:\n'
            '  UserPool:\n'
            '    Type: AWS::Cognito::UserPool\n'
            '  AuthFunction:\n'
            '    Type: AWS::Lambda::Function\n'
            '    Properties:\n'
            '      Role: arn:aws:iam::123456789012:role/r\n'
            "      Code: {ZipFile: 'def handler(e, c): pass'}\n"
            '      Environment:\n'
            '        Variables:\n'
            '          POOL_ID: !Ref UserPool\n'
            '  Queue:\n'
            '    Type: AWS::SQS::Queue\n'
            '    DependsOn: [UserPool]\n'
            'Outputs:\n'
            '  PoolId:\n'
            '    Value: !Ref UserPool\n'
            '  QueueUrl:\n'
            '    Value: !Ref Queue\n'
        ),
    )

    def apply(self, log: EditLog, rule: BoundRule, context: RuleContext) -> list[Finding]:
        region = str(rule.params.get("region") or context.region)
        data = load_region_data(region)
        initial = {
            logical_id: f"{logical_id} removed: {resource['Type']} does not exist in {region} ({data.source})"
            for logical_id, resource in (log.model.get("Resources") or {}).items()
            if isinstance(resource, dict) and isinstance(resource.get("Type"), str) and data.lacks(resource["Type"])
        }
        return apply_removal(log, rule.id, initial, on_reference=rule.params.get("on_reference", "repair"), required=data.required_properties)

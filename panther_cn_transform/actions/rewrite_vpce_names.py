"""`rewrite_vpce_names`: interface VPC endpoint service names of some services in China."""

from __future__ import annotations

import re
from typing import ClassVar

from ..edits import Edit, EditLog
from ..findings import Finding
from ..rule_api import ActionSpec, BoundRule, Param, RuleContext
from ..walk import iter_strings

_NAME = re.compile(r"^com\.amazonaws\.(?P<region>[a-z0-9-]+|\$\{AWS::Region\})\.(?P<service>[a-z0-9.-]+)$")


class RewriteVpceNames:
    """Prefix `cn.` to `AWS::EC2::VPCEndpoint` service names of the services listed for the target region.

    `services` maps each China region to its list (the two regions differ, e.g. `polly`
    only in cn-northwest-1).  Services in `cn_suffix` also take a `.cn` suffix
    (`cn.com.amazonaws.cn-north-1.transcribe.cn`).
    """

    spec: ClassVar[ActionSpec] = ActionSpec(
        name="rewrite_vpce_names",
        why=(
            'In China many interface endpoints are named `cn.com.amazonaws.<region>.<service>` instead of '
            '`com.amazonaws.<region>.<service>` (AWS CDK keeps the list in `aws-ec2/lib/vpc-endpoint.ts`); the '
            'pack lists the services.'
        ),
        safety='Changes VPC endpoint service names only.',
        params=(
            Param('services', 'Region -> services whose interface endpoints are named cn.com.amazonaws.<region>.<service>', {'type': 'object', 'additionalProperties': {'type': 'array', 'items': {'type': 'string', 'minLength': 1}}}, required=True),
            Param('cn_suffix', 'Services whose China endpoint names also end in .cn', {'type': 'array', 'items': {'type': 'string'}}),
        ),
        example=(
            'Resources:\n'
            '  Endpoint:\n'
            '    Type: AWS::EC2::VPCEndpoint\n'
            '    Properties:\n'
            '      VpcId: vpc-1\n'
            '      VpcEndpointType: Interface\n'
            '      ServiceName: !Sub com.amazonaws.${AWS::Region}.sqs\n'
        ),
        example_params={'services': {'cn-north-1': ['sqs']}},
    )

    def apply(self, log: EditLog, rule: BoundRule, context: RuleContext) -> list[Finding]:
        services = set((rule.params.get("services") or {}).get(context.region, []))
        suffixed = set(rule.params.get("cn_suffix") or [])
        edits: list[Edit] = []
        for logical_id, resource in (log.model.get("Resources") or {}).items():
            if not isinstance(resource, dict) or resource.get("Type") != "AWS::EC2::VPCEndpoint":
                continue
            base = ("Resources", logical_id, "Properties", "ServiceName")
            for path, value in iter_strings((resource.get("Properties") or {}).get("ServiceName"), base):
                match = _NAME.match(value)
                if match and match.group("service") in services:
                    new = "cn." + value + (".cn" if match.group("service") in suffixed else "")
                    reason = f"{match.group('service')} interface endpoints are named {new} in {context.region}"
                    edits.append(Edit(path, "replace", rule.id, reason, value=new))
        for edit in edits:
            log.apply(edit)
        return []

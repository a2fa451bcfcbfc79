"""The `rewrite_vpce_names` action: VPC endpoint service names of the target partition."""

from __future__ import annotations

import re
from typing import ClassVar

from ...model.edits import Edit, EditLog
from ...model.text_span import PartEditor, changed_span
from ...model.walk import is_region, iter_strings, join_view
from ...partitions.hosts import REGION_PSEUDO
from ..findings import Finding
from ..rule_api import ActionSpec, BoundRule, RuleContext

_GATEWAY = "Gateway"  # CloudFormation's default VpcEndpointType


class RewriteVpceNames:
    """Renames the `ServiceName` of `AWS::EC2::VPCEndpoint` resources of type `Interface` (or
    `GatewayLoadBalancer`) to the target partition's form for the target region, as its
    partition file states (`vpc_endpoint_names`): in China `cn.com.amazonaws.<region>.<service>`
    for the services listed per region, some with a suffix (`transcribe.cn`). Gateway endpoints
    (no `VpcEndpointType`, or `Gateway`) keep their names. A name with a hard-coded region
    outside the partition is reported, never half-rewritten, and so is one whose endpoint type
    is decided at deploy time.
    """

    spec: ClassVar[ActionSpec] = ActionSpec(
        name="rewrite_vpce_names",
        why=(
            "In China many interface endpoints are named `cn.com.amazonaws.<region>.<service>` instead of "
            "`com.amazonaws.<region>.<service>` (AWS CDK keeps the lists in `aws-ec2/lib/vpc-endpoint.ts`), while "
            "gateway endpoints keep `com.amazonaws` (a `cn.` gateway name does not exist; eksctl issue 3081)."
        ),
        safety="Changes interface endpoint names only; a name that already has the partition's form (as in an `Fn::If` branch) is left alone.",
        example=(
            "Resources:\n"
            "  Queue:\n"
            "    Type: AWS::EC2::VPCEndpoint\n"
            "    Properties:\n"
            "      VpcId: vpc-1\n"
            "      VpcEndpointType: Interface\n"
            "      ServiceName: !Sub com.amazonaws.${AWS::Region}.sqs\n"
            "  Bucket:\n"
            "    Type: AWS::EC2::VPCEndpoint\n"
            "    Properties:\n"
            "      VpcId: vpc-1\n"
            "      RouteTableIds: [rtb-1]\n"
            "      ServiceName: !Sub com.amazonaws.${AWS::Region}.s3\n"
        ),
    )

    def apply(self, log: EditLog, rule: BoundRule, context: RuleContext) -> list[Finding]:
        names = context.partition.facts.vpc_endpoint_names
        source_prefix = context.source_partition.facts.vpc_endpoint_names.default_prefix
        pattern = re.compile(rf"^{re.escape(source_prefix)}\.(?P<region>[a-z0-9-]+|\$\{{[A-Za-z0-9:._-]+\}})\.(?P<service>[a-z0-9.-]+)$")
        edits: list[Edit] = []
        findings: list[Finding] = []
        for logical_id, resource in (log.model.get("Resources") or {}).items():
            if not isinstance(resource, dict) or resource.get("Type") != "AWS::EC2::VPCEndpoint":
                continue
            properties = resource.get("Properties") or {}
            kind = properties.get("VpcEndpointType", _GATEWAY)
            base = ("Resources", logical_id, "Properties", "ServiceName")
            strings = list(iter_strings(properties.get("ServiceName"), base))
            if names.interface_prefix != names.default_prefix and any(v.startswith(names.interface_prefix + ".") for _, v in strings):
                continue  # already written for the target partition (an Fn::If on the partition)
            for path, value in strings:
                view = join_view(log.model, path)
                text, part_start, part_end = (view.text, view.start, view.end) if view else (value, 0, len(value))
                match = pattern.match(text)
                if not match:
                    continue
                region_text, service = match.group("region"), match.group("service")
                foreign = is_region(region_text) and not context.partition.has_region(region_text)
                region = region_text if is_region(region_text) else context.region
                wanted = names.interface_name(region, region_text, service)
                if view is not None and not part_start <= (0 if foreign else changed_span(text, wanted)[0]) <= part_end:
                    continue  # another part of the Join holds the change
                if foreign:
                    findings.append(Finding(path, f"VPC endpoint service {text} is in {region_text}, outside {context.partition.name}; "
                                            "left as is, name an endpoint of the target region", rule.id))
                    continue
                if region_text.startswith("${") and region_text != REGION_PSEUDO:
                    continue  # a region from a parameter: the interface list cannot be chosen
                if wanted == text:
                    continue
                if kind == _GATEWAY:
                    continue  # gateway endpoints keep com.amazonaws names
                if not isinstance(kind, str):
                    findings.append(Finding(path, f"VPC endpoint type is decided at deploy time; an interface endpoint of {service} "
                                            f"is named {wanted} in {context.partition.name}, a gateway endpoint keeps {text}", rule.id))
                    continue
                part = PartEditor(text, part_start, part_end)
                if not part.replace(0, text, wanted):
                    findings.append(Finding(path, f"VPC endpoint service name should be {wanted}; it is built with Fn::Join "
                                            "across parts, rewrite it by hand", rule.id))
                    continue
                reason = f"{service} interface endpoints are named {wanted} in {region}"
                edits.append(Edit(path, "replace", rule.id, reason, value=part.value, fragments=tuple(part.fragments)))
        for edit in edits:
            log.apply(edit)
        return findings

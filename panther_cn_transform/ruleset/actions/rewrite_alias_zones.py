"""`rewrite_alias_zones`: Route 53 alias targets name hosted zones that differ in China."""

from __future__ import annotations

import operator
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from ...model.edits import Edit, EditLog, JsonPath
from ...model.intrinsics import intrinsic_name, split_getatt
from ...model.property_paths import resolve
from ...partitions.partition import Partition
from ..findings import Finding
from ..rule_api import ActionSpec, BoundRule, Param, RuleContext

_ALIASES = {
    "AWS::Route53::RecordSet": ("Properties", "AliasTarget"),
    "AWS::Route53::RecordSetGroup": ("Properties", "RecordSets", "*", "AliasTarget"),
}


@dataclass(frozen=True)
class _Outcome:
    """A zone id to write (with the reason) or, without one, a warning."""

    text: str
    zone: str | None = None


@dataclass(frozen=True)
class _Zone:
    """What the rule's data knows about one hosted zone id."""

    service: str
    region: str | None = None  # None: one zone for the whole partition
    partition: str | None = None
    verified: bool = True


_VALUE = operator.itemgetter(1)  # a (path, string) entry's string


class RewriteAliasZones:
    """Point alias targets at the hosted zone their target has in China.

    An `AliasTarget` whose `DNSName` is an `Fn::GetAtt` of a resource in the template
    takes its `HostedZoneId` from the same resource (`zone_attributes`: type -> DNS
    attribute -> zone attribute).  Any string that is a known zone id (in an alias, a
    nested stack parameter, a mapping) is then checked against the data:
    `partition_zones` (service -> partition -> id) are replaced by the target partition's;
    `regional_zones` (service -> region -> id, verified) are replaced by the target region's
    when the alias target moves there (its `DNSName` names the target region or
    `${AWS::Region}`, or the zone's region is `source_region`); `unverified_zones` are
    recognised but never written: they are reported with the unverified China value as a
    hint.  An alias zone id the data does not know is reported.
    """

    spec: ClassVar[ActionSpec] = ActionSpec(
        name="rewrite_alias_zones",
        why=(
            'An alias record names the hosted zone of what it points at, and those zones are per partition '
            '(CloudFront: `Z2FDTNDATAQYW2` globally, `Z3RFFRIM2A3IF5` in China) or per region (load balancers, S3 '
            'website endpoints, API Gateway regional domains). A global zone id in a China template makes the '
            'record fail. Where the alias points at a resource of the same template, the zone is read from it '
            '(`!GetAtt LB.CanonicalHostedZoneID`), which is right in every region; a literal is replaced only by '
            "a China value the rule's data marks as verified, and is otherwise reported with what is known."
        ),
        safety=(
            "Writes only zone ids the rule's data marks as verified for the target region or partition, or a "
            "`GetAtt` of the alias's own target; every other zone id is reported."
        ),
        params=(
            Param('partition_zones', 'Service -> partition -> the one hosted zone id of that service in the partition', {'type': 'object', 'additionalProperties': {'type': 'object', 'additionalProperties': {'type': 'string', 'pattern': '^Z[A-Z0-9]+$'}}}),
            Param('regional_zones', 'Service -> region -> hosted zone id, verified: written when an alias moves to that region', {'type': 'object', 'additionalProperties': {'type': 'object', 'additionalProperties': {'type': 'string', 'pattern': '^Z[A-Z0-9]+$'}}}),
            Param('unverified_zones', 'Service -> region -> hosted zone id, recognised but never written (reported as a hint)', {'type': 'object', 'additionalProperties': {'type': 'object', 'additionalProperties': {'type': 'string', 'pattern': '^Z[A-Z0-9]+$'}}}),
            Param('zone_attributes', 'Resource type -> DNS name attribute -> the attribute holding its hosted zone id', {'type': 'object', 'additionalProperties': {'type': 'object', 'additionalProperties': {'type': 'string'}}}),
            Param('source_region', 'Region the template was built for; its regional zones move to the target region', {'type': 'string'}),
        ),
        example=(
            'Resources:\n'
            '  Cdn:\n'
            '    Type: AWS::Route53::RecordSet\n'
            '    Properties:\n'
            '      HostedZoneName: example.com.\n'
            '      Name: www.example.com.\n'
            '      Type: A\n'
            '      AliasTarget:\n'
            '        DNSName: d111111abcdef8.cloudfront.net\n'
            '        HostedZoneId: Z2FDTNDATAQYW2\n'
            '  Site:\n'
            '    Type: AWS::Route53::RecordSet\n'
            '    Properties:\n'
            '      HostedZoneName: example.com.\n'
            '      Name: app.example.com.\n'
            '      Type: A\n'
            '      AliasTarget:\n'
            '        DNSName: !GetAtt Balancer.DNSName\n'
            '        HostedZoneId: Z35SXDOTRQ7X7K\n'
            '  Balancer:\n'
            '    Type: AWS::ElasticLoadBalancingV2::LoadBalancer\n'
            '    Properties:\n'
            '      Subnets: [subnet-1, subnet-2]\n'
        ),
    )

    def apply(self, log: EditLog, rule: BoundRule, context: RuleContext) -> list[Finding]:
        zones = _zone_table(rule.params)
        attributes: Mapping[str, Mapping[str, str]] = rule.params.get("zone_attributes") or {}
        source_region = str(rule.params.get("source_region") or context.variables.get("source_region") or "")
        warnings: list[Finding] = []
        types = log.resources_by_type()  # shared by the rules: most templates have no record set to look into
        aliases = _alias_targets(log.model) if any(kind in types for kind in _ALIASES) else []
        for path, alias in aliases:
            edit = _zone_from_target(log.model, path, alias, attributes, rule)
            if edit is not None:
                log.apply(edit)
        strings = log.strings()
        if zones.keys().isdisjoint(map(_VALUE, strings)) and not log.mappings_with("HostedZoneId"):
            return warnings  # no string is a known zone and none is a HostedZoneId (most templates): one C pass, not a loop
        alias_paths = {path for path, _ in aliases}
        for path, value in strings:
            zone = zones.get(value)
            if zone is None and path[-1] != "HostedZoneId":
                continue  # neither a known zone nor an alias's zone
            in_alias = path[:-1] in alias_paths and path[-1] == "HostedZoneId"
            if zone is None:
                if in_alias:
                    warnings.append(Finding(path, f"hosted zone id {value} is not one this tool knows; an alias in "
                                                  f"{context.partition.name} can only point at resources there, check the zone", rule.id))
                continue
            dns_name = _sibling_dns_name(log, path) if in_alias else None
            outcome = _port_zone(value, zone, zones, context.region, context.partition, source_region, dns_name)
            if outcome is None:
                continue
            if outcome.zone is not None:
                log.apply(Edit(path, "replace", rule.id, outcome.text, value=outcome.zone))
            else:
                warnings.append(Finding(path, outcome.text, rule.id))
        return warnings


def _zone_table(params: Mapping[str, Any]) -> dict[str, _Zone]:
    table: dict[str, _Zone] = {}
    for service, by_partition in (params.get("partition_zones") or {}).items():
        for partition, zone_id in by_partition.items():
            table[str(zone_id)] = _Zone(str(service), partition=str(partition))
    for key, verified in (("regional_zones", True), ("unverified_zones", False)):
        for service, by_region in (params.get(key) or {}).items():
            for region, zone_id in by_region.items():
                table.setdefault(str(zone_id), _Zone(str(service), region=str(region), verified=verified))
    return table


def _alias_targets(model: dict[str, Any]) -> list[tuple[JsonPath, dict[str, Any]]]:
    found = []
    for logical_id, resource in (model.get("Resources") or {}).items():
        kind = resource.get("Type") if isinstance(resource, dict) else None
        if not isinstance(kind, str) or kind not in _ALIASES:
            continue
        for place in resolve(resource, ("Resources", logical_id), _ALIASES[kind]):
            if place.state == "present" and isinstance(place.value, dict):
                found.append((place.path, place.value))
    return found


def _zone_from_target(
    model: dict[str, Any], path: JsonPath, alias: dict[str, Any], attributes: Mapping[str, Mapping[str, str]], rule: BoundRule
) -> Edit | None:
    """`HostedZoneId: !GetAtt X.<zone attribute>` when `DNSName` is `!GetAtt X.<DNS attribute>`."""
    dns, zone = alias.get("DNSName"), alias.get("HostedZoneId")
    if not isinstance(dns, dict) or intrinsic_name(dns) != "Fn::GetAtt" or not isinstance(zone, str):
        return None
    arg = dns["Fn::GetAtt"]
    parts = arg if isinstance(arg, list) else split_getatt(arg) if isinstance(arg, str) else []
    if len(parts) != 2 or not all(isinstance(part, str) for part in parts):
        return None
    target, attribute = parts
    resource = (model.get("Resources") or {}).get(target)
    if not isinstance(resource, dict):
        return None
    zone_attribute = (attributes.get(str(resource.get("Type"))) or {}).get(str(attribute))
    if not zone_attribute:
        return None
    value: Any = {"Fn::GetAtt": [target, zone_attribute]} if isinstance(arg, list) else {"Fn::GetAtt": f"{target}.{zone_attribute}"}
    reason = f"alias hosted zone read from {target}.{zone_attribute}, the alias target's own (right in every region)"
    return Edit(path + ("HostedZoneId",), "replace", rule.id, reason, value=value)


def _sibling_dns_name(log: EditLog, path: JsonPath) -> Any:
    try:
        return log.get(path[:-1] + ("DNSName",))
    except (KeyError, IndexError, TypeError):
        return None


def _moves_to(dns_name: Any, region: str) -> bool:
    """True when an alias's DNS name is in the stack's own region (so it moves with the port)."""
    if isinstance(dns_name, str):
        return region in dns_name or "${AWS::Region}" in dns_name
    name = intrinsic_name(dns_name)
    if name in ("Fn::GetAtt", "Fn::ImportValue"):
        return True
    if name == "Fn::Sub":
        arg = dns_name["Fn::Sub"]
        text = arg if isinstance(arg, str) else arg[0] if isinstance(arg, list) and arg else ""
        return isinstance(text, str) and ("${AWS::Region}" in text or region in text)
    if name == "Fn::Join":
        arg = dns_name["Fn::Join"]
        parts = arg[1] if isinstance(arg, list) and len(arg) == 2 and isinstance(arg[1], list) else []
        return any(part == {"Ref": "AWS::Region"} or (isinstance(part, str) and region in part) for part in parts)
    return False


def _port_zone(
    value: str, zone: _Zone, zones: Mapping[str, _Zone], region: str, target: Partition, source_region: str, dns_name: Any
) -> _Outcome | None:
    """The target partition's zone to write, a warning, or None when `value` is already right for `region`."""
    partition = target.name
    if zone.partition is not None:
        if zone.partition == partition:
            return None
        china = _lookup(zones, zone.service, partition=partition)
        if china is None:
            return _Outcome(f"hosted zone {value} is {zone.service}'s in {zone.partition}; the rule's data has none for {partition}")
        return _Outcome(f"{zone.service} alias hosted zone in {partition}", china)
    if zone.region == region:
        return None
    where = f"hosted zone {value} is the {zone.service} zone of {zone.region}"
    moves = zone.region == source_region or (dns_name is not None and _moves_to(dns_name, region))
    if not moves:
        if target.has_region(str(zone.region)):
            return None  # a resource in another region of the partition: Route 53 aliases it as it is
        return _Outcome(f"{where}: the alias points at a resource there, outside {partition}; Route 53 in {partition} "
                        "aliases its own resources only")
    china = _lookup(zones, zone.service, region=region)
    if china is not None and zones[china].verified:
        return _Outcome(f"{zone.service} alias hosted zone of {region} (was {zone.region}'s)", china)
    hint = f" (unverified: {china})" if china else ""
    return _Outcome(f"{where}; its {region} zone is not verified{hint}: use a GetAtt of the target, or check the value")


def _lookup(zones: Mapping[str, _Zone], service: str, *, region: str | None = None, partition: str | None = None) -> str | None:
    for zone_id, zone in zones.items():
        if zone.service == service and (zone.region == region if region else zone.partition == partition):
            return zone_id
    return None

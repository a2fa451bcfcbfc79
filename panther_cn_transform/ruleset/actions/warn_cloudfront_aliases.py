"""`warn_cloudfront_aliases`: one finding per CloudFront distribution about the domain it serves in China."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, ClassVar, Literal

from ...model.edits import EditLog, JsonPath, to_pointer
from ...model.intrinsics import intrinsic_name
from ...model.property_paths import NO_VALUE
from ..findings import Finding
from ..rule_api import ActionSpec, BoundRule, Param, RuleContext

#: what a distribution's alias list can be at deploy time
Aliases = Literal["none", "maybe", "some"]
_HTTPS_POLICIES = frozenset({"redirect-to-https", "https-only"})
_CONFIG = ("Properties", "DistributionConfig")


class WarnCloudFrontAliases:
    """Report, once per distribution, what China needs of the domain it serves.

    * **No alias, or a list that can be empty at deploy time** (`Aliases` missing, an
      `Fn::If` branch or every item `AWS::NoValue`, a parameter whose default is empty or
      that a Condition compares with `""`): the distribution cannot serve content in
      China. The finding names the places that read its default domain
      (`GetAtt D.DomainName`, `${D.DomainName}`; Route 53 alias targets aside), which
      serve nothing there, and an HTTPS viewer policy with CloudFront's default
      certificate, which needs a certificate for the alias instead.
    * **Aliases that are set**: a reminder that each needs an ICP recordal.

    The finding is at `DistributionConfig.Aliases` (where an alias is set, or would be).
    """

    spec: ClassVar[ActionSpec] = ActionSpec(
        name="warn_cloudfront_aliases",
        why=(
            "CloudFront China cannot serve content from a distribution's default `*.cloudfront.cn` domain: a "
            'distribution needs an alternate domain name (`Aliases`) with an ICP recordal, and to serve HTTPS, a '
            'certificate for that name uploaded to IAM (CloudFront China has no ACM). A global template often '
            "has no alias, or one only when a parameter is given (`Aliases: [!If [HasDomain, !Ref Domain, !Ref "
            "AWS::NoValue]]`), and hands out the default domain (`https://${Cdn.DomainName}`) in outputs and "
            'configuration; all of that deploys in China and serves nothing.'
        ),
        safety='Reports only; nothing changes.',
        params=(
            Param('message', 'What a distribution without an alias (or with a list that can be empty) cannot do, and what to add', {'type': 'string', 'minLength': 1}, required=True),
            Param('https_message', 'What an HTTPS viewer policy on the default certificate needs instead (added with the policies named)', {'type': 'string', 'minLength': 1}, required=True),
            Param('alias_message', 'The reminder for a distribution whose aliases are set', {'type': 'string', 'minLength': 1}, required=True),
        ),
        example_params={
            'message': 'CloudFront China cannot serve content from the default *.cloudfront.cn domain; add Aliases with a domain that has an ICP recordal',
            'https_message': 'the alias needs its own certificate, uploaded to IAM (ViewerCertificate.IamCertificateId)',
            'alias_message': 'CloudFront China serves an alternate domain name only with an ICP recordal',
        },
        example=(
            'Parameters:\n'
            '  Domain: {Type: String, Default: ""}\n'
            'Conditions:\n'
            '  HasDomain: !Not [!Equals [!Ref Domain, ""]]\n'
            'Resources:\n'
            '  Cdn:\n'
            '    Type: AWS::CloudFront::Distribution\n'
            '    Properties:\n'
            '      DistributionConfig:\n'
            '        Enabled: true\n'
            '        Aliases: [!If [HasDomain, !Ref Domain, !Ref AWS::NoValue]]\n'
            '        Origins: [{Id: o, DomainName: example.com, CustomOriginConfig: {OriginProtocolPolicy: https-only}}]\n'
            '        DefaultCacheBehavior: {TargetOriginId: o, ViewerProtocolPolicy: redirect-to-https, ForwardedValues: {QueryString: false}}\n'
            'Outputs:\n'
            '  Url: {Value: !Sub "https://${Cdn.DomainName}"}\n'
        ),
    )

    def apply(self, log: EditLog, rule: BoundRule, context: RuleContext) -> list[Finding]:
        model = log.model
        found: list[Finding] = []
        for logical_id in log.resources_by_type().get("AWS::CloudFront::Distribution", []):
            resource = model["Resources"][logical_id]
            config = _get(resource, _CONFIG)
            if not isinstance(config, dict):
                continue  # a whole config from a parameter or a branch: nothing to read
            place: JsonPath = ("Resources", logical_id, *_CONFIG, "Aliases")
            state, why = _aliases(model, config.get("Aliases"))
            if state == "some":
                found.append(Finding(place, str(rule.params["alias_message"]), rule.id))
                continue
            message = f"{why}: {rule.params['message']}"
            https = list(_https_policies(config, ("Resources", logical_id, *_CONFIG)))
            if https:
                message += f"; to serve HTTPS ({', '.join(https)}) {rule.params['https_message']}"
            readers = _default_domain_readers(log, logical_id)
            if readers:
                message += f"; the default domain read at {', '.join(readers)} serves nothing there"
            found.append(Finding(place, message, rule.id))
        return found


def _aliases(model: Mapping[str, Any], value: Any) -> tuple[Aliases, str]:
    """What an `Aliases` value can be at deploy time, and why, for the message."""
    if value is None or value == NO_VALUE or value == []:
        return "none", "no alternate domain name"
    if intrinsic_name(value) == "Fn::If" and isinstance(value["Fn::If"], list) and len(value["Fn::If"]) == 3:
        condition, *branches = value["Fn::If"]
        states = {_aliases(model, branch)[0] for branch in branches}
        if len(states) == 1 and states != {"maybe"}:
            return (states.pop(), "") if "some" in states else ("none", "no alternate domain name")
        return "maybe", f"no alternate domain name when condition {condition} says so"
    if isinstance(value, list):
        items = [_item(model, item) for item in value]
        if any(state == "some" for state, _ in items):
            return "some", ""
        reasons = sorted({reason for _, reason in items if reason})
        if not reasons:
            return "none", "no alternate domain name"
        return "maybe", f"no alternate domain name when {' or '.join(reasons)}"
    parameter = _parameter_ref(model, value)
    if parameter is not None and _may_be_empty(model, parameter):
        return "maybe", f"no alternate domain name when parameter {parameter} is empty"
    return "some", ""  # a parameter that must be given, a mapping, an import: an alias is there


def _item(model: Mapping[str, Any], item: Any) -> tuple[Aliases, str]:
    """One item of an alias list: set, or gone at deploy time (and when)."""
    if item == NO_VALUE or item == "":
        return "none", ""
    if intrinsic_name(item) == "Fn::If" and isinstance(item["Fn::If"], list) and len(item["Fn::If"]) == 3:
        condition, *branches = item["Fn::If"]
        states = [_item(model, branch)[0] for branch in branches]
        if states == ["some", "some"]:
            return "some", ""
        return "maybe", f"condition {condition} says so"
    parameter = _parameter_ref(model, item)
    if parameter is not None and _may_be_empty(model, parameter):
        return "maybe", f"parameter {parameter} is empty"
    return "some", ""


def _parameter_ref(model: Mapping[str, Any], value: Any) -> str | None:
    if intrinsic_name(value) == "Ref" and isinstance(value["Ref"], str):
        parameters = model.get("Parameters")
        if isinstance(parameters, dict) and value["Ref"] in parameters:
            return value["Ref"]
    return None


def _may_be_empty(model: Mapping[str, Any], name: str) -> bool:
    """A parameter whose default is empty, or that a Condition compares with `""` (the template expects it empty)."""
    parameter = model["Parameters"][name]
    if not isinstance(parameter, dict):
        return False
    if parameter.get("Default") == "":
        return True
    conditions = model.get("Conditions")
    return isinstance(conditions, dict) and any(_compares_with_empty(body, name) for body in conditions.values())


def _compares_with_empty(node: Any, name: str) -> bool:
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            arguments = item.get("Fn::Equals")
            if isinstance(arguments, list) and {"Ref": name} in arguments and "" in arguments:
                return True
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def _https_policies(config: Mapping[str, Any], base: JsonPath) -> Iterator[str]:
    """Pointers of the HTTPS-only viewer policies of a distribution that uses CloudFront's default certificate."""
    certificate = config.get("ViewerCertificate")
    if certificate is not None and not (isinstance(certificate, dict) and certificate.get("CloudFrontDefaultCertificate") in (True, "true")):
        return
    behaviors: list[tuple[JsonPath, Any]] = [(base + ("DefaultCacheBehavior",), config.get("DefaultCacheBehavior"))]
    if isinstance(config.get("CacheBehaviors"), list):
        behaviors += [(base + ("CacheBehaviors", index), item) for index, item in enumerate(config["CacheBehaviors"])]
    for path, behavior in behaviors:
        policy = behavior.get("ViewerProtocolPolicy") if isinstance(behavior, dict) else None
        if isinstance(policy, str) and policy in _HTTPS_POLICIES:
            yield to_pointer(path + ("ViewerProtocolPolicy",))


def _default_domain_readers(log: EditLog, logical_id: str) -> list[str]:
    """Pointers of the values that read the distribution's default domain (Route 53 alias targets aside)."""
    found: list[str] = []
    for reference in log.graph().to(logical_id):
        if reference.attribute != "DomainName" or reference.kind not in ("GetAtt", "Sub") or "AliasTarget" in reference.path:
            continue
        where = to_pointer(_value_path(reference.path))
        if where not in found:
            found.append(where)
    return found


def _value_path(path: JsonPath) -> JsonPath:
    """The path of the value an intrinsic function sits in (up to its first `Fn::` or `Ref` key)."""
    for index, part in enumerate(path):
        if isinstance(part, str) and (part.startswith("Fn::") or part == "Ref"):
            return path[:index]
    return path


def _get(node: Any, path: tuple[str, ...]) -> Any:
    for part in path:
        if not isinstance(node, dict):
            return None
        node = node.get(part)
    return node

"""`warn_missing_services`: IAM actions, ARNs and SDK calls of services the target partition has no endpoint for."""

from __future__ import annotations

import functools
import re
from typing import Any, ClassVar

from ...model.edits import EditLog
from ...model.paths import JsonPath
from ...model.walk import is_text_field
from ...partitions.endpoint_data import PartitionEndpoints, endpoint_prefix, partition_endpoints, partition_names
from ...partitions.region_data import load_region_data
from ..findings import Finding
from ..rule_api import ActionSpec, BoundRule, Param, RuleContext

#: an IAM action: `cognito-idp:AdminGetUser`, `aoss:*`
_ACTION = re.compile(r"(?P<service>[a-z0-9-]+):[A-Za-z0-9*?]+")
_ARN_SERVICE = re.compile(r"arn:(?:[a-z][a-z0-9-]*|\$\{AWS::Partition\}):(?P<service>[a-z0-9-]+):")
#: keys whose strings are scripts or code (as `warn_scripts`)
_CODE_KEYS = ("UserData", "ZipFile", "InlineCode", "command", "content", "Content")
#: SDK and CLI calls in code, each naming a service: boto3 (`boto3.client('cognito-idp')`, `session.resource(...)`),
#: the AWS CLI (`aws cognito-idp admin-get-user`), the JavaScript SDK v2 (`new AWS.CognitoIdentityServiceProvider(`)
#: and v3 (`@aws-sdk/client-cognito-identity-provider`)
_CALLS = re.compile(
    r"""\b(?:client|resource)\(\s*(?:service_name\s*=\s*)?["'](?P<boto>[a-z0-9-]+)["']"""
    r"""|(?<![\w$/.-])aws\s+(?P<cli>[a-z][a-z0-9-]+)\s+[a-z]"""
    r"""|\bnew\s+AWS\.(?P<js>[A-Za-z0-9]+)\s*\("""
    r"""|@aws-sdk/client-(?P<js3>[a-z0-9-]+)"""
)


class WarnMissingServices:
    """Reports what uses a service the target partition has no endpoint for (botocore's endpoint data):
    an IAM statement's actions and resources, an ARN anywhere else, an SDK or CLI call in inline code
    or a script. One warning per service and statement, resource property or script, not one per action.
    """

    spec: ClassVar[ActionSpec] = ActionSpec(
        name="warn_missing_services",
        why=(
            "A service that has endpoints in the source partition and none in the target (botocore's endpoint data: "
            "`cognito-idp` has none in aws-cn), and no resource types in the target region either (cfn-lint's region "
            "data, which corrects botocore's where it lags: AWS::AppStream in cn-northwest-1), cannot be called there: permissions for it grant nothing, its ARNs name "
            "nothing, and code that calls it fails at run time. The ARN still moves to the target partition (IAM rejects "
            "another partition's ARN in a policy); the warning names the service so that what needs it is replaced. "
            "A name is a service's when botocore's data lists it: an IAM prefix or ARN service as an endpoint prefix, "
            "a boto3 client or CLI command as a model (whose endpoint prefix is read from it), a JavaScript SDK name "
            "through `sdk_names` or a model of the same name. Global services China has under another host "
            "(iam, sts, s3, cloudfront, route53) have endpoints there and are never reported."
        ),
        safety="Reports only.",
        params=(
            Param("sdk_names", "JavaScript SDK names (v2 class, v3 client package) -> botocore service name, where they differ",
                  {"type": "object", "additionalProperties": {"type": "string"}}, default={}),
        ),
        example=(
            "Resources:\n"
            "  AdminRole:\n"
            "    Type: AWS::IAM::Role\n"
            "    Properties:\n"
            "      AssumeRolePolicyDocument: {Statement: [{Effect: Allow, Principal: {Service: lambda.amazonaws.com}, Action: sts:AssumeRole}]}\n"
            "      Policies:\n"
            "        - PolicyName: users\n"
            "          PolicyDocument:\n"
            "            Statement:\n"
            "              - Effect: Allow\n"
            "                Action: [cognito-idp:AdminGetUser, cognito-idp:AdminUpdateUserAttributes, logs:PutLogEvents]\n"
            "                Resource: !Sub 'arn:aws:cognito-idp:${AWS::Region}:${AWS::AccountId}:userpool/*'\n"
        ),
    )

    def apply(self, log: EditLog, rule: BoundRule, context: RuleContext) -> list[Finding]:
        source, target = context.source_partition.endpoints, context.partition.endpoints
        lacking = _lacking(source.name, target.name) - _registered(context.region)
        if not lacking:
            return []
        sdk_names: dict[str, str] = dict(rule.params.get("sdk_names") or {})
        partition = context.partition.name
        findings: list[Finding] = []
        reported: set[tuple[JsonPath, str]] = set()

        def report(place: JsonPath, scope: JsonPath, service: str, what: str) -> None:
            if (scope, service) in reported:
                return
            reported.add((scope, service))
            findings.append(Finding(place, f"{service} has no endpoint in {partition} (botocore's endpoint data{_named(service, source)}) "
                                           f"and no resource types in {context.region} (cfn-lint): {what} "
                                           f"cannot work there; replace it with a service {partition} has, or keep what "
                                           f"needs {service} where it exists", rule.id, about=f"service {service}"))

        statements = [(path, statement) for path, statement in log.mappings_with("Action")
                      if isinstance(statement, dict) and "Effect" in statement]
        for path, statement in statements:
            if statement.get("Effect") == "Deny":
                continue
            for service in _statement_services(statement, lacking, source):
                report(path + ("Action",), path, service, "this statement's permissions for it")
        in_statement = {path for path, _ in statements}
        for path, value in log.strings_matching(_ARN_SERVICE):
            if is_text_field(path) or context.partition.elsewhere(path) or any(path[:n] in in_statement for n in range(2, len(path))):
                continue
            for match in _ARN_SERVICE.finditer(value):
                if _endpoint_of(match.group("service"), source) in lacking:
                    report(path, _scope(path), match.group("service"), f"the {match.group('service')} ARN here")
        calls: dict[str, list[str]] = {}  # function logical id -> the lacking services its code calls
        for path, value in log.strings_under(*_CODE_KEYS):
            for number, line in enumerate(value.splitlines(), start=1):
                for match in _CALLS.finditer(line):
                    called, service = _called_service(match, sdk_names, source)
                    if called is not None and called in lacking:
                        report(path, path, service, f"the code here that calls it (line {number})")
                        if path[:1] == ("Resources",):
                            calls.setdefault(str(path[1]), []).append(service)
        for logical_id, resource in (log.model.get("Resources") or {}).items() if calls else ():
            function = _service_token_function(resource)
            for service in dict.fromkeys(calls.get(function or "", ())):
                report(("Resources", logical_id, "Properties", "ServiceToken"), ("Resources", logical_id), service,
                       f"custom resource {logical_id} runs {function}, whose code calls it, and")
        return findings


@functools.cache
def _registered(region: str) -> frozenset[str]:
    """Endpoint prefixes whose service has CloudFormation types in `region` (cfn-lint's region data), although
    botocore's endpoint data may list no endpoint for them there (appstream2 and AWS::AppStream in cn-northwest-1):
    both sources must agree before a service is reported missing."""
    namespaces = {kind.split("::")[1].lower() for kind in load_region_data(region).types if kind.startswith("AWS::") and kind.count("::") == 2}
    prefixes = set().union(*(partition_endpoints(name).by_service for name in partition_names()))
    return frozenset(prefix for prefix in prefixes
                     if any(re.sub(r"[^a-z]", "", label) in namespaces for label in prefix.split(".")))


@functools.cache
def _lacking(source: str, target: str) -> frozenset[str]:
    """Endpoint prefixes with endpoints in partition `source` and none in partition `target`."""
    return frozenset(set(partition_endpoints(source).by_service) - set(partition_endpoints(target).by_service))


def _statement_services(statement: dict[str, Any], lacking: frozenset[str], source: PartitionEndpoints) -> list[str]:
    """The lacking services a statement's `Action` and `Resource` name, in order, once each.

    An action's prefix that is no endpoint prefix is looked up as a botocore model of that
    name (IAM's `ses` is the model `ses`, whose endpoints are `email`); one that is neither
    (`execute-api`, `rds-db`) is never reported.
    """
    found: list[str] = []
    actions = statement.get("Action")
    for action in actions if isinstance(actions, list) else [actions]:
        match = _ACTION.fullmatch(action) if isinstance(action, str) else None
        service = _endpoint_of(match.group("service"), source) if match else None
        if match and service is not None and service in lacking:
            found.append(match.group("service"))
    resources = statement.get("Resource")
    for resource in resources if isinstance(resources, list) else [resources]:
        for text in _texts(resource):
            found += [m.group("service") for m in _ARN_SERVICE.finditer(text) if _endpoint_of(m.group("service"), source) in lacking]
    return list(dict.fromkeys(found))


def _texts(value: Any) -> list[str]:
    """The strings inside a value (a Sub's template, a Join's parts)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [text for item in value for text in _texts(item)]
    if isinstance(value, dict):
        return [text for item in value.values() for text in _texts(item)]
    return []


def _service_token_function(resource: Any) -> str | None:
    """The logical id of the function a custom resource's ServiceToken names (`!GetAtt Fn.Arn`, `!Ref Fn`), if any."""
    if not isinstance(resource, dict) or not str(resource.get("Type", "")).startswith(("Custom::", "AWS::CloudFormation::CustomResource")):
        return None
    token = (resource.get("Properties") or {}).get("ServiceToken") if isinstance(resource.get("Properties"), dict) else None
    if not isinstance(token, dict) or len(token) != 1:
        return None
    (kind, argument), = token.items()
    if kind == "Fn::GetAtt":
        target = argument[0] if isinstance(argument, list) and argument else str(argument).split(".", 1)[0]
        return str(target)
    if kind == "Ref" and isinstance(argument, str):
        return argument
    if kind == "Fn::Sub" and isinstance(argument, str):
        found = re.fullmatch(r"\$\{([A-Za-z0-9]+)\.Arn\}", argument)
        return found.group(1) if found else None
    return None


def _scope(path: JsonPath) -> JsonPath:
    """Where one warning per service is enough: a resource's top-level property, or the section entry."""
    return path[:4] if path[:1] == ("Resources",) else path[:2]


def _called_service(match: re.Match[str], sdk_names: dict[str, str], source: PartitionEndpoints) -> tuple[str | None, str]:
    """The endpoint prefix of the service an SDK or CLI call names (None when botocore's data does not say), and its name."""
    name = match.group("boto") or match.group("cli")
    if name is None:
        sdk = match.group("js") or match.group("js3") or ""
        name = sdk_names.get(sdk) or sdk.lower()
    return _endpoint_of(name, source), name


def _named(service: str, source: PartitionEndpoints) -> str:
    """`, where its endpoints are email` when `service` is not its own endpoint prefix."""
    endpoint = _endpoint_of(service, source)
    return f", where its endpoints are {endpoint}" if endpoint not in (None, service) else ""


def _endpoint_of(name: str, source: PartitionEndpoints) -> str | None:
    """`name` when it is an endpoint prefix of `source`, else the endpoint prefix of botocore's model `name`, if any."""
    return name if name in source.by_service else endpoint_prefix(name)

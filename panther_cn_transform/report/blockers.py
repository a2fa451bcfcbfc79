"""What in a transformed template would stop a deployment in the target region.

A warning says "look at this"; a blocker says "this stack will not create".  Three kinds
are found in the output model (new cfn-lint errors, the fourth, come from `verify.py`):

* `runtime`: a Lambda runtime AWS no longer lets anyone create functions with (`go1.x`,
  `python3.7`); dates from cfn-lint's `LmbdRuntimeLifecycle.json`, kept current by AWS;
* `foreign-region`: an ARN, host or region value naming a region outside the target's
  partition, i.e. a resource that cannot be reached from China (not where a region is
  compared: Conditions and Rules; nor under a name that says it is left out: `EXCLUDED_REGIONS`);
* `global-bucket`: an asset still read from a bucket of another partition (for a China
  release: a global bucket), by the bucket's name or its host's DNS suffix; and any bucket
  the template reads (model data, commands, environment, Parameter defaults) whose name
  holds a region of another partition (`sagemaker-ap-northeast-1-<account>`), at the place
  that sets it (never in a Description: prose);
* `user-pool`: where the target region has no Cognito user pools (cfn-lint's region data),
  whatever needs one: a COGNITO_USER_POOLS authorizer (an API Gateway authorizer, a SAM
  API's, one in an OpenAPI definition), a JWT authorizer whose issuer is a user pool, OpenSearch's Cognito options, AppSync's user-pool
  authentication, an ALB's authenticate-cognito action, an identity pool's user-pool
  provider, Verified Permissions' Cognito source, a custom resource named for Cognito.  The
  removal keeps them and asks for the pool as a parameter (ruleset/removal.py), which China
  cannot supply.

**Shared blockers.** A blocker the global release has too (v1.16's `go1.x` runtimes) is not
the port's doing and stops nothing (`release --upload` stops only on the others).  Whether
the global release has it is decided by running this same check on the source template for
its own partition and region (`source_blockers`: the source bucket's region in release
mode, else a region of the global partition) and matching by kind and place (JSON Pointer):
rules edit values where they are, so a place of the output is that place of the input.  An
ARN in us-west-2 is no blocker in the global partition, so its blocker in China is not
shared; a runtime blocked for everyone is.  When a removal before it moved a list entry,
the places differ and the blocker counts as the port's own: the side that stops an upload.
New cfn-lint errors are never shared (they are new by definition).

Pure: the model, the target region and bucket, and the date to judge runtimes by.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Any

from ..model.edits import JsonPath, to_pointer
from ..model.walk import REGION_PATTERN, in_comment_line, in_mapping_for_elsewhere, iter_strings, meaning_keys
from ..partitions.bucket_names import region_of_bucket_name, regions_in_bucket_name
from ..partitions.endpoint_data import dns_suffixes, partition_endpoints, partition_for, partition_names
from ..partitions.region_data import cfn_lint_schemas, load_region_data
from ..partitions.s3urls import S3Reference, bucket_properties, find_references

_FUNCTION_TYPES = ("AWS::Lambda::Function", "AWS::Serverless::Function")
_ARN_REGION = re.compile(rf"arn:aws[a-z-]*:[a-z0-9-]+:(?P<region>{REGION_PATTERN}):")
_HOST_REGION = re.compile(rf"[a-z0-9-]+[.-](?P<region>{REGION_PATTERN})\.amazonaws\.com(?P<cn>\.cn)?")
_REGION_VALUE = re.compile(f"^{REGION_PATTERN}$")
#: where templates come from when the caller does not say (a single template): a region of the global partition
DEFAULT_SOURCE_REGION = "us-east-1"
#: where text describes rather than configures
_PROSE_KEYS = frozenset({"Description", "Metadata", "Mappings", "AWSTemplateFormatVersion"})
#: prose wherever it is: no value under these keys is read by CloudFormation or a service
_DESCRIPTION_KEYS = frozenset({"Description", "AssertDescription", "ConstraintDescription"})
#: sections where a region is compared, never used: `!Equals [!Ref AWS::Region, us-gov-west-1]`, a Rule's deny-list
_COMPARING_SECTIONS = frozenset({"Conditions", "Rules"})
#: a key whose name says its regions are left out (`EXCLUDED_REGIONS`, `DenyRegion`, `SkipRegion`)
_EXCLUDING_NAME = re.compile(r"(?i)exclu|deny|denied|skip|ignor|disallow|blacklist|blocklist")


@dataclass(frozen=True)
class Blocker:
    """One thing that stops the deployment: its kind, where it is, what to do, and whether the global release has it too."""

    kind: str
    path: JsonPath
    message: str
    shared: bool = False

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "path": to_pointer(self.path), "message": self.message, "shared": self.shared}


@cache
def runtime_lifecycle() -> dict[str, dict[str, Any]]:
    """cfn-lint's Lambda runtime lifecycle data: runtime -> deprecated / create-block / successor."""
    path = cfn_lint_schemas().parent / "AdditionalSpecs" / "LmbdRuntimeLifecycle.json"
    data: dict[str, dict[str, Any]] = json.loads(path.read_text("utf-8"))
    return data


def find_blockers(model: Any, *, region: str, bucket: str | None, today: date) -> list[Blocker]:
    """Every blocker of the transformed template `model` for `region` (see the module docstring)."""
    found = _runtimes(model, today)
    found += _foreign_regions(model, region)
    found += _foreign_buckets(model, bucket, region)
    found += _user_pool_dependants(model, region)
    return sorted(set(found), key=lambda b: (b.kind, to_pointer(b.path), b.message))


def source_blockers(model: Any, *, region: str | None, bucket: str | None, today: date) -> list[Blocker]:
    """The blockers the source template has in its own partition: what the global release cannot deploy either.

    `region` is the source's region (release mode reads it from the source bucket's name),
    else `DEFAULT_SOURCE_REGION`; `bucket` the source bucket, whose own assets are in place.
    """
    return find_blockers(model, region=region or DEFAULT_SOURCE_REGION, bucket=bucket, today=today)


def mark_shared(blockers: list[Blocker], source: list[Blocker]) -> list[Blocker]:
    """`blockers` with `shared` set on those the source has too: the same kind at the same place."""
    places = {(b.kind, b.path) for b in source}
    return [Blocker(b.kind, b.path, b.message, (b.kind, b.path) in places) for b in blockers]


def _runtimes(model: Any, today: date) -> list[Blocker]:
    places: list[tuple[JsonPath, Any]] = []
    globals_function = (model.get("Globals") or {}).get("Function") if isinstance(model.get("Globals"), dict) else None
    if isinstance(globals_function, dict):
        places.append((("Globals", "Function", "Runtime"), globals_function.get("Runtime")))
    for logical_id, resource in (model.get("Resources") or {}).items():
        if isinstance(resource, dict) and resource.get("Type") in _FUNCTION_TYPES:
            properties = resource.get("Properties")
            if isinstance(properties, dict):
                places.append((("Resources", logical_id, "Properties", "Runtime"), properties.get("Runtime")))
    found = []
    lifecycle = runtime_lifecycle()
    for path, runtime in places:
        dates = lifecycle.get(runtime) if isinstance(runtime, str) else None
        blocked = dates.get("create-block") if dates else None
        if dates and blocked and date.fromisoformat(blocked) <= today:
            successor = dates.get("successor")
            instead = f"; move to {successor}" if successor else ""
            found.append(Blocker("runtime", path, f"runtime {runtime} can no longer be created (blocked since {blocked}){instead}"))
    return found


def _foreign_regions(model: Any, region: str) -> list[Blocker]:
    partition = partition_for(region)
    found = []
    for path, value in iter_strings(model):
        if path[:1] == ("Parameters",) or path[:1] and path[0] in _COMPARING_SECTIONS:
            continue
        names = meaning_keys(path)
        if any(part in _PROSE_KEYS for part in names) or names and _EXCLUDING_NAME.search(names[-1]):
            continue
        named = {m.group("region") for m in _ARN_REGION.finditer(value) if not in_comment_line(value, m.start())}
        named |= {m.group("region") for m in _HOST_REGION.finditer(value) if not in_comment_line(value, m.start())}
        if _REGION_VALUE.match(value):
            named.add(value)
        for other in sorted(named):
            if partition_for(other) != partition:
                found.append(Blocker("foreign-region", path, f"{value!r} names {other}, outside {partition}: provide this resource in {region}"))
    return found


def _foreign_buckets(model: Any, bucket: str | None, region: str) -> list[Blocker]:
    """Assets read from a bucket of another partition than `region`'s: by the bucket's name, or its host's DNS suffix.

    A bucket whose name holds a region of another partition anywhere (SageMaker's
    `sagemaker-<region>-<account>`, `<name>-<region>-data`) is one too, wherever the template
    reads it (model data, environment, commands, job arguments, Parameter defaults), with
    or without a key, and in a property that names an existing bucket (`S3Bucket`, `Bucket`,
    `S3BucketName` ...); a `${Parameter}` or `!Ref` bucket is judged by the default that sets it, there.
    """
    partition = partition_for(region)
    suffix = partition_endpoints(partition).dns_suffix
    found = []
    references = list(find_references(model))  # one walk of the model for both checks
    for reference in references:
        if reference.form == "arn" or not reference.key or reference.bucket == bucket:
            continue
        if any(part in _DESCRIPTION_KEYS for part in meaning_keys(reference.path)):
            continue
        bucket_region = region_of_bucket_name(reference.bucket)
        other = partition_for(bucket_region) if bucket_region is not None else partition
        if other == partition and reference.form in ("virtual-hosted", "path-style"):
            host = _s3_host().search(_string_at(model, reference.path) or "")
            if host and host.group("suffix") != suffix:
                other = _partition_of_suffix(host.group("suffix"))
        if other == partition:
            continue
        where = "a global bucket" if other == "aws" else f"a bucket of partition {other}"
        target = "the China bucket" if partition == "aws-cn" else f"a bucket in {region}"
        found.append(Blocker(
            "global-bucket", reference.path,
            f"asset s3://{reference.bucket}/{reference.key} is still read from {where}: copy it to {target}",
        ))
    places = {blocker.path for blocker in found}
    return found + [b for b in _named_elsewhere(model, references, bucket, region, partition) if b.path not in places]


def _named_elsewhere(model: Any, references: list[S3Reference], bucket: str | None, region: str,
                     partition: str) -> list[Blocker]:
    """Buckets read by the template whose names place them in a region of another partition (see `_foreign_buckets`)."""
    regions = partition_endpoints(partition).regions
    parameters = model.get("Parameters") if isinstance(model.get("Parameters"), dict) else {}
    found: dict[JsonPath, Blocker] = {}

    def judge(path: JsonPath, name: str, shown: str) -> None:
        if name == bucket or path in found or _prose(path, regions, partition):
            return
        elsewhere = [r for r in regions_in_bucket_name(name) if partition_for(r) != partition]
        if elsewhere:
            found[path] = Blocker("global-bucket", path, (
                f"{shown} reads bucket {name}, which its name places in {elsewhere[0]} ({partition_for(elsewhere[0])}): copy "
                f"the objects to a bucket in {region} and name that bucket here (or map it: rewrite_s3_assets bucket_map)"))

    def parameter_default(name: str) -> tuple[JsonPath, str] | None:
        entry = parameters.get(name)
        default = entry.get("Default") if isinstance(entry, dict) else None
        return (("Parameters", name, "Default"), default) if isinstance(default, str) else None

    for reference in references:
        if reference.form == "arn":
            continue  # a policy naming a bucket grants nothing that exists here; no read
        shown = f"s3://{reference.bucket}/{reference.key}" if reference.form != "object" else f"object {reference.key}"
        variable = _WHOLE_VARIABLE.fullmatch(reference.bucket)
        if variable and (setter := parameter_default(variable.group(1))) is not None:
            judge(setter[0], setter[1], f"the default of parameter {variable.group(1)} (a bucket, read at {to_pointer(reference.path)})")
        else:
            judge(reference.path, reference.bucket, shown)
    for path, value in bucket_properties(model):  # S3Bucket, Bucket, S3BucketName ...: a bucket that exists
        if isinstance(value, str):
            judge(path, value, f"property {path[-1]}")
        elif (setter := parameter_default(value["Ref"])) is not None:
            judge(setter[0], setter[1], f"the default of parameter {value['Ref']} (a bucket, read at {to_pointer(path)})")
    return list(found.values())


_WHOLE_VARIABLE = re.compile(r"\$\{([A-Za-z0-9_]+)\}")


def _prose(path: JsonPath, regions: tuple[str, ...], partition: str) -> bool:
    """Text that describes, or data for elsewhere: a Description, the template's Metadata, a Mapping entry of another region."""
    if path[:1] == ("Metadata",) or "Description" in path:
        return True
    return in_mapping_for_elsewhere(path, regions, partition, partition_names())


_USER_POOL = "AWS::Cognito::UserPool"
#: a user pool's token issuer: `https://cognito-idp.<region>.amazonaws.com/<pool id>`
_COGNITO_ISSUER = "cognito-idp."
_COGNITO_CUSTOM_TYPE = re.compile(r"(?i)^Custom::.*(?:cognito|userpool)")
_API_DEFINITIONS = {"AWS::ApiGateway::RestApi": "Body", "AWS::ApiGatewayV2::Api": "Body",
                    "AWS::Serverless::Api": "DefinitionBody", "AWS::Serverless::HttpApi": "DefinitionBody"}


def _user_pool_dependants(model: Any, region: str) -> list[Blocker]:
    """What needs a Cognito user pool, where `region` has none (`user-pool`, see the module docstring).

    Sources: CHINA-FACTS sections 1 and 9 (API Gateway in China: "Cognito authorizers are
    not supported"; user pools are not available in either China region; AppSync there
    has no user-pool authentication; Verified Permissions has no Cognito identity source).
    """
    if not load_region_data(region).lacks(_USER_POOL):
        return []
    partition = partition_for(region)
    instead = (f"needs a Cognito user pool, which {region} does not have: the stack fails here; use IAM authorization, "
               f"a Lambda authorizer, or an identity provider outside {partition} instead")
    found: list[Blocker] = []
    resources = model.get("Resources") if isinstance(model.get("Resources"), dict) else {}
    globals_api = (model.get("Globals") or {}).get("Api") if isinstance(model.get("Globals"), dict) else None
    places: list[tuple[JsonPath, Any, str]] = []
    if isinstance(globals_api, dict):
        places.append((("Globals", "Api"), globals_api, "AWS::Serverless::Api"))
    for logical_id, resource in resources.items():
        if isinstance(resource, dict) and isinstance(resource.get("Type"), str):
            properties = resource.get("Properties")
            places.append((("Resources", logical_id, "Properties"), properties if isinstance(properties, dict) else {}, resource["Type"]))
    for base, properties, kind in places:
        for path, what in _needs_user_pool(base, properties, kind):
            found.append(Blocker("user-pool", path, f"{what} {instead}"))
    return found


def _needs_user_pool(base: JsonPath, props: dict[str, Any], kind: str) -> list[tuple[JsonPath, str]]:
    """(place, what it is) for each setting of one resource (or Globals section) that needs a user pool."""
    found: list[tuple[JsonPath, str]] = []
    if kind == "AWS::ApiGateway::Authorizer" and _is(props.get("Type"), "COGNITO_USER_POOLS"):
        found.append((base + ("ProviderARNs" if "ProviderARNs" in props else "Type",), "a COGNITO_USER_POOLS authorizer"))
    elif kind in ("AWS::Serverless::Api", "AWS::Serverless::HttpApi"):
        authorizers = (props.get("Auth") or {}).get("Authorizers") if isinstance(props.get("Auth"), dict) else None
        for name, authorizer in (authorizers or {}).items() if isinstance(authorizers, dict) else ():
            if isinstance(authorizer, dict) and "UserPoolArn" in authorizer:
                found.append((base + ("Auth", "Authorizers", name, "UserPoolArn"), f"the Cognito authorizer {name}"))
            jwt = authorizer.get("JwtConfiguration") if isinstance(authorizer, dict) else None
            if isinstance(jwt, dict) and _COGNITO_ISSUER in str(jwt.get("issuer")):
                found.append((base + ("Auth", "Authorizers", name, "JwtConfiguration"), f"the JWT authorizer {name}, whose issuer is a user pool,"))
    elif kind == "AWS::ApiGatewayV2::Authorizer":
        jwt = props.get("JwtConfiguration")
        if isinstance(jwt, dict) and _COGNITO_ISSUER in str(jwt.get("Issuer")):
            found.append((base + ("JwtConfiguration", "Issuer"), "a JWT authorizer whose issuer is a user pool"))
    elif kind in ("AWS::OpenSearchService::Domain", "AWS::Elasticsearch::Domain"):
        options = props.get("CognitoOptions")
        if isinstance(options, dict) and options.get("Enabled") not in (False, "false", "False"):
            found.append((base + ("CognitoOptions",), "Cognito authentication for Dashboards"))
    elif kind == "AWS::AppSync::GraphQLApi":
        if _is(props.get("AuthenticationType"), "AMAZON_COGNITO_USER_POOLS"):
            found.append((base + ("AuthenticationType",), "user-pool authentication"))
        for index, provider in enumerate(props.get("AdditionalAuthenticationProviders") or []):
            if isinstance(provider, dict) and _is(provider.get("AuthenticationType"), "AMAZON_COGNITO_USER_POOLS"):
                found.append((base + ("AdditionalAuthenticationProviders", index), "user-pool authentication"))
    elif kind in ("AWS::ElasticLoadBalancingV2::Listener", "AWS::ElasticLoadBalancingV2::ListenerRule"):
        key = "DefaultActions" if kind.endswith("Listener") else "Actions"
        for index, action in enumerate(props.get(key) or []):
            if isinstance(action, dict) and _is(action.get("Type"), "authenticate-cognito"):
                found.append((base + (key, index), "an authenticate-cognito action"))
    elif kind == "AWS::Cognito::IdentityPool" and props.get("CognitoIdentityProviders"):
        found.append((base + ("CognitoIdentityProviders",), "a user-pool identity provider"))
    elif kind == "AWS::VerifiedPermissions::IdentitySource" and "CognitoUserPoolConfiguration" in str(props.get("Configuration")):
        found.append((base + ("Configuration",), "a Cognito identity source"))
    elif _COGNITO_CUSTOM_TYPE.match(kind):
        found.append((base[:2], f"custom resource {kind}"))
    definition = props.get(_API_DEFINITIONS.get(kind, ""))
    if isinstance(definition, dict):
        components = definition.get("components")
        for section, schemes in (("securityDefinitions", definition.get("securityDefinitions")),
                                 ("components", components.get("securitySchemes") if isinstance(components, dict) else None)):
            for name, scheme in schemes.items() if isinstance(schemes, dict) else ():
                authorizer = scheme.get("x-amazon-apigateway-authorizer") if isinstance(scheme, dict) else None
                if isinstance(authorizer, dict) and _is(authorizer.get("type"), "cognito_user_pools"):
                    where = (section, name) if section == "securityDefinitions" else (section, "securitySchemes", name)
                    found.append((base + (_API_DEFINITIONS[kind], *where), f"the cognito_user_pools authorizer {name}"))
    return found


def _is(value: Any, expected: str) -> bool:
    return isinstance(value, str) and value.lower() == expected.lower()


@cache
def _s3_host() -> re.Pattern[str]:
    """An S3 host (`s3.`, `s3-R.`, `B.s3.R.`) with its DNS suffix, longest suffixes first (`.com.cn` before `.com`)."""
    suffixes = "|".join(re.escape(s) for s in dns_suffixes())
    return re.compile(rf"(?:^|[/.])s3(?:[.-][a-z0-9-]+)?\.(?P<suffix>{suffixes})(?=/|$)")


def _partition_of_suffix(suffix: str) -> str:
    """The partition whose DNS suffix `suffix` is (`aws` first among those that share one)."""
    for name in ("aws", *partition_names()):
        if partition_endpoints(name).dns_suffix == suffix:
            return name
    return "aws"


def _string_at(model: Any, path: JsonPath) -> str | None:
    value = model
    for part in path:
        try:
            value = value[part]
        except (KeyError, IndexError, TypeError):
            return None
    return value if isinstance(value, str) else None

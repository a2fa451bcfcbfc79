"""What each half's stack is deployed with: its root template in the bucket, and its parameters.

The root template is read from the half's bucket (`<release>/panther.yml`), as CloudFormation
will read it, so that `deploy` knows the parameters it declares before asking for a change set,
and how the halves fit together:

* the China root gained parameters where a nested stack's input came from something that
  stays in the web half (`Core`'s `UserPoolId` was `!GetAtt Bootstrap.Outputs.UserPoolId`);
  the web root still has that very input, so comparing the two roots says where each value
  comes from (`web_sources`): an output of one of the web stack's nested stacks.  Nothing is
  guessed from names;
* on a first install the web half does not exist yet: those parameters get placeholders that
  pass the nested templates' patterns, and the China stack is updated with the real values once
  the web half exists;
* every other parameter keeps its previous value on an update (as `aws cloudformation deploy`
  does), its default on a create, or is given on the command line; one without any is an error
  naming the option that gives it.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..errors import DeployError, InputError
from ..partitions.endpoint_data import partition_endpoints, partition_for

if TYPE_CHECKING:
    from mypy_boto3_cloudformation import CloudFormationClient

#: placeholders for the web half's values on a first install: they pass the patterns Panther's nested
#: templates put on them (UserPoolId `^[a-zA-Z0-9_-]{15,}$`, AppDomainURL `^[a-z0-9.-]+\.[a-z]{2,}$`)
PLACEHOLDERS = {"UserPoolId": "{web_region}_pendingwebhalf", "AppDomainURL": "pending-web-half.invalid"}
PLACEHOLDER = "pending-web-half"
#: options that give a parameter, for the error that names a missing one
OPTIONS = {"FirstUserEmail": "--first-user-email"}


@dataclass(frozen=True)
class Root:
    """A release's root template in a bucket: where CloudFormation reads it, and what it declares."""

    bucket: str
    region: str
    key: str
    model: dict[str, Any]
    metadata: Mapping[str, str] = field(default_factory=dict)  # the object's S3 metadata (`s3target.BLOCKERS_METADATA`)

    @property
    def url(self) -> str:
        return template_url(self.bucket, self.region, self.key)

    @property
    def parameters(self) -> dict[str, Any]:
        return dict(self.model.get("Parameters") or {})


def template_url(bucket: str, region: str, key: str) -> str:
    """`https://B.s3.R.<the region's partition's DNS suffix>/K` (from botocore's endpoint data, never a literal)."""
    suffix = partition_endpoints(partition_for(region)).dns_suffix
    return f"https://{bucket}.s3.{region}.{suffix}/{key}"


def read_root(*, bucket: str, region: str, release: str, profile: str | None, half: str, option: str) -> Root:
    """The root template `<release>/panther.yml` of `bucket`, read as CloudFormation will read it."""
    from botocore.exceptions import BotoCoreError, ClientError

    from ..model.decode import decode_bytes
    from .s3common import make_client, s3_error

    key = f"{release}/panther.yml"
    client = make_client(profile, region)
    try:
        answer = client.get_object(Bucket=bucket, Key=key)
        data = answer["Body"].read()
    except ClientError as exc:
        if str(exc.response.get("Error", {}).get("Code")) in ("NoSuchKey", "404"):
            pack = " --rules panther-web-proxy" if half == "web" else ""
            raise DeployError(f"no root template {key}: upload the {half} half first "
                              f"(python -m panther_cn_transform release ...{pack} --region {region} --bucket {bucket} --upload)",
                              file=f"s3://{bucket}") from None
        raise s3_error(exc, side=half, bucket=bucket, key=key, option=option) from None
    except BotoCoreError as exc:
        raise s3_error(exc, side=half, bucket=bucket, key=key, option=option) from None
    return Root(bucket, region, key, decode_bytes(data, source=f"s3://{bucket}/{key}").model,
                {str(k): str(v) for k, v in (answer.get("Metadata") or {}).items()})


def deployed_template(cloudformation: CloudFormationClient, stack: str, *, where: str) -> dict[str, Any]:
    """The template a stack runs now (its root), as a model."""
    from botocore.exceptions import BotoCoreError, ClientError

    from ..model.decode import decode_text
    from .stack_events import aws_reason

    try:
        body: Any = cloudformation.get_template(StackName=stack, TemplateStage="Original")["TemplateBody"]
    except (BotoCoreError, ClientError) as exc:
        raise DeployError(f"cannot read the stack's template: {aws_reason(exc)}", file=where) from None
    if isinstance(body, dict):
        return body
    return decode_text(str(body), source=where).model


def web_sources(china: Mapping[str, Any], web: Mapping[str, Any]) -> dict[str, tuple[str, str]]:
    """China root parameter -> (the web root's nested stack, its output) that gives its value.

    A China parameter P used as `S.Properties.Parameters.K: {Ref: P}` comes from the web root's
    `S.Properties.Parameters.K` when that is `!GetAtt B.Outputs.O`.
    """
    found: dict[str, tuple[str, str]] = {}
    declared = china.get("Parameters") or {}
    web_resources = web.get("Resources") or {}
    for logical_id, resource in (china.get("Resources") or {}).items():
        if not isinstance(resource, dict) or resource.get("Type") != "AWS::CloudFormation::Stack":
            continue
        inputs = (resource.get("Properties") or {}).get("Parameters") or {}
        web_inputs = ((web_resources.get(logical_id) or {}).get("Properties") or {}).get("Parameters") or {}
        for key, value in inputs.items():
            if not (isinstance(value, dict) and list(value) == ["Ref"] and value["Ref"] in declared):
                continue
            origin = _nested_output(web_inputs.get(key))
            if origin:
                found.setdefault(str(value["Ref"]), origin)
    return found


def _nested_output(value: Any) -> tuple[str, str] | None:
    if not isinstance(value, dict) or list(value) != ["Fn::GetAtt"]:
        return None
    target = value["Fn::GetAtt"]
    if isinstance(target, str):
        target = target.split(".", 1)
    if isinstance(target, list) and len(target) == 2 and all(isinstance(t, str) for t in target) and target[1].startswith("Outputs."):
        return str(target[0]), str(target[1][len("Outputs."):])
    return None


def placeholder(parameter: str, web_region: str) -> str:
    """A value that lets the China half be created before the web half exists."""
    return PLACEHOLDERS.get(parameter, PLACEHOLDER).format(web_region=web_region)


def parameter_list(declared: Mapping[str, Any], decided: Mapping[str, str], existing: Collection[str] | None,
                   *, where: str) -> list[dict[str, Any]]:
    """The change set's `Parameters`: decided values, else the previous value on an update, else the default.

    `existing` is the parameters the stack has now (None for a create).  A parameter with none of
    these is an error naming the option that gives it.
    """
    found: list[dict[str, Any]] = []
    missing: list[str] = []
    for name, spec in declared.items():
        if name in decided:
            found.append({"ParameterKey": name, "ParameterValue": decided[name]})
        elif existing is not None and name in existing:
            found.append({"ParameterKey": name, "UsePreviousValue": True})
        elif not (isinstance(spec, dict) and "Default" in spec):
            missing.append(name)
    if missing:
        options = [OPTIONS.get(name, f"--parameter {name}=VALUE") for name in missing]
        raise DeployError(f"the root template has no value for {', '.join(missing)}: give {', '.join(options)}", file=where)
    return found


def parse_assignments(items: Collection[str]) -> dict[str, str]:
    """`--parameter NAME=VALUE` options as a mapping (a parameter name is letters and digits)."""
    values: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not re.fullmatch(r"[A-Za-z0-9]{1,255}", name):
            raise InputError(f"--parameter expects NAME=VALUE (a CloudFormation parameter name), got {item!r}", file="<command line>")
        values[name] = value
    return values

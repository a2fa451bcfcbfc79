"""What the operator does after a release is built: the root's parameters and the next commands.

The parameters come from the root template itself: those the transform added (a nested
stack's input whose global source was removed, e.g. `UserPoolId`) and those with no
default (e.g. `FirstUserEmail`).  Where a value comes from is read from the edit that lifted
it: the old value `Fn::GetAtt [Bootstrap, Outputs.UserPoolId]` says "output UserPoolId of
the nested stack Bootstrap", which the global deployment still has.

The next steps are Panther's China flow: deploy the root from the China bucket; when the
root has the bridge's outputs (`BridgeUrl`, `BridgeApiKeyId`), read its URL and key, test
it, and store both as the secret `panther/china` in the web application's region.
Commands use shell variables set in the first step, so they can be pasted as they are.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable
from typing import Any

from ..model.edits import Edit, to_pointer

WEB_REGIONS = ("ap-southeast-1", "ap-southeast-2")
CAPABILITIES = "CAPABILITY_IAM CAPABILITY_NAMED_IAM CAPABILITY_AUTO_EXPAND"


def root_parameters(source_model: Any, output_model: Any, edits: Iterable[Edit]) -> list[dict[str, Any]]:
    """The root's parameters an operator must supply: gained by the transform, or without a default."""
    before = source_model.get("Parameters") or {}
    after = output_model.get("Parameters") or {}
    origins: dict[str, dict[str, str]] = {}
    used_by: dict[str, list[str]] = {}
    for edit in edits:
        if edit.op == "replace" and isinstance(edit.value, dict) and list(edit.value) == ["Ref"]:
            name = str(edit.value["Ref"])
            used_by.setdefault(name, []).append(to_pointer(edit.path))
            origin = _stack_output(edit.old)
            if origin:
                origins.setdefault(name, origin)
    found = []
    for name, spec in after.items():
        spec = spec if isinstance(spec, dict) else {}
        if name in before and "Default" in spec:
            continue
        found.append({
            "name": name,
            "status": "gained" if name not in before else "needed",
            "description": str(spec.get("Description", "")),
            "from": origins.get(name),
            "used_by": sorted(used_by.get(name, [])),
        })
    return found


def _stack_output(value: Any) -> dict[str, str] | None:
    """`{"stack", "output"}` of a `Fn::GetAtt` on a nested stack's output, else None."""
    if not isinstance(value, dict) or list(value) != ["Fn::GetAtt"]:
        return None
    target = value["Fn::GetAtt"]
    if isinstance(target, str):
        target = target.split(".", 1)
    if isinstance(target, list) and len(target) == 2 and all(isinstance(t, str) for t in target):
        stack, attribute = target
        if attribute.startswith("Outputs."):
            return {"stack": stack, "output": attribute[len("Outputs."):]}
    return None


def shell_name(parameter: str) -> str:
    """`UserPoolId` -> `USER_POOL_ID`, `AppDomainURL` -> `APP_DOMAIN_URL`."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", parameter).upper()


def value_source(parameter: dict[str, Any]) -> str:
    """Where the value of a root parameter comes from, in words."""
    origin = parameter.get("from")
    if origin:
        return (f"output {origin['output']} of the nested stack {origin['stack']} of your global Panther "
                f"deployment (in the web application's region)")
    return f"your choice: {parameter['description'] or 'no description'}"


def value_command(parameter: dict[str, Any]) -> str:
    """A shell line that sets the parameter's variable (read from the global deployment when known)."""
    variable = shell_name(parameter["name"])
    origin = parameter.get("from")
    if origin:
        query = (f"Stacks[?starts_with(StackName, '${{GLOBAL_STACK}}-{origin['stack']}-')].Outputs[]"
                 f" | [?OutputKey=='{origin['output']}'].OutputValue | [0]")
        return f'{variable}=$(aws cloudformation describe-stacks --region "$WEB_REGION" \\\n    --query "{query}" --output text)'
    return f"{variable}='...'   # {parameter['description'] or parameter['name']}"


def next_steps(
    *, region: str, bucket: str, release: str, source_bucket: str, root: str, uploaded: bool,
    parameters: list[dict[str, Any]], outputs: Iterable[str], source: str | None = None,
) -> list[dict[str, Any]]:
    """The steps after this run, each a title, a sentence and the exact commands.

    `source` is the release source as the user gave it (a mirror folder or `s3://bucket`):
    the upload step repeats it, so a user with a local mirror is not sent to the global
    bucket (which needs global credentials); without it, the global bucket.
    """
    steps: list[dict[str, Any]] = []
    steps.append({
        "title": "Set the names the commands below use",
        "text": f"The web application stays in a global region near China ({' or '.join(WEB_REGIONS)}).",
        "commands": [
            (f"REGION={region}\n"
            f"WEB_REGION={WEB_REGIONS[0]}   # where Panther's web application runs: {' or '.join(WEB_REGIONS)}\n"
            "GLOBAL_STACK=panther   # the Panther stack in WEB_REGION\n"
            "STACK=panther          # the China stack to create")
        ],
    })
    if not uploaded:
        steps.append({
            "title": "Upload the release",
            "text": "This run did not upload; this copies it to the China bucket (assets, then templates, the root last).",
            "commands": [
                (f"python -m panther_cn_transform release {shlex.quote(source or f's3://{source_bucket}')} --release {release} \\\n"
                f"    --region {region} --bucket {bucket} --upload --target-profile <china profile>")
            ],
        })
    if parameters:
        steps.append({
            "title": "Collect the root's parameters",
            "text": "The root stack needs these values:",
            "items": [f"{p['name']}: {value_source(p)}" for p in parameters],
            "commands": [value_command(p) for p in parameters],
        })
    overrides = "".join(f' \\\n    ParameterKey={p["name"]},ParameterValue="${shell_name(p["name"])}"' for p in parameters)
    steps.append({
        "title": "Deploy",
        "text": "Create the China stack from the root template in the China bucket.",
        "commands": [
            f'aws cloudformation create-stack --region "$REGION" --stack-name "$STACK" \\\n'
            f"    --template-url https://{bucket}.s3.{region}.amazonaws.com.cn/{root} \\\n"
            f"    --capabilities {CAPABILITIES}"
            + (f" \\\n    --parameters{overrides}" if parameters else ""),
            'aws cloudformation wait stack-create-complete --region "$REGION" --stack-name "$STACK"',
        ],
    })
    if {"BridgeUrl", "BridgeApiKeyId"} <= set(outputs):
        steps += _bridge_steps()
    return steps


def _bridge_steps() -> list[dict[str, Any]]:
    def output(name: str) -> str:
        return (f'aws cloudformation describe-stacks --region "$REGION" --stack-name "$STACK" \\\n'
                f"    --query \"Stacks[0].Outputs[?OutputKey=='{name}'].OutputValue\" --output text")

    return [
        {
            "title": "Read the bridge's URL and API key",
            "text": "The bridge (API Gateway panther-cn-bridge, stage prod) is how the web application reaches China.",
            "commands": [
                f"URL=$({output('BridgeUrl')})",
                f"KEY_ID=$({output('BridgeApiKeyId')})",
                ('API_KEY=$(aws apigateway get-api-key --region "$REGION" --api-key "$KEY_ID" --include-value \\\n'
                "    --query value --output text)"),
            ],
        },
        {
            "title": "Test the bridge",
            "text": "A JSON answer (not 403 Forbidden) means the key and the route work.",
            "commands": ['curl -H "x-api-key: $API_KEY" --request POST --data \'{"listIntegrations": {}}\' "$URL/cn/panther-source-api"'],
        },
        {
            "title": "Store the bridge in the web application's region",
            "text": ("The web application reads URL and API_KEY from the secret panther/china (its stack parameter "
                     "SecretID) in its own region, not in China."),
            "commands": [
                ('aws secretsmanager create-secret --region "$WEB_REGION" --name panther/china \\\n'
                '    --secret-string "{\\"URL\\": \\"$URL\\", \\"API_KEY\\": \\"$API_KEY\\"}"')
            ],
        },
    ]


def attach_next_steps(report: dict[str, Any]) -> None:
    """(Re)compute `report["next_steps"]` from the release report's own fields (after an upload, say)."""
    report["next_steps"] = next_steps(
        region=report["region"], bucket=report["bucket"], release=report["release"],
        source_bucket=report["source_bucket"], root=report["root"], uploaded=report.get("uploaded", False),
        parameters=report.get("parameters", []), outputs=report.get("outputs", []), source=report.get("source"),
    )

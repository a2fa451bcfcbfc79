"""Connect the two halves of a China deployment: the China bridge's URL and key into the web region's secret.

The China release (pack `panther`) outputs the bridge's stage URL (`BridgeUrl`) and the
id of its API key (`BridgeApiKeyId`); the web release (pack `panther-web-proxy`) reads
both from a Secrets Manager secret in its own region (`SecretID`, default
`panther/china`, JSON with `URL` and `API_KEY`).  `connect` carries them over:

1. read the stack outputs, then the key's value (`apigateway get_api_key includeValue`);
2. optionally check the bridge answers the guide's `{"listIntegrations": {}}` POST;
3. create the secret, or put the new value into it.

It runs again after every China upgrade: the upgrade replaces the key (its name carries
the release), and the proxies re-read the secret when the old key is refused.  Nothing
is written when a step fails.  This is the command line's edge: boto3 lives here (and in
the proxy), never in the transform core.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from ..errors import ConnectError

if TYPE_CHECKING:
    from mypy_boto3_apigateway import APIGatewayClient
    from mypy_boto3_cloudformation import CloudFormationClient
    from mypy_boto3_secretsmanager import SecretsManagerClient

CHECK_FUNCTION = "panther-source-api"
CHECK_PAYLOAD: dict[str, dict[str, str]] = {"listIntegrations": {}}


@dataclass(frozen=True)
class Bridge:
    """The China bridge as the web half needs it (the key's value is kept out of `repr`)."""

    url: str
    api_key_id: str
    api_key: str = field(repr=False)

    def secret_string(self) -> str:
        """The secret's JSON: `URL` and `API_KEY`, as the web proxies read it."""
        return json.dumps({"URL": self.url, "API_KEY": self.api_key})


def read_bridge(cloudformation: CloudFormationClient, apigateway: APIGatewayClient, stack: str, *, where: str) -> Bridge:
    """The bridge of the China stack `stack`: its outputs, then its API key's value."""
    from botocore.exceptions import BotoCoreError, ClientError

    place = f"{where} stack {stack}"
    try:
        found = cloudformation.describe_stacks(StackName=stack)["Stacks"]
    except (BotoCoreError, ClientError) as exc:
        raise ConnectError(f"cannot read the stack: {_reason(exc)}", file=place) from None
    outputs = {o.get("OutputKey"): o.get("OutputValue", "") for o in (found[0].get("Outputs") or [])} if found else {}
    missing = [name for name in ("BridgeUrl", "BridgeApiKeyId") if not outputs.get(name)]
    if missing:
        raise ConnectError(f"no output {' or '.join(missing)}: deploy a China release made with the panther pack first", file=place)
    url, key_id = str(outputs["BridgeUrl"]).rstrip("/"), str(outputs["BridgeApiKeyId"])
    return Bridge(url, key_id, api_key_value(apigateway, key_id, where=place))


def check_bridge(bridge: Bridge, *, timeout: float = 30.0) -> str:
    """POST the guide's `{"listIntegrations": {}}` to the source API through the bridge; what it answered.

    A failure says why, as far as the answer tells (`_refused`, `_failed`): a 403 names the likely
    causes, the ICP license first when API Gateway's answer is the one it gives without it; a 5xx
    the backend's error, summarized; no answer the URL and what the connection did.  The key's
    value and the answer's headers are never repeated.
    """
    target = f"{bridge.url}/cn/{CHECK_FUNCTION}"
    request = urllib.request.Request(target, data=json.dumps(CHECK_PAYLOAD).encode(), method="POST",
                                     headers={"x-api-key": bridge.api_key, "content-type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status, body = int(response.status), response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        refused = _scrubbed(exc.read().decode("utf-8", "replace"), bridge.api_key)
        if exc.code == 403:
            raise ConnectError(_refused(refused, bridge), file=target) from None
        if exc.code >= 500:
            raise ConnectError(_failed(exc.code, refused), file=target) from None
        raise ConnectError(f"the bridge answered HTTP {exc.code}: {_excerpt(refused)}", file=target) from None
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
        if isinstance(reason, TimeoutError) or "timed out" in str(reason):
            what = f"no answer within {timeout:g} s"
        else:
            what = f"no connection ({reason})"
        raise ConnectError(f"the bridge did not answer: {what}; is {bridge.url} the prod stage URL of panther-cn-bridge "
                           "(the China stack's output BridgeUrl), reachable from here?", file=target) from None
    body = _scrubbed(body, bridge.api_key)
    try:
        answer: Any = json.loads(body)
    except ValueError:
        raise ConnectError(f"the bridge answered HTTP {status} with a body that is not JSON: {_excerpt(body)}", file=target) from None
    if isinstance(answer, dict) and "errorMessage" in answer:
        raise ConnectError(f"{CHECK_FUNCTION} failed in China: {answer['errorMessage']}", file=target)
    count = f"{len(answer)} integration(s)" if isinstance(answer, list) else type(answer).__name__
    return f"{CHECK_FUNCTION} answered HTTP {status} with {count}"


#: API Gateway in China answers a request not signed with IAM so when the account has no ICP license (docs/release.md)
_ICP_REFUSAL = {"Message": None}


def _refused(answer: str, bridge: Bridge) -> str:
    """The 403's line: the answer, and the likely causes in the order the answer suggests."""
    icp = ("the China account has no ICP license (API Gateway in China then refuses every request not signed "
           "with IAM; docs/release.md, \"ICP license\")")
    key = (f"the key sent is not one the bridge accepts (API key {bridge.api_key_id}: disabled, not on the bridge's "
           "usage plan, or replaced by an upgrade and not yet in the secret)")
    try:
        parsed = json.loads(answer)
    except ValueError:
        parsed = None
    causes = [icp, key] if parsed == _ICP_REFUSAL else [key, icp]
    return f"the bridge answered HTTP 403 ({_excerpt(answer) or 'no body'}): likely {causes[0]}; or {causes[1]}"


def _failed(status: int, answer: str) -> str:
    """The 5xx's line: the backend's error, summarized (API Gateway's `message`, Lambda's `errorType: errorMessage`)."""
    try:
        parsed: Any = json.loads(answer)
    except ValueError:
        parsed = None
    if isinstance(parsed, dict):
        kind = parsed.get("errorType")
        message = next((parsed[k] for k in ("errorMessage", "message", "Message") if parsed.get(k)), None)
        if message is not None:
            summary = f"{kind}: {message}" if kind else str(message)
            return f"the bridge answered HTTP {status}: the backend in China failed: {_excerpt(summary)}"
    return f"the bridge answered HTTP {status}: the backend in China failed: {_excerpt(answer) or 'no body'}"


def _scrubbed(text: str, api_key: str) -> str:
    """`text` without the key's value (a backend that echoes its request must not print it)."""
    return text.replace(api_key, "<api key>") if api_key else text


def store_secret(secretsmanager: SecretsManagerClient, secret_id: str, bridge: Bridge, *, where: str) -> Literal["created", "updated"]:
    """Put the bridge into the secret `secret_id` (created when it does not exist)."""
    from botocore.exceptions import BotoCoreError, ClientError

    place = f"{where} secret {secret_id}"
    try:
        try:
            secretsmanager.put_secret_value(SecretId=secret_id, SecretString=bridge.secret_string())
            return "updated"
        except secretsmanager.exceptions.ResourceNotFoundException:
            secretsmanager.create_secret(Name=secret_id, SecretString=bridge.secret_string(),
                                         Description="Panther China bridge: URL and API_KEY for the web half's proxies")
            return "created"
    except (BotoCoreError, ClientError) as exc:
        raise ConnectError(f"cannot write the secret: {_reason(exc)}", file=place) from None


def connect(*, china_stack: str, china_region: str, web_region: str, china_profile: str | None = None,
            web_profile: str | None = None, secret_id: str = "panther/china", test: bool = False) -> list[str]:
    """Read the bridge from the China stack, check it if asked, store it in the web region; one line per step."""
    import boto3
    from botocore.exceptions import BotoCoreError

    try:
        china = boto3.Session(profile_name=china_profile, region_name=china_region)
        web = boto3.Session(profile_name=web_profile, region_name=web_region)
        cloudformation, apigateway = china.client("cloudformation"), china.client("apigateway")
        secretsmanager = web.client("secretsmanager")
    except BotoCoreError as exc:
        raise ConnectError(str(exc), file="<command line>") from None
    bridge = read_bridge(cloudformation, apigateway, china_stack, where=china_region)
    done = [f"bridge {bridge.url} (API key {bridge.api_key_id}) from stack {china_stack} in {china_region}"]
    override = bridge_url_override()
    if override:  # a local run against moto, as `deploy` does: the report's `connect` commands must run there too
        bridge = Bridge(override, bridge.api_key_id, bridge.api_key)
        done.append(f"bridge URL {override} instead, from {BRIDGE_URL_OVERRIDE} (a local run; never set it for a real deployment)")
    if test:
        done.append(f"check: {check_bridge(bridge)}")
    outcome = store_secret(secretsmanager, secret_id, bridge, where=web_region)
    done.append(f"secret {secret_id} {outcome} in {web_region}")
    return done


def _reason(exc: Exception) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def _excerpt(text: str, limit: int = 200) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[:limit] + "..."


# --- what `deploy` adds: the key of a given slot, the secret as it is, and a stand-in bridge for local runs ----------

#: environment variable naming a stand-in for the bridge (a local run against moto: docs/release.md, "Try it without AWS")
BRIDGE_URL_OVERRIDE = "PANTHER_CN_BRIDGE_URL"


def bridge_url_override() -> str | None:
    """The URL `deploy` and `connect` use for the bridge instead of the stack's `BridgeUrl` output, when the environment names one.

    For local runs only: moto's API Gateway serves no stage, so a local stand-in answers for it.
    Never set it for a real deployment (the web half's secret would name it).
    """
    import os

    value = os.environ.get(BRIDGE_URL_OVERRIDE, "").strip()
    return value.rstrip("/") or None


def api_key_value(apigateway: APIGatewayClient, key_id: str, *, where: str) -> str:
    """The value of API key `key_id` (never printed)."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        value = apigateway.get_api_key(apiKey=key_id, includeValue=True).get("value")
    except (BotoCoreError, ClientError) as exc:
        raise ConnectError(f"cannot read the value of API key {key_id}: {_reason(exc)}", file=where) from None
    if not value:
        raise ConnectError(f"API key {key_id} has no value", file=where)
    return str(value)


def read_secret(secretsmanager: SecretsManagerClient, secret_id: str, *, where: str) -> str | None:
    """The secret's current string, None when the secret does not exist."""
    from botocore.exceptions import BotoCoreError, ClientError

    place = f"{where} secret {secret_id}"
    try:
        return str(secretsmanager.get_secret_value(SecretId=secret_id).get("SecretString", ""))
    except secretsmanager.exceptions.ResourceNotFoundException:
        return None
    except (BotoCoreError, ClientError) as exc:
        raise ConnectError(f"cannot read the secret: {_reason(exc)}", file=place) from None


def secret_bridge(text: str | None) -> tuple[str, str] | None:
    """`(URL, API_KEY)` of a secret string in the proxies' format, None when it is not one."""
    try:
        value: Any = json.loads(text or "")
    except ValueError:
        return None
    if isinstance(value, dict) and isinstance(value.get("URL"), str) and isinstance(value.get("API_KEY"), str):
        return str(value["URL"]).rstrip("/"), str(value["API_KEY"])
    return None


def restore_secret(secretsmanager: SecretsManagerClient, secret_id: str, previous: str | None, *, where: str) -> None:
    """Put back what the secret held before (`None`: it did not exist, so it is deleted again)."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        if previous is None:
            secretsmanager.delete_secret(SecretId=secret_id, ForceDeleteWithoutRecovery=True)
        else:
            secretsmanager.put_secret_value(SecretId=secret_id, SecretString=previous)
    except (BotoCoreError, ClientError) as exc:
        raise ConnectError(f"cannot put the secret back: {_reason(exc)}", file=f"{where} secret {secret_id}") from None

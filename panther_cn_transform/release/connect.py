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

import functools
import http.client
import json
import re
import urllib.parse
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
    url, key_id = checked_output_url(str(outputs["BridgeUrl"]), place=place, region=where), str(outputs["BridgeApiKeyId"])
    return Bridge(url, key_id, api_key_value(apigateway, key_id, where=place))


# --- which URLs the key may go to: the China bridge's stage URL, or the override of a local run ----------------------

#: the bridge is an API Gateway REST API of this partition: its host form (`resource_hosts: execute-api` of the shipped
#: partition file), DNS suffix and regions (botocore's endpoint data) say what a BridgeUrl may be
CHINA_PARTITION = "aws-cn"
#: the bridge's stage, as the panther pack's output BridgeUrl writes it
STAGE_PATH = "/prod"
#: an API Gateway REST API id (ten lowercase letters and digits as AWS makes them; a DNS label at most)
_API_ID = re.compile(r"[a-z0-9]{1,63}\Z")
_LOOPBACK_NAMES = ("localhost",)


@functools.cache
def _execute_api_hosts() -> tuple[tuple[str, str, str], ...]:
    """`(region, before, after)` per China region: an execute-api host is `before + <API id> + after`."""
    from ..partitions.partition import build_partition
    from ..ruleset.rule_files import shipped_partition

    partition = build_partition(shipped_partition(CHINA_PARTITION))
    forms = []
    for template in partition.facts.resource_hosts.get("execute-api", ()):
        before, _, after = template.partition("{resource}")
        for region in partition.regions:
            forms.append((region, before.format(region=region, dns_suffix=partition.dns_suffix),
                          after.format(region=region, dns_suffix=partition.dns_suffix)))
    return tuple(forms)


def _stage_url_form(region: str | None) -> str:
    """The form a BridgeUrl has, for messages: `https://<API id>.execute-api.<region>.amazonaws.com.cn/prod`."""
    forms = [f for f in _execute_api_hosts() if region in (None, f[0])] or list(_execute_api_hosts())
    region_text = forms[0][0] if region and len(forms) == 1 else "<region>"
    before, after = forms[0][1], forms[0][2].replace(forms[0][0], region_text)
    return f"https://{before}<API id>{after}{STAGE_PATH}"


def bridge_url_problem(url: str, *, region: str | None = None) -> str | None:
    """Why `url` is not the China bridge's stage URL (of `region`, when given), or None when it is one.

    https only; the host an execute-api host of AWS China with no port; no user info, query or
    fragment; no control character or whitespace anywhere; the path the stage (`/prod`).
    """
    if any(not c.isprintable() or c.isspace() for c in url):
        return "it holds a control character or whitespace"
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port
    except ValueError:
        return "it is not a URL"
    if parts.scheme.lower() != "https":
        return f"its scheme is {parts.scheme or 'missing'}, not https"
    if "@" in parts.netloc:
        return "it holds user info (user:password@)"
    if parts.query or parts.fragment or "?" in url or "#" in url:
        return "it has a query or a fragment"
    host = parts.hostname or ""
    if not host:
        return "it has no host"
    found = [r for r, before, after in _execute_api_hosts()
             if host.startswith(before) and host.endswith(after) and _API_ID.match(host[len(before):len(host) - len(after)])]
    if not found or port is not None or parts.netloc.lower() != host:
        return f"its host {host}{' with a port' if port is not None else ''} is not an API Gateway execute-api host of AWS China"
    if region and region in {r for r, _, _ in _execute_api_hosts()} and found[0] != region:
        return f"its host is in {found[0]}, the stack in {region}"
    if parts.path.rstrip("/") != STAGE_PATH:
        return f"its path {parts.path or '(none)'} is not the stage {STAGE_PATH}"
    return None


def checked_output_url(url: str, *, place: str, region: str | None) -> str:
    """The stack output BridgeUrl `url` without a trailing slash; a ConnectError naming the output unless it is the bridge's stage URL."""
    problem = bridge_url_problem(url, region=region)
    if problem:
        raise ConnectError(f"output BridgeUrl {_shown(url)} is not the bridge's stage URL ({_stage_url_form(region)}): "
                           f"{problem}; nothing was stored", file=place)
    return url.rstrip("/")


def _require_usable_url(url: str) -> None:
    """A ConnectError unless the key may go to `url`: the bridge's stage URL, or the override of a local run."""
    if url == bridge_url_override():
        return
    problem = bridge_url_problem(url)
    if problem:
        raise ConnectError(f"{_shown(url)} is not the bridge's stage URL ({_stage_url_form(None)}): {problem}; the key "
                           "was neither sent nor stored", file="bridge URL")


def _shown(url: str) -> str:
    """`url` for an error line: quoted, control characters escaped, user info hidden, at most 120 characters."""
    hidden = re.sub(r"(?<=//)[^/?#]*@", "<user info>@", url)  # up to the last @, as urlsplit reads user info
    return repr(hidden if len(hidden) <= 120 else hidden[:120] + "...")


#: the whole `--test` exchange (connection, TLS, request, answer) ends within this many seconds: API Gateway
#: ends a bridge call after 29 s, so a slow backend is still told apart from no answer
DEFAULT_DEADLINE = 60.0
#: at most this much of the bridge's answer is read (the source API's list of integrations is a few KiB)
MAX_ANSWER_BYTES = 1024 * 1024


def check_bridge(bridge: Bridge, *, timeout: float = DEFAULT_DEADLINE) -> str:
    """POST the guide's `{"listIntegrations": {}}` to the source API through the bridge; what it answered.

    The URL is checked first (`bridge_url_problem`, or the override): the key goes nowhere
    else.  The exchange is held to bounds (`bounded_http.py`): no redirect is followed (a 3xx
    is an error naming the host it pointed to, which never sees the key), at most
    `MAX_ANSWER_BYTES` of the answer are read, and everything ends within `timeout` seconds.
    A failure says why, as far as the answer tells (`_refused`, `_failed`): a 403 names the
    likely causes, the ICP license first when API Gateway's answer is the one it gives without
    it; a 5xx the backend's error, summarized; no answer the URL and what the connection did.
    Answers are summarized, never echoed whole: the key's value, in any form an echo of the
    request would hold, and the answer's headers are never repeated (`_scrubbed`).
    """
    from . import bounded_http

    _require_usable_url(bridge.url)
    target = f"{bridge.url}/cn/{CHECK_FUNCTION}"
    headers = {"x-api-key": bridge.api_key, "content-type": "application/json"}
    try:
        answer = bounded_http.post(target, json.dumps(CHECK_PAYLOAD).encode(), headers, deadline=timeout,
                                   max_bytes=MAX_ANSWER_BYTES)
    except bounded_http.DeadlineExpired:
        raise ConnectError(f"the bridge did not answer: no complete answer within {timeout:g} s; is {bridge.url} the prod "
                           "stage URL of panther-cn-bridge (the China stack's output BridgeUrl), reachable from here?",
                           file=target) from None
    except (OSError, http.client.HTTPException) as exc:
        raise ConnectError(f"the bridge did not answer: no connection ({_excerpt(_scrubbed(_reason(exc), bridge.api_key), bridge.api_key)}); is "
                           f"{bridge.url} the prod stage URL of panther-cn-bridge (the China stack's output BridgeUrl), "
                           "reachable from here?", file=target) from None
    status = answer.status
    if 300 <= status < 400:
        raise ConnectError(f"the bridge answered HTTP {status}, a redirect to {_location_host(answer.location, bridge.api_key)}, "
                           "which is not followed (the key goes to the bridge only): is BridgeUrl the bridge's stage URL?",
                           file=target)
    body = _scrubbed(answer.body.decode("utf-8", "replace"), bridge.api_key)
    if status == 403:
        raise ConnectError(_refused(body, bridge), file=target)
    if status >= 500:
        raise ConnectError(_failed(status, body, bridge.api_key), file=target)
    if status != 200 or answer.truncated:
        size = _size(answer)
        raise ConnectError(f"the bridge answered HTTP {status}{size}: {_excerpt(body, bridge.api_key) or 'no body'}", file=target)
    try:
        parsed: Any = json.loads(body)
    except ValueError:
        raise ConnectError(f"the bridge answered HTTP {status} with a body that is not JSON: {_excerpt(body, bridge.api_key)}",
                           file=target) from None
    if isinstance(parsed, dict) and "errorMessage" in parsed:
        raise ConnectError(f"{CHECK_FUNCTION} failed in China: {_excerpt(str(parsed['errorMessage']), bridge.api_key)}",
                           file=target)
    count = f"{len(parsed)} integration(s)" if isinstance(parsed, list) else type(parsed).__name__
    return f"{CHECK_FUNCTION} answered HTTP {status} with {count}"


def _size(answer: Any) -> str:
    """What a body over the cap was: announced or read past `MAX_ANSWER_BYTES`."""
    if not answer.truncated:
        return ""
    cap = f"the {MAX_ANSWER_BYTES // 1024} KiB read at most"
    if answer.announced is not None:
        return f" with a body of {answer.announced} bytes, over {cap} (not read)"
    return f" with a body over {cap} (read no further)"


def _location_host(location: str | None, api_key: str) -> str:
    """The host a redirect pointed to (never its path or query, which may carry anything)."""
    if not location:
        return "no Location"
    try:
        parts = urllib.parse.urlsplit(location.strip())
        host = parts.hostname or ""
        host = f"{host}:{parts.port}" if parts.port else host
    except ValueError:
        host = ""
    return f"host {_excerpt(host, api_key, limit=100)}" if host else "a Location without a host"


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
    return f"the bridge answered HTTP 403 ({_excerpt(answer, bridge.api_key) or 'no body'}): likely {causes[0]}; or {causes[1]}"


def _failed(status: int, answer: str, api_key: str) -> str:
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
            return f"the bridge answered HTTP {status}: the backend in China failed: {_excerpt(summary, api_key)}"
    return f"the bridge answered HTTP {status}: the backend in China failed: {_excerpt(answer, api_key) or 'no body'}"


#: a header of the request echoed in an answer, `x-api-key: ...` as HTTP, JSON, a query or a log writes it
_ECHOED_KEY = re.compile(r"""(x[-_ ]?api[-_ ]?key)(["']?\s*(?::|=|%3A|%3D)\s*(?:%20|\+)*["']?)(?!<api key>)[^\s"',;&}\]<]+""", re.IGNORECASE)
#: a run of this many characters of the key, or more, is taken for the key (an echo split across lines or cut short)
_KEY_PIECE = 8


def _scrubbed(text: str, api_key: str) -> str:
    """`text` without the key's value in the forms an echo of the request holds.

    The key itself, URL-encoded and JSON-escaped, and whatever follows an `x-api-key` header
    name, become `<api key>`.  `_excerpt` then removes what is left of a key split across
    lines or cut at the excerpt's end (runs of `_KEY_PIECE` characters of the key).
    """
    if api_key:
        for form in dict.fromkeys((api_key, urllib.parse.quote(api_key, safe=""), urllib.parse.quote_plus(api_key),
                                   json.dumps(api_key)[1:-1])):
            text = text.replace(form, "<api key>")
    return _ECHOED_KEY.sub(lambda found: f"{found.group(1)}{found.group(2)}<api key>", text)


def _without_pieces(text: str, api_key: str) -> str:
    """`text` with every run of `_KEY_PIECE` or more characters that appears in the key replaced (a short text)."""
    if len(api_key) < _KEY_PIECE:
        return text
    out, start = [], 0
    while start < len(text):
        end = start + _KEY_PIECE
        if end <= len(text) and text[start:end] in api_key:
            while end < len(text) and text[start:end + 1] in api_key:
                end += 1
            out.append("<api key>")
            start = end
        else:
            out.append(text[start])
            start += 1
    return "".join(out)


def store_secret(secretsmanager: SecretsManagerClient, secret_id: str, bridge: Bridge, *, where: str) -> Literal["created", "updated"]:
    """Put the bridge into the secret `secret_id` (created when it does not exist)."""
    from botocore.exceptions import BotoCoreError, ClientError

    _require_usable_url(bridge.url)
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
            web_profile: str | None = None, secret_id: str = "panther/china", test: bool = False,
            timeout: float = DEFAULT_DEADLINE) -> list[str]:
    """Read the bridge from the China stack, check it if asked (within `timeout` seconds), store it in the web region; one line per step."""
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
        done.append(f"check: {check_bridge(bridge, timeout=timeout)}")
    outcome = store_secret(secretsmanager, secret_id, bridge, where=web_region)
    done.append(f"secret {secret_id} {outcome} in {web_region}")
    return done


def _reason(exc: Exception) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def _excerpt(text: str, api_key: str = "", limit: int = 200) -> str:
    """At most `limit` characters of `text` on one line: whitespace runs as one space, other control
    characters escaped, and no piece of the key (`_without_pieces`) left, even one the cut would make."""
    flat = " ".join(text[: limit * 8].split())
    flat = "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in flat[: limit * 2])
    flat = _without_pieces(flat, api_key)
    return flat if len(flat) <= limit else flat[:limit] + "..."


# --- what `deploy` adds: the key of a given slot, the secret as it is, and a stand-in bridge for local runs ----------

#: environment variable naming a stand-in for the bridge (a local run against moto: docs/release.md, "Try it without AWS")
BRIDGE_URL_OVERRIDE = "PANTHER_CN_BRIDGE_URL"


def bridge_url_override() -> str | None:
    """The URL `deploy` and `connect` use for the bridge instead of the stack's `BridgeUrl` output, when the environment names one.

    For local runs only: moto's API Gateway serves no stage, so a local stand-in answers for it.
    Never set it for a real deployment (the web half's secret would name it).  Checked like
    BridgeUrl except for the host: https to any host, or http to this machine only
    (localhost, a loopback address); never user info, a query, a fragment, a control
    character or whitespace (a ConnectError naming the variable).
    """
    import os

    value = os.environ.get(BRIDGE_URL_OVERRIDE, "").strip()
    if not value:
        return None
    problem = _override_problem(value)
    if problem:
        raise ConnectError(f"{_shown(value)} is not a stand-in bridge URL: {problem} (a local run's bridge, "
                           "docs/release.md \"Try it without AWS\"; never set for a real deployment)", file=BRIDGE_URL_OVERRIDE)
    return value.rstrip("/")


def _override_problem(value: str) -> str | None:
    """Why `value` is no stand-in bridge URL, or None."""
    if any(not c.isprintable() or c.isspace() for c in value):
        return "it holds a control character or whitespace"
    try:
        parts = urllib.parse.urlsplit(value)
        parts.port  # noqa: B018 - a port that is not a number raises here
    except ValueError:
        return "it is not a URL"
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return "it is not an http or https URL with a host"
    if "@" in parts.netloc:
        return "it holds user info (user:password@)"
    if parts.query or parts.fragment or "?" in value or "#" in value:
        return "it has a query or a fragment"
    if parts.scheme.lower() == "http" and not _loopback(parts.hostname):
        return f"http goes to this machine only (localhost, a loopback address), not {parts.hostname}"
    return None


def _loopback(host: str) -> bool:
    import ipaddress

    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return bool(ipaddress.ip_address(host).is_loopback)
    except ValueError:
        return False


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

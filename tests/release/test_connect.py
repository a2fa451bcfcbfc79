"""`connect` against moto in server mode (CloudFormation outputs, API Gateway keys, Secrets Manager)
and a local HTTP server standing in for the bridge."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

import boto3
import pytest

from panther_cn_transform.errors import ConnectError
from panther_cn_transform.release.connect import Bridge, check_bridge

from ..aws_servers import FAKE_CREDENTIALS, FakeBridge, fake_bridge, moto_server
from .hostile_bridge import answer, hostile_bridge, silent

CHINA, WEB = "cn-north-1", "ap-southeast-1"
#: a China stack's output BridgeUrl as the panther pack writes it; the tests' bridge is local, named by the override
STAGE_URL = "https://a1b2c3d4e5.execute-api.cn-north-1.amazonaws.com.cn/prod"


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    with moto_server() as url:
        yield url


@pytest.fixture
def bridge() -> Iterator[FakeBridge]:
    with fake_bridge("unset") as running:
        running.answers["panther-source-api"] = [{"integrationId": "self"}]
        yield running


@pytest.fixture
def profiles(tmp_path: Path, endpoint: str) -> dict[str, str]:
    """Environment for the command: two named profiles (China, web) and moto as every endpoint."""
    (tmp_path / "credentials").write_text(
        "".join(f"[{name}]\naws_access_key_id = testing\naws_secret_access_key = testing\n" for name in ("china", "web")))
    (tmp_path / "config").write_text("[profile china]\n[profile web]\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "credentials"), AWS_CONFIG_FILE=str(tmp_path / "config"),
               AWS_ENDPOINT_URL=endpoint)
    return env


def through(env: dict[str, str], url: str) -> dict[str, str]:
    """`env` with the stand-in bridge at `url` (`PANTHER_CN_BRIDGE_URL`, as a local run sets it)."""
    return {**env, "PANTHER_CN_BRIDGE_URL": url}


def client(endpoint: str, service: str, region: str) -> Any:
    return boto3.client(service, region_name=region, endpoint_url=endpoint, **FAKE_CREDENTIALS)


def china_stack(endpoint: str, name: str, url: str | None, value: str | None = None) -> str:
    """A China stack whose outputs name the bridge (`url`) and a new API key (of `value`, if given); returns the key's value."""
    key = client(endpoint, "apigateway", CHINA).create_api_key(name=f"panther-cn-bridge-{name}", enabled=True,
                                                               **({"value": value} if value else {}))
    outputs = {"BridgeUrl": {"Value": url}, "BridgeApiKeyId": {"Value": key["id"]}} if url else {}
    template = {"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}}, "Outputs": outputs or {"Other": {"Value": "x"}}}
    cloudformation = client(endpoint, "cloudformation", CHINA)
    try:
        cloudformation.update_stack(StackName=name, TemplateBody=json.dumps(template))
    except cloudformation.exceptions.ClientError:
        cloudformation.create_stack(StackName=name, TemplateBody=json.dumps(template))
    return str(key["value"])


def run_connect(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "panther_cn_transform", "connect", "--china-region", CHINA, "--china-profile", "china",
                           "--web-region", WEB, "--web-profile", "web", *args], capture_output=True, text=True, check=False, env=env)


def secret(endpoint: str, name: str) -> Any:
    return json.loads(client(endpoint, "secretsmanager", WEB).get_secret_value(SecretId=name)["SecretString"])


def test_connect_checks_the_bridge_and_creates_then_updates_the_secret(endpoint: str, bridge: FakeBridge, profiles: dict[str, str]) -> None:
    bridge.api_key = china_stack(endpoint, "panther", STAGE_URL)
    done = run_connect(through(profiles, bridge.url), "--china-stack", "panther", "--test")
    assert done.returncode == 0, done.stderr
    assert secret(endpoint, "panther/china") == {"URL": bridge.url, "API_KEY": bridge.api_key}
    assert bridge.calls == [("/prod/cn/panther-source-api", bridge.api_key, {"listIntegrations": {}})]
    assert "panther-source-api answered HTTP 200 with 1 integration(s)" in done.stderr and "secret panther/china created" in done.stderr
    assert bridge.api_key not in done.stderr + done.stdout  # the key's value is never printed

    bridge.api_key = china_stack(endpoint, "panther", STAGE_URL)  # an upgrade replaced the key
    done = run_connect(through(profiles, bridge.url), "--china-stack", "panther")
    assert done.returncode == 0, done.stderr
    assert "secret panther/china updated" in done.stderr and len(bridge.calls) == 1  # no --test: no call
    assert secret(endpoint, "panther/china")["API_KEY"] == bridge.api_key


def test_a_failed_check_writes_nothing(endpoint: str, bridge: FakeBridge, profiles: dict[str, str]) -> None:
    china_stack(endpoint, "refused", STAGE_URL)
    bridge.api_key = "another key"
    done = run_connect(through(profiles, bridge.url), "--china-stack", "refused", "--secret-id", "panther/refused", "--test")
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert done.stderr.splitlines()[-1].startswith(f"error: {bridge.url}/cn/panther-source-api: the bridge answered HTTP 403")
    secrets = client(endpoint, "secretsmanager", WEB)
    with pytest.raises(secrets.exceptions.ResourceNotFoundException):
        secrets.get_secret_value(SecretId="panther/refused")


def test_a_stack_without_the_bridge_or_a_wrong_profile_is_one_line(endpoint: str, profiles: dict[str, str]) -> None:
    china_stack(endpoint, "global-only", None)
    done = run_connect(profiles, "--china-stack", "global-only")
    assert done.returncode == 2
    assert done.stderr == (f"error: {CHINA} stack global-only: no output BridgeUrl or BridgeApiKeyId: "
                           "deploy a China release made with the panther pack first\n")
    done = run_connect(profiles, "--china-stack", "missing")
    assert done.returncode == 2 and done.stderr.startswith(f"error: {CHINA} stack missing: cannot read the stack:")
    done = run_connect(profiles, "--china-stack", "panther", "--web-profile", "nobody")
    assert done.returncode == 2 and "nobody" in done.stderr and done.stderr.count("\n") == 1


def no_secret(endpoint: str, name: str) -> bool:
    secrets = client(endpoint, "secretsmanager", WEB)
    try:
        secrets.get_secret_value(SecretId=name)
    except secrets.exceptions.ResourceNotFoundException:
        return True
    return False


def key_id(endpoint: str, stack: str) -> str:
    outputs = client(endpoint, "cloudformation", CHINA).describe_stacks(StackName=stack)["Stacks"][0]["Outputs"]
    return str(next(o["OutputValue"] for o in outputs if o["OutputKey"] == "BridgeApiKeyId"))


@pytest.mark.parametrize(("refusal", "first"), [({"Message": None}, "the China account has no ICP license"),
                                                ({"message": "Forbidden"}, "the key sent is not one the bridge accepts")])
def test_a_403_names_the_likely_causes_the_answer_suggests_first(endpoint: str, bridge: FakeBridge, profiles: dict[str, str],
                                                                 refusal: dict[str, Any], first: str) -> None:
    key = china_stack(endpoint, "refused403", STAGE_URL)
    bridge.api_key, bridge.refusal = "the key the bridge holds", refusal
    done = run_connect(through(profiles, bridge.url), "--china-stack", "refused403", "--secret-id", "panther/403", "--test")
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    line = done.stderr.rstrip("\n")
    prefix = f"error: {bridge.url}/cn/panther-source-api: the bridge answered HTTP 403 ({json.dumps(refusal)}): likely "
    assert line.startswith(prefix + first), line
    assert "ICP license" in line and f"API key {key_id(endpoint, 'refused403')}" in line  # both causes, always
    assert key not in line and no_secret(endpoint, "panther/403")


def test_a_5xx_names_the_backends_error_summarized_without_the_key(endpoint: str, bridge: FakeBridge, profiles: dict[str, str]) -> None:
    bridge.api_key = china_stack(endpoint, "failing", STAGE_URL)
    echoed = {"errorType": "Runtime.ExitError", "errorMessage": f"exited with status 2 (request header x-api-key: {bridge.api_key})",
              "trace": ["line"] * 50}
    bridge.answers["panther-source-api"] = (502, echoed)
    done = run_connect(through(profiles, bridge.url), "--china-stack", "failing", "--secret-id", "panther/502", "--test")
    assert done.returncode == 2 and done.stderr.count("\n") == 1
    assert done.stderr == (f"error: {bridge.url}/cn/panther-source-api: the bridge answered HTTP 502: the backend in China failed: "
                           "Runtime.ExitError: exited with status 2 (request header x-api-key: <api key>)\n")
    assert no_secret(endpoint, "panther/502")
    bridge.answers["panther-source-api"] = (500, {"message": "Internal server error"})  # API Gateway's own
    done = run_connect(through(profiles, bridge.url), "--china-stack", "failing", "--secret-id", "panther/502", "--test")
    assert done.stderr.endswith("the bridge answered HTTP 500: the backend in China failed: Internal server error\n")


def test_no_answer_names_the_url(endpoint: str, profiles: dict[str, str]) -> None:
    with socket.socket() as unused:  # a port nothing listens on once closed
        unused.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{unused.getsockname()[1]}/prod"
    china_stack(endpoint, "silent", STAGE_URL)
    done = run_connect(through(profiles, url), "--china-stack", "silent", "--secret-id", "panther/silent", "--test")
    assert done.returncode == 2 and done.stderr.count("\n") == 1
    assert done.stderr.startswith(f"error: {url}/cn/panther-source-api: the bridge did not answer: no connection (")
    assert done.stderr.endswith(f"is {url} the prod stage URL of panther-cn-bridge (the China stack's output BridgeUrl), "
                                "reachable from here?\n")
    assert no_secret(endpoint, "panther/silent")


def test_a_late_answer_is_no_answer_within_the_timeout(bridge: FakeBridge, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PANTHER_CN_BRIDGE_URL", bridge.url)
    bridge.api_key, bridge.delay = "key", 2.0
    with pytest.raises(ConnectError) as caught:
        check_bridge(Bridge(bridge.url, "id", "key"), timeout=0.5)
    assert str(caught.value).startswith(f"{bridge.url}/cn/panther-source-api: the bridge did not answer: no complete answer within 0.5 s; is {bridge.url}")


def store(endpoint: str, name: str, value: dict[str, str]) -> None:
    secrets = client(endpoint, "secretsmanager", WEB)
    try:
        secrets.put_secret_value(SecretId=name, SecretString=json.dumps(value))
    except secrets.exceptions.ResourceNotFoundException:
        secrets.create_secret(Name=name, SecretString=json.dumps(value))


BEFORE = {"URL": STAGE_URL, "API_KEY": "the key before"}


@pytest.mark.parametrize(("url", "problem"), [
    ("javascript:alert(1)", "its scheme is javascript, not https"),
    ("http://a1b2c3d4e5.execute-api.cn-north-1.amazonaws.com.cn/prod", "its scheme is http, not https"),
    ("https://user:hunter2@a1b2c3d4e5.execute-api.cn-north-1.amazonaws.com.cn/prod", "it holds user info"),
    ("https://a1b2c3d4e5.execute-api.cn-north-1.amazonaws.com.cn/prod\nX-Injected: 1", "it holds a control character or whitespace"),
    ("file:///etc/passwd", "its scheme is file, not https"),
    ("https://a1b2c3d4e5.execute-api.us-west-2.amazonaws.com/prod", "its host a1b2c3d4e5.execute-api.us-west-2.amazonaws.com is not"),
    ("https://a1b2c3d4e5.execute-api.cn-north-1.amazonaws.com.cn.evil.example/prod", "is not an API Gateway execute-api host"),
    ("https://a1b2c3d4e5.execute-api.cn-northwest-1.amazonaws.com.cn/prod", "its host is in cn-northwest-1, the stack in cn-north-1"),
    ("https://a1b2c3d4e5.execute-api.cn-north-1.amazonaws.com.cn/prod?x=1", "it has a query or a fragment"),
    ("https://a1b2c3d4e5.execute-api.cn-north-1.amazonaws.com.cn/../../other", "is not the stage /prod"),
], ids=["javascript", "http", "userinfo", "newline", "file", "global-host", "lookalike-host", "other-region", "query", "path"])
def test_a_bad_bridge_url_is_one_line_naming_the_output_and_nothing_is_stored(endpoint: str, profiles: dict[str, str],
                                                                            url: str, problem: str) -> None:
    china_stack(endpoint, "badurl", url)
    store(endpoint, "panther/badurl", BEFORE)
    done = run_connect(profiles, "--china-stack", "badurl", "--secret-id", "panther/badurl")
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "Traceback" not in done.stderr, done.stderr
    assert done.stderr.startswith(f"error: {CHINA} stack badurl: output BridgeUrl "), done.stderr
    assert problem in done.stderr and "hunter2" not in done.stderr and done.stdout == ""
    assert secret(endpoint, "panther/badurl") == BEFORE


@pytest.mark.parametrize(("override", "problem"), [
    ("http://user:hunter2@127.0.0.1:9/prod", "it holds user info"),
    ("http://example.com/prod", "http goes to this machine only (localhost, a loopback address), not example.com"),
    ("http://127.0.0.1:9/prod\r\nX-Injected: 1", "it holds a control character or whitespace"),
    ("file:///tmp/bridge", "it is not an http or https URL with a host"),
    ("javascript:alert(1)", "it is not an http or https URL with a host"),
    ("http://127.0.0.1:9/prod#x", "it has a query or a fragment"),
], ids=["userinfo", "http-elsewhere", "crlf", "file", "javascript", "fragment"])
def test_a_bad_override_is_one_line_naming_the_variable_and_nothing_is_stored(endpoint: str, profiles: dict[str, str],
                                                                            override: str, problem: str) -> None:
    china_stack(endpoint, "override", STAGE_URL)
    store(endpoint, "panther/override", BEFORE)
    done = run_connect(through(profiles, override), "--china-stack", "override", "--secret-id", "panther/override")
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "Traceback" not in done.stderr, done.stderr
    assert done.stderr.startswith("error: PANTHER_CN_BRIDGE_URL: ") and problem in done.stderr, done.stderr
    assert "hunter2" not in done.stderr
    assert secret(endpoint, "panther/override") == BEFORE


#: an imported key (API Gateway takes a value of the caller's): characters that URL-encoding changes
IMPORTED_KEY = "Imported+Key/Value=0123456789abcdefXYZ"


def echoes(key: str) -> dict[str, bytes]:
    """403 bodies that echo the request's key in forms other than the key itself, as backends and proxies do."""
    head = "POST /prod/cn/panther-source-api HTTP/1.1\r\nHost: bridge\r\nX-Api-Key: {}\r\nContent-Type: application/json"
    return {
        # a log line that wraps the header's long value
        "split": f"denied for request: x-api-key {key[:20]}\n{key[20:]} (wrapped)".encode(),
        # a backend that shortens long header values when it echoes them
        "shortened": json.dumps({"message": "Forbidden", "request": head.format(key[:24] + "...")}).encode(),
        # a query string (an imported key's +, / and = change)
        "url-encoded": f"forbidden: GET /?x-api-key={quote(key, safe='')}&y=1 and {quote_plus(key)}".encode(),
    }


@pytest.mark.parametrize("form", ["split", "shortened", "url-encoded"])
def test_an_answer_echoing_the_key_never_prints_it(endpoint: str, profiles: dict[str, str], form: str) -> None:
    key = china_stack(endpoint, "echo", STAGE_URL, value=IMPORTED_KEY if form == "url-encoded" else None)
    with hostile_bridge(answer(403, echoes(key)[form])) as bridge:
        done = run_connect(through(profiles, bridge.url), "--china-stack", "echo", "--secret-id", "panther/echo", "--test")
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "Traceback" not in done.stderr, done.stderr
    assert done.stderr.startswith(f"error: {bridge.url}/cn/panther-source-api: the bridge answered HTTP 403 ("), done.stderr
    printed = done.stderr + done.stdout
    pieces = {key[i:i + 8] for i in range(len(key) - 7)}  # no run of 8 of its characters, in any form
    assert not [p for p in pieces if p in printed or quote(p, safe="") in printed or quote_plus(p) in printed], printed
    assert no_secret(endpoint, "panther/echo")


def test_a_bridge_that_never_answers_ends_at_the_timeout(endpoint: str, profiles: dict[str, str]) -> None:
    china_stack(endpoint, "mute", STAGE_URL)
    with hostile_bridge(silent(hold=120)) as bridge:
        done = run_connect(through(profiles, bridge.url), "--china-stack", "mute", "--secret-id", "panther/mute", "--test",
                           "--timeout", "2")
        for _ in range(300):  # the server's thread may be late to read the request on a loaded machine: wait for it
            if bridge.connections and bridge.connections[0].request:
                break
            time.sleep(0.1)
        assert bridge.connections and bridge.connections[0].request.startswith(b"POST /prod/cn/panther-source-api ")
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "Traceback" not in done.stderr, done.stderr
    assert done.stderr.startswith(f"error: {bridge.url}/cn/panther-source-api: the bridge did not answer: no complete answer "
                                  "within 2 s; "), done.stderr
    assert no_secret(endpoint, "panther/mute")


@pytest.mark.parametrize("value", ["0", "-1", "nan", "inf"])
def test_a_timeout_that_is_not_a_positive_number_is_refused(profiles: dict[str, str], value: str) -> None:
    done = run_connect(profiles, "--china-stack", "panther", "--test", "--timeout", value)
    assert done.returncode == 2 and done.stderr == "error: <command line>: --timeout must be more than 0 seconds, and finite\n"


def test_the_command_lines_default_deadline_is_the_checks() -> None:
    from panther_cn_transform.cli import DEFAULT_BRIDGE_DEADLINE
    from panther_cn_transform.release.connect import DEFAULT_DEADLINE

    assert DEFAULT_BRIDGE_DEADLINE == DEFAULT_DEADLINE

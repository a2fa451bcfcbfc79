"""`connect` against moto in server mode (CloudFormation outputs, API Gateway keys, Secrets Manager)
and a local HTTP server standing in for the bridge."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from ..aws_servers import FAKE_CREDENTIALS, FakeBridge, fake_bridge, moto_server

CHINA, WEB = "cn-north-1", "ap-southeast-1"


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


def client(endpoint: str, service: str, region: str) -> Any:
    return boto3.client(service, region_name=region, endpoint_url=endpoint, **FAKE_CREDENTIALS)


def china_stack(endpoint: str, name: str, url: str | None) -> str:
    """A China stack whose outputs name the bridge (`url`) and a new API key; returns the key's value."""
    key = client(endpoint, "apigateway", CHINA).create_api_key(name=f"panther-cn-bridge-{name}", enabled=True)
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
    bridge.api_key = china_stack(endpoint, "panther", bridge.url)
    done = run_connect(profiles, "--china-stack", "panther", "--test")
    assert done.returncode == 0, done.stderr
    assert secret(endpoint, "panther/china") == {"URL": bridge.url, "API_KEY": bridge.api_key}
    assert bridge.calls == [("/prod/cn/panther-source-api", bridge.api_key, {"listIntegrations": {}})]
    assert "panther-source-api answered HTTP 200 with 1 integration(s)" in done.stderr and "secret panther/china created" in done.stderr
    assert bridge.api_key not in done.stderr + done.stdout  # the key's value is never printed

    bridge.api_key = china_stack(endpoint, "panther", bridge.url)  # an upgrade replaced the key
    done = run_connect(profiles, "--china-stack", "panther")
    assert done.returncode == 0, done.stderr
    assert "secret panther/china updated" in done.stderr and len(bridge.calls) == 1  # no --test: no call
    assert secret(endpoint, "panther/china")["API_KEY"] == bridge.api_key


def test_a_failed_check_writes_nothing(endpoint: str, bridge: FakeBridge, profiles: dict[str, str]) -> None:
    china_stack(endpoint, "refused", bridge.url)
    bridge.api_key = "another key"
    done = run_connect(profiles, "--china-stack", "refused", "--secret-id", "panther/refused", "--test")
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

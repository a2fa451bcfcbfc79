"""The web-proxy Lambda against a real local HTTP server (the bridge) and moto's Secrets Manager."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from panther_cn_transform.ruleset.assets import web_proxy
from panther_cn_transform.ruleset.assets.web_proxy import BridgeError, Forwarder

from ..aws_servers import FAKE_CREDENTIALS, FakeBridge, fake_bridge, moto_server

REGION = "ap-southeast-1"


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    with moto_server() as endpoint:
        yield endpoint


@pytest.fixture
def secrets(moto_endpoint: str) -> Any:
    return boto3.client("secretsmanager", region_name=REGION, endpoint_url=moto_endpoint, **FAKE_CREDENTIALS)


@pytest.fixture
def bridge() -> Iterator[FakeBridge]:
    with fake_bridge("key-1") as running:
        running.answers["panther-source-api"] = [{"integrationId": "i-1"}]
        yield running


def store(secrets: Any, name: str, url: str, key: str) -> None:
    value = json.dumps({"URL": url, "API_KEY": key})
    try:
        secrets.put_secret_value(SecretId=name, SecretString=value)
    except secrets.exceptions.ResourceNotFoundException:
        secrets.create_secret(Name=name, SecretString=value)


def test_success_posts_the_payload_with_the_key_and_returns_the_answer(secrets: Any, bridge: FakeBridge) -> None:
    store(secrets, "panther/china-ok", bridge.url, "key-1")
    forwarder = Forwarder("panther/china-ok", secrets, timeout=5)
    assert forwarder.forward("panther-source-api", {"listIntegrations": {}}) == [{"integrationId": "i-1"}]
    assert bridge.calls == [("/prod/cn/panther-source-api", "key-1", {"listIntegrations": {}})]


def test_a_wrong_key_is_an_error_naming_the_function_after_one_fresh_read(secrets: Any, bridge: FakeBridge) -> None:
    store(secrets, "panther/china-wrong", bridge.url + "/", "not-the-key")  # a trailing slash is tolerated
    forwarder = Forwarder("panther/china-wrong", secrets, timeout=5)
    with pytest.raises(BridgeError, match=r"^panther-source-api: the China bridge answered HTTP 403: .*Forbidden"):
        forwarder.forward("panther-source-api", {"listIntegrations": {}})
    assert [key for _path, key, _payload in bridge.calls] == ["not-the-key"]  # the secret did not change: no retry


def test_a_rotated_key_is_read_again_and_the_call_retried_once(secrets: Any, bridge: FakeBridge) -> None:
    store(secrets, "panther/china-rotated", bridge.url, "key-1")
    forwarder = Forwarder("panther/china-rotated", secrets, timeout=5)
    assert forwarder.forward("panther-source-api", {"listIntegrations": {}}) == [{"integrationId": "i-1"}]
    bridge.api_key = "key-2"  # the China stack was upgraded: a new key
    store(secrets, "panther/china-rotated", bridge.url, "key-2")  # and `connect` stored it
    assert forwarder.forward("panther-source-api", {"listIntegrations": {}}) == [{"integrationId": "i-1"}]
    assert [key for _path, key, _payload in bridge.calls] == ["key-1", "key-1", "key-2"]


def test_the_secret_is_cached_between_calls(secrets: Any, bridge: FakeBridge) -> None:
    store(secrets, "panther/china-cached", bridge.url, "key-1")
    forwarder = Forwarder("panther/china-cached", secrets, timeout=5)
    forwarder.forward("panther-source-api", {})
    secrets.delete_secret(SecretId="panther/china-cached", ForceDeleteWithoutRecovery=True)
    assert forwarder.forward("panther-source-api", {}) == [{"integrationId": "i-1"}]  # no read needed


def test_a_slow_bridge_is_a_bounded_timeout_error(secrets: Any, bridge: FakeBridge) -> None:
    store(secrets, "panther/china-slow", bridge.url, "key-1")
    bridge.delay = 3.0
    forwarder = Forwarder("panther/china-slow", secrets, timeout=0.5)
    started = time.monotonic()
    with pytest.raises(BridgeError, match=r"^panther-source-api: the China bridge did not answer within 0.5 s"):
        forwarder.forward("panther-source-api", {"listIntegrations": {}})
    assert time.monotonic() - started < 2.5


def test_a_backend_function_error_is_an_error_not_data(secrets: Any, bridge: FakeBridge) -> None:
    store(secrets, "panther/china-fail", bridge.url, "key-1")
    bridge.answers["panther-alerts-api"] = {"errorMessage": "alert not found", "errorType": "DoesNotExist"}
    forwarder = Forwarder("panther/china-fail", secrets, timeout=5)
    with pytest.raises(BridgeError, match=r"^panther-alerts-api: the China backend failed \(DoesNotExist\): alert not found$"):
        forwarder.forward("panther-alerts-api", {"getAlert": {"alertId": "a"}})
    with pytest.raises(BridgeError, match=r"^panther-organization-api: the China bridge answered HTTP 404"):
        forwarder.forward("panther-organization-api", {})


def test_a_malformed_secret_is_named(secrets: Any) -> None:
    secrets.create_secret(Name="panther/china-bad", SecretString='{"URL": "https://x/prod"}')
    with pytest.raises(BridgeError, match="secret panther/china-bad must be JSON with URL and API_KEY"):
        Forwarder("panther/china-bad", secrets).forward("panther-source-api", {})


def test_handler_reads_its_settings_from_the_environment(moto_endpoint: str, secrets: Any, bridge: FakeBridge,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    store(secrets, "panther/china-env", bridge.url, "key-1")
    for name, value in {
        "SECRET_ID": "panther/china-env", "FUNCTION": "panther-source-api", "BRIDGE_TIMEOUT_SECONDS": "5",
        "AWS_ENDPOINT_URL": moto_endpoint, "AWS_DEFAULT_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(web_proxy, "_forwarder", None)
    assert web_proxy.handler({"listIntegrations": {}}, None) == [{"integrationId": "i-1"}]
    assert bridge.calls[-1] == ("/prod/cn/panther-source-api", "key-1", {"listIntegrations": {}})

"""`connect` against a hostile bridge and hostile stack outputs: redirects, slow and endless answers, echoes, bad URLs.

moto in server mode holds the China stack (its `BridgeUrl` and `BridgeApiKeyId` outputs), the
API key and the web region's secret; a bridge that misbehaves on purpose
(tests/release/hostile_bridge.py, a real socket) answers `--test`, named by the documented
override for local runs.  The probe's secret is the API key's value: it must appear in no
output, no error line and no file.  A run that fails must leave the secret as it was.
"""

from __future__ import annotations

import json
import subprocess
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import boto3

from ..aws_servers import FAKE_CREDENTIALS, moto_server
from ..release.hostile_bridge import Behaviour, Connection, answer, endless, hostile_bridge, redirect, silent, trickle
from .runner import Expect, Probe, Run

CHINA, WEB = "cn-north-1", "ap-southeast-1"
STAGE = f"https://a1b2c3d4e5.execute-api.{CHINA}.amazonaws.com.cn/prod"
_context: list[tuple[str, ExitStack]] = []


@contextmanager
def servers() -> Iterator[None]:
    """The family's context: one moto server, and a stack of bridges the probes start."""
    import logging

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line per request to moto
    with ExitStack() as stack:
        _context.append((stack.enter_context(moto_server()), stack))
        try:
            yield
        finally:
            _context.pop()


def _echo(status: int) -> Behaviour:
    """An answer that repeats the request, headers and all (a backend that echoes what it got)."""
    def behave(connection: Connection) -> None:
        body = connection.request
        connection.send(f"HTTP/1.1 {status} Echo\r\nContent-Type: text/plain\r\nContent-Length: {len(body)}\r\n\r\n".encode() + body,
                        counted=False)
    return behave


def _echo_json(connection: Connection) -> None:
    body = json.dumps({"errorMessage": connection.request.decode("latin-1")}).encode()
    connection.send(f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n".encode() + body,
                    counted=False)


def _raw(data: bytes) -> Behaviour:
    def behave(connection: Connection) -> None:
        connection.send(data, counted=False)
    return behave


def _bridges() -> list[tuple[str, Behaviour, Expect]]:
    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
    return [
        ("a bridge that answers", answer(200, b"[]"), "ok"),
        ("a 301 elsewhere", redirect("http://127.0.0.2:9/prod/cn/panther-source-api"), "error"),
        ("a 302 elsewhere, the key in the query", redirect("http://127.0.0.2:9/x?k=KEY"), "error"),
        ("a 307 to https", redirect("https://example.com/prod"), "error"),
        ("a slow status line", trickle(b"", 1.0, 30), "error"),
        ("a slow body", trickle(head + b"Content-Length: 100\r\n\r\n", 1.0, 30), "error"),
        ("3 GiB announced", endless(head + b"Content-Length: 3221225472\r\n\r\n", 64 << 20), "error"),
        ("a body without an end", endless(head + b"Connection: close\r\n\r\n", 64 << 20), "error"),
        ("an endless chunk", endless(head + b"Transfer-Encoding: chunked\r\n\r\n4000000\r\n", 64 << 20), "error"),
        ("a 403 echoing the request", _echo(403), "error"),
        ("a 500 echoing the request", _echo(500), "error"),
        ("a 200 echoing the request", _echo(200), "error"),
        ("an errorMessage echoing the request", _echo_json, "error"),
        ("a 403 without an ICP license", answer(403, b'{"Message": null}'), "error"),
        ("a 502 from the backend", answer(502, b'{"errorType": "Runtime.ExitError", "errorMessage": "exit status 1"}'), "error"),
        ("a 200 that is not JSON", answer(200, b"<html>hello</html>", "text/html"), "error"),
        ("a status line of garbage", _raw(b"\x00\xff garbage\r\n\r\n"), "error"),
        ("a header line of 1 MiB", _raw(b"HTTP/1.1 200 OK\r\nX-Big: " + b"a" * (1 << 20) + b"\r\n\r\n[]"), "error"),
        ("an answer with control characters", answer(500, b'{"message": "\\u001b[2J\\u0007 boom\\nsecond line"}'), "error"),
        ("a bridge that never answers", silent(60), "error"),
        ("a bridge that closes at once", _raw(b""), "error"),
    ]


def _urls() -> list[tuple[str, str, Expect]]:
    return [
        ("BridgeUrl javascript:", "javascript:alert(1)", "error"),
        ("BridgeUrl over http", STAGE.replace("https:", "http:"), "error"),
        ("BridgeUrl with user info", STAGE.replace("https://", "https://user:pass@"), "error"),
        ("BridgeUrl with a newline", STAGE + "\nX-Evil: 1", "error"),
        ("BridgeUrl file://", "file:///etc/passwd", "error"),
        ("BridgeUrl on a global host", STAGE.replace(".amazonaws.com.cn", ".amazonaws.com").replace(CHINA, "us-east-1"), "error"),
        ("BridgeUrl in another China region", STAGE.replace(CHINA, "cn-northwest-1"), "error"),
        ("BridgeUrl with a query", STAGE + "?x=1", "error"),
        ("BridgeUrl on a lookalike host", "https://a1b2c3d4e5.execute-api.cn-north-1.amazonaws.com.cn.evil.example/prod", "error"),
        ("an empty BridgeUrl", "", "error"),
    ]


def _overrides() -> list[tuple[str, str, Expect]]:
    return [
        ("an override over http to another host", "http://evil.example.com/prod", "error"),
        ("an override with user info", "http://user:pw@127.0.0.1:9/prod", "error"),
        ("an override with a newline", "http://127.0.0.1:9/prod\nx", "error"),
        ("an override of javascript:", "javascript:alert(1)", "error"),
    ]


def _stack(work: Path, url: str) -> tuple[str, str, dict[str, str]]:
    """A China stack naming `url` and a new API key; (stack name, key value, environment for the run)."""
    endpoint, _stack_of_bridges = _context[-1]
    name = f"panther-{uuid.uuid4().hex[:12]}"
    key = boto3.client("apigateway", region_name=CHINA, endpoint_url=endpoint, **FAKE_CREDENTIALS).create_api_key(
        name=f"panther-cn-bridge-{name}", enabled=True)
    outputs = {"BridgeUrl": {"Value": url}, "BridgeApiKeyId": {"Value": key["id"]}}
    template = {"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}}, "Outputs": outputs}
    boto3.client("cloudformation", region_name=CHINA, endpoint_url=endpoint, **FAKE_CREDENTIALS).create_stack(
        StackName=name, TemplateBody=json.dumps(template))
    config = work / "aws-config"
    config.write_text("")
    env = {"AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
           "AWS_CONFIG_FILE": str(config), "AWS_SHARED_CREDENTIALS_FILE": str(config)}
    return name, str(key["value"]), env


def _secret_untouched(name: str) -> Callable[[subprocess.CompletedProcess[bytes]], list[str]]:
    """A failed run stored nothing in the probe's secret."""
    def check(done: subprocess.CompletedProcess[bytes]) -> list[str]:
        if done.returncode == 0:
            return []
        endpoint, _ = _context[-1]
        client = boto3.client("secretsmanager", region_name=WEB, endpoint_url=endpoint, **FAKE_CREDENTIALS)
        try:
            client.get_secret_value(SecretId=f"{name}/china")
        except client.exceptions.ResourceNotFoundException:
            return []
        return ["data loss"]  # a secret written by a run that failed
    return check


def _run(name: str, secret: str, env: dict[str, str], expect: Expect) -> Run:
    return Run(["connect", "--china-stack", name, "--china-region", CHINA, "--web-region", WEB, "--secret-id", f"{name}/china",
                "--test", "--timeout", "5"], expect, env=env, secret=secret, timeout=120, check=_secret_untouched(name))


def _with_bridge(behaviour: Behaviour, expect: Expect) -> Callable[[Path], Run]:
    def build(work: Path) -> Run:
        _endpoint, bridges = _context[-1]
        bridge = bridges.enter_context(hostile_bridge(behaviour))
        name, secret, env = _stack(work, STAGE)
        return _run(name, secret, {**env, "PANTHER_CN_BRIDGE_URL": bridge.url}, expect)
    return build


def _with_url(url: str, expect: Expect) -> Callable[[Path], Run]:
    def build(work: Path) -> Run:
        name, secret, env = _stack(work, url)
        return _run(name, secret, env, expect)
    return build


def _with_override(override: str, expect: Expect) -> Callable[[Path], Run]:
    def build(work: Path) -> Run:
        name, secret, env = _stack(work, STAGE)
        return _run(name, secret, {**env, "PANTHER_CN_BRIDGE_URL": override}, expect)
    return build


def probes() -> list[Probe]:
    return ([Probe("connect", name, _with_bridge(behaviour, expect)) for name, behaviour, expect in _bridges()]
            + [Probe("connect", name, _with_url(url, expect)) for name, url, expect in _urls()]
            + [Probe("connect", name, _with_override(url, expect)) for name, url, expect in _overrides()])

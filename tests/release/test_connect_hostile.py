"""`connect --test`'s check against a bridge that misbehaves (tests/release/hostile_bridge.py: real sockets).

The check follows no redirect, reads a bounded part of the answer in bounded chunks, and ends by
its deadline however slowly the answer comes.  No assertion here is on wall-clock time: what the
server managed to send before the client hung up shows how far the client let it go.
"""

from __future__ import annotations

import tracemalloc
from collections.abc import Iterator
from contextlib import ExitStack

import pytest

from panther_cn_transform.errors import ConnectError
from panther_cn_transform.release.connect import MAX_ANSWER_BYTES, Bridge, check_bridge

from .hostile_bridge import Behaviour, HostileBridge, answer, answer_raw, endless, hostile_bridge, redirect, trickle

KEY = "k3yV4lu3NeverToBePrinted0123456789abcdef"


@pytest.fixture
def servers() -> Iterator[ExitStack]:
    with ExitStack() as stack:
        yield stack


def serve(servers: ExitStack, behaviour: Behaviour) -> HostileBridge:
    return servers.enter_context(hostile_bridge(behaviour))


def check(bridge: HostileBridge, monkeypatch: pytest.MonkeyPatch, timeout: float = 30.0) -> ConnectError:
    """The check against `bridge` (the local run's override names it); the error it ends with."""
    monkeypatch.setenv("PANTHER_CN_BRIDGE_URL", bridge.url)
    with pytest.raises(ConnectError) as caught:
        check_bridge(Bridge(bridge.url, "id", KEY), timeout=timeout)
    assert KEY not in str(caught.value)
    return caught.value


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_redirect_is_an_error_naming_its_host_and_the_key_never_reaches_it(servers: ExitStack, monkeypatch: pytest.MonkeyPatch,
                                                                            status: int) -> None:
    elsewhere = serve(servers, answer(200, b"[]"))
    bridge = serve(servers, redirect(f"{elsewhere.url}/cn/panther-source-api?steal={KEY}", status))
    error = check(bridge, monkeypatch)
    host = elsewhere.url.split("/")[2]
    assert f"the bridge answered HTTP {status}, a redirect to host {host}, which is not followed" in str(error)
    assert len(bridge.requests) == 1 and KEY.encode() in bridge.requests[0]  # the bridge itself got the key
    assert elsewhere.requests == []  # the host it pointed to got nothing, the key least of all


@pytest.mark.parametrize("head", [b"", b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n"],
                         ids=["status-line", "body"])
def test_a_slow_loris_is_cut_at_the_deadline(servers: ExitStack, monkeypatch: pytest.MonkeyPatch, head: bytes) -> None:
    # a byte every 2 s, 15 at most: a per-read timeout of 3 s would take all 15 (30 s); the 3 s deadline hangs up
    # after the second; under load the client may wake late, so the bound is half of them
    bridge = serve(servers, trickle(head, interval=2.0, count=15))
    error = check(bridge, monkeypatch, timeout=3.0)
    assert str(error).startswith(f"{bridge.url}/cn/panther-source-api: the bridge did not answer: no complete answer within 3 s; ")
    connection = bridge.connections[0]
    assert connection.finished.wait(60)  # the server's next byte or two find the connection closed
    assert connection.hung_up and connection.sent <= 7, connection.sent


@pytest.mark.parametrize("head", [b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 3221225472\r\n\r\n",
                                  b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n",
                                  b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n4000000\r\n"],
                         ids=["3GiB-announced", "no-length", "chunked"])
def test_an_endless_body_is_refused_past_the_cap_in_bounded_memory(servers: ExitStack, monkeypatch: pytest.MonkeyPatch,
                                                                   head: bytes) -> None:
    total = 64 * 1024 * 1024  # the server gives up after 64 MiB (a client reading it all would hold it all)
    bridge = serve(servers, endless(head, total))
    tracemalloc.start()
    try:
        error = check(bridge, monkeypatch)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert "the bridge answered HTTP 200 with a body " in str(error) and "over the 1024 KiB read at most" in str(error)
    if b"3221225472" in head:
        assert "of 3221225472 bytes" in str(error) and "(not read)" in str(error)
    connection = bridge.connections[0]
    assert connection.finished.wait(60)
    # what the client did not read stays in the sockets' buffers (a few MiB on loopback), never the whole
    assert connection.hung_up and connection.sent < MAX_ANSWER_BYTES + 16 * 1024 * 1024 < total
    assert peak < 8 * MAX_ANSWER_BYTES, peak


STAGE_URL = "https://a1b2c3d4e5.execute-api.cn-north-1.amazonaws.com.cn/prod"


@pytest.mark.parametrize("proxy_answer", [b"HTTP/1.1 407 Proxy Authentication Required\r\n\r\n", b""], ids=["refused", "closed"])
def test_the_environments_https_proxy_is_asked_for_a_tunnel_and_never_sees_the_key(servers: ExitStack,
                                                                                   monkeypatch: pytest.MonkeyPatch,
                                                                                   proxy_answer: bytes) -> None:
    # as urllib did: HTTPS_PROXY is honoured (the tunnel is CONNECT; the request, key included, goes inside TLS)
    proxy = serve(servers, answer_raw(proxy_answer))
    address = proxy.url.split("/")[2]
    for name in ("NO_PROXY", "no_proxy", "HTTPS_PROXY", "PANTHER_CN_BRIDGE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("https_proxy", f"http://user:secret@{address}")
    with pytest.raises(ConnectError) as caught:
        check_bridge(Bridge(STAGE_URL, "id", KEY), timeout=30)
    assert f"the bridge did not answer: no connection (the proxy 127.0.0.1:{address.split(':')[1]} answered " in str(caught.value)
    assert KEY not in str(caught.value) and "secret" not in str(caught.value)
    request = proxy.requests[0]
    assert request.startswith(b"CONNECT a1b2c3d4e5.execute-api.cn-north-1.amazonaws.com.cn:443 HTTP/1.1\r\n")
    assert b"Proxy-Authorization: Basic dXNlcjpzZWNyZXQ=\r\n" in request and KEY.encode() not in request


def test_the_key_goes_to_no_url_but_the_bridges_or_the_overrides(servers: ExitStack, monkeypatch: pytest.MonkeyPatch) -> None:
    # deploy checks the URL a secret holds: one that is neither BridgeUrl's form nor the local run's override gets nothing
    elsewhere = serve(servers, answer(200, b"[]"))
    monkeypatch.delenv("PANTHER_CN_BRIDGE_URL", raising=False)
    with pytest.raises(ConnectError) as caught:
        check_bridge(Bridge(elsewhere.url, "id", KEY), timeout=30)
    monkeypatch.setenv("PANTHER_CN_BRIDGE_URL", "http://127.0.0.1:9/prod")  # another stand-in
    with pytest.raises(ConnectError):
        check_bridge(Bridge(elsewhere.url, "id", KEY), timeout=30)
    assert str(caught.value) == (f"bridge URL: '{elsewhere.url}' is not the bridge's stage URL (https://<API id>.execute-api."
                                 "<region>.amazonaws.com.cn/prod): its scheme is http, not https; the key was neither sent nor stored")
    assert elsewhere.requests == []

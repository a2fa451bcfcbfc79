"""One HTTP POST held to bounds: no redirect followed, the answer's body capped, one overall deadline.

Why not `urllib.request.urlopen`: it follows a 302 to any host and sends the request's headers
there (the bridge's `x-api-key` among them), reads a body whole into memory however long it
is, and its timeout applies to each socket operation, so a server that sends a byte every few
seconds keeps it alive for ever.  Here `http.client` sends the request and reads the answer
through a reader that sets the socket's timeout to the time left before the deadline before
every receive, so the connection, the TLS handshake, the status line, the headers and the
body all end by the deadline; the body is read in chunks up to `max_bytes` (one more byte
tells a longer body), and a redirect is returned as an answer for the caller to refuse.
"""

from __future__ import annotations

import base64
import http.client
import io
import socket
import ssl
import time
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

#: how much of a body is read at a time
CHUNK_BYTES = 64 * 1024


class DeadlineExpired(TimeoutError):
    """The exchange did not end before its deadline."""


@dataclass(frozen=True)
class Answer:
    """What the server answered: its status, at most `max_bytes` of its body, and its `Location` for a redirect."""

    status: int
    body: bytes
    truncated: bool  # the body was longer than `max_bytes` (announced or read)
    announced: int | None  # the body's Content-Length, when it gave one
    location: str | None


def post(url: str, body: bytes, headers: Mapping[str, str], *, deadline: float, max_bytes: int) -> Answer:
    """POST `body` to `url` (http or https); the answer, within `deadline` seconds from now, never redirected.

    Raises `DeadlineExpired` when the deadline passes, an `OSError` when the connection fails,
    `ssl.SSLError` for TLS and `http.client.HTTPException` for an answer that is not HTTP.
    """
    parts = urllib.parse.urlsplit(url)
    ends = time.monotonic() + deadline
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        connection = _connection(parts, ends)
    except TimeoutError as exc:
        raise DeadlineExpired(f"no complete answer within {deadline:g} s") from exc
    try:
        connection.request("POST", path, body=body, headers=dict(headers))
        response = connection.getresponse()
        location = response.getheader("location") if 300 <= response.status < 400 else None
        announced = _length(response.getheader("content-length"))
        if announced is not None and announced > max_bytes:
            return Answer(response.status, b"", True, announced, location)
        read = bytearray()
        while len(read) <= max_bytes:
            chunk = response.read(min(CHUNK_BYTES, max_bytes + 1 - len(read)))
            if not chunk:
                break
            read += chunk
        truncated = len(read) > max_bytes
        return Answer(response.status, bytes(read[:max_bytes]), truncated, announced, location)
    except TimeoutError as exc:  # the socket's timeout is the time left: so the deadline passed
        raise DeadlineExpired(f"no complete answer within {deadline:g} s") from exc
    finally:
        connection.close()
        if connection.opened is not None:
            connection.opened.close()


def _length(value: str | None) -> int | None:
    try:
        return int(value) if value is not None and value.strip().isdigit() else None
    except ValueError:
        return None


def _connection(parts: urllib.parse.SplitResult, ends: float) -> _DeadlineHTTP:
    host, port = parts.hostname or "", parts.port
    if parts.scheme == "https":
        return _DeadlineHTTPS(host, port, ends)
    return _DeadlineHTTP(host, port, ends)


def _left(ends: float) -> float:
    left = ends - time.monotonic()
    if left <= 0:
        raise TimeoutError("deadline")
    return left


class _DeadlineHTTP(http.client.HTTPConnection):
    """An HTTP connection whose every receive ends by the deadline `ends` (a `time.monotonic()` value)."""

    def __init__(self, host: str, port: int | None, ends: float) -> None:
        super().__init__(host, port, timeout=max(_left(ends), 0.001))
        self._ends = ends
        self.opened: socket.socket | None = None  # closed by `post` at the end (http.client closes a reader's socket early)

    def connect(self) -> None:
        self.opened = self._open()
        self.sock = _DeadlineSocket(self.opened, self._ends)

    def _open(self) -> socket.socket:
        return socket.create_connection((self.host, self.port), _left(self._ends))


class _DeadlineHTTPS(_DeadlineHTTP):
    """The same over TLS, the certificate and host name checked (`ssl.create_default_context`).

    Through the proxy the environment names for https (`HTTPS_PROXY`, unless `NO_PROXY`
    covers the host, as urllib reads them), tunnelled with CONNECT: the proxy sees the host
    and port, never the request (the key travels inside TLS).
    """

    default_port = http.client.HTTPS_PORT

    def _open(self) -> socket.socket:
        proxy = _proxy_for(self.host)
        if proxy is None:
            raw = super()._open()
        else:
            raw = socket.create_connection((proxy.hostname or "", proxy.port or 80), _left(self._ends))
            try:
                _tunnel(raw, proxy, f"{self.host}:{self.port}", self._ends)
            except BaseException:
                raw.close()
                raise
        raw.settimeout(_left(self._ends))  # the handshake too
        return ssl.create_default_context().wrap_socket(raw, server_hostname=self.host)


#: the most a proxy's answer to CONNECT may hold (its status line and headers)
_MAX_PROXY_ANSWER = 64 * 1024


def _proxy_for(host: str) -> urllib.parse.SplitResult | None:
    """The https proxy the environment names for `host`, or None."""
    proxy = urllib.request.getproxies().get("https")
    if not proxy or urllib.request.proxy_bypass(host):
        return None
    parts = urllib.parse.urlsplit(proxy if "://" in proxy else f"http://{proxy}")
    return parts if parts.hostname else None


def _tunnel(sock: socket.socket, proxy: urllib.parse.SplitResult, target: str, ends: float) -> None:
    """Ask `proxy`, connected as `sock`, for a tunnel to `target` (`host:port`); an OSError unless it answers 200."""
    request = f"CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n"
    if proxy.username is not None:
        credentials = f"{urllib.parse.unquote(proxy.username)}:{urllib.parse.unquote(proxy.password or '')}"
        request += f"Proxy-Authorization: Basic {base64.b64encode(credentials.encode()).decode('ascii')}\r\n"
    sock.settimeout(_left(ends))
    sock.sendall((request + "\r\n").encode())
    answer = b""
    while not answer.endswith(b"\r\n\r\n"):  # a byte at a time: what follows the answer is the TLS server's
        if len(answer) > _MAX_PROXY_ANSWER:
            raise OSError(f"the proxy {proxy.hostname}:{proxy.port or 80} answered CONNECT with over {_MAX_PROXY_ANSWER} bytes")
        sock.settimeout(_left(ends))
        byte = sock.recv(1)
        if not byte:
            break
        answer += byte
    status = answer.split(b"\r\n", 1)[0].decode("latin-1")
    if status.split(" ")[1:2] != ["200"]:
        raise OSError(f"the proxy {proxy.hostname}:{proxy.port or 80} answered {repr(status[:80]) if status else 'nothing'} to CONNECT {target}")


class _DeadlineSocket:
    """What `http.client` uses of a socket (`sendall`, `makefile`, `close`), each receive under the time left.

    Its `close` leaves the socket open: `post` closes it when the answer is read.
    """

    def __init__(self, sock: socket.socket, ends: float) -> None:
        self._sock, self._ends = sock, ends

    def sendall(self, data: Any) -> None:
        self._sock.settimeout(_left(self._ends))
        self._sock.sendall(data)

    def makefile(self, mode: str = "rb", *args: Any, **kwargs: Any) -> io.BufferedReader:
        return io.BufferedReader(_DeadlineReader(self._sock, self._ends))

    def settimeout(self, value: float | None) -> None:
        pass  # the deadline rules

    def setsockopt(self, *args: Any) -> None:
        self._sock.setsockopt(*args)

    def close(self) -> None:
        pass  # http.client closes its socket once the answer's headers say the connection ends, before the body is read


class _DeadlineReader(io.RawIOBase):
    """The socket's bytes; every receive waits at most until the deadline."""

    def __init__(self, sock: socket.socket, ends: float) -> None:
        super().__init__()
        self._sock, self._ends = sock, ends

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        self._sock.settimeout(_left(self._ends))
        return self._sock.recv_into(buffer)

"""A stand-in for the China bridge that misbehaves on purpose, over real sockets (no mocked client).

`aws_servers.FakeBridge` answers like API Gateway; this one answers like a broken or hostile
one, each server with one behaviour, a function given the connection once the request is read:

* `redirect(location, status)` - a 3xx pointing elsewhere;
* `trickle(head, interval, count)` - `head`, then one byte every `interval` seconds, `count`
  bytes at most (a slow loris: in the status line when `head` is empty, in the body otherwise);
* `endless(head, total)` - `head`, then zeros as fast as the client takes them, `total` bytes at
  most (a body announced as 3 GiB, or one without an end);
* `answer(status, body)` - one answer (a 403 echoing the request's headers, say); `answer_raw(data)` - bytes as they are;
* `silent(hold)` - never answers (holds the connection `hold` seconds at most).

Every connection is logged: the request as received, and the bytes sent after the behaviour's
head, which shows how far a client let a misbehaving answer go before it hung up.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field


@dataclass
class Connection:
    """One client's connection: its request, and what was sent after the head."""

    sock: socket.socket
    stopping: threading.Event
    request: bytes = b""
    sent: int = 0  # bytes sent after the head
    hung_up: bool = False  # the client closed the connection before the behaviour ended
    finished: threading.Event = field(default_factory=threading.Event)  # the behaviour ended (wait for it before asserting)

    def send(self, data: bytes, *, counted: bool = True) -> bool:
        """Send `data`; False once the client has gone."""
        try:
            self.sock.sendall(data)
        except OSError:
            self.hung_up = True
            return False
        self.sent += len(data) if counted else 0
        return True


Behaviour = Callable[[Connection], None]


@dataclass
class HostileBridge:
    """The server's state: its connections, and its stage URL (ending in /prod)."""

    url: str = ""
    connections: list[Connection] = field(default_factory=list)

    @property
    def requests(self) -> list[bytes]:
        return [c.request for c in self.connections]


@contextmanager
def hostile_bridge(behaviour: Behaviour) -> Iterator[HostileBridge]:
    """Run a server on a free local port that answers every request with `behaviour`."""
    bridge, stopping = HostileBridge(), threading.Event()
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)

    def serve(sock: socket.socket) -> None:
        connection = Connection(sock, stopping)
        bridge.connections.append(connection)
        with sock:
            sock.settimeout(30)
            try:
                connection.request = _read_request(sock)
                behaviour(connection)
            except OSError:
                pass
            finally:
                connection.finished.set()

    def accept() -> None:
        while not stopping.is_set():
            try:
                sock, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=serve, args=(sock,), daemon=True).start()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    bridge.url = f"http://127.0.0.1:{listener.getsockname()[1]}/prod"
    try:
        yield bridge
    finally:
        stopping.set()
        thread.join(5)
        listener.close()


def _read_request(sock: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next((int(line.split(b":", 1)[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")), 0)
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return head + b"\r\n\r\n" + body


def redirect(location: str, status: int = 302) -> Behaviour:
    def behave(connection: Connection) -> None:
        connection.send(f"HTTP/1.1 {status} Moved\r\nLocation: {location}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".encode(),
                        counted=False)
    return behave


def trickle(head: bytes, interval: float, count: int) -> Behaviour:
    def behave(connection: Connection) -> None:
        if head and not connection.send(head, counted=False):
            return
        for _ in range(count):
            if not connection.send(b"x" if head else b"HTTP/1.1 200 OK\r\n"[connection.sent % 17:][:1]):
                return
            if connection.stopping.wait(interval):
                return
    return behave


def endless(head: bytes, total: int) -> Behaviour:
    chunk = bytes(64 * 1024)

    def behave(connection: Connection) -> None:
        if not connection.send(head, counted=False):
            return
        while connection.sent < total and not connection.stopping.is_set():
            if not connection.send(chunk):
                return
    return behave


def answer(status: int, body: bytes, content_type: str = "application/json") -> Behaviour:
    def behave(connection: Connection) -> None:
        connection.send(f"HTTP/1.1 {status} Status\r\nContent-Type: {content_type}\r\nContent-Length: {len(body)}\r\n"
                        "Connection: close\r\n\r\n".encode() + body, counted=False)
    return behave


def answer_raw(data: bytes) -> Behaviour:
    """`data` as it is (a proxy's answer to CONNECT, say), then the connection closed."""
    def behave(connection: Connection) -> None:
        connection.send(data, counted=False)
    return behave


def silent(hold: float) -> Behaviour:
    def behave(connection: Connection) -> None:
        connection.stopping.wait(hold)
    return behave

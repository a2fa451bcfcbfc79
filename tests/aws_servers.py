"""Real protocol servers for the edge code: moto in server mode and a stand-in bridge.

Both listen on a free local port and answer over real sockets, so the code under test
uses its ordinary clients (boto3, urllib) unchanged; nothing is mocked.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

FAKE_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


@contextmanager
def moto_server(port: int = 0) -> Iterator[str]:
    """A moto server on `port` (0: a free one); yields its endpoint URL."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@dataclass
class FakeBridge:
    """A stand-in for the China bridge: `POST /prod/cn/{function}` with header `x-api-key`.

    `api_key` is the key it accepts now (change it to rotate), unless `accepts` is set: then
    it accepts the keys that function approves (the deploy tests ask moto's API Gateway which
    keys are on the bridge's usage plan); `answers` maps a function to the JSON it returns, or
    to `(status, JSON)` for another status than 200 (a backend's 502, say); `refusal` is the
    body of its 403 to a wrong key (API Gateway's usual answer; `{"Message": None}` is the one
    API Gateway in China gives without an ICP license);
    `delay` makes every answer late by that many seconds.
    """

    api_key: str
    answers: dict[str, Any] = field(default_factory=dict)
    refusal: Any = field(default_factory=lambda: {"message": "Forbidden"})
    delay: float = 0.0
    calls: list[tuple[str, str, Any]] = field(default_factory=list)  # (path, key, payload)
    url: str = ""
    accepts: Callable[[str], bool] | None = None


@contextmanager
def fake_bridge(api_key: str, port: int = 0) -> Iterator[FakeBridge]:
    """Run a `FakeBridge` on `port` (0: a free one); `bridge.url` is its stage URL (ending in /prod)."""
    bridge = FakeBridge(api_key)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            payload = json.loads(self.rfile.read(length) or b"null")
            key = self.headers.get("x-api-key") or ""
            bridge.calls.append((self.path, key, payload))
            if bridge.delay:
                time.sleep(bridge.delay)
            function = self.path.removeprefix("/prod/cn/")
            if not (bridge.accepts(key) if bridge.accepts else key == bridge.api_key):
                self._send(403, bridge.refusal)
            elif not self.path.startswith("/prod/cn/") or function not in bridge.answers:
                self._send(404, {"message": "Not Found"})
            elif isinstance(bridge.answers[function], tuple):
                self._send(*bridge.answers[function])
            else:
                self._send(200, bridge.answers[function])

        def _send(self, status: int, body: Any) -> None:
            data = json.dumps(body).encode()
            try:
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up waiting (the timeout test)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    bridge.url = f"http://127.0.0.1:{server.server_address[1]}/prod"
    try:
        yield bridge
    finally:
        server.shutdown()
        server.server_close()

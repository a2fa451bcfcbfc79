"""A small S3 server that misbehaves on purpose, over real sockets (no mocked client).

moto answers like S3; this one answers like a broken or hostile S3, one misbehaviour per
object, so that the edge code's defences can be tested through boto3 unchanged:

* `head_size` - a HEAD that announces another size than the body has (a lying S3 whose
  HEAD says 2 GiB);
* `body` - a GET that returns other bytes than the object's (a swapped object, or more
  bytes than announced, `get_size` being the Content-Length it announces then);
* `trickle` - seconds between the body's bytes (a slow loris);
* `ignore_if_match` - serve the current bytes whatever `If-Match` says;
* `etag` - another ETag than the MD5 (a multipart `"...-2"`), `get_etag` - the ETag a GET
  answers with (another version's), `sse_kms` - the header
  that says the ETag is not the MD5, `checksum_sha256` - S3's own SHA-256 checksum;
* `silent` (on the server) - accept connections and never answer.

Only path-style requests of one bucket are served (boto3 with `AWS_ENDPOINT_URL` sends
those): HEAD and GET of objects (with `Range` and `If-Match`), HEAD of the bucket, its
location and a listing of its top-level folders.  Every request is logged with the bytes
of body the server sent.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit


@dataclass
class HostileObject:
    data: bytes
    etag: str | None = None
    get_etag: str | None = None
    head_size: int | None = None
    body: bytes | None = None
    get_size: int | None = None
    trickle: float = 0.0
    ignore_if_match: bool = False
    sse_kms: bool = False
    checksum_sha256: str | None = None

    def tag(self) -> str:
        return self.etag or f'"{hashlib.md5(self.data, usedforsecurity=False).hexdigest()}"'


@dataclass
class HostileS3:
    """The server's state: its objects, its log, and where it listens."""

    bucket: str
    region: str
    objects: dict[str, HostileObject] = field(default_factory=dict)
    log: list[tuple[str, str, int]] = field(default_factory=list)  # (method, key, body bytes sent)
    silent: bool = False
    url: str = ""
    stopping: threading.Event = field(default_factory=threading.Event)

    def put(self, key: str, data: bytes, **behaviour: Any) -> HostileObject:
        self.objects[key] = HostileObject(data, **behaviour)
        return self.objects[key]

    def sent(self, method: str | None = None) -> int:
        """Body bytes sent so far (for `method` only, if given)."""
        return sum(n for m, _key, n in self.log if method in (None, m))

    def keys(self, method: str) -> list[str]:
        return [key for m, key, _n in self.log if m == method]


@contextmanager
def hostile_s3(bucket: str, region: str) -> Iterator[HostileS3]:
    """Run a `HostileS3` on a free local port; `server.url` is its endpoint."""
    state = HostileS3(bucket, region)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _target(self) -> tuple[str | None, dict[str, list[str]]]:
            parts = urlsplit(self.path)
            path = parts.path
            prefix = f"/{state.bucket}"
            if not path.startswith(prefix):
                return None, {}
            rest = path[len(prefix):]
            return (unquote(rest[1:]) if rest.startswith("/") and len(rest) > 1 else ""), parse_qs(parts.query, keep_blank_values=True)

        def _silent(self) -> bool:
            if state.silent:
                state.stopping.wait(600)
                return True
            return False

        def do_HEAD(self) -> None:
            if self._silent():
                return
            key, _query = self._target()
            if key is None or key and key not in state.objects:
                state.log.append(("HEAD", key or "", 0))
                self._reply(404, b"", head=True)
                return
            state.log.append(("HEAD", key, 0))
            if not key:
                self._reply(200, b"", head=True)
                return
            obj = state.objects[key]
            self._reply(200, b"", head=True, length=obj.head_size if obj.head_size is not None else len(obj.data),
                        headers=self._object_headers(obj))

        def do_GET(self) -> None:
            if self._silent():
                return
            key, query = self._target()
            if key == "" and "location" in query:
                state.log.append(("GET", "?location", 0))
                self._reply(200, f'<?xml version="1.0" encoding="UTF-8"?>\n<LocationConstraint '
                            f'xmlns="http://s3.amazonaws.com/doc/2006-03-01/">{state.region}</LocationConstraint>'.encode())
                return
            if key == "":
                state.log.append(("GET", "?list", 0))
                folders = sorted({k.split("/", 1)[0] + "/" for k in state.objects if "/" in k})
                prefixes = "".join(f"<CommonPrefixes><Prefix>{p}</Prefix></CommonPrefixes>" for p in folders)
                self._reply(200, ('<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
                                  f"<Name>{state.bucket}</Name><KeyCount>{len(folders)}</KeyCount><IsTruncated>false</IsTruncated>"
                                  f"{prefixes}</ListBucketResult>").encode())
                return
            if key is None or key not in state.objects:
                self._error(404, "NoSuchKey", key or "")
                return
            obj = state.objects[key]
            wanted = self.headers.get("If-Match")
            if wanted and wanted != obj.tag() and not obj.ignore_if_match:
                self._error(412, "PreconditionFailed", key)
                return
            body = obj.body if obj.body is not None else obj.data
            status, headers = 200, self._object_headers(obj)
            if obj.get_etag:
                headers["ETag"] = obj.get_etag
            ranged = self.headers.get("Range", "")
            if ranged.startswith("bytes=") and ranged.endswith("-"):
                start = int(ranged[len("bytes="):-1])
                headers["Content-Range"] = f"bytes {start}-{len(body) - 1}/{len(body)}"
                headers.pop("x-amz-checksum-sha256", None)  # S3 sends no whole-object checksum with a range
                body, status = body[start:], 206
            length = obj.get_size if obj.get_size is not None else len(body)
            self._reply(status, body, headers=headers, length=length, trickle=obj.trickle, key=key)

        def _object_headers(self, obj: HostileObject) -> dict[str, str]:
            headers = {"ETag": obj.tag(), "Last-Modified": formatdate(usegmt=True), "Accept-Ranges": "bytes"}
            if obj.sse_kms:
                headers["x-amz-server-side-encryption"] = "aws:kms"
            if obj.checksum_sha256 is not None and self.headers.get("x-amz-checksum-mode") == "ENABLED":
                headers["x-amz-checksum-sha256"] = obj.checksum_sha256
            return headers

        def _error(self, status: int, code: str, key: str) -> None:
            state.log.append(("GET", key, 0))
            self._reply(status, (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code>'
                                 f"<Message>{code}</Message><Key>{key}</Key></Error>").encode())

        def _reply(self, status: int, body: bytes, *, head: bool = False, length: int | None = None,
                   headers: dict[str, str] | None = None, trickle: float = 0.0, key: str = "") -> None:
            sent = 0
            try:
                self.send_response(status)
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body) if length is None else length))
                self.end_headers()
                if head:
                    return
                if trickle:
                    for index in range(len(body)):
                        if state.stopping.wait(trickle):
                            break
                        self.wfile.write(body[index:index + 1])
                        self.wfile.flush()
                        sent += 1
                else:
                    view = memoryview(body)
                    for start in range(0, len(view), 1 << 16):
                        self.wfile.write(view[start:start + (1 << 16)])
                        sent += len(view[start:start + (1 << 16)])
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up: what it refused is logged
            finally:
                if key:
                    state.log.append(("GET", key, sent))

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield state
    finally:
        state.stopping.set()
        time.sleep(0.05)
        server.shutdown()
        server.server_close()


def endless(size: int) -> bytes:
    """`size` bytes of a repeating pattern (a body that is larger than anyone should take)."""
    return (b"0123456789abcdef" * (size // 16 + 1))[:size]

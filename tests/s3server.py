"""A real S3 API for the transfer tests: moto in server mode on a free local port.

The server runs in a thread of the test process (one per xdist worker, for the session);
each test gets it empty (moto's reset API) and an environment where boto3 finds it through
the standard `AWS_ENDPOINT_URL`, with dummy credentials and no user configuration.  The
server's request log (werkzeug's) is captured, so tests can see which requests reached S3
and in which order.
"""

from __future__ import annotations

import logging
import re
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest

from .aws_servers import moto_server

_REQUEST = re.compile(r'"(?P<method>[A-Z]+) (?P<path>\S+) HTTP/[\d.]+" (?P<status>\d+)')
_COLOUR = re.compile(r"\x1b\[[0-9;]*m")  # werkzeug colours some status codes (206, 304, 4xx)


class _RequestLog(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[tuple[str, str, int]] = []

    def emit(self, record: logging.LogRecord) -> None:
        match = _REQUEST.search(_COLOUR.sub("", record.getMessage()))
        if match:
            self.lines.append((match["method"], match["path"], int(match["status"])))


@dataclass
class S3Server:
    """The running server: its URL, a way to make clients and buckets, and its request log."""

    url: str
    log: _RequestLog
    environment: dict[str, str] = field(default_factory=dict)

    def client(self, region: str) -> Any:
        return boto3.client("s3", region_name=region, endpoint_url=self.url,
                            aws_access_key_id="testing", aws_secret_access_key="testing")

    def bucket(self, name: str, region: str) -> Any:
        client = self.client(region)
        client.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": region})
        return client

    def put_folder(self, bucket: str, region: str, folder: Path) -> dict[str, bytes]:
        """Upload every file of `folder` under its relative path; returns key -> bytes."""
        client = self.client(region)
        objects = {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}
        for key, data in objects.items():
            client.put_object(Bucket=bucket, Key=key, Body=data)
        return objects

    def objects(self, bucket: str, region: str) -> dict[str, bytes]:
        """Every object of `bucket`: key -> bytes."""
        client = self.client(region)
        keys = [o["Key"] for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket) for o in page.get("Contents", [])]
        return {key: client.get_object(Bucket=bucket, Key=key)["Body"].read() for key in keys}

    def requests(self, method: str, bucket: str) -> list[str]:
        """Keys of the `method` requests on `bucket` so far, in the order the server answered them."""
        prefix = f"/{bucket}/"
        return [path[len(prefix):].split("?")[0] for m, path, _ in self.log.lines if m == method and path.startswith(prefix)]


@pytest.fixture(scope="session")
def _moto_server() -> Iterator[tuple[str, _RequestLog]]:
    log = _RequestLog()
    werkzeug = logging.getLogger("werkzeug")
    werkzeug.setLevel(logging.INFO)
    werkzeug.addHandler(log)  # also keeps werkzeug from printing every request to stderr
    werkzeug.propagate = False
    try:
        with moto_server() as url:
            yield url, log
    finally:
        werkzeug.removeHandler(log)


@pytest.fixture
def s3(_moto_server: tuple[str, _RequestLog], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> S3Server:
    """An empty S3 server, and an environment (also for subprocesses) that points boto3 at it."""
    url, log = _moto_server
    urllib.request.urlopen(urllib.request.Request(f"{url}/moto-api/reset", method="POST"), timeout=30).close()
    log.lines.clear()
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_DEFAULT_REGION", "AWS_REGION"):
        monkeypatch.delenv(name, raising=False)
    (tmp_path / "aws-config").write_text("")
    environment = {
        "AWS_ENDPOINT_URL": url,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_CONFIG_FILE": str(tmp_path / "aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "aws-config"),
        "XDG_CACHE_HOME": str(tmp_path / "xdg-cache"),
    }
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    return S3Server(url, log, environment)

"""A hostile S3 source: lying sizes, swapped bytes, slow and silent answers, keys that climb out.

One misbehaving server (tests/release/hostile_s3.py, a real socket) serves the release bucket
for the whole family; each probe puts its objects there before its run, which is
`release s3://panther-enterprise-us-west-1 --release v1.0.0 ... --cache-dir cache --s3-timeout 1`,
plain and with `--check`.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..release.hostile_s3 import HostileS3, hostile_s3
from .runner import Expect, Probe, Run

REPO = Path(__file__).resolve().parents[2]
MIRROR = REPO / "examples" / "release" / "panther-enterprise-us-west-1"
BUCKET = "panther-enterprise-us-west-1"
HOST = f"https://{BUCKET}.s3.us-west-1.amazonaws.com"
GIB = 1 << 30
_server: list[HostileS3] = []


@contextmanager
def server() -> Iterator[HostileS3]:
    """The family's context: one hostile S3 for every probe of it."""
    with hostile_s3(BUCKET, "us-west-1") as running:
        _server.append(running)
        try:
            yield running
        finally:
            _server.remove(running)


def example() -> dict[str, bytes]:
    """The bundled example release, key by key."""
    return {p.relative_to(MIRROR).as_posix(): p.read_bytes() for p in MIRROR.rglob("*") if p.is_file()}


ROOT = "v1.0.0/panther.yml"
Change = Callable[[HostileS3, dict[str, bytes]], None]


def _asset(objects: dict[str, bytes]) -> str:
    return next(key for key in sorted(objects) if "/" not in key)


def _behave(key_of: Callable[[dict[str, bytes]], str], **behaviour: Any) -> Change:
    def change(s3: HostileS3, objects: dict[str, bytes]) -> None:
        key = key_of(objects)
        s3.put(key, objects[key], **{k: (v(objects[key]) if callable(v) else v) for k, v in behaviour.items()})
    return change


def _root(_objects: dict[str, bytes]) -> str:
    return ROOT


def _replace_root(text: str) -> Change:
    def change(s3: HostileS3, _objects: dict[str, bytes]) -> None:
        s3.put(ROOT, text.encode())
    return change


def _drop(key_of: Callable[[dict[str, bytes]], str]) -> Change:
    def change(s3: HostileS3, objects: dict[str, bytes]) -> None:
        s3.objects.pop(key_of(objects), None)
    return change


def _silent(s3: HostileS3, _objects: dict[str, bytes]) -> None:
    s3.silent = True


def _swapped(data: bytes) -> bytes:
    return bytes(reversed(data)) if data != bytes(reversed(data)) else data + b" "


def _sha256(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(b"other bytes" + data).digest()).decode()


def _cases() -> list[tuple[str, Change | None, Expect, tuple[str, ...]]]:
    stack = "Resources:\n  Child:\n    Type: AWS::CloudFormation::Stack\n    Properties:\n      TemplateURL: {}\n"
    return [
        ("the example release", None, "ok", ()),
        ("a HEAD announcing 2 GiB for the root", _behave(_root, head_size=2 * GIB), "error", ()),
        ("a HEAD announcing 2 GiB for an asset, --max-asset-bytes 1000", _behave(_asset, head_size=2 * GIB), "error",
         ("--max-asset-bytes", "1000")),
        ("an asset larger than --max-asset-bytes", None, "error", ("--max-asset-bytes", "10")),
        ("a root with other bytes than its ETag", _behave(_root, body=_swapped), "error", ()),
        ("an asset with other bytes than its ETag", _behave(_asset, body=_swapped), "error", ()),
        ("a root body cut short", _behave(_root, get_size=lambda d: len(d) + 100), "error", ()),
        ("an asset body cut short", _behave(_asset, get_size=lambda d: len(d) + 100), "error", ()),
        ("a root body longer than announced", _behave(_root, body=lambda d: d + b"\nOutputs: {}\n", get_size=len), "either", ()),
        ("a slow root (a byte every 0.5 s)", _behave(_root, trickle=0.5), "error", ()),
        ("a slow asset (a byte every 0.5 s)", _behave(_asset, trickle=0.5), "error", ()),
        ("a server that never answers", _silent, "error", ()),
        ("a multipart ETag on an asset", _behave(_asset, etag='"0123456789abcdef0123456789abcdef-2"'), "ok", ()),
        ("an SSE-KMS asset", _behave(_asset, sse_kms=True, etag='"00000000000000000000000000000000"'), "ok", ()),
        ("a wrong SHA-256 checksum on an asset", _behave(_asset, checksum_sha256=_sha256), "error", ()),
        ("another version's ETag on a GET", _behave(_asset, get_etag='"ffffffffffffffffffffffffffffffff"'), "error", ()),
        ("swapped bytes behind an ignored If-Match", _behave(_asset, body=_swapped, ignore_if_match=True), "error", ()),
        ("a missing root", _drop(_root), "error", ()),
        ("a missing asset", _drop(_asset), "error", ()),
        ("a child climbing out", _replace_root(stack.format(f"{HOST}/../../../../home/.bashrc")), "error", ()),
        ("a child climbing out, URL-encoded", _replace_root(stack.format(f"{HOST}/v1.0.0/%2e%2e/%2e%2e/%2e%2e/home/.bashrc")),
         "error", ()),
        ("a child with a 1,100-character key", _replace_root(stack.format(f"{HOST}/{'k' * 1100}")), "error", ()),
        ("a child on a foreign host", _replace_root(stack.format("https://evil.example.com/x.yml")), "either", ()),
        ("a root that is not a template", _replace_root("hello\n"), "error", ()),
        ("a root of bad YAML", _replace_root("Resources: [\n"), "error", ()),
    ]


def _build(change: Change | None, expect: Expect, extra: tuple[str, ...], check: bool) -> Callable[[Path], Run]:
    def build(work: Path) -> Run:
        s3 = _server[-1]
        s3.objects.clear()
        s3.silent = False
        objects = example()
        for key, data in objects.items():
            s3.put(key, data)
        if change is not None:
            change(s3, objects)
        config = work / "aws-config"
        config.write_text("")
        (work / "out").mkdir()
        env = {"AWS_ENDPOINT_URL": s3.url, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
               "AWS_CONFIG_FILE": str(config), "AWS_SHARED_CREDENTIALS_FILE": str(config)}
        args = ["release", f"s3://{BUCKET}", "--release", "v1.0.0", "--region", "cn-north-1", "--bucket", "my-cn-bucket",
                "--out-dir", "out/cn", "--report", "out/r.md", "--cache-dir", "cache", "--s3-timeout", "1", *extra]
        if check:
            args.append("--check")
        return Run(args, expect, writes=[Path("out/r.md"), *([] if check else [Path("out/cn")])], caches=[Path("cache")], env=env,
                   timeout=120)
    return build


def probes() -> list[Probe]:
    result = []
    for name, change, expect, extra in _cases():
        result.append(Probe("s3", name, _build(change, expect, extra, check=False)))
        result.append(Probe("s3", f"{name} (--check)", _build(change, expect, extra, check=True)))
    return result

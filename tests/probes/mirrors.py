"""Hostile local mirrors of a release bucket: keys that climb out, links, loops, missing and odd objects.

Each runs `release <mirror> --release v1 --region cn-north-1 --bucket my-cn-bucket --out-dir out/cn
--report out/report.md` (and a few with odd `--release` names or output places).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from .runner import Expect, Probe, Run

BUCKET = "panther-enterprise-us-west-1"
HOST = f"https://{BUCKET}.s3.us-west-1.amazonaws.com"
TOPIC = "  Topic:\n    Type: AWS::SNS::Topic\n"


def stack(url: str, name: str = "Child") -> str:
    return f"  {name}:\n    Type: AWS::CloudFormation::Stack\n    Properties:\n      TemplateURL: {url}\n"


def root(*resources: str) -> str:
    return "Resources:\n" + "".join(resources)


Layout = dict[str, str | bytes | tuple[str, str]]  # key -> content, or ("link", target)


def _cases() -> list[tuple[str, Layout, Expect]]:
    chain = {f"v1/c{i}.yml": root(stack(f"{HOST}/v1/c{i + 1}.yml")) for i in range(40)}
    chain["v1/c40.yml"] = root(TOPIC)
    return [
        ("a plain release", {"v1/panther.yml": root(TOPIC)}, "ok"),
        ("no root", {"v1/other.yml": root(TOPIC)}, "error"),
        ("an empty root", {"v1/panther.yml": ""}, "error"),
        ("a root that is not a template", {"v1/panther.yml": "hello\n"}, "error"),
        ("a root of bad YAML", {"v1/panther.yml": "Resources: [\n"}, "error"),
        ("a root that is a folder", {"v1/panther.yml/x": root(TOPIC)}, "error"),
        ("a child that climbs out", {"v1/panther.yml": root(stack(f"{HOST}/../../../../home/.bashrc")),
                                     "../../../../home/.bashrc": root(TOPIC)}, "error"),
        ("a child that climbs out, URL-encoded", {"v1/panther.yml": root(stack(f"{HOST}/%2e%2e/%2e%2e/%2e%2e/home/.bashrc"))}, "error"),
        ("a child with a backslash", {"v1/panther.yml": root(stack(f"{HOST}/v1\\..\\..\\x.yml"))}, "error"),
        ("a child with a NUL", {"v1/panther.yml": root(stack(f"{HOST}/v1/a%00b.yml"))}, "error"),
        ("a missing child", {"v1/panther.yml": root(stack(f"{HOST}/v1/missing.yml"))}, "error"),
        ("a child of bad YAML", {"v1/panther.yml": root(stack(f"{HOST}/v1/c.yml")), "v1/c.yml": "Resources: [\n"}, "error"),
        ("a child that is a folder", {"v1/panther.yml": root(stack(f"{HOST}/v1/c")), "v1/c/x": "x"}, "error"),
        ("a nesting loop", {"v1/panther.yml": root(stack(f"{HOST}/v1/a.yml")), "v1/a.yml": root(stack(f"{HOST}/v1/b.yml")),
                            "v1/b.yml": root(stack(f"{HOST}/v1/a.yml"))}, "error"),
        ("a root nesting itself", {"v1/panther.yml": root(stack(f"{HOST}/v1/panther.yml"))}, "error"),
        ("a chain of 40 children", {"v1/panther.yml": root(stack(f"{HOST}/v1/c0.yml")), **chain}, "either"),
        ("a child that is a link out of the mirror", {"v1/panther.yml": root(stack(f"{HOST}/v1/c.yml")),
                                                      "v1/c.yml": ("link", "../../../../../home/.bashrc")}, "error"),
        ("a root that is a link out of the mirror", {"v1/panther.yml": ("link", "../../../../../home/.bashrc")}, "error"),
        ("a release folder that is a link", {"v0/panther.yml": root(TOPIC), "v1": ("link", "v0")}, "either"),
        ("a link loop", {"v1/panther.yml": ("link", "panther.yml")}, "error"),
        ("a child on a foreign host", {"v1/panther.yml": root(stack("https://evil.example.com/v1/c.yml"))}, "either"),
        ("a child in another global bucket", {"v1/panther.yml": root(stack("https://other-bucket.s3.amazonaws.com/v1/c.yml"))}, "either"),
        ("a child over file://", {"v1/panther.yml": root(stack("file:///etc/passwd"))}, "either"),
        ("a child over http", {"v1/panther.yml": root(stack(f"http://{BUCKET}.s3.us-west-1.amazonaws.com/v1/c.yml")),
                               "v1/c.yml": root(TOPIC)}, "either"),
        ("a child with a query", {"v1/panther.yml": root(stack(f"{HOST}/v1/c.yml?versionId=1")), "v1/c.yml": root(TOPIC)}, "either"),
        ("a 1,100-character key", {"v1/panther.yml": root(stack(f"{HOST}/v1/{'k' * 1100}.yml"))}, "error"),
        ("a key of Unicode", {"v1/panther.yml": root(stack(f"{HOST}/v1/ü%E2%80%AE.yml")), "v1/ü\u202e.yml": root(TOPIC)}, "either"),
        ("an asset key that climbs out", {"v1/panther.yml": root(
            "  F:\n    Type: AWS::Lambda::Function\n    Properties:\n      Runtime: python3.12\n      Handler: h\n      Role: r\n"
            f"      Code:\n        S3Bucket: {BUCKET}\n        S3Key: ../../../../home/.bashrc\n")}, "error"),
        ("a missing asset", {"v1/panther.yml": root(
            "  F:\n    Type: AWS::Lambda::Function\n    Properties:\n      Runtime: python3.12\n      Handler: h\n      Role: r\n"
            f"      Code:\n        S3Bucket: {BUCKET}\n        S3Key: 0123456789abcdef0123456789abcdef01234567\n")}, "error"),
        ("an asset that is a link out", {"v1/panther.yml": root(
            "  F:\n    Type: AWS::Lambda::Function\n    Properties:\n      Runtime: python3.12\n      Handler: h\n      Role: r\n"
            f"      Code:\n        S3Bucket: {BUCKET}\n        S3Key: abc\n"), "abc": ("link", "../../../../home/.bashrc")}, "error"),
        ("a child through !Sub of a parameter", {"v1/panther.yml": "Parameters:\n  Base:\n    Type: String\n    Default: v1\n" + root(
            stack(f"!Sub {HOST}/${{Base}}/c.yml")), "v1/c.yml": root(TOPIC)}, "either"),
        ("a child under !If", {"v1/panther.yml": "Conditions:\n  C: !Equals [a, b]\n" + root(
            stack(f"!If [C, {HOST}/v1/a.yml, {HOST}/v1/b.yml]")), "v1/a.yml": root(TOPIC), "v1/b.yml": root(TOPIC)}, "either"),
        ("an AWS::Include", {"v1/panther.yml": root(TOPIC) + f"Transform:\n  Name: AWS::Include\n  Parameters:\n    Location: s3://{BUCKET}/v1/i.yml\n"},
         "either"),
    ]


def _build_mirror(mirror: Path, layout: Layout) -> None:
    for key, content in layout.items():
        path = mirror / key
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, tuple):
            os.symlink(content[1], path)
        else:
            path.write_bytes(content.encode() if isinstance(content, str) else content)


def _release(layout: Layout, expect: Expect, *, release: str = "v1", out: str = "out/cn", report: str = "out/report.md",
             extra: tuple[str, ...] = ()) -> Callable[[Path], Run]:
    def build(work: Path) -> Run:
        _build_mirror(work / "mirror" / BUCKET, layout)
        (work / "out").mkdir(exist_ok=True)
        return Run(["release", f"mirror/{BUCKET}", "--release", release, "--region", "cn-north-1", "--bucket", "my-cn-bucket",
                    "--out-dir", out, "--report", report, *extra], expect,
                   writes=[Path(report)] if "--check" in extra else [Path(out), Path(report)], timeout=120)
    return build


def probes() -> list[Probe]:
    result = [Probe("mirrors", name, _release(layout, expect)) for name, layout, expect in _cases()]
    plain: Layout = {"v1/panther.yml": root(TOPIC), "v2/panther.yml": root(TOPIC)}
    for release in ("../../../../home", "/etc", "v1/../../..", "", ".", "v1/", "v1\n", "-v1", "v*", "v1/panther.yml"):
        result.append(Probe("mirrors", f"--release {release!r}", _release(plain, "either" if release in ("v1/",) else "error",
                                                                           release=release)))
    for out, report in ((f"mirror/{BUCKET}/x", "out/r.md"), (f"mirror/{BUCKET}/v1", "out/r.md"), ("out/cn", f"mirror/{BUCKET}/v1/panther.yml"),
                        ("out/cn", "out/cn"), ("out/cn", "out/cn/v1/panther.yml"), ("..", "out/r.md")):
        result.append(Probe("mirrors", f"--out-dir {out} --report {report}", _release(plain, "error", out=out, report=report)))
    result.append(Probe("mirrors", "--check writes nothing", _release(plain, "ok", extra=("--check",))))
    return result

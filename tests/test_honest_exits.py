"""Honest exits (issue 26): every output or none, and an error line that says which.

A lone surrogate (only a JSON template can hold one, as `\\udc80`) quoted by the patch and
the report; a report that cannot be written stops a release before its out-dir is
published.  Each runs the command in its own process under a 1 GiB address-space limit.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
from pathlib import Path

import jsonpatch

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "examples" / "release" / "panther-enterprise-us-west-1"
GIB = 1 << 30
RELEASE = ("--release", "v1.0.0", "--region", "cn-north-1", "--bucket", "my-cn-bucket", "--jobs", "1")


def run(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """The command line of this checkout in a new process under a 1 GiB address-space limit."""
    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (GIB, GIB))

    environment = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH", "")]))}
    return subprocess.run([sys.executable, "-m", "panther_cn_transform", *map(str, args)], capture_output=True, text=True,
                          check=False, timeout=300, cwd=cwd, env=environment, preexec_fn=limit)


def error_line(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 2, (done.returncode, done.stderr)
    lines = [line for line in done.stderr.splitlines() if not line.startswith("warning: ")]
    assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    assert "internal error" not in done.stderr and "Traceback" not in done.stderr, done.stderr
    return lines[0]


SURROGATE_TEMPLATE = ('{"Resources": {"B": {"Type": "AWS::S3::Bucket", "Properties": {"Tags": '
                      '[{"Key": "a", "Value": "arn:aws:s3:::x\\udc80"}]}}}}\n')


def test_a_lone_surrogate_in_a_changed_value_is_escaped_in_the_patch_and_every_report(tmp_path: Path) -> None:
    template = tmp_path / "t.json"
    template.write_text(SURROGATE_TEMPLATE, "ascii")
    for suffix in (".json", ".md", ".txt", ".sarif"):
        out, patch, report = tmp_path / "o.json", tmp_path / "p.json", tmp_path / f"r{suffix}"
        done = run("transform", template, "-o", out, "--patch", patch, "--report", report, "--rules", "china",
                   "--region", "cn-north-1")
        assert done.returncode == 0, done.stderr
        for written in (out, patch, report):
            written.read_bytes().decode("utf-8")  # every output is valid UTF-8
        # the patch keeps the value: applied to the parsed input it gives the parsed output, surrogate included
        parsed = jsonpatch.apply_patch(json.loads(SURROGATE_TEMPLATE), json.loads(patch.read_text("utf-8")))
        assert parsed == json.loads(out.read_text("utf-8"))
        assert parsed["Resources"]["B"]["Properties"]["Tags"][0]["Value"] == "arn:aws-cn:s3:::x\udc80"
        if suffix == ".json":
            # the JSON report parses back to the value itself
            assert "arn:aws-cn:s3:::x\udc80" in json.dumps(json.loads(report.read_text("utf-8")), ensure_ascii=False)
        elif suffix != ".sarif":
            assert "arn:aws-cn:s3:::x\\udc80" in report.read_text("utf-8")


def test_a_patch_that_cannot_be_written_leaves_no_output_of_a_single_template(tmp_path: Path) -> None:
    template = tmp_path / "t.json"
    template.write_text(SURROGATE_TEMPLATE, "ascii")
    done = run("transform", template, "-o", tmp_path / "o.json", "--report", tmp_path / "r.md", "--patch", "/dev/full",
               "--rules", "china", "--region", "cn-north-1")
    assert "/dev/full: cannot write: No space left on device" in error_line(done)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.json"]


def test_a_report_on_a_full_device_stops_a_release_before_its_out_dir_is_published(tmp_path: Path) -> None:
    out = tmp_path / "cn"
    done = run("release", EXAMPLE, *RELEASE, "--out-dir", out, "--report", "/dev/full")
    assert "/dev/full: cannot write: No space left on device" in error_line(done)
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # no out-dir, no staging, no lock left published


def test_a_report_too_large_to_write_stops_a_release_before_its_out_dir_is_published(tmp_path: Path) -> None:
    """A file size limit under the report's size and over every object's: the report fails mid-write, like a full disk."""
    out, report = tmp_path / "cn", tmp_path / "report.md"

    def small_files() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (GIB, GIB))
        resource.setrlimit(resource.RLIMIT_FSIZE, (12000, 12000))
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG instead of killing

    environment = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH", "")]))}
    done = subprocess.run([sys.executable, "-m", "panther_cn_transform", "release", str(EXAMPLE), *RELEASE, "--out-dir", str(out),
                           "--report", str(report)], capture_output=True, text=True, check=False, timeout=300,
                          env=environment, preexec_fn=small_files)
    line = error_line(done)
    assert "report.md: cannot write: File too large" in line and "the release was" not in line
    assert [p.name for p in tmp_path.iterdir() if not p.name.startswith(".cn.")] == []  # neither the out-dir nor the report
    # the same run with room for the report publishes both
    assert run("release", EXAMPLE, *RELEASE, "--out-dir", out, "--report", report).returncode == 0
    assert (out / "manifest.json").is_file() and report.read_text().startswith("#")


def test_a_project_whose_patch_cannot_be_written_publishes_no_out_dir_and_no_report(tmp_path: Path) -> None:
    project = REPO / "examples" / "project" / "quickstart"
    out, report = tmp_path / "cn", tmp_path / "report.md"
    done = run("transform", project, "--rules", "china", "--region", "cn-north-1", "--bucket", "my-cn-bucket",
               "--out-dir", out, "--report", report, "--patch", "/dev/full")
    assert "/dev/full: cannot write: No space left on device" in error_line(done)
    assert [p.name for p in tmp_path.iterdir() if not p.name.startswith(".cn.")] == []
    done = run("transform", project, "--rules", "china", "--region", "cn-north-1", "--bucket", "my-cn-bucket",
               "--out-dir", out, "--report", report, "--patch", tmp_path / "patch.json")
    assert done.returncode == 0, done.stderr
    assert out.is_dir() and report.is_file() and json.loads((tmp_path / "patch.json").read_text())

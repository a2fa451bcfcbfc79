"""Honest errors at the command line's edges (issue 26): one line each, never an internal error, never a hang.

Control characters in what is printed, a name too long for the file system, standard
output closed, a regular file under /dev, a FIFO nobody reads, and rule files whose ids
collide or whose `disable:` names nothing.  Each runs the command in its own process
under a 1 GiB address-space limit and a timeout.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
TOPIC = REPO / "examples" / "errors" / "topic.yaml"
EXAMPLE = REPO / "examples" / "release" / "panther-enterprise-us-west-1"
GIB = 1 << 30
TRANSFORM = ("--region", "cn-north-1", "--bucket", "my-cn-bucket")


def run(*args: str | Path, cwd: Path | None = None, timeout: float = 120, close_stdout: bool = False) -> subprocess.CompletedProcess[str]:
    """The command line of this checkout in a new process under a 1 GiB address-space limit."""
    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (GIB, GIB))
        if close_stdout:
            os.close(1)

    environment = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH", "")]))}
    return subprocess.run([sys.executable, "-m", "panther_cn_transform", *map(str, args)], capture_output=not close_stdout,
                          stderr=subprocess.PIPE if close_stdout else None, text=True, check=False, timeout=timeout,
                          cwd=cwd, env=environment, preexec_fn=limit)


def one_line(done: subprocess.CompletedProcess[str], *fragments: str) -> str:
    assert done.returncode == 2, (done.returncode, done.stderr)
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("error: "), done.stderr
    assert "internal error" not in done.stderr and "Traceback" not in done.stderr, done.stderr
    for fragment in fragments:
        assert fragment in done.stderr, done.stderr
    return done.stderr.rstrip("\n")


def test_control_characters_in_names_and_values_are_escaped_in_the_one_error_line(tmp_path: Path) -> None:
    one_line(run("transform", "a\nb.yaml", *TRANSFORM, cwd=tmp_path), "error: a\\nb.yaml: cannot read")
    one_line(run("transform", TOPIC, *TRANSFORM, "--rules", "evil\x1b[31m\r.yml", cwd=tmp_path),
             "error: evil\\x1b[31m\\r.yml: rule file not found")
    rules = tmp_path / "line\u2028break.yml"
    rules.write_text("version: 1\nname: x\nrules: [\n")
    one_line(run("rules", "check", rules, cwd=tmp_path), "line\\u2028break.yml")


def test_an_out_dir_name_too_long_for_the_file_system_is_a_one_line_error(tmp_path: Path) -> None:
    done = run("release", EXAMPLE, "--release", "v1.0.0", *TRANSFORM, "--out-dir", "a" * 300, cwd=tmp_path)
    one_line(done, "the output folder's name is 300 bytes")
    done = run("release", EXAMPLE, "--release", "v1.0.0", *TRANSFORM, "--out-dir", "a" * 300 + "/cn", cwd=tmp_path)
    one_line(done, "File name too long")
    assert list(tmp_path.iterdir()) == []


def test_standard_output_closed_is_a_one_line_error(tmp_path: Path) -> None:
    one_line(run("transform", TOPIC, *TRANSFORM, close_stdout=True, cwd=tmp_path), "<stdout>: cannot write: standard output is closed")
    one_line(run("rules", "docs", close_stdout=True, cwd=tmp_path), "standard output is closed")


@pytest.mark.skipif(not Path("/dev/shm").is_dir(), reason="no /dev/shm on this system")
def test_a_regular_file_under_dev_is_replaced_atomically_not_written_in_place(tmp_path: Path) -> None:
    expected = tmp_path / "expected.yaml"
    assert run("transform", TOPIC, *TRANSFORM, "-o", expected).returncode == 0
    target = Path("/dev/shm") / f"panther-cn-transform-{uuid.uuid4().hex}.yaml"
    try:
        target.write_bytes(b"#" * 200_000)  # longer than the output: written in place, its tail would stay
        before = target.stat().st_ino
        done = run("transform", TOPIC, *TRANSFORM, "-o", target)
        assert done.returncode == 0, done.stderr
        assert target.read_bytes() == expected.read_bytes() and target.stat().st_ino != before
    finally:
        target.unlink(missing_ok=True)


def test_a_fifo_nobody_reads_fails_in_one_line_within_a_bound_and_one_read_late_is_written(tmp_path: Path) -> None:
    fifo = tmp_path / "out.fifo"
    os.mkfifo(fifo)
    started = time.monotonic()
    done = run("transform", TOPIC, *TRANSFORM, "-o", fifo, timeout=120)
    one_line(done, "cannot write: no process read this FIFO within 10 s")
    assert time.monotonic() - started < 60  # 10 s bound; the margin holds at load 8
    received: list[bytes] = []

    def late_reader() -> None:
        time.sleep(1)
        with open(fifo, "rb") as reader:
            received.append(reader.read())

    reader = threading.Thread(target=late_reader)
    reader.start()
    done = run("transform", TOPIC, *TRANSFORM, "-o", fifo, timeout=120)
    reader.join(timeout=60)
    assert done.returncode == 0, done.stderr
    assert received and b"AWS::SNS::Topic" in received[0]


def test_two_rules_with_one_id_in_a_file_are_an_error_naming_both_lines(tmp_path: Path) -> None:
    rules = tmp_path / "twice.yml"
    rules.write_text(
        "version: 1\nname: twice\nextends: china\nrules:\n"
        "  - id: mine\n    description: first\n    action: rewrite_partition\n"
        "  - id: mine\n    description: second\n    action: rewrite_partition\n"
    )
    for done in (run("rules", "check", rules), run("transform", TOPIC, *TRANSFORM, "--rules", rules)):
        one_line(done, f"error: {rules}:8: rules/1/id: rule id 'mine' is given twice in this file (first at line 5)")


def test_disabling_an_unknown_rule_id_is_an_error_naming_the_closest(tmp_path: Path) -> None:
    rules = tmp_path / "typo.yml"
    rules.write_text("version: 1\nname: typo\nextends: china\ndisable:\n  - console-url\nrules: []\n")
    for done in (run("rules", "check", rules), run("transform", TOPIC, *TRANSFORM, "--rules", rules)):
        one_line(done, f"error: {rules}:5: disable/0: unknown rule id 'console-url'", "did you mean 'console-urls'?")
    rules.write_text("version: 1\nname: typo\nextends: china\ndisable: [zzzzzz]\nrules: []\n")
    one_line(run("rules", "check", rules), f"error: {rules}:4: disable/0: unknown rule id 'zzzzzz'", "`rules show` lists them")

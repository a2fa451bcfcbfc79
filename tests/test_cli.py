"""The command line, run as a user runs it: `python -m panther_cn_transform`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonpatch
import pytest

from panther_cn_transform import decode_text

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "global-stack.yaml"


def run(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "panther_cn_transform", *map(str, args)], capture_output=True, text=True, check=False, cwd=cwd
    )


def test_transform_to_stdout_with_json_report_and_patch(tmp_path: Path) -> None:
    report, patch = tmp_path / "r.json", tmp_path / "p.json"
    done = run("transform", EXAMPLE, "--region", "cn-north-1", "--rules", "china", "--report", report, "--patch", patch)
    assert done.returncode == 0, done.stderr
    assert "arn:aws-cn:iam::123456789012:role/deployer" in done.stdout
    data = json.loads(report.read_text())
    assert data["version"] == 1 and data["region"] == "cn-north-1"
    entry = data["templates"][0]
    assert entry["format"] == "yaml" and entry["source"] == str(EXAMPLE)
    assert {c["rule"] for c in entry["changes"]} == {"partition"}
    assert all(set(c) >= {"rule", "op", "path", "old", "new", "reason"} for c in entry["changes"])
    assert entry["patch"] == json.loads(patch.read_text())
    source = decode_text(EXAMPLE.read_text()).model
    assert jsonpatch.apply_patch(source, entry["patch"]) == decode_text(done.stdout).model


def test_output_file_and_markdown_report(tmp_path: Path) -> None:
    out, report = tmp_path / "out.yaml", tmp_path / "report.md"
    done = run("transform", EXAMPLE, "-o", out, "--region", "cn-northwest-1", "--rules", "china", "--report", report)
    assert done.returncode == 0 and done.stdout == ""
    assert "arn:aws:" not in decode_text(out.read_text()).model.__repr__()
    assert report.read_text().startswith("# China transform report (cn-northwest-1)")


def test_check_exits_1_when_changes_and_writes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "out.yaml"
    done = run("transform", EXAMPLE, "-o", out, "--region", "cn-north-1", "--rules", "china", "--check")
    assert done.returncode == 1 and not out.exists()
    clean = tmp_path / "clean.yaml"
    clean.write_text("Resources:\n  R:\n    Type: AWS::SNS::Topic\n")
    assert run("transform", clean, "--region", "cn-north-1", "--rules", "china", "--check").returncode == 0


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("Resources:\n  R:\n    Type: T\n  R:\n    Type: U\n", "bad.yaml:4:3: duplicate key 'R'"),
        ("Resources:\n  R: [x\n", "bad.yaml:3:1: malformed YAML"),
        ("Description: x\n", "bad.yaml:1: not a CloudFormation template"),
        ('{"Resources": {,}}', "bad.yaml:1:16: invalid JSON"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_output_untouched(tmp_path: Path, content: str, expected: str) -> None:
    bad, out = tmp_path / "bad.yaml", tmp_path / "out.yaml"
    bad.write_text(content)
    out.write_text("previous result\n")
    done = run("transform", "bad.yaml", "-o", out, "--region", "cn-north-1", cwd=tmp_path)
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1 and done.stderr.startswith(f"error: {expected}")
    assert expected in done.stderr and "Traceback" not in done.stderr
    assert out.read_text() == "previous result\n" and bad.read_text() == content
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.yaml", "out.yaml"]  # no temp files left


def test_unreadable_and_missing_files(tmp_path: Path) -> None:
    done = run("transform", tmp_path / "missing.yaml", "--region", "cn-north-1")
    assert done.returncode == 2 and "missing.yaml: cannot read" in done.stderr and "Traceback" not in done.stderr
    done = run("transform", tmp_path, "--region", "cn-north-1")  # a folder is a project: it needs an out-dir
    assert done.returncode == 2 and "give --out-dir (project mode) or --check" in done.stderr


def test_console_script_and_module_are_the_same_command() -> None:
    from panther_cn_transform import cli

    assert run("--help").returncode == 0
    assert cli.main_exit.__module__ == "panther_cn_transform.cli"


def test_rules_show_prints_effective_rules() -> None:
    done = run("rules", "show", "--rules", "panther")
    assert done.returncode == 0 and "id: partition" in done.stdout


def test_the_command_runs_no_cyclic_collection_and_restores_the_collector(tmp_path: Path) -> None:
    import gc
    import traceback

    from panther_cn_transform.cli import main

    template = tmp_path / "t.yaml"
    template.write_text("Resources:\n  T:\n    Type: AWS::SNS::Topic\n    Properties: {KmsMasterKeyId: 'arn:aws:kms:cn-north-1:1:key/k'}\n")
    collections: list[int] = []

    def count(phase: str, info: dict[str, int]) -> None:
        if phase == "start" and any(frame.name == "_run" for frame in traceback.extract_stack()):
            collections.append(info["generation"])  # a collection while the command runs

    assert gc.isenabled()
    gc.callbacks.append(count)
    try:
        code = main(["transform", str(template), "-o", str(tmp_path / "o.yaml"), "--region", "cn-north-1", "--rules", "china",
                     "--report", str(tmp_path / "r.json"), "--patch", str(tmp_path / "p.json")])
    finally:
        gc.callbacks.remove(count)
    assert code == 0 and (tmp_path / "o.yaml").read_text().count("arn:aws-cn:") == 1
    assert collections == []  # the whole command, report and patch included, without a scan of the heap
    assert gc.isenabled()

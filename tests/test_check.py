"""`transform --check` over several files, as a pre-commit hook or a CI job gives them (docs/projects.md)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "examples" / "global-stack.yaml"
#: this checkout's package, also from another working directory
ENVIRONMENT = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH", "")]))}
CHINA = ("--rules", "china", "--region", "cn-north-1")
CLEAN = "Resources:\n  Topic:\n    Type: AWS::SNS::Topic\n"
README = "# China templates\n\nPorted with panther-cn-transform: see [the docs](docs/).\n- one\n\nkey: value [\n"
WORKFLOW = "name: ci\non: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n"


def check(folder: Path, *files: str, extra: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "panther_cn_transform", "transform", *files, "--check", *CHINA, *extra],
                          capture_output=True, text=True, check=False, cwd=folder, env=ENVIRONMENT)


def layout(folder: Path) -> dict[str, str]:
    files = {"cn/drifted.yaml": EXAMPLE.read_text("utf-8"), "cn/clean.yaml": CLEAN, "cn/README.md": README,
             "cn/workflow.yml": WORKFLOW}
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text, "utf-8")
    return files


def snapshot(folder: Path) -> dict[str, bytes]:
    return {path.relative_to(folder).as_posix(): path.read_bytes() for path in sorted(folder.rglob("*")) if path.is_file()}


def test_several_files_exit_1_listing_the_templates_that_would_change_and_skipping_the_rest(tmp_path: Path) -> None:
    layout(tmp_path)
    before = snapshot(tmp_path)
    done = check(tmp_path, "cn/drifted.yaml", "cn/clean.yaml", "cn/README.md", "cn/workflow.yml")
    assert done.returncode == 1, done.stderr
    lines = done.stderr.splitlines()
    assert "cn/drifted.yaml: would change (5 change(s))" in lines
    assert not any(line.startswith("cn/clean.yaml:") for line in lines)
    assert any(line.startswith("note: cn/README.md: skipped, not a CloudFormation template (malformed YAML") for line in lines)
    assert "note: cn/workflow.yml: skipped, not a CloudFormation template (no Resources section)" in lines
    assert lines[-1] == "1 of 2 template(s) would change; 2 file(s) skipped, not templates"
    assert done.stdout == "" and snapshot(tmp_path) == before  # nothing written


def test_clean_templates_and_files_that_are_not_templates_exit_0(tmp_path: Path) -> None:
    layout(tmp_path)
    done = check(tmp_path, "cn/clean.yaml", "cn/README.md", "cn/workflow.yml")
    assert done.returncode == 0, done.stderr
    assert done.stderr.splitlines()[-1] == "0 of 1 template(s) would change; 2 file(s) skipped, not templates"
    alone = check(tmp_path, "cn/README.md")  # pre-commit gives a hook one file when one is staged
    assert alone.returncode == 0 and "skipped, not a CloudFormation template" in alone.stderr


def test_a_template_that_does_not_decode_is_an_error_not_a_skip(tmp_path: Path) -> None:
    layout(tmp_path)
    (tmp_path / "cn" / "broken.yaml").write_text("AWSTemplateFormatVersion: '2010-09-09'\nResources:\n  Topic: [x\n")
    done = check(tmp_path, "cn/clean.yaml", "cn/broken.yaml")
    assert done.returncode == 2
    assert done.stderr.splitlines() == ["error: cn/broken.yaml:4:1: malformed YAML: did not find expected ',' or ']'"]
    json_template = tmp_path / "cn" / "broken.json"
    json_template.write_text('{"Resources": {,}}')
    done = check(tmp_path, "cn/broken.json")
    assert done.returncode == 2 and done.stderr.startswith("error: cn/broken.json:1:") and "Traceback" not in done.stderr


def test_several_files_need_check_and_standard_input_is_read_once(tmp_path: Path) -> None:
    layout(tmp_path)
    done = subprocess.run([sys.executable, "-m", "panther_cn_transform", "transform", "cn/drifted.yaml", "cn/clean.yaml", *CHINA],
                          capture_output=True, text=True, check=False, cwd=tmp_path, env=ENVIRONMENT)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.splitlines() == [
        "error: <command line>: 2 templates given: several are transformed together with --out-dir (project mode), or checked with --check"]
    done = check(tmp_path, "-", "-")
    assert done.returncode == 2 and "standard input (-) given more than once" in done.stderr


def test_one_report_covers_the_templates_checked_and_is_the_only_file_written(tmp_path: Path) -> None:
    layout(tmp_path)
    done = check(tmp_path, "cn/drifted.yaml", "cn/clean.yaml", "cn/README.md", extra=("--report", "report.json", "-o", "out.yaml"))
    assert done.returncode == 1, done.stderr
    report = json.loads((tmp_path / "report.json").read_text("utf-8"))
    assert [(t["source"], t["changed"]) for t in report["templates"]] == [("cn/drifted.yaml", True), ("cn/clean.yaml", False)]
    assert report["summary"]["templates"] == 2 and report["summary"]["changed"] == 1
    assert not (tmp_path / "out.yaml").exists()
    one = check(tmp_path, "cn/clean.yaml", extra=("--report", "one.sarif"))  # one file: the report is written too
    assert one.returncode == 0 and json.loads((tmp_path / "one.sarif").read_text("utf-8"))["version"] == "2.1.0"

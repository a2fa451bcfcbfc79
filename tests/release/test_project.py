"""Project mode: a repository's templates in one call, nested stacks found among them, children first, one out-dir."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from panther_cn_transform import Limits, decode_text, load_rules, read_template, transform
from panther_cn_transform.release.project import PROJECT_RULE, expand_inputs, read_project, transform_project

from ..corpus import CORPUS

PROJECTS = CORPUS / "projects"
MOODLE = PROJECTS / "aws-refarch-moodle" / "templates"
UTILITY_METER = PROJECTS / "quickstart-aws-utility-meter-data-analytics-platform" / "templates"
ROOT = Path(__file__).resolve().parents[2]


def run(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """The command as a user runs it, with this checkout's package (also from another working folder)."""
    return subprocess.run([sys.executable, "-m", "panther_cn_transform", *map(str, args)], capture_output=True,
                          text=True, check=False, cwd=cwd, env={**os.environ, "PYTHONPATH": str(ROOT)})


def _stacks(model: dict[str, object]) -> set[str]:
    resources = model.get("Resources")
    assert isinstance(resources, dict)
    return {name for name, resource in resources.items() if resource.get("Type") == "AWS::CloudFormation::Stack"}


@pytest.mark.parametrize(("folder", "roots"), [(MOODLE, ["00-master.yaml", "04-efsalarms.yaml"]),
                                               (UTILITY_METER, ["main.template.yaml"])], ids=["moodle", "utility-meter"])
def test_every_nested_stack_of_a_corpus_project_is_found(folder: Path, roots: list[str]) -> None:
    base, files = expand_inputs([folder])
    project = read_project(files, Limits())
    assert project.roots == roots and not project.unmatched
    for file in files:
        model = read_template(file.path).model
        assert set(project.tree.templates[file.key].children) == _stacks(model), file.key
    assert base == folder


@pytest.mark.parametrize("folder", [MOODLE, UTILITY_METER], ids=["moodle", "utility-meter"])
def test_a_project_gives_the_per_file_outputs_and_points_nested_templates_at_the_bucket(folder: Path) -> None:
    rules = load_rules("china")
    alone = {file.key: transform(read_template(file.path), rules, region="cn-north-1") for file in expand_inputs([folder])[1]}
    plain = transform_project([folder], rules=rules, region="cn-north-1", check=True)
    assert plain.texts == {key: result.text for key, result in alone.items()}  # no bucket: exactly the per-file runs
    moved = transform_project([folder], rules=rules, region="cn-north-1", bucket="my-cn-bucket", check=True)
    for key, result in alone.items():
        entry = next(e for e in moved.report["templates"] if e["source"].endswith(key))
        ours = [(c["path"], c["new"]) for c in entry["changes"] if c["rule"] != PROJECT_RULE]
        assert ours == [(e.pointer, e.value) for e in result.edits], key
        model = decode_text(moved.texts[key]).model
        for name in _stacks(model):
            url = str(model["Resources"][name]["Properties"]["TemplateURL"])
            assert "my-cn-bucket" in url or "my-cn-bucket" in str(model.get("Parameters", {})), (key, name, url)
    assert moved.report["project"]["upload_prefixes"]


CHILD = """\
Resources:
  Pool:
    Type: AWS::Cognito::UserPool
  Topic:
    Type: AWS::SNS::Topic
Outputs:
  PoolId:
    Value: !Ref Pool
  TopicArn:
    Value: !Ref Topic
"""
PARENT = """\
Resources:
  Child:
    Type: AWS::CloudFormation::Stack
    Properties:
      TemplateURL: ./nested/child.yaml
  Fn:
    Type: AWS::Lambda::Function
    Properties:
      Role: arn:aws:iam::123456789012:role/r
      Code: {ZipFile: x}
      Handler: index.handler
      Runtime: python3.12
      Environment:
        Variables:
          POOL: !GetAtt Child.Outputs.PoolId
          TOPIC: !GetAtt Child.Outputs.TopicArn
"""


def _package_layout(tmp_path: Path) -> Path:
    folder = tmp_path / "repo"
    (folder / "nested").mkdir(parents=True)
    (folder / "main.yaml").write_text(PARENT)
    (folder / "nested" / "child.yaml").write_text(CHILD)
    (folder / "README.md").write_text("# not a template\n")
    (folder / "notes.yml").write_text("title: not a template\n")
    return folder


def test_a_parent_reading_an_output_its_child_lost_is_repaired_and_relative_urls_stay(tmp_path: Path) -> None:
    folder = _package_layout(tmp_path)
    alone = transform(read_template(folder / "main.yaml"), load_rules("china"), region="cn-north-1")
    assert any(w.rule == "nested-outputs-unchecked" for w in alone.warnings)  # alone, it cannot know
    done = run("transform", folder, "--rules", "china", "--region", "cn-north-1", "--out-dir", tmp_path / "cn",
               "--report", tmp_path / "report.json")
    assert done.returncode == 0, done.stderr
    main = decode_text((tmp_path / "cn" / "main.yaml").read_text()).model
    child = decode_text((tmp_path / "cn" / "nested" / "child.yaml").read_text()).model
    assert "Pool" not in child["Resources"] and "PoolId" not in child["Outputs"]
    variables = main["Resources"]["Fn"]["Properties"]["Environment"]["Variables"]
    assert variables["TOPIC"] == {"Fn::GetAtt": ["Child", "Outputs.TopicArn"]}
    assert variables["POOL"] != {"Fn::GetAtt": ["Child", "Outputs.PoolId"]}  # repaired, not left to fail at deploy
    assert main["Resources"]["Child"]["Properties"]["TemplateURL"] == "./nested/child.yaml"
    assert sorted(p.name for p in (tmp_path / "cn").rglob("*") if p.is_file()) == ["child.yaml", "main.yaml"]
    assert "not a CloudFormation template, skipped" in done.stderr


def test_check_over_a_folder_lists_what_would_change_and_writes_nothing(tmp_path: Path) -> None:
    folder = _package_layout(tmp_path)
    done = run("transform", folder, "--rules", "china", "--region", "cn-north-1", "--check")
    assert done.returncode == 1 and "main.yaml: would change" in done.stderr and "nested/child.yaml: would change" in done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["repo"]


def test_a_broken_template_in_the_set_writes_nothing(tmp_path: Path) -> None:
    folder = _package_layout(tmp_path)
    (folder / "broken.yaml").write_text("Resources:\n  R: [\n")
    done = run("transform", folder, "--rules", "china", "--region", "cn-north-1", "--out-dir", tmp_path / "cn")
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1 and "broken.yaml" in done.stderr
    assert not (tmp_path / "cn").exists()


def test_globs_are_expanded_on_the_inputs_and_never_on_the_out_dir(tmp_path: Path) -> None:
    folder = _package_layout(tmp_path)
    (tmp_path / "other.partial-x").mkdir()
    done = run("transform", f"{folder}/**/*.yaml", "--rules", "china", "--region", "cn-north-1", "--out-dir",
               tmp_path / "o*")
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "o*" / "main.yaml").is_file() and (tmp_path / "other.partial-x").is_dir()
    assert run("transform", f"{folder}/*.none", "--rules", "china", "--region", "cn-north-1", "--check").returncode == 2


@pytest.mark.parametrize(("args", "expected"), [
    (["-o", "x.yaml"], "-o is for one template"),
    ([], "give --out-dir"),
])
def test_project_mode_refuses_what_it_cannot_do_in_one_line(tmp_path: Path, args: list[str], expected: str) -> None:
    folder = _package_layout(tmp_path)
    done = run("transform", folder, "--rules", "china", "--region", "cn-north-1", *args, cwd=tmp_path)
    assert done.returncode == 2 and expected in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_a_nesting_cycle_and_a_missing_child_are_reported(tmp_path: Path) -> None:
    folder = tmp_path / "cycle"
    folder.mkdir()
    for name, other in (("a.yaml", "b.yaml"), ("b.yaml", "a.yaml")):
        (folder / name).write_text(f"Resources:\n  S:\n    Type: AWS::CloudFormation::Stack\n    Properties:\n"
                                   f"      TemplateURL: ./{other}\n")
    done = run("transform", folder, "--rules", "china", "--region", "cn-north-1", "--check")
    assert done.returncode == 2 and "cycle" in done.stderr
    (folder / "b.yaml").unlink()
    done = run("transform", folder, "--rules", "china", "--region", "cn-north-1", "--check", "--report", "-")
    assert "is none of the project's files" in done.stdout

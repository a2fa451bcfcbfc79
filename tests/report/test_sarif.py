"""`--report-format sarif`: every warning and blocker a SARIF 2.1.0 result at its file, line and column.

The log is validated against the SARIF 2.1.0 JSON schema, formats included (`uri`,
`uri-reference`: rfc3986-validator, a test dependency, makes jsonschema check them).
The schema is tests/data/sarif-2.1.0-rtm.5.json, the final draft of the 2.1.0 standard's
schema (draft-04, as OASIS published it), copied unchanged from the npm package
`@microsoft/jest-sarif` 1.0.0-beta.0 (MIT; `lib/schemas/sarif-2.1.0-rtm.5.json`), whose
matchers validate SARIF logs with it: no Python package ships the schema (sarif-om,
sarif-tools, sarif-pydantic and pysarif hold none).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

from panther_cn_transform import build_report, format_report, load_rules, transform_text

REPO = Path(__file__).resolve().parents[2]
SCHEMA = REPO / "tests" / "data" / "sarif-2.1.0-rtm.5.json"
EXAMPLE = REPO / "examples" / "release" / "panther-enterprise-us-west-1"
#: this checkout's package, also from another working directory
ENVIRONMENT = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH", "")]))}
CHINA = load_rules("china")

TEMPLATE = """\
Resources:
  Fn:
    Type: AWS::Lambda::Function
    Properties:
      Runtime: go1.x
      Handler: main
      Role: !GetAtt Role.Arn
      Code:
        S3Bucket: some-global-bucket-us-east-1
        S3Key: code.zip
  Role:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument: {}
  Topic:
    Type: AWS::SNS::Topic
    Properties:
      KmsMasterKeyId: arn:aws:kms:us-east-1:123456789012:key/abc
"""


@cache
def validator() -> jsonschema.protocols.Validator:
    schema = json.loads(SCHEMA.read_text("utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    assert cls is jsonschema.Draft4Validator
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def assert_valid(log: dict[str, Any]) -> None:
    errors = sorted(validator().iter_errors(log), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:10])


def run(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "panther_cn_transform", *map(str, args)], capture_output=True, text=True,
                          check=False, cwd=cwd, env=ENVIRONMENT)


def test_the_schema_check_itself_refuses_what_sarif_does_not_allow() -> None:
    good = {"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x", "rules": [{"id": "a", "helpUri": "https://a.example/r"}]}},
                                          "results": [{"message": {"text": "m"}, "level": "warning"}]}]}
    assert_valid(good)
    for broken in (
        {**good, "version": "2.0.0"},
        {"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x"}}, "results": [{"message": {"text": "m"}, "level": "fatal"}]}]},
        {"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x", "rules": [{"id": "a", "helpUri": "docs/rules.md#a"}]}}}]},
    ):
        assert list(validator().iter_errors(broken)), broken  # a relative helpUri is not a URI: the formats are checked


def test_each_warning_and_blocker_is_a_result_at_its_line_and_column(tmp_path: Path) -> None:
    (tmp_path / "cn").mkdir()
    (tmp_path / "cn" / "stack.yaml").write_text(TEMPLATE)
    done = run("transform", "cn/stack.yaml", "-o", "out.yaml", "--region", "cn-north-1", "--rules", "china",
               "--report", "report.sarif", cwd=tmp_path)  # the format from the extension
    assert done.returncode == 0, done.stderr
    log = json.loads((tmp_path / "report.sarif").read_text("utf-8"))
    assert_valid(log)
    assert log["version"] == "2.1.0"
    (run_,) = log["runs"]
    assert run_["columnKind"] == "unicodeCodePoints"
    lines = TEMPLATE.splitlines()

    def at(result: dict[str, Any]) -> str:
        (location,) = result["locations"]
        physical = location["physicalLocation"]
        assert physical["artifactLocation"] == {"uri": "cn/stack.yaml"}  # as given: code scanning resolves it in the repository
        region = physical["region"]
        return lines[region["startLine"] - 1][region["startColumn"] - 1:]

    found = {(r["ruleId"], r["level"], at(r).split(":")[0]) for r in run_["results"]}
    assert found == {
        ("s3-assets", "warning", "S3Bucket"),
        ("foreign-arns", "warning", "KmsMasterKeyId"),
        ("blocker-runtime", "error", "Runtime"),
        ("blocker-global-bucket", "error", "S3Bucket"),
        ("blocker-foreign-region", "error", "KmsMasterKeyId"),
    }
    report = build_report([(transform_text(TEMPLATE, CHINA, region="cn-north-1"), None)], region="cn-north-1")
    entry = report["templates"][0]
    assert len(run_["results"]) == len(entry["warnings"]) + len(entry["blockers"])  # every one of them, no more
    runtime = next(r for r in run_["results"] if r["ruleId"] == "blocker-runtime")
    assert runtime["message"]["text"].startswith("runtime go1.x can no longer be created")
    assert runtime["properties"]["pointer"] == "/Resources/Fn/Properties/Runtime"


def test_the_driver_lists_the_rules_with_their_help(tmp_path: Path) -> None:
    (tmp_path / "stack.yaml").write_text(TEMPLATE)
    done = run("transform", "stack.yaml", "--region", "cn-north-1", "--rules", "china", "--report", "-",
               "--report-format", "sarif", "-o", "out.yaml", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    log = json.loads(done.stdout)
    assert_valid(log)
    driver = log["runs"][0]["tool"]["driver"]
    assert driver["name"] == "panther-cn-transform"
    rules = {rule["id"]: rule for rule in driver["rules"]}
    assert [rule.id for rule in CHINA.rules] == [rule["id"] for rule in driver["rules"]][:len(CHINA.rules)]  # the rules that ran
    for result in log["runs"][0]["results"]:
        assert driver["rules"][result["ruleIndex"]]["id"] == result["ruleId"]
    with_source = next(rule for rule in CHINA.rules if rule.source_url)
    assert rules[with_source.id]["helpUri"] == with_source.source_url
    assert f"docs/rules.md#{with_source.action}" in rules[with_source.id]["help"]["text"]
    without = next(rule for rule in CHINA.rules if not rule.source_url)
    assert "helpUri" not in rules[without.id]  # SARIF wants an absolute URI: the docs anchor is in the help
    assert rules[without.id]["properties"]["docs"] == f"docs/rules.md#{without.action}"
    assert rules["blocker-runtime"]["defaultConfiguration"]["level"] == "error"
    assert rules["s3-assets"]["defaultConfiguration"]["level"] == "warning"
    assert not [line for line in done.stderr.splitlines() if line.startswith("warning:")]  # the report on stdout holds them


def test_a_json_template_is_placed_like_yaml_and_the_other_reports_stay_without_places() -> None:
    text = json.dumps({"Resources": {"Fn": {"Type": "AWS::Lambda::Function", "Properties": {
        "Runtime": "go1.x", "Handler": "h", "Role": "r", "Code": {"ZipFile": "x"}}}}}, indent=2)
    result = transform_text(text, CHINA, region="cn-north-1", source="stack.json")
    log = json.loads(format_report(build_report([(result, None)], region="cn-north-1", positions=True), "sarif", rules=CHINA))
    assert_valid(log)
    (runtime,) = log["runs"][0]["results"]
    region = runtime["locations"][0]["physicalLocation"]["region"]
    assert text.splitlines()[region["startLine"] - 1][region["startColumn"] - 1:].startswith('"Runtime": "go1.x"')
    plain = build_report([(result, None)], region="cn-north-1")  # places cost a JSON template its node tree: asked for only
    assert "line" not in plain["templates"][0]["blockers"][0]


def test_standard_input_has_no_path_but_keeps_its_lines(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "panther_cn_transform", "transform", "-", "--region", "cn-north-1", "--rules",
                           "china", "--report", "r.sarif", "-o", "out.yaml"], input=TEMPLATE, capture_output=True, text=True,
                          check=False, cwd=tmp_path, env=ENVIRONMENT)
    assert done.returncode == 0, done.stderr
    log = json.loads((tmp_path / "r.sarif").read_text("utf-8"))
    assert_valid(log)
    physical = log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]
    assert physical["artifactLocation"] == {"description": {"text": "standard input"}} and physical["region"]["startLine"] > 1


def test_a_release_report_in_sarif_places_results_under_the_source_bucket(tmp_path: Path) -> None:
    done = run("release", EXAMPLE, "--release", "v1.0.0", "--region", "cn-north-1", "--bucket", "my-cn-bucket", "--check",
               "--report", "report.sarif", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    log = json.loads((tmp_path / "report.sarif").read_text("utf-8"))
    assert_valid(log)
    (run_,) = log["runs"]
    assert run_["originalUriBaseIds"]["SOURCE"]["uri"] == "s3://panther-enterprise-us-west-1/"
    assert run_["results"], "the example release has warnings"
    root = (EXAMPLE / "v1.0.0" / "panther.yml").read_text("utf-8").splitlines()
    for result in run_["results"]:
        physical = result["locations"][0]["physicalLocation"]
        assert physical["artifactLocation"]["uriBaseId"] == "SOURCE"
        key = physical["artifactLocation"]["uri"]
        text = root if key == "v1.0.0/panther.yml" else (EXAMPLE / key).read_text("utf-8").splitlines()
        assert 1 <= physical["region"]["startLine"] <= len(text)

"""The operator's report: blockers first, then parameters, grouped changes by place, next steps."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from panther_cn_transform import build_report, decode_text, format_report, load_rules, transform_text
from panther_cn_transform.release.pipeline import transform_release
from panther_cn_transform.report.blockers import find_blockers
from panther_cn_transform.report.guide import shell_name
from panther_cn_transform.report.text_report import changed_lines

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "release" / "panther-enterprise-us-west-1"
CHINA = load_rules("china")


def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "panther_cn_transform", *map(str, args)], capture_output=True, text=True, check=False)


def sections(text: str) -> list[str]:
    return [line[3:] for line in text.splitlines() if line.startswith("## ")]


def test_release_report_is_in_the_order_an_operator_acts(tmp_path: Path) -> None:
    result = transform_release(EXAMPLE, release="v1.0.0", region="cn-north-1", bucket="my-cn-bucket",
                               rules=load_rules("panther"), out_dir=tmp_path / "out", jobs=1)
    text = format_report(result.report, "markdown")
    assert text.startswith("# China release report: v1.0.0 for cn-north-1")
    assert [s.split(" (")[0] for s in sections(text)] == [
        "What blocks a deployment", "Parameters of the root stack to supply", "Changes", "Next steps"]
    # templates are named by their place in the release, not by a bare key
    headings = [line[4:] for line in text.splitlines() if line.startswith("### ") and " -> " in line]
    published = {o.source: o.key for o in result.objects if o.kind == "template"}  # nested: under their content key
    assert headings == ["root -> v1.0.0/panther.yml",
                        f"Bootstrap -> 097d87ea792f734d5e4a49d7fd34124e3b879bf1 (published as {published['097d87ea792f734d5e4a49d7fd34124e3b879bf1']})",
                        f"Core -> ca06e195591e94151bf687429730f34fe33a1aee (published as {published['ca06e195591e94151bf687429730f34fe33a1aee']})"]
    parameters = text.split("## Parameters", 1)[1].split("\n## ", 1)[0]
    assert "`UserPoolId` (added by the transform): output UserPoolId of the web half's nested stack Bootstrap" in parameters
    # the bridge's long reason is written once, with its 17 additions under it (beside the sections it adds: its
    # key slots' parameters and condition)
    bridge = [line for line in text.splitlines() if "[cn-bridge]" in line]
    assert [line.split(" [")[0] for line in bridge] == ["- add `/Parameters`", "- add `/Conditions`", "- add x17"]


def test_next_steps_are_commands_for_this_release(tmp_path: Path) -> None:
    result = transform_release(EXAMPLE, release="v1.0.0", region="cn-northwest-1", bucket="my-cn-bucket",
                               rules=load_rules("panther"), out_dir=tmp_path / "out", jobs=1)
    steps = {step["id"]: "\n".join(step["commands"]) for step in result.report["next_steps"]}
    assert "--template-url https://my-cn-bucket.s3.cn-northwest-1.amazonaws.com.cn/v1.0.0/panther.yml" in steps["create"]
    assert 'ParameterKey=UserPoolId,ParameterValue="$USER_POOL_ID"' in steps["create"]
    assert "OutputKey=='UserPoolId'" in steps["web-values"]
    assert "REGION=cn-northwest-1" in steps["names"] and "WEB_REGION=ap-southeast-1" in steps["names"]
    assert '--web-region "$WEB_REGION"' in steps["connect"]  # the web region, never China
    assert "s3://panther-enterprise-us-west-1 --release v1.0.0 --rules panther" in steps["upload"]


@pytest.fixture(scope="module")
def json_report_run(tmp_path_factory: pytest.TempPathFactory) -> subprocess.CompletedProcess[str]:
    """One release of the example with its JSON report on stdout, read by the tests below."""
    out = tmp_path_factory.mktemp("json-report") / "out"
    return run("release", EXAMPLE, "--release", "v1.0.0", "--region", "cn-north-1", "--bucket", "my-cn-bucket",
               "--out-dir", out, "--report", "-", "--report-format", "json", "--jobs", "1")


def test_the_upload_step_repeats_the_source_the_user_gave(json_report_run: subprocess.CompletedProcess[str]) -> None:
    done = json_report_run
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    (upload,) = [step for step in report["next_steps"] if step["id"] == "upload"]
    assert report["source"] == str(EXAMPLE)
    assert upload["commands"][0].startswith(f"python -m panther_cn_transform release {EXAMPLE} --release v1.0.0")  # the mirror, not s3://


def test_a_report_of_a_failed_verification_also_repeats_the_source_the_user_gave(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text("extends: panther\nrules:\n  - id: broken\n    description: a property SNS does not have\n"
                      "    action: add_fragment\n    root_only: true\n"
                      "    fragment: {Resources: {BrokenTopic: {Type: AWS::SNS::Topic, Properties: {NoSuchProperty: 1}}}}\n")
    done = run("release", EXAMPLE, "--release", "v1.0.0", "--region", "cn-north-1", "--bucket", "my-cn-bucket", "--rules", broken,
               "--verify", "--out-dir", tmp_path / "out", "--report", tmp_path / "r.json", "--report-format", "json", "--jobs", "1")
    assert done.returncode == 2 and "cfn-lint error(s) the input did not have" in done.stderr, done.stderr
    report = json.loads((tmp_path / "r.json").read_text())
    (upload,) = [step for step in report["next_steps"] if step["id"] == "upload"]
    assert upload["commands"][0].startswith(f"python -m panther_cn_transform release {EXAMPLE} --release v1.0.0")


def test_report_on_stdout_is_the_report_alone(tmp_path: Path, json_report_run: subprocess.CompletedProcess[str]) -> None:
    done = json_report_run
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)  # nothing else on stdout
    assert report["release"] == "v1.0.0" and report["summary"]["warnings"] > 0
    assert "warning:" not in done.stderr and done.stderr.count("\n") == 1  # warnings are in the report; one summary line
    to_file = run("release", EXAMPLE, "--release", "v1.0.0", "--region", "cn-north-1", "--bucket", "my-cn-bucket",
                  "--out-dir", tmp_path / "out2", "--report", tmp_path / "r.md", "--jobs", "1")
    warnings = [line for line in to_file.stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == report["summary"]["warnings"] == len(set(warnings))  # each once


def test_a_long_string_edit_shows_the_changed_part_with_context() -> None:
    statements = [{"Effect": "Allow", "Action": f"sqs:Action{i}", "Resource": "*"} for i in range(12)]
    statements.insert(6, {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "arn:aws:kms:cn-north-1:123456789012:key/k"})
    policy = json.dumps({"Statement": statements})  # one long line, the ARN in its middle
    template = json.dumps({"Resources": {"Q": {"Type": "AWS::SQS::QueuePolicy", "Properties": {"Queues": ["q"], "PolicyDocument": policy}}}})
    result = transform_text(template, CHINA, region="cn-north-1")
    text = format_report(build_report([(result, None)], region="cn-north-1"), "markdown")
    assert "```diff" in text
    minus = next(line.strip() for line in text.splitlines() if line.strip().startswith("- …"))
    plus = next(line.strip() for line in text.splitlines() if line.strip().startswith("+ …"))
    assert "arn:aws:kms:cn-north-1:123456789012:key/k" in minus and "arn:aws-cn:kms:cn-north-1:123456789012:key/k" in plus
    assert len(plus) < 140  # a window around the change, not the 500-character line


def test_changed_lines_of_multi_line_text_keep_one_line_of_context() -> None:
    old = "line 1\nline 2\nhost s3.amazonaws.com\nline 4\nline 5\n"
    new = old.replace("s3.amazonaws.com", "s3.cn-north-1.amazonaws.com.cn")
    assert changed_lines(old, new) == ["@@ -2,3 +2,3 @@", "  line 2", "- host s3.amazonaws.com", "+ host s3.cn-north-1.amazonaws.com.cn", "  line 4"]
    old_line, new_line = "a " * 50 + "s3.amazonaws.com" + " b" * 50, "a " * 50 + "s3.amazonaws.com.cn" + " b" * 50
    assert changed_lines(old_line, new_line) == [
        "- …" + "a " * 12 + "s3.amazonaws.com" + " b" * 12 + "…", "+ …" + "a " * 12 + "s3.amazonaws.com.cn" + " b" * 12 + "…"]


def test_blockers_runtimes_by_cfn_lint_dates_foreign_regions_and_global_buckets() -> None:
    model = decode_text("""\
Resources:
  Old:
    Type: AWS::Lambda::Function
    Properties: {Runtime: go1.x, Handler: main, Role: r, Code: {S3Bucket: assets-us-east-1, S3Key: abc.zip}}
  New:
    Type: AWS::Lambda::Function
    Properties: {Runtime: provided.al2023, Handler: main, Role: r, Code: {S3Bucket: my-cn-bucket, S3Key: abc.zip}}
  Key:
    Type: AWS::SNS::Topic
    Properties: {KmsMasterKeyId: 'arn:aws-cn:kms:us-west-2:123456789012:key/k'}
  Local:
    Type: AWS::SNS::Topic
    Properties: {KmsMasterKeyId: 'arn:aws-cn:kms:cn-north-1:123456789012:key/k'}
Outputs:
  Doc: {Description: 'copied from us-east-1', Value: x}
""").model
    found = find_blockers(model, region="cn-north-1", bucket="my-cn-bucket", today=date(2026, 1, 1))
    kinds = {(b.kind, "/".join(map(str, b.path))) for b in found}
    assert kinds == {
        ("runtime", "Resources/Old/Properties/Runtime"),
        ("foreign-region", "Resources/Key/Properties/KmsMasterKeyId"),
        ("global-bucket", "Resources/Old/Properties/Code/S3Bucket"),
    }
    before_the_block = find_blockers(model, region="cn-north-1", bucket="my-cn-bucket", today=date(2024, 2, 1))
    assert "runtime" not in {b.kind for b in before_the_block}  # go1.x creation was blocked on 2024-02-08


def test_transform_report_lists_blockers_first() -> None:
    template = "Resources:\n  F:\n    Type: AWS::Lambda::Function\n    Properties: {Runtime: python3.7, Handler: h, Role: r, Code: {ZipFile: x}}\n"
    result = transform_text(template, CHINA, region="cn-north-1")
    report = build_report([(result, None)], region="cn-north-1")
    assert [b["kind"] for b in report["blockers"]] == ["runtime"] and report["summary"]["blockers"] == 1
    text = format_report(report, "text")
    assert text.index("What blocks a deployment (1, 1 shared with the global release)") < text.index(
        "runtime python3.7 can no longer be created")


def test_a_blocker_the_source_has_in_its_own_partition_is_shared_the_ports_own_are_not() -> None:
    template = """\
Resources:
  Go:
    Type: AWS::Lambda::Function
    Properties: {Runtime: go1.x, Handler: main, Role: r, Code: {S3Bucket: assets-us-east-1, S3Key: abc.zip}}
  Key:
    Type: AWS::SNS::Topic
    Properties: {KmsMasterKeyId: 'arn:aws:kms:us-west-2:123456789012:key/k'}
"""
    report = build_report([(transform_text(template, CHINA, region="cn-north-1"), None)], region="cn-north-1")
    shared = {(b["kind"], b["path"]): b["shared"] for b in report["blockers"]}
    assert shared == {
        ("runtime", "/Resources/Go/Properties/Runtime"): True,  # the global release cannot create it either
        ("foreign-region", "/Resources/Key/Properties/KmsMasterKeyId"): False,  # us-west-2 is reachable from us-west-1, not China
        ("global-bucket", "/Resources/Go/Properties/Code/S3Bucket"): False,  # a global bucket is in place for a global stack
    }
    assert report["summary"]["blockers"] == 3 and report["summary"]["shared_blockers"] == 1
    text = format_report(report, "markdown")
    own, shared_part = text.split("### Shared with the global release (1)", 1)
    assert "us-west-2" in own and "assets-us-east-1" in own and "go1.x" in shared_part.split("\n## ", 1)[0]


def test_a_bucket_of_another_partition_blocks_a_global_target_too() -> None:
    model = decode_text(
        "Resources:\n  Stack:\n    Type: AWS::CloudFormation::Stack\n    Properties:\n"
        "      TemplateURL: https://my-cn-bucket.s3.cn-north-1.amazonaws.com.cn/v1/panther.yml\n").model
    found = find_blockers(model, region="ap-southeast-1", bucket="my-web-bucket", today=date(2026, 1, 1))
    assert [(b.kind, b.message) for b in found if b.kind == "global-bucket"] == [
        ("global-bucket", ("asset s3://my-cn-bucket/v1/panther.yml is still read from a bucket of partition aws-cn: "
                           "copy it to a bucket in ap-southeast-1"))]
    assert not find_blockers(model, region="cn-north-1", bucket="other", today=date(2026, 1, 1))  # in place in China


def test_shell_names_of_parameters() -> None:
    assert [shell_name(n) for n in ("UserPoolId", "AppDomainURL", "FirstUserEmail", "SecretID")] == [
        "USER_POOL_ID", "APP_DOMAIN_URL", "FIRST_USER_EMAIL", "SECRET_ID"]


def test_the_manual_upload_filter_of_docs_release_md_lists_the_manifest_without_the_root(tmp_path: Path) -> None:
    docs = (Path(__file__).resolve().parents[2] / "docs" / "release.md").read_text()
    line = next(line for line in docs.splitlines() if line.startswith("INCLUDES=$(python3 -c '"))
    code = line[len("INCLUDES=$(python3 -c '"):line.rindex("')")]
    out = tmp_path / "cn-release"
    transform_release(EXAMPLE, release="v1.0.0", region="cn-north-1", bucket="my-cn-bucket", rules=load_rules("panther"), out_dir=out, jobs=1)
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True)
    manifest = json.loads((out / "manifest.json").read_text())
    words = done.stdout.split()
    assert words[::2] == ["--include"] * (len(manifest["objects"]) - 1)
    assert sorted(words[1::2]) == sorted(o["key"] for o in manifest["objects"] if o["key"] != "v1.0.0/panther.yml")


def test_transform_report_on_stdout_with_an_output_file(tmp_path: Path) -> None:
    template = tmp_path / "t.yaml"
    template.write_text("Resources:\n  T:\n    Type: AWS::SNS::Topic\n    Properties: {KmsMasterKeyId: 'arn:aws:kms:cn-north-1:1:key/k'}\n")
    done = run("transform", template, "-o", tmp_path / "out.yaml", "--region", "cn-north-1", "--rules", "china",
               "--report", "-", "--report-format", "json")
    assert done.returncode == 0 and json.loads(done.stdout)["summary"]["changes"] == 1 and done.stderr == ""


def test_a_report_to_the_screen_by_any_name_is_where_the_warnings_are_printed_once(tmp_path: Path) -> None:
    template = tmp_path / "t.yaml"
    template.write_text("Resources:\n  T:\n    Type: AWS::SNS::Topic\n    Properties: {KmsMasterKeyId: 'arn:aws:kms:us-west-2:1:key/k'}\n")
    common = ["transform", template, "-o", tmp_path / "out.yaml", "--region", "cn-north-1", "--rules", "china"]
    to_file = run(*common, "--report", tmp_path / "r.txt")
    assert to_file.returncode == 0 and to_file.stderr.count("points outside aws-cn") == 1  # on stderr, once
    for screen in ("/dev/stdout", "/dev/stderr"):
        done = run(*common, "--report", screen)
        assert done.returncode == 0, done.stderr
        both = done.stdout + done.stderr
        assert both.count("points outside aws-cn") == 1, both  # in the report only, not repeated as a warning line
        assert "warning:" not in done.stderr


def test_a_report_says_china_only_for_a_china_region() -> None:
    topic = "Resources:\n  T:\n    Type: AWS::SNS::Topic\n"
    china = transform_text(topic, CHINA, region="cn-north-1")
    assert format_report(build_report([(china, None)], region="cn-north-1"), "text").startswith("China transform report (cn-north-1)")
    web = transform_text(topic, load_rules("panther-web-proxy"), region="ap-southeast-1", variables={"bucket": "my-web-bucket"})
    assert format_report(build_report([(web, None)], region="ap-southeast-1"), "text").startswith("Transform report (ap-southeast-1)")

"""Release mode end to end: the bundled example and the Panther release mirror."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from panther_cn_transform import ReleaseError, decode_text, load_rules, read_template, transform
from panther_cn_transform.model.walk import iter_strings
from panther_cn_transform.release.manifest import check_manifest
from panther_cn_transform.release.pipeline import transform_release

from ..corpus import CORPUS

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
EXAMPLE = EXAMPLES / "release" / "panther-enterprise-us-west-1"
MIRROR = CORPUS / "panther-release" / "panther-enterprise-us-west-1"
PANTHER = load_rules("panther")
_ARN_REGION = re.compile(r"arn:aws:[a-z0-9-]*:([a-z0-9-]*)")
GLOBAL_ONLY = ("AWS::Cognito::", "AWS::AppSync::", "AWS::ECS::Service", "AWS::ElasticLoadBalancingV2::")


def tree_hashes(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*")) if p.is_file()}


def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "panther_cn_transform", *map(str, args)], capture_output=True, text=True, check=False)


def check_release(out: Path, source: Path, release: str, region: str) -> dict[str, object]:
    """The done-when of a release: every reached object present, China-only, consistent."""
    assert check_manifest(out) == []
    manifest = json.loads((out / "manifest.json").read_text())
    keys = {o["key"] for o in manifest["objects"]}
    templates = [o["key"] for o in manifest["objects"] if o["kind"] == "template"]
    assert f"{release}/panther.yml" in templates
    for obj in manifest["objects"]:
        if obj["kind"] == "asset":
            assert (out / obj["key"]).read_bytes() == (source / obj["key"]).read_bytes()  # copied byte for byte
        assert obj["key"] == f"{release}/panther.yml" or obj["referenced_by"]
        if obj["kind"] == "template" and obj["key"] != f"{release}/panther.yml":  # a nested template: under its content key
            assert obj["key"] == obj["sha256"] == hashlib.sha256((out / obj["key"]).read_bytes()).hexdigest()
            assert (source / obj["source_key"]).is_file()
    for key in templates:
        model = decode_text((out / key).read_text()).model
        for logical_id, resource in model["Resources"].items():
            assert not str(resource["Type"]).startswith(GLOBAL_ONLY), (key, logical_id)
        for path, value in iter_strings(model):
            assert source.name not in value, (key, path)
            # an ARN left in the global partition names a resource in a global region (reported as a warning)
            assert all(region and not region.startswith("cn-") for region in _ARN_REGION.findall(value)), (key, path)
            if path[-1] == "TemplateURL":
                prefix = f"https://my-cn-bucket.s3.{region}.amazonaws.com.cn/"
                assert value.startswith(prefix) and value[len(prefix):] in keys
    return manifest


def test_bundled_example_release(tmp_path: Path) -> None:
    before = tree_hashes(EXAMPLE)
    out = tmp_path / "cn"
    result = transform_release(EXAMPLE, release="v1.0.0", region="cn-north-1", bucket="my-cn-bucket", rules=PANTHER, out_dir=out, jobs=1)
    assert tree_hashes(EXAMPLE) == before  # the source mirror is never modified
    manifest = check_release(out, EXAMPLE, "v1.0.0", "cn-north-1")
    assert result.summary["templates"] == 3 and result.summary["objects_copied"] == 2
    root = decode_text((out / "v1.0.0/panther.yml").read_text()).model
    assert root["Parameters"]["UserPoolId"] == {  # the global pool id is asked for, saying what it stands for
        "Type": "String", "Description": "Supply the value of Bootstrap.Outputs.UserPoolId: this template no longer deploys it"}
    assert root["Resources"]["Core"]["Properties"]["Parameters"]["UserPoolId"] == {"Ref": "UserPoolId"}
    assert root["Resources"]["BridgeApi"]["Properties"]["Name"] == "panther-cn-bridge"
    assert len(manifest["objects"]) == 5


def test_the_example_release_is_reproducible() -> None:
    sys.path.insert(0, str(EXAMPLES))
    try:
        import make_example_release
    finally:
        sys.path.pop(0)
    objects = make_example_release.objects()
    assert {k: v for k, v in objects.items()} == {k: (EXAMPLE / k).read_bytes() for k in objects}
    for key, data in objects.items():
        assert key == "v1.0.0/panther.yml" or key == hashlib.sha1(data).hexdigest()


@pytest.mark.parametrize("region", ["cn-north-1", "cn-northwest-1"])
def test_panther_release_mirror(tmp_path: Path, region: str) -> None:
    before = tree_hashes(MIRROR)
    out = tmp_path / "cn"
    result = transform_release(MIRROR, release="v1.16.0", region=region, bucket="my-cn-bucket", rules=PANTHER, out_dir=out, jobs=2)
    assert tree_hashes(MIRROR) == before
    manifest = check_release(out, MIRROR, "v1.16.0", region)
    keys = {o.get("source_key", o["key"]) for o in manifest["objects"]}
    # every object the transformed root reaches is there; the AppSync and web templates are not
    assert "539b495f59f88c7eaeacf241751494ed9b029c6c" not in keys and "935ab03cc37263606215941cc8e8408cb52ecd3c" not in keys
    assert "09c9b46879ae9e8f132daa1a4d183424fabbda12" in keys  # Core survives, its Cognito input lifted to a parameter
    # nothing dropped silently: what is not copied is listed with the rule that removed its last reference
    left = {o.key: o.reason for o in result.left_behind}
    assert set(left) == {"539b495f59f88c7eaeacf241751494ed9b029c6c", "935ab03cc37263606215941cc8e8408cb52ecd3c",
                         "c767b4b12a6b4aa50ca746939fee8798700eb178", "474bec2798b005a624621fd473f975d7d19a73b1"}
    # the users API's code: its function runs in the web half, beside the Cognito pool it manages
    assert left["474bec2798b005a624621fd473f975d7d19a73b1"].startswith("rule 'cognito-management-beside-the-pool' removed")
    assert left["539b495f59f88c7eaeacf241751494ed9b029c6c"].startswith("rule 'global-only-components' removed v1.16.0/panther.yml:/Resources/Appsync")
    assert left["c767b4b12a6b4aa50ca746939fee8798700eb178"] == "its template 539b495f59f88c7eaeacf241751494ed9b029c6c was left behind"
    assert {item["key"] for item in result.report["left_behind"]} == set(left)
    assert result.summary["objects_copied"] == sum(1 for o in manifest["objects"] if o["kind"] == "asset") > 20
    root = decode_text((out / "v1.16.0/panther.yml").read_text()).model
    bridge = {k: v["Type"] for k, v in root["Resources"].items() if k.startswith("Bridge")}
    assert bridge["BridgeApi"] == "AWS::ApiGateway::RestApi" and {"BridgeUsagePlanKeyA", "BridgeUsagePlanKeyB"} <= set(bridge)
    assert {"BridgeUrl", "BridgeApiKeyId"} <= set(root["Outputs"])


def test_panther_release_passes_cfn_lint(tmp_path: Path) -> None:
    """Verification (cfn-lint, every rule, every kept template) finds nothing new in cn-northwest-1.

    cn-north-1 is verified by the bucket-to-bucket test (tests/release/test_s3.py), whose upload
    verifies by default.
    """
    out = tmp_path / "cn"
    result = transform_release(MIRROR, release="v1.16.0", region="cn-northwest-1", bucket="my-cn-bucket",
                               rules=PANTHER, out_dir=out, jobs=2, verify=True)
    templates = result.report["templates"]
    assert len(templates) == result.summary["templates"] and all(t["lint"] == [] for t in templates)
    assert not [b for b in result.report["blockers"] if b["kind"] == "lint"]


def test_cli_release_on_the_example_writes_summary_and_report(tmp_path: Path) -> None:
    out, report = tmp_path / "cn", tmp_path / "report.json"
    done = run("release", EXAMPLE, "--release", "v1.0.0", "--region", "cn-northwest-1", "--bucket", "my-cn-bucket", "--out-dir", out, "--report", report, "--jobs", "1")
    assert done.returncode == 0, done.stderr
    assert "3 templates transformed, 2 objects copied" in done.stderr
    data = json.loads(report.read_text())
    assert data["region"] == "cn-northwest-1" and data["summary"]["templates"] == 3 and data["release"] == "v1.0.0"


def test_check_writes_nothing_and_existing_output_is_refused_unless_forced(tmp_path: Path) -> None:
    out = tmp_path / "cn"
    done = run("release", EXAMPLE, "--release", "v1.0.0", "--region", "cn-north-1", "--bucket", "my-cn-bucket", "--out-dir", out, "--check")
    assert done.returncode == 0 and not out.exists()
    out.mkdir()
    (out / "old.txt").write_text("previous upload\n")
    done = run("release", EXAMPLE, "--release", "v1.0.0", "--region", "cn-north-1", "--bucket", "my-cn-bucket", "--out-dir", out)
    assert done.returncode == 2 and "not empty (use --force" in done.stderr and (out / "old.txt").exists()
    done = run("release", EXAMPLE, "--release", "v1.0.0", "--region", "cn-north-1", "--bucket", "my-cn-bucket", "--out-dir", out, "--force")
    assert done.returncode == 0 and not (out / "old.txt").exists() and (out / "manifest.json").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["cn"]  # no staging folders left behind


def copy_example(tmp_path: Path) -> Path:
    mirror = tmp_path / "panther-enterprise-us-west-1"
    for path in EXAMPLE.rglob("*"):
        if path.is_file():
            target = mirror / path.relative_to(EXAMPLE)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(path.read_bytes())
    return mirror


def test_missing_object_names_the_template_and_property(tmp_path: Path) -> None:
    mirror = copy_example(tmp_path)
    (mirror / "0d4807a65db8b4758138d7b6bf9d810eed5b2563").unlink()
    with pytest.raises(ReleaseError, match=r"object '0d4807a65db8b4758138d7b6bf9d810eed5b2563' needed by ca06e195591e94151bf687429730f34fe33a1aee:/Resources/SourceApiFunction/Properties/CodeUri is missing"):
        transform_release(mirror, release="v1.0.0", region="cn-north-1", bucket="my-cn-bucket", rules=PANTHER, out_dir=tmp_path / "out", jobs=1)
    assert not (tmp_path / "out").exists()


def test_keys_escaping_the_mirror_are_refused(tmp_path: Path) -> None:
    mirror = copy_example(tmp_path)
    root = mirror / "v1.0.0" / "panther.yml"
    core = "ca06e195591e94151bf687429730f34fe33a1aee"
    root.write_text(root.read_text().replace(f"/{core}", "/../secrets/core.yml"))
    with pytest.raises(ReleaseError, match="unsafe object key"):
        transform_release(mirror, release="v1.0.0", region="cn-north-1", bucket="my-cn-bucket", rules=PANTHER, out_dir=tmp_path / "out", jobs=1)
    root.write_text(root.read_text().replace("/../secrets/core.yml", "/outside"))
    (tmp_path / "secret.yml").write_text("Resources: {}\n")
    os.symlink(tmp_path / "secret.yml", mirror / "outside")
    with pytest.raises(ReleaseError, match="link pointing outside the source mirror"):
        transform_release(mirror, release="v1.0.0", region="cn-north-1", bucket="my-cn-bucket", rules=PANTHER, out_dir=tmp_path / "out", jobs=1)


def test_a_crash_in_a_worker_or_an_interrupt_leaves_no_output(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import panther_cn_transform.release.manifest as manifest_module
    import panther_cn_transform.release.scheduling as scheduling_module

    real = scheduling_module._transform_one

    def crash_on_core(job: scheduling_module._Job) -> object:
        if job.key.startswith("ca06"):
            raise RuntimeError("worker died")
        return real(job)

    monkeypatch.setattr(scheduling_module, "_transform_one", crash_on_core)
    with pytest.raises(RuntimeError):
        transform_release(EXAMPLE, release="v1.0.0", region="cn-north-1", bucket="my-cn-bucket", rules=PANTHER, out_dir=tmp_path / "out", jobs=1)
    assert list(tmp_path.iterdir()) == []
    monkeypatch.setattr(scheduling_module, "_transform_one", real)

    out = tmp_path / "out"
    out.mkdir()
    (out / "previous.txt").write_text("last good upload\n")
    real_write = manifest_module.write_new
    calls = {"n": 0}

    def interrupted(target: Path, data: bytes) -> None:
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        real_write(target, data)

    monkeypatch.setattr(manifest_module, "write_new", interrupted)
    with pytest.raises(KeyboardInterrupt):
        transform_release(EXAMPLE, release="v1.0.0", region="cn-north-1", bucket="my-cn-bucket", rules=PANTHER, out_dir=out, jobs=1, force=True)
    assert calls["n"] == 3
    monkeypatch.setattr(manifest_module, "write_new", real_write)
    assert [p.name for p in tmp_path.iterdir()] == ["out"]  # staging folder removed
    assert [p.name for p in out.iterdir()] == ["previous.txt"]  # the old output is untouched


def test_release_applies_the_decoding_limits(tmp_path: Path) -> None:
    done = run("release", EXAMPLE, "--release", "v1.0.0", "--region", "cn-north-1", "--bucket", "my-cn-bucket",
               "--out-dir", tmp_path / "out", "--max-input-bytes", "200")
    assert done.returncode == 2 and "over the 200-byte input limit" in done.stderr and not (tmp_path / "out").exists()


def test_release_mode_checks_nested_outputs_so_it_does_not_warn_that_it_cannot(tmp_path: Path) -> None:
    result = transform_release(EXAMPLE, release="v1.0.0", region="cn-north-1", bucket="my-cn-bucket", rules=PANTHER,
                               out_dir=tmp_path / "cn", jobs=1)
    rules = {w["rule"] for entry in result.report["templates"] for w in entry["warnings"]}
    assert "nested-outputs-unchecked" not in rules  # the root's Bootstrap.Outputs.UserPoolId was repaired instead
    root = read_template(EXAMPLE / "v1.0.0" / "panther.yml")
    alone = transform(root, PANTHER, region="cn-north-1", variables={"bucket": "my-cn-bucket"})
    nested = [w for w in alone.warnings if w.rule == "nested-outputs-unchecked"]
    assert len(nested) == 1 and "release command" in nested[0].message
    assert nested[0].pointer == "/Outputs/AlarmTopicArn/Value"  # the first place that reads one, in path order

"""The blockers gate: `release --upload` stops, before anything is uploaded, on blockers the global release does not have.

Against moto in server mode (tests/s3server.py), with the bundled example release given a
KMS key in us-west-2 (fine in the global partition, unreachable from China) and with the
v1.16.0 mirror, whose Go runtimes the global release cannot create either.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from ..s3server import S3Server
from .test_s3 import EXAMPLE, MIRROR, SOURCE, TARGET, cli, needs_mirror

FOREIGN_KEY = "arn:aws:kms:us-west-2:123456789012:key/example"
STOPPED = ('error: v1.0.1/panther.yml: 1 blocker(s) the global release does not have (foreign-region in root); nothing written '
           'or uploaded ({}lists them under "What blocks a deployment"); --accept-blockers uploads anyway\n')


def mirror_with_a_foreign_key(tmp_path: Path) -> Path:
    """The example mirror with a release v1.0.1 whose root adds a topic encrypted with a key in us-west-2."""
    mirror = tmp_path / SOURCE
    shutil.copytree(EXAMPLE, mirror)
    root = (mirror / "v1.0.0" / "panther.yml").read_text()
    topic = f"Resources:\n  AlarmTopic:\n    Type: AWS::SNS::Topic\n    Properties:\n      KmsMasterKeyId: {FOREIGN_KEY}\n"
    (mirror / "v1.0.1").mkdir()
    (mirror / "v1.0.1" / "panther.yml").write_text(root.replace("Resources:\n", topic, 1))
    return mirror


def release(mirror: Path, name: str, *extra: str | Path) -> list[str | Path]:
    return ["release", mirror, "--release", name, "--region", "cn-north-1", "--bucket", TARGET, *extra]


def test_a_china_specific_blocker_stops_the_upload_until_accepted(s3: S3Server, tmp_path: Path) -> None:
    s3.bucket(TARGET, "cn-north-1")
    mirror = mirror_with_a_foreign_key(tmp_path)
    cache, report = tmp_path / "cache", tmp_path / "report.json"
    for check in ([], ["--check"]):
        done = cli(s3, *release(mirror, "v1.0.1", "--upload", "--no-verify", "--cache-dir", cache, *check))
        assert done.returncode == 2 and done.stderr == STOPPED.format("--report report.md "), done.stderr
    done = cli(s3, *release(mirror, "v1.0.1", "--upload", "--no-verify", "--cache-dir", cache, "--report", report))
    assert done.returncode == 2 and done.stderr == STOPPED.format("the report ")
    assert s3.objects(TARGET, "cn-north-1") == {} and s3.requests("PUT", TARGET) == []  # nothing uploaded
    assert not (cache / "releases" / TARGET / "v1.0.1").exists()  # nothing written either
    blockers = json.loads(report.read_text())["blockers"]
    assert [(b["kind"], b["place"], b["path"], b["shared"]) for b in blockers] == [
        ("foreign-region", "root", "/Resources/AlarmTopic/Properties/KmsMasterKeyId", False)]

    accepted = cli(s3, *release(mirror, "v1.0.1", "--upload", "--no-verify", "--cache-dir", cache, "--accept-blockers"))
    assert accepted.returncode == 0, accepted.stderr
    assert "1 blocker (0 shared with the global release)" in accepted.stderr
    manifest = json.loads((cache / "releases" / TARGET / "v1.0.1" / "manifest.json").read_text())
    assert set(s3.objects(TARGET, "cn-north-1")) == {o["key"] for o in manifest["objects"]}


def test_accepting_blockers_never_overrides_a_failed_verify(s3: S3Server, tmp_path: Path) -> None:
    s3.bucket(TARGET, "cn-north-1")
    broken = Path(__file__).resolve().parents[2] / "examples" / "errors" / "broken-fragment.yml"
    done = cli(s3, *release(EXAMPLE, "v1.0.0", "--upload", "--verify", "--accept-blockers", "--rules", broken,
                            "--cache-dir", tmp_path / "cache"))
    assert done.returncode == 2 and done.stderr.count("\n") == 1
    assert "cfn-lint error(s) the input did not have; nothing written" in done.stderr and "--accept-blockers" not in done.stderr
    assert s3.objects(TARGET, "cn-north-1") == {}


def test_an_out_dir_without_upload_is_never_stopped_and_the_summary_counts_blockers(s3: S3Server, tmp_path: Path) -> None:
    mirror = mirror_with_a_foreign_key(tmp_path)
    done = cli(s3, *release(mirror, "v1.0.1", "--out-dir", tmp_path / "out", "--report", tmp_path / "report.md"))
    assert done.returncode == 0, done.stderr
    assert done.stderr.splitlines()[-1].startswith("release v1.0.1 for cn-north-1: ")
    assert ", 1 blocker (0 shared with the global release); written to " in done.stderr
    text = (tmp_path / "report.md").read_text()
    assert "## What blocks a deployment (1, 0 shared with the global release)" in text and FOREIGN_KEY in text
    upload = text.split("Upload the China half", 1)[1].split("\n### ", 1)[0]
    assert "1 blocker(s) the global release does not have: the upload stops on them" in upload  # the next step says so
    assert (tmp_path / "out" / "manifest.json").is_file()
    clean = cli(s3, *release(EXAMPLE, "v1.0.0", "--out-dir", tmp_path / "clean"))
    assert clean.returncode == 0 and ", 0 blockers (0 shared with the global release); written to " in clean.stderr


def test_the_v1_16_0_mirror_stops_on_its_china_specific_blockers_and_shares_the_go_runtimes(s3: S3Server, tmp_path: Path) -> None:
    needs_mirror()
    s3.bucket(TARGET, "cn-north-1")
    report = tmp_path / "report.json"
    done = cli(s3, "release", MIRROR, "--release", "v1.16.0", "--region", "cn-north-1", "--bucket", TARGET, "--upload",
               "--no-verify", "--report", report, "--cache-dir", tmp_path / "cache")
    assert done.returncode == 2 and done.stderr.count("\n") == 1
    assert done.stderr.startswith("error: v1.16.0/panther.yml: 2 blocker(s) the global release does not have "
                                  "(foreign-region in BootstrapGateway, Core); nothing written or uploaded (the report lists them")
    assert s3.objects(TARGET, "cn-north-1") == {} and s3.requests("PUT", TARGET) == []
    data = json.loads(report.read_text())
    own = {(b["place"], b["path"]): b["message"] for b in data["blockers"] if not b["shared"]}
    assert own.keys() == {("Core", "/Resources/AnalysisApiFunction/Properties/Policies/3/Statement/0/Resource"),
                          ("BootstrapGateway", "/Resources/PantherAthenaDDBConnector/Properties/Location/ApplicationId")}
    assert "arn:aws:kms:us-west-2:" in own[("Core", "/Resources/AnalysisApiFunction/Properties/Policies/3/Statement/0/Resource")]
    assert "arn:aws:serverlessrepo:us-east-1:" in own[("BootstrapGateway", "/Resources/PantherAthenaDDBConnector/Properties/Location/ApplicationId")]
    runtimes = [b for b in data["blockers"] if b["kind"] == "runtime"]
    assert sum("go1.x" in b["message"] for b in runtimes) == 25 and all(b["shared"] for b in runtimes)
    assert data["summary"]["blockers"] == 30 and data["summary"]["shared_blockers"] == 28
    # the parameters the split lifts on purpose are to supply, not blockers
    assert {"UserPoolId", "AppDomainURL"} <= {p["name"] for p in data["parameters"]}
    assert not [b for b in data["blockers"] if b["path"].startswith("/Parameters") or "UserPoolId" in b["message"]
                or "AppDomainURL" in b["message"]]

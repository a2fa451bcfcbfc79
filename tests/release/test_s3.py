"""Bucket to bucket against a real S3 API (moto in server mode): download, transform, verify, upload."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import boto3
import pytest
from moto.core.authorization import enable_iam_authentication

from panther_cn_transform import load_rules
from panther_cn_transform.release.manifest import ReleaseObject
from panther_cn_transform.release.pipeline import transform_release
from panther_cn_transform.release.s3source import S3Source
from panther_cn_transform.release.s3target import target_client, upload_order, upload_release

from ..corpus import CORPUS
from ..s3server import S3Server

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "release" / "panther-enterprise-us-west-1"
MIRROR = CORPUS / "panther-release" / "panther-enterprise-us-west-1"
SOURCE = "panther-enterprise-us-west-1"
TARGET = "my-cn-bucket"
PANTHER = load_rules("panther")


def needs_mirror() -> None:
    """The v1.16.0 mirror is test data the suite must have: missing is a failure, never a skip."""
    if not MIRROR.is_dir():
        pytest.fail(f"Panther release mirror not found at {MIRROR} (set PANTHER_CN_CORPUS)")


def cli(s3: S3Server, *args: str | Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The command line in a new process; `env` entries override (an empty value removes the variable)."""
    environment = {**os.environ, **s3.environment, **(env or {})}
    environment = {name: value for name, value in environment.items() if value or name not in (env or {})}
    return subprocess.run([sys.executable, "-m", "panther_cn_transform", *map(str, args)],
                          capture_output=True, text=True, check=False, env=environment)


def copy_args(release: str, *extra: str | Path) -> list[str | Path]:
    return [f"s3://{SOURCE}", "--release", release, "--region", "cn-north-1", "--bucket", TARGET, *extra]


def test_the_v1_16_0_mirror_goes_bucket_to_bucket(s3: S3Server, tmp_path: Path) -> None:
    needs_mirror()
    s3.bucket(SOURCE, "us-west-1")
    s3.put_folder(SOURCE, "us-west-1", MIRROR)
    s3.bucket(TARGET, "cn-north-1")
    out = tmp_path / "out"

    done = cli(s3, "release", *copy_args("v1.16.0", "--upload", "--out-dir", out, "--cache-dir", tmp_path / "cache", "--jobs", "2",
                                         "--accept-blockers"))  # its two China-specific blockers: tests/release/test_blockers_gate.py
    assert done.returncode == 0, done.stderr
    assert "30 blockers (28 shared with the global release)" in done.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    wanted = {o["key"]: o["sha256"] for o in manifest["objects"]}
    got = s3.objects(TARGET, "cn-north-1")
    assert {key: hashlib.sha256(data).hexdigest() for key, data in got.items()} == wanted  # exactly the manifest's objects
    puts = s3.requests("PUT", TARGET)
    assert sorted(puts) == sorted(wanted) and puts[-1] == "v1.16.0/panther.yml"  # each once, the root last
    templates = {o["key"] for o in manifest["objects"] if o["kind"] == "template"}
    first_template = min(i for i, key in enumerate(puts) if key in templates)
    assert all(key in templates for key in puts[first_template:])  # assets before any template
    assert f"{len(wanted)} objects uploaded" in done.stderr and "0 skipped" in done.stderr
    assert "44 objects downloaded" in done.stderr

    s3.log.lines.clear()
    again = cli(s3, "release", *copy_args("v1.16.0", "--upload", "--out-dir", out, "--force", "--cache-dir", tmp_path / "cache", "--no-verify",
                                          "--accept-blockers"))
    assert again.returncode == 0, again.stderr
    assert s3.requests("PUT", TARGET) == [] and s3.requests("GET", SOURCE) == []  # nothing uploaded, nothing downloaded
    assert f"0 objects uploaded (0 bytes), {len(wanted)} skipped" in again.stderr
    assert "0 objects downloaded (0 bytes), 44 already in the cache" in again.stderr


def test_an_interrupted_upload_resumes_and_writes_the_root_last(s3: S3Server, tmp_path: Path) -> None:
    needs_mirror()
    client = s3.bucket(TARGET, "cn-north-1")
    out = tmp_path / "out"
    result = transform_release(MIRROR, release="v1.16.0", region="cn-north-1", bucket=TARGET, rules=PANTHER, out_dir=out, jobs=1)
    root = "v1.16.0/panther.yml"
    sent: list[str] = []

    def interrupt_after_ten(obj: ReleaseObject, uploaded: bool) -> None:
        sent.append(obj.key)
        if len(sent) == 10:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        upload_release(out, result.objects, root=root, bucket=TARGET, region="cn-north-1",
                       client=target_client(None, "cn-north-1", jobs=4), jobs=4, on_object=interrupt_after_ten)
    there = set(s3.objects(TARGET, "cn-north-1"))
    assert 10 <= len(there) < len(result.objects) and root not in there  # stopped part way, never a root without children

    s3.log.lines.clear()
    resumed = upload_release(out, result.objects, root=root, bucket=TARGET, region="cn-north-1", client=target_client(None, "cn-north-1", jobs=4), jobs=4)
    assert resumed.skipped == len(there) and resumed.uploaded == len(result.objects) - len(there)
    assert sorted(s3.requests("PUT", TARGET)) == sorted({o.key for o in result.objects} - there)
    assert s3.requests("PUT", TARGET)[-1] == root
    final = client.list_objects_v2(Bucket=TARGET)["Contents"]
    assert {o["Key"] for o in final} == {o.key for o in result.objects}


def test_an_interrupted_download_resumes_where_it_stopped(s3: S3Server, tmp_path: Path) -> None:
    s3.bucket(SOURCE, "us-west-1")
    objects = s3.put_folder(SOURCE, "us-west-1", EXAMPLE)
    cache = tmp_path / "cache"
    received: list[int] = []

    def fail_mid_object(size: int) -> None:
        received.append(size)
        if len(received) == 3:
            raise ConnectionResetError("connection lost")

    with pytest.raises(ConnectionResetError), S3Source(SOURCE, cache_dir=cache, jobs=1, on_bytes=fail_mid_object, chunk_size=256) as source:
        transform_release(source, release="v1.0.0", region="cn-north-1", bucket=TARGET, rules=PANTHER, out_dir=tmp_path / "o1", jobs=1)
    partial = [p for p in (cache / "state").rglob("*") if p.is_file() and "partial" in p.parts]
    assert partial and sum(p.stat().st_size for p in partial) == 768  # three chunks of the root reached the disk
    assert not (tmp_path / "o1").exists()

    s3.log.lines.clear()
    with S3Source(SOURCE, cache_dir=cache, jobs=2, chunk_size=256) as source:
        transform_release(source, release="v1.0.0", region="cn-north-1", bucket=TARGET, rules=PANTHER, out_dir=tmp_path / "o2", jobs=1)
    total = sum(len(data) for data in objects.values())
    assert source.stats.bytes == total - 768 and source.stats.downloaded == len(objects)
    assert s3.requests("GET", SOURCE).count("v1.0.0/panther.yml") == 1  # one ranged GET for the rest of the root
    mirror = cache / "objects" / SOURCE
    assert {p.relative_to(mirror).as_posix(): p.read_bytes() for p in mirror.rglob("*") if p.is_file()} == objects

    s3.log.lines.clear()
    with S3Source(SOURCE, cache_dir=cache, jobs=2) as source:
        transform_release(source, release="v1.0.0", region="cn-north-1", bucket=TARGET, rules=PANTHER, out_dir=tmp_path / "o3", jobs=1)
    assert source.stats.downloaded == 0 and source.stats.cached == len(objects) and s3.requests("GET", SOURCE) == []


def test_a_changed_object_is_downloaded_again(s3: S3Server, tmp_path: Path) -> None:
    client = s3.bucket(SOURCE, "us-west-1")
    s3.put_folder(SOURCE, "us-west-1", EXAMPLE)
    cache = tmp_path / "cache"
    with S3Source(SOURCE, cache_dir=cache) as source:
        transform_release(source, release="v1.0.0", region="cn-north-1", bucket=TARGET, rules=PANTHER, out_dir=tmp_path / "o1", jobs=1)
    root = (EXAMPLE / "v1.0.0" / "panther.yml").read_bytes() + b"# republished\n"
    client.put_object(Bucket=SOURCE, Key="v1.0.0/panther.yml", Body=root)
    with S3Source(SOURCE, cache_dir=cache) as source:
        transform_release(source, release="v1.0.0", region="cn-north-1", bucket=TARGET, rules=PANTHER, out_dir=tmp_path / "o2", jobs=1)
    assert source.stats.downloaded == 1 and (cache / "objects" / SOURCE / "v1.0.0" / "panther.yml").read_bytes() == root


def test_only_what_the_release_reaches_is_downloaded(s3: S3Server, tmp_path: Path) -> None:
    client = s3.bucket(SOURCE, "us-west-1")
    objects = s3.put_folder(SOURCE, "us-west-1", EXAMPLE)
    client.put_object(Bucket=SOURCE, Key="v0.9.0/panther.yml", Body=b"Resources: {}\n")
    client.put_object(Bucket=SOURCE, Key="ffffffffffffffffffffffffffffffffffffffff", Body=b"another release's asset")
    s3_only = {"AWS_ENDPOINT_URL": "", "AWS_ENDPOINT_URL_S3": s3.url}  # the S3-specific setting works alone
    done = cli(s3, "release", *copy_args("v1.0.0", "--out-dir", tmp_path / "out", "--cache-dir", tmp_path / "cache"), env=s3_only)
    assert done.returncode == 0, done.stderr
    assert sorted(set(s3.requests("GET", SOURCE))) == sorted(objects)


def test_check_lists_what_would_be_uploaded_and_uploads_nothing(s3: S3Server, tmp_path: Path) -> None:
    s3.bucket(SOURCE, "us-west-1")
    s3.put_folder(SOURCE, "us-west-1", EXAMPLE)
    s3.bucket(TARGET, "cn-north-1")
    done = cli(s3, "release", *copy_args("v1.0.0", "--upload", "--check", "--no-verify", "--cache-dir", tmp_path / "cache"))
    assert done.returncode == 0, done.stderr
    planned = [line for line in done.stderr.splitlines() if line.startswith("would upload")]
    assert len(planned) == 5
    assert planned[-1].startswith(f"would upload s3://{TARGET}/v1.0.0/panther.yml (template, ")
    assert s3.objects(TARGET, "cn-north-1") == {} and not (tmp_path / "cache" / "releases").exists()


def test_a_failed_transform_uploads_nothing(s3: S3Server, tmp_path: Path) -> None:
    client = s3.bucket(SOURCE, "us-west-1")
    s3.put_folder(SOURCE, "us-west-1", EXAMPLE)
    client.delete_object(Bucket=SOURCE, Key="0d4807a65db8b4758138d7b6bf9d810eed5b2563")
    s3.bucket(TARGET, "cn-north-1")
    done = cli(s3, "release", *copy_args("v1.0.0", "--upload", "--cache-dir", tmp_path / "cache"))
    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1].startswith("error: ca06e195591e94151bf687429730f34fe33a1aee:/Resources/SourceApiFunction/Properties/CodeUri")
    assert "missing from the source bucket" in done.stderr and "Traceback" not in done.stderr
    assert s3.objects(TARGET, "cn-north-1") == {}


@pytest.mark.parametrize(("setup", "args", "message"), [
    ("no-source-bucket", [], "error: s3://panther-enterprise-us-west-1: the source bucket panther-enterprise-us-west-1 does not exist"),
    ("no-target-bucket", ["--upload"], f"error: s3://{TARGET}: the target bucket {TARGET} does not exist"),
    ("global-target", ["--upload"], f"error: s3://{TARGET}: the target bucket is in us-west-2 (partition aws), not in the aws-cn partition of cn-north-1"),
    ("other-china-region", ["--upload"], f"error: s3://{TARGET}: the target bucket is in cn-northwest-1, but the release is built for cn-north-1"),
    ("no-release", ["--release", "v9.9.9"], "error: s3://panther-enterprise-us-west-1/v9.9.9/panther.yml: release not found: no root template v9.9.9/panther.yml"),
])
def test_bucket_problems_are_one_line_errors(s3: S3Server, tmp_path: Path, setup: str, args: list[str], message: str) -> None:
    if setup != "no-source-bucket":
        s3.bucket(SOURCE, "us-west-1")
        s3.put_folder(SOURCE, "us-west-1", EXAMPLE)
    target_region = {"global-target": "us-west-2", "other-china-region": "cn-northwest-1"}.get(setup, "cn-north-1")
    if setup != "no-target-bucket":
        s3.bucket(TARGET, target_region)
    release = args[1] if args[:1] == ["--release"] else "v1.0.0"
    extra = [a for a in args if a == "--upload"]
    done = cli(s3, "release", *copy_args(release, *extra, "--out-dir", tmp_path / "out", "--cache-dir", tmp_path / "cache"))
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and done.stderr.startswith(message), done.stderr
    assert not (tmp_path / "out").exists()


def test_missing_credentials_are_one_line_errors_but_a_local_source_needs_none(s3: S3Server, tmp_path: Path) -> None:
    s3.bucket(SOURCE, "us-west-1")
    s3.put_folder(SOURCE, "us-west-1", EXAMPLE)
    anonymous = {"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": ""}
    done = cli(s3, "release", *copy_args("v1.0.0", "--out-dir", tmp_path / "out", "--cache-dir", tmp_path / "cache"), env=anonymous)
    assert done.returncode == 2 and done.stderr.count("\n") == 1
    assert done.stderr.startswith(f"error: s3://{SOURCE}/v1.0.0/panther.yml: no AWS credentials for the source bucket (pass --source-profile PROFILE")
    done = cli(s3, "release", *copy_args("v1.0.0", "--out-dir", tmp_path / "out", "--source-profile", "nope"))
    assert done.returncode == 2 and "could not be found" in done.stderr and done.stderr.count("\n") == 1
    local = cli(s3, "release", EXAMPLE, "--release", "v1.0.0", "--region", "cn-north-1", "--bucket", TARGET,
                "--out-dir", tmp_path / "local", env={**anonymous, "AWS_ENDPOINT_URL": "http://127.0.0.1:9"})
    assert local.returncode == 0, local.stderr


def test_access_denied_is_a_one_line_error_and_each_side_has_its_own_profile(s3: S3Server, tmp_path: Path) -> None:
    s3.bucket(SOURCE, "us-west-1")
    s3.put_folder(SOURCE, "us-west-1", EXAMPLE)
    s3.bucket(TARGET, "cn-north-1")
    allow_s3 = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]})
    profiles = ""
    # identities of each partition (China keys are not global keys), with and without a policy
    for profile, region, policy in (("global", "us-east-1", allow_s3), ("global-nobody", "us-east-1", None),
                                    ("china", "cn-north-1", allow_s3), ("china-nobody", "cn-north-1", None)):
        iam = boto3.client("iam", region_name=region, endpoint_url=s3.url, aws_access_key_id="testing", aws_secret_access_key="testing")
        iam.create_user(UserName=profile)
        if policy:
            iam.put_user_policy(UserName=profile, PolicyName="s3", PolicyDocument=policy)
        key = iam.create_access_key(UserName=profile)["AccessKey"]
        profiles += f"[{profile}]\naws_access_key_id = {key['AccessKeyId']}\naws_secret_access_key = {key['SecretAccessKey']}\n"
    credentials = tmp_path / "credentials"
    credentials.write_text(profiles)
    env = {"AWS_SHARED_CREDENTIALS_FILE": str(credentials), "AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": ""}
    common = ["--cache-dir", tmp_path / "cache", "--no-verify"]

    def copy(source: str, target: str | None) -> subprocess.CompletedProcess[str]:
        upload = ["--upload", "--target-profile", target] if target else ["--out-dir", tmp_path / "out", "--force"]
        return cli(s3, "release", *copy_args("v1.0.0", *common, "--source-profile", source, *upload), env=env)

    with enable_iam_authentication():
        denied_source = copy("global-nobody", None)
        denied_target = copy("global", "china-nobody")
        global_keys_in_china = copy("global", "global")
    assert s3.objects(TARGET, "cn-north-1") == {}
    with enable_iam_authentication():
        allowed = copy("global", "china")
    for done in (denied_source, denied_target, global_keys_in_china):
        assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr
    assert denied_source.stderr.startswith(f"error: s3://{SOURCE}/v1.0.0/panther.yml: access denied to the source bucket (403): "
                                           "its credentials may not use it (pass --source-profile")
    assert denied_target.stderr.startswith(f"error: s3://{TARGET}/") and "access denied to the target bucket (403)" in denied_target.stderr
    assert "access denied to the target bucket (InvalidAccessKeyId)" in global_keys_in_china.stderr
    assert "--target-profile" in denied_target.stderr and "--target-profile" in global_keys_in_china.stderr
    assert allowed.returncode == 0, allowed.stderr  # each side with its own profile
    assert len(s3.objects(TARGET, "cn-north-1")) == 5


def test_verify_stops_on_a_new_lint_error_and_the_report_lists_it(s3: S3Server, tmp_path: Path) -> None:
    s3.bucket(SOURCE, "us-west-1")
    s3.put_folder(SOURCE, "us-west-1", EXAMPLE)
    s3.bucket(TARGET, "cn-north-1")
    broken = tmp_path / "broken.yml"
    broken.write_text(
        "version: 1\nname: broken\nextends: panther\n"
        "rules:\n"
        "  - id: broken-fragment\n"
        "    description: adds a topic with a property SNS does not have\n"
        "    action: add_fragment\n"
        "    root_only: true\n"
        "    fragment:\n"
        "      Resources:\n"
        "        BrokenTopic:\n"
        "          Type: AWS::SNS::Topic\n"
        "          Properties:\n"
        "            NoSuchProperty: 1\n"
    )
    report = tmp_path / "report.md"
    done = cli(s3, "release", *copy_args("v1.0.0", "--upload", "--rules", broken, "--report", report, "--cache-dir", tmp_path / "cache"))
    assert done.returncode == 2, done.stderr
    assert "cfn-lint error(s) the input did not have; nothing written" in done.stderr
    text = report.read_text()
    blockers = text.split("## What blocks", 1)[1].split("\n## ", 1)[0]
    assert "E3002" in blockers and "NoSuchProperty" in blockers
    assert s3.objects(TARGET, "cn-north-1") == {}


def test_progress_is_drawn_on_a_terminal_only(s3: S3Server, tmp_path: Path) -> None:
    import pty

    s3.bucket(SOURCE, "us-west-1")
    s3.put_folder(SOURCE, "us-west-1", EXAMPLE)
    s3.bucket(TARGET, "cn-north-1")
    main, terminal = pty.openpty()
    args = ["release", *copy_args("v1.0.0", "--upload", "--no-verify", "--cache-dir", tmp_path / "cache")]
    environment = {**os.environ, **s3.environment, "TERM": "xterm", "COLUMNS": "120"}
    chunks: list[bytes] = []

    def drain() -> None:  # read while the command runs, so a full terminal buffer never blocks it
        while True:
            try:
                chunk = os.read(main, 65536)
            except OSError:  # the terminal side is closed
                return
            if not chunk:
                return
            chunks.append(chunk)

    reader = threading.Thread(target=drain)
    reader.start()
    done = subprocess.run([sys.executable, "-m", "panther_cn_transform", *map(str, args)], stdout=subprocess.PIPE,
                          stderr=terminal, env=environment, check=False, timeout=120)
    os.close(terminal)
    reader.join(timeout=30)
    os.close(main)
    drawn = b"".join(chunks)
    assert done.returncode == 0, drawn.decode(errors="replace")
    screen = drawn.decode(errors="replace")
    assert "download" in screen and "transform" in screen and "upload" in screen
    assert "5 objects uploaded" in screen
    piped = cli(s3, "release", *copy_args("v1.0.0", "--upload", "--no-verify", "--cache-dir", tmp_path / "cache"))
    assert piped.returncode == 0 and piped.stderr.count("\n") == 1 + piped.stderr.count("warning:")  # no drawing in a pipe


def test_an_unusable_cache_folder_is_a_one_line_error(s3: S3Server, tmp_path: Path) -> None:
    s3.bucket(SOURCE, "us-west-1")
    s3.put_folder(SOURCE, "us-west-1", EXAMPLE)
    not_a_folder = tmp_path / "cache"
    not_a_folder.write_text("a file where the cache should be\n")
    done = cli(s3, "release", *copy_args("v1.0.0", "--out-dir", tmp_path / "out", "--cache-dir", not_a_folder))
    assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr
    assert "cannot write the download cache" in done.stderr and "internal error" not in done.stderr


def test_upload_order_of_a_chain_of_1200_nested_stacks_is_deepest_first_without_recursion() -> None:
    keys = [f"t{i:04d}" for i in range(1200)]  # t0000 is the root; each template nests the next
    objects = [ReleaseObject(key, "template", "", 0, ((keys[i - 1], "/Resources/Child/Properties/TemplateURL"),) if i else ())
               for i, key in enumerate(keys)]
    objects.append(ReleaseObject("asset", "asset", "", 0, ((keys[5], "/Resources/F/Properties/CodeUri"),)))
    steps = upload_order(objects[::-1], root=keys[0])  # the deepest first in the input too
    assert [o.key for o in steps[0]] == ["asset"]
    assert [[o.key for o in step] for step in steps[1:]] == [[key] for key in reversed(keys)]  # one level a step, the root last


def test_upload_order_puts_a_shared_child_below_its_deepest_parent() -> None:
    def template(key: str, *parents: str) -> ReleaseObject:
        return ReleaseObject(key, "template", "", 0, tuple((p, "/Resources/S/Properties/TemplateURL") for p in parents))
    objects = [template("root"), template("a", "root"), template("b", "a"), template("shared", "root", "b")]
    assert [[o.key for o in step] for step in upload_order(objects, root="root")] == [["shared"], ["b"], ["a"], ["root"]]

"""The edges that talk to the network and the file system, under hostile conditions (issue 26).

Paths (no key, release name or output ever leads outside the folder it belongs to),
content (the cache and the target's skip trust bytes, not metadata), bounds (sizes and
deadlines on every S3 request) and honest errors.  The S3 here is a real server on a
local socket: moto (tests/s3server.py) where S3 must behave, `hostile_s3` where it must
not.  Every command runs in its own process under a 1 GiB address-space limit and a
timeout, so a defect fails fast instead of eating the machine.
"""

from __future__ import annotations

import hashlib
import os
import resource
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ..s3server import S3Server
from .hostile_s3 import HostileS3, endless, hostile_s3

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
EXAMPLE = EXAMPLES / "release" / "panther-enterprise-us-west-1"
SOURCE = "panther-enterprise-us-west-1"
TARGET = "my-cn-bucket"
HOST = f"https://{SOURCE}.s3.us-west-1.amazonaws.com"
GIB = 1 << 30


def _limited() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (GIB, GIB))


def run(*args: str | Path, env: dict[str, str] | None = None, timeout: float = 120, cwd: Path | None = None,
        stdin: int | None = None) -> subprocess.CompletedProcess[str]:
    """The command line of this checkout in a new process under a 1 GiB address-space limit."""
    environment = dict(os.environ if env is None else env)
    environment["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), environment.get("PYTHONPATH", "")]))
    return subprocess.run([sys.executable, "-m", "panther_cn_transform", *map(str, args)], capture_output=True, text=True,
                          check=False, timeout=timeout, env=environment, cwd=cwd, preexec_fn=_limited, stdin=stdin)


def one_line(done: subprocess.CompletedProcess[str], *fragments: str) -> str:
    """The run failed with exit 2 and exactly one `error:` line holding every fragment."""
    lines = [line for line in done.stderr.splitlines() if not line.startswith(("warning: ", "note: "))]
    assert done.returncode == 2 and len(lines) == 1 and lines[0].startswith("error: "), (done.returncode, done.stderr)
    assert "Traceback" not in done.stderr and "internal error" not in lines[0], done.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


def files_below(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if not p.is_dir()}


@pytest.fixture
def bad_s3(tmp_path: Path) -> Iterator[tuple[HostileS3, dict[str, str]]]:
    """A hostile S3 holding the source bucket, and the environment that points boto3 at it."""
    config = tmp_path / "aws-config"
    config.write_text("")
    with hostile_s3(SOURCE, "us-west-1") as server:
        env = {name: value for name, value in os.environ.items() if not name.startswith("AWS_")}
        env.update(AWS_ENDPOINT_URL=server.url, AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing",
                   AWS_CONFIG_FILE=str(config), AWS_SHARED_CREDENTIALS_FILE=str(config), AWS_EC2_METADATA_DISABLED="true",
                   XDG_CACHE_HOME=str(tmp_path / "xdg"))
        yield server, env


def nested(*children: str) -> bytes:
    """A root template nesting one stack per key in `children`."""
    text = "Resources:\n"
    for index, child in enumerate(children):
        text += f"  Child{index}:\n    Type: AWS::CloudFormation::Stack\n    Properties:\n      TemplateURL: {HOST}/{child}\n"
    return text.encode()


def with_asset(key: str) -> bytes:
    return ("Resources:\n  Function:\n    Type: AWS::Lambda::Function\n    Properties:\n      Runtime: python3.12\n"
            "      Handler: index.handler\n      Role: arn:aws:iam::123456789012:role/r\n"
            f"      Code:\n        S3Bucket: {SOURCE}\n        S3Key: {key}\n").encode()


def release(*extra: str | Path) -> list[str | Path]:
    return ["release", f"s3://{SOURCE}", "--region", "cn-north-1", "--bucket", TARGET, *extra]


# -- paths ------------------------------------------------------------------------------------


def test_a_nested_template_key_with_dotdot_is_refused_before_any_request(bad_s3: tuple[HostileS3, dict[str, str]], tmp_path: Path) -> None:
    s3, env = bad_s3
    s3.put("v1.0.0/panther.yml", nested("../../../../.bashrc"))
    s3.put("../../../../.bashrc", b"Resources: {}\n# planted\n")
    home = tmp_path / "home"
    cache = home / "a" / "cache"
    done = run(*release("--release", "v1.0.0", "--out-dir", tmp_path / "out", "--cache-dir", cache), env=env)
    one_line(done, "unsafe object key '../../../../.bashrc'", "/Resources/Child0/Properties/TemplateURL")
    assert "../../../../.bashrc" not in s3.keys("HEAD") + s3.keys("GET")  # refused before a request, so before a byte
    assert {p for p in files_below(home) if not p.startswith("a/cache/")} == set()
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("name", ["../../../../x", "..", "v1/../../x", "v1\\..\\x", "v1\nx"])
def test_a_release_name_that_leaves_the_bucket_folder_is_refused(bad_s3: tuple[HostileS3, dict[str, str]], tmp_path: Path, name: str) -> None:
    s3, env = bad_s3
    s3.put(f"{name.strip('/')}/panther.yml", b"Resources: {}\n")
    cache = tmp_path / "deep" / "er" / "cache"
    done = run(*release("--release", name, "--upload", "--check", "--cache-dir", cache), env=env)
    one_line(done, "<command line>: --release", "is not a release folder of the bucket")
    assert s3.log == [] and files_below(tmp_path) == {"aws-config"}


def test_a_link_in_the_cache_never_leads_a_download_outside_it(bad_s3: tuple[HostileS3, dict[str, str]], tmp_path: Path) -> None:
    s3, env = bad_s3
    s3.put("v1.0.0/panther.yml", b"Resources: {}\n")
    outside, cache = tmp_path / "outside", tmp_path / "cache"
    outside.mkdir()
    (cache / "objects" / SOURCE).mkdir(parents=True)
    (cache / "objects" / SOURCE / "v1.0.0").symlink_to(outside)
    done = run(*release("--release", "v1.0.0", "--out-dir", tmp_path / "out", "--cache-dir", cache), env=env)
    one_line(done, "is a link leading outside the cache")
    assert list(outside.iterdir()) == []


# -- the output folder ------------------------------------------------------------------------


def test_a_planted_lock_link_is_refused_and_nothing_is_created_where_it_points(tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.mkdir()
    (tmp_path / ".out.lock").symlink_to(victim / "created-by-the-run")
    done = run("release", EXAMPLE, "--release", "v1.0.0", "--region", "cn-north-1", "--bucket", TARGET,
               "--out-dir", tmp_path / "out")
    one_line(done, ".out.lock", "symbolic link")
    assert list(victim.iterdir()) == [] and not (tmp_path / "out").exists()
    assert (tmp_path / ".out.lock").is_symlink()  # refused, not removed: it is not ours


def test_the_out_dir_name_is_never_a_glob_pattern(tmp_path: Path) -> None:
    """`--out-dir 'o*'` must not take `.other.partial-*` or `.other.old-*` (another folder's last good output) for its own."""
    other_staging, other_parked = tmp_path / ".other.partial-1234abcd", tmp_path / ".other.old-5678abcd"
    for folder in (other_staging, other_parked, tmp_path / "other"):
        folder.mkdir()
        (folder / "keep.txt").write_text("another folder's\n")
    common = ["release", EXAMPLE, "--release", "v1.0.0", "--region", "cn-north-1", "--bucket", TARGET, "--out-dir", "o*"]
    first = run(*common, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    again = run(*common, "--force", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert "note:" not in first.stderr + again.stderr  # nothing of another folder was removed
    for folder in (other_staging, other_parked):
        assert (folder / "keep.txt").read_text() == "another folder's\n"
    assert (tmp_path / "o*" / "manifest.json").is_file()


# -- outputs apart from inputs ------------------------------------------------------------------


def copy_mirror(folder: Path) -> Path:
    import shutil

    mirror = folder / SOURCE
    shutil.copytree(EXAMPLE, mirror)
    return mirror


def local_release(mirror: Path, *extra: str | Path) -> list[str | Path]:
    return ["release", mirror, "--release", "v1.0.0", "--region", "cn-north-1", "--bucket", TARGET, *extra]


def test_the_report_is_never_written_into_the_source_mirror(tmp_path: Path) -> None:
    mirror = copy_mirror(tmp_path)
    root = (mirror / "v1.0.0" / "panther.yml").read_bytes()
    for report in (mirror / "v1.0.0" / "panther.yml", mirror / "notes.md"):
        done = run(*local_release(mirror, "--out-dir", tmp_path / "out", "--report", report))
        one_line(done, "--report would write inside the source mirror")
    assert (mirror / "v1.0.0" / "panther.yml").read_bytes() == root and not (mirror / "notes.md").exists()
    assert not (tmp_path / "out").exists()


def test_the_report_is_never_written_into_the_output_folder_or_its_staging(tmp_path: Path) -> None:
    mirror = copy_mirror(tmp_path)
    (tmp_path / ".out.partial-0000").mkdir()  # a stale staging folder: the run removes it, and the report with it
    for report in (tmp_path / "out" / "report.md", tmp_path / ".out.partial-0000" / "report.md"):
        done = run(*local_release(mirror, "--out-dir", tmp_path / "out", "--report", report))
        one_line(done, "--report would write inside the output folder")
    assert not (tmp_path / "out").exists() and list((tmp_path / ".out.partial-0000").iterdir()) == []


def test_an_output_is_never_one_of_the_runs_inputs(tmp_path: Path) -> None:
    mirror = copy_mirror(tmp_path)
    rules = tmp_path / "my-rules.yml"
    rules.write_text("version: 1\nname: mine\nextends: panther\nrules: []\n")
    template = tmp_path / "topic.yaml"
    template.write_text("Resources:\n  Topic:\n    Type: AWS::SNS::Topic\n")
    before = rules.read_text(), template.read_text()
    done = run(*local_release(mirror, "--out-dir", tmp_path / "out", "--rules", rules, "--report", rules))
    one_line(done, "--report would overwrite the rule file", "an input of this run")
    for option, target in (("--report", rules), ("--patch", template), ("-o", template), ("--report", tmp_path / "link.yaml")):
        if target.name == "link.yaml":
            target.symlink_to(template)
        done = run("transform", template, "--region", "cn-north-1", "--bucket", TARGET, "--rules", rules, option, target)
        one_line(done, f"{option} would overwrite", "an input of this run")
    assert (rules.read_text(), template.read_text()) == before


def test_force_never_replaces_a_folder_holding_the_runs_rule_file(tmp_path: Path) -> None:
    mirror = copy_mirror(tmp_path)
    config = tmp_path / "config"
    config.mkdir()
    rules = config / "my-rules.yml"
    rules.write_text("version: 1\nname: mine\nextends: panther\nrules: []\n")
    for out in (config, tmp_path):
        done = run(*local_release(mirror, "--out-dir", out, "--force", "--rules", rules))
        assert done.returncode == 2
        if out == config:
            one_line(done, "holds the rule file", "an input of this run")
    assert rules.is_file()


def test_force_never_replaces_the_download_cache(tmp_path: Path) -> None:
    mirror = copy_mirror(tmp_path)
    cache = tmp_path / "xdg" / "panther-cn-transform"
    (cache / "objects" / "other-bucket").mkdir(parents=True)
    (cache / "objects" / "other-bucket" / "object").write_text("a download of another run\n")
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "xdg")}
    for out in (cache, cache / "state", cache / "objects", tmp_path / "xdg"):
        done = run(*local_release(mirror, "--out-dir", out, "--force"), env=env)
        one_line(done, "download cache")
    assert (cache / "objects" / "other-bucket" / "object").is_file()


# -- content, not metadata --------------------------------------------------------------------


@pytest.fixture
def bad_s3_here(bad_s3: tuple[HostileS3, dict[str, str]], monkeypatch: pytest.MonkeyPatch) -> HostileS3:
    """The hostile S3, for an `S3Source` made in this process."""
    server, env = bad_s3
    for name in [n for n in os.environ if n.startswith("AWS_")]:
        monkeypatch.delenv(name)
    for name, value in env.items():
        if name.startswith("AWS_"):
            monkeypatch.setenv(name, value)
    return server


MULTIPART = '"0123456789abcdef0123456789abcdef-2"'


def fetch(cache: Path, key: str, *, stop_after: int | None = None, chunk: int = 256) -> None:
    from panther_cn_transform.release.s3source import S3Source

    received: list[int] = []

    def stop(size: int) -> None:
        received.append(size)
        if stop_after is not None and len(received) == stop_after:
            raise ConnectionResetError("connection lost")

    with S3Source(SOURCE, cache_dir=cache, jobs=1, on_bytes=stop, chunk_size=chunk) as source:
        source.fetch(key, key, wait=True)


def partial_files(cache: Path) -> list[Path]:
    return [p for p in (cache / "state").rglob("*") if p.is_file() and "partial" in p.parts]


def test_a_poisoned_partial_download_is_never_stitched_in(bad_s3_here: HostileS3, tmp_path: Path) -> None:
    data = bytes(range(256)) * 8
    bad_s3_here.put("asset", data, etag=MULTIPART)  # no MD5 to check the result against
    cache = tmp_path / "cache"
    with pytest.raises(ConnectionResetError):
        fetch(cache, "asset", stop_after=2)
    [partial] = partial_files(cache)
    partial.write_bytes(b"X" * partial.stat().st_size)  # other bytes, same length
    fetch(cache, "asset")
    assert (cache / "objects" / SOURCE / "asset").read_bytes() == data


def test_a_server_that_ignores_if_match_cannot_swap_bytes(bad_s3_here: HostileS3, tmp_path: Path) -> None:
    from panther_cn_transform.errors import ReleaseError

    old, new = b"A" * 2048, b"B" * 2048
    obj = bad_s3_here.put("asset", old, etag=MULTIPART)
    cache = tmp_path / "cache"
    with pytest.raises(ConnectionResetError):
        fetch(cache, "asset", stop_after=2)
    obj.body, obj.get_etag, obj.ignore_if_match = new, '"fedcba9876543210fedcba9876543210-2"', True  # replaced after the HEAD
    with pytest.raises(ReleaseError, match="another version"):
        fetch(cache, "asset")
    with pytest.raises(ReleaseError, match="another version"):  # and from the start, with no partial download
        fetch(tmp_path / "fresh", "asset")
    for folder in (cache, tmp_path / "fresh"):
        assert not (folder / "objects" / SOURCE / "asset").exists()


def test_s3s_sha256_checksum_decides_where_the_etag_cannot(bad_s3_here: HostileS3, tmp_path: Path) -> None:
    import base64
    import hashlib

    from panther_cn_transform.errors import ReleaseError

    data = b"the object's own bytes\n" * 100
    checksum = base64.b64encode(hashlib.sha256(data).digest()).decode()
    obj = bad_s3_here.put("asset", data, etag=MULTIPART, checksum_sha256=checksum)
    with pytest.raises(ConnectionResetError):
        fetch(tmp_path / "cache", "asset", stop_after=2)
    obj.body = data.upper()  # the rest comes from other bytes under the same ETag: a range has no checksum of its own
    with pytest.raises(ReleaseError, match="SHA-256 checksum"):
        fetch(tmp_path / "cache", "asset")
    assert not (tmp_path / "cache" / "objects" / SOURCE / "asset").exists()


def test_an_sse_kms_etag_is_not_taken_for_an_md5(bad_s3_here: HostileS3, tmp_path: Path) -> None:
    data = b"encrypted at rest with a KMS key\n"
    bad_s3_here.put("asset", data, etag='"00112233445566778899aabbccddeeff"', sse_kms=True)
    fetch(tmp_path / "cache", "asset")
    assert (tmp_path / "cache" / "objects" / SOURCE / "asset").read_bytes() == data


def moto_env(s3: S3Server) -> dict[str, str]:
    return {**os.environ, **s3.environment}


def test_a_cached_object_replaced_by_other_bytes_of_the_same_size_is_downloaded_again(s3: S3Server, tmp_path: Path) -> None:
    s3.bucket(SOURCE, "us-west-1")
    objects = s3.put_folder(SOURCE, "us-west-1", EXAMPLE)
    cache = tmp_path / "cache"
    first = run(*release("--release", "v1.0.0", "--out-dir", tmp_path / "o1", "--cache-dir", cache), env=moto_env(s3))
    assert first.returncode == 0, first.stderr
    asset = "c44fcecfc0872060c79d9029a0d9183275d6b078"
    cached = cache / "objects" / SOURCE / asset
    cached.write_bytes(bytes(b ^ 0xFF for b in cached.read_bytes()))  # other bytes, same size, same mtime or not
    again = run(*release("--release", "v1.0.0", "--out-dir", tmp_path / "o2", "--cache-dir", cache), env=moto_env(s3))
    assert again.returncode == 0, again.stderr
    assert "1 objects downloaded" in again.stderr
    assert (tmp_path / "o2" / asset).read_bytes() == objects[asset] == cached.read_bytes()


def test_the_targets_skip_trusts_s3s_checksum_not_the_objects_metadata(s3: S3Server, tmp_path: Path) -> None:
    import json

    s3.bucket(SOURCE, "us-west-1")
    s3.put_folder(SOURCE, "us-west-1", EXAMPLE)
    target = s3.bucket(TARGET, "cn-north-1")
    common = ["--release", "v1.0.0", "--upload", "--no-verify", "--cache-dir", tmp_path / "cache"]
    first = run(*release(*common), env=moto_env(s3))
    assert first.returncode == 0, first.stderr
    manifest = json.loads((tmp_path / "cache" / "releases" / TARGET / "v1.0.0" / "manifest.json").read_text())
    asset = next(o for o in manifest["objects"] if o["kind"] == "asset")
    target.put_object(Bucket=TARGET, Key=asset["key"], Body=b"other bytes", Metadata={"sha256": asset["sha256"]})
    again = run(*release(*common), env=moto_env(s3))
    assert again.returncode == 0, again.stderr
    assert "1 objects uploaded" in again.stderr and f"{len(manifest['objects']) - 1} skipped" in again.stderr
    assert hashlib.sha256(s3.objects(TARGET, "cn-north-1")[asset["key"]]).hexdigest() == asset["sha256"]
    third = run(*release(*common), env=moto_env(s3))
    assert "0 objects uploaded" in third.stderr  # what went up carries S3's checksum, and is skipped from now on


# -- bounds -----------------------------------------------------------------------------------


def test_a_template_whose_head_says_2_gib_is_refused_before_a_byte_is_downloaded(bad_s3: tuple[HostileS3, dict[str, str]], tmp_path: Path) -> None:
    s3, env = bad_s3
    s3.put("v1.0.0/panther.yml", nested("child"))
    s3.put("child", endless(8 << 20), head_size=2 * GIB, get_size=2 * GIB)
    done = run(*release("--release", "v1.0.0", "--out-dir", tmp_path / "out", "--cache-dir", tmp_path / "cache"), env=env)
    one_line(done, "object 'child' is 2,147,483,648 bytes", "over the 10,485,760-byte template limit (raise it with --max-input-bytes)")
    assert s3.keys("GET") == ["v1.0.0/panther.yml"]  # the child was never asked for


def test_assets_have_a_limit_of_their_own_checked_on_the_head(bad_s3: tuple[HostileS3, dict[str, str]], tmp_path: Path) -> None:
    s3, env = bad_s3
    s3.put("v1.0.0/panther.yml", with_asset("asset"))
    s3.put("asset", endless(8 << 20), head_size=3 * GIB, get_size=3 * GIB)
    common = ["--release", "v1.0.0", "--out-dir", tmp_path / "out", "--cache-dir", tmp_path / "cache"]
    done = run(*release(*common), env=env)
    one_line(done, "v1.0.0/panther.yml:/Resources/Function/Properties/Code/", "object 'asset' is 3,221,225,472 bytes",
             "over the 2,147,483,648-byte asset limit (raise it with --max-asset-bytes)")
    s3.put("asset", endless(5000))
    done = run(*release(*common, "--max-asset-bytes", "4096"), env=env)
    one_line(done, "object 'asset' is 5,000 bytes", "over the 4,096-byte asset limit")
    assert "asset" not in s3.keys("GET")
    done = run(*release(*common, "--max-asset-bytes", "5000"), env=env)
    assert done.returncode == 0, done.stderr


def test_a_body_longer_than_its_head_said_is_cut_off(bad_s3: tuple[HostileS3, dict[str, str]], tmp_path: Path) -> None:
    s3, env = bad_s3
    s3.put("v1.0.0/panther.yml", with_asset("asset"))
    s3.put("asset", endless(64 << 20), head_size=1000, get_size=64 << 20)
    done = run(*release("--release", "v1.0.0", "--out-dir", tmp_path / "out", "--cache-dir", tmp_path / "cache"), env=env)
    one_line(done, "s3://panther-enterprise-us-west-1/asset")
    assert s3.sent("GET") < 32 << 20  # refused on the answer's length, not read to the end
    assert sum(p.stat().st_size for p in (tmp_path / "cache").rglob("*") if p.is_file()) < 1 << 20


def test_a_body_that_trickles_meets_the_deadline(bad_s3: tuple[HostileS3, dict[str, str]], tmp_path: Path) -> None:
    s3, env = bad_s3
    s3.put("v1.0.0/panther.yml", with_asset("asset"))
    s3.put("asset", endless(400), trickle=0.5)  # a byte every 0.5 s: no read ever times out, the whole would take 200 s
    started = time.monotonic()
    done = run(*release("--release", "v1.0.0", "--out-dir", tmp_path / "out", "--cache-dir", tmp_path / "cache",
                        "--s3-timeout", "2"), env=env, timeout=150)
    one_line(done, "s3://panther-enterprise-us-west-1/asset", "no complete answer from S3 within 20 s")
    assert time.monotonic() - started < 100  # a 20 s deadline; the margin holds at load 8
    assert not (tmp_path / "out").exists()


def test_an_endpoint_that_never_answers_is_a_one_line_error(bad_s3: tuple[HostileS3, dict[str, str]], tmp_path: Path) -> None:
    s3, env = bad_s3
    s3.silent = True
    started = time.monotonic()
    done = run(*release("--release", "v1.0.0", "--out-dir", tmp_path / "out", "--cache-dir", tmp_path / "cache",
                        "--s3-timeout", "2"), env=env, timeout=150)
    one_line(done, "s3://panther-enterprise-us-west-1/v1.0.0/panther.yml")
    assert time.monotonic() - started < 100  # read timeouts and retries, or the 20 s deadline


def test_the_command_lines_s3_timeout_default_is_the_libraries() -> None:
    from panther_cn_transform.cli import DEFAULT_S3_TIMEOUT
    from panther_cn_transform.release.s3common import DEFAULT_TIMEOUT

    assert DEFAULT_S3_TIMEOUT == DEFAULT_TIMEOUT


def test_the_target_side_has_timeouts_and_a_deadline_too(bad_s3_here: HostileS3) -> None:
    from panther_cn_transform.errors import ReleaseError
    from panther_cn_transform.release.s3target import check_target, target_client

    bad_s3_here.silent = True
    started = time.monotonic()
    with pytest.raises(ReleaseError, match="s3://my-cn-bucket"):
        check_target(target_client(None, "cn-north-1", jobs=1, timeout=2), TARGET, "cn-north-1")
    assert time.monotonic() - started < 100


def test_the_report_is_never_written_into_the_download_cache(bad_s3: tuple[HostileS3, dict[str, str]], tmp_path: Path) -> None:
    s3, env = bad_s3
    s3.put("v1.0.0/panther.yml", b"Resources: {}\n")
    cache = tmp_path / "cache"
    (cache / "objects" / SOURCE / "v1.0.0").mkdir(parents=True)
    done = run(*release("--release", "v1.0.0", "--out-dir", tmp_path / "out", "--cache-dir", cache,
                        "--report", cache / "objects" / SOURCE / "v1.0.0" / "panther.yml"), env=env)
    one_line(done, "--report would write inside the download cache")
    assert s3.log == [] and files_below(cache) == set()

"""Release mode and the CLI's file handling under hostile conditions (issue 13).

Nothing dropped (every object the source release reaches is copied or reported as left
behind), nothing deleted (the source, the caller's folder, a previous output), nothing
half-written, every read bounded, and every signal ends the run in one line with no
worker left behind.  Each case runs through the CLI, where it was found.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from panther_cn_transform.release.manifest import check_manifest
from panther_cn_transform.release.outdir import _exchange

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
EXAMPLE = EXAMPLES / "release" / "panther-enterprise-us-west-1"
SOURCE_BUCKET = "panther-enterprise-us-west-1"
RELEASE = ("--release", "v1.0.0", "--region", "cn-north-1")


def cli(*args: str | Path, cwd: Path | None = None, timeout: float = 120, **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "panther_cn_transform", *map(str, args)],
        capture_output=True, text=True, check=False, cwd=cwd, timeout=timeout, **kwargs,  # type: ignore[call-overload]
    )


def one_line_error(done: subprocess.CompletedProcess[str], *fragments: str, code: int = 2, after_warnings: bool = False) -> str:
    assert done.returncode == code, (done.returncode, done.stderr)
    lines = done.stderr.strip().splitlines()
    if after_warnings:  # a release prints its warnings before it writes the report
        lines = [line for line in lines if not line.startswith("warning: ")]
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in done.stderr, done.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


def copy_example(folder: Path) -> Path:
    mirror = folder / SOURCE_BUCKET
    shutil.copytree(EXAMPLE, mirror)
    return mirror


def tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


# -- the bucket -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("bucket", "rule"),
    [
        ("s3://my-cn-bucket", "found ':'; give the bare bucket name"),
        ("my-cn-bucket/prefix", "found '/'"),
        ("my_bucket", "found '_'"),
        ("MyBucket", "found 'M'"),
        ("ab", "3 to 63 characters"),
        ("192.168.5.4", "IP address"),
        ("my..bucket", "two adjacent periods"),
        ("bucket-", "begin and end with a letter or a digit"),
        ("xn--bucket", "reserved prefix 'xn--'"),
        ("bucket-s3alias", "reserved suffix '-s3alias'"),
    ],
)
def test_an_invalid_bucket_name_is_refused_naming_the_rule(tmp_path: Path, bucket: str, rule: str) -> None:
    done = cli("release", EXAMPLE, *RELEASE, "--bucket", bucket, "--out-dir", tmp_path / "out", "--jobs", "1")
    one_line_error(done, f"--bucket {bucket!r} is not a valid S3 bucket name", rule)
    assert list(tmp_path.iterdir()) == []
    done = cli("transform", EXAMPLES / "global-stack.yaml", "--region", "cn-north-1", "--rules", "china", "--bucket", bucket, "-o", tmp_path / "t.yaml")
    one_line_error(done, "is not a valid S3 bucket name", rule)
    assert list(tmp_path.iterdir()) == []


def add_to_root(mirror: Path, text: str) -> None:
    root = mirror / "v1.0.0" / "panther.yml"
    root.write_text(root.read_text().replace("Resources:\n", "Resources:\n" + text, 1))


def test_an_object_whose_references_a_rule_removed_is_left_behind_and_reported(tmp_path: Path) -> None:
    mirror = copy_example(tmp_path)
    (mirror / "schema-object").write_text("type Query { a: String }\n")
    add_to_root(mirror, (
        "  Api:\n    Type: AWS::AppSync::GraphQLApi\n    Properties: {Name: n, AuthenticationType: API_KEY}\n"
        f"  Schema:\n    Type: AWS::AppSync::GraphQLSchema\n    Properties:\n      ApiId: !GetAtt Api.ApiId\n"
        f"      DefinitionS3Location: s3://{SOURCE_BUCKET}/schema-object\n"
    ))
    out, report = tmp_path / "out", tmp_path / "report.json"
    done = cli("release", mirror, *RELEASE, "--bucket", "my-cn-bucket", "--out-dir", out, "--report", report, "--jobs", "1")
    assert done.returncode == 0, done.stderr
    assert "1 left behind (see the report)" in done.stderr
    data = json.loads(report.read_text())
    [left] = data["left_behind"]
    assert left["key"] == "schema-object" and left["kind"] == "asset"
    assert left["referenced_by"] == [{"template": "v1.0.0/panther.yml", "path": "/Resources/Schema/Properties/DefinitionS3Location"}]
    assert "removed v1.0.0/panther.yml:/Resources/Schema" in left["reason"] and "AWS::AppSync::GraphQLSchema" in left["reason"]
    assert data["summary"]["objects_left_behind"] == 1
    assert not (out / "schema-object").exists() and check_manifest(out) == []
    text = cli("release", mirror, *RELEASE, "--bucket", "my-cn-bucket", "--out-dir", out, "--force", "--report", "-", "--jobs", "1")
    assert "Objects left behind" in text.stdout and "schema-object (asset): rule" in text.stdout


def test_an_object_that_a_rule_pointed_elsewhere_is_an_error_not_a_silent_drop(tmp_path: Path) -> None:
    mirror = copy_example(tmp_path)
    rules = tmp_path / "elsewhere.yml"
    rules.write_text(
        "extends: panther\nrules:\n  - id: elsewhere\n    description: Move the layer to another bucket.\n"
        "    action: replace_text\n    replacements:\n      - {pattern: '^my-cn-bucket$', replace: other-bucket}\n"
    )
    done = cli("release", mirror, *RELEASE, "--bucket", "my-cn-bucket", "--rules", rules, "--out-dir", tmp_path / "out", "--jobs", "1")
    one_line_error(done, "is no longer reached by the transformed release, but no rule removed that reference",
                   "rule 'elsewhere' changed it to 'other-bucket'", "/Resources/AnalysisLayer/Properties/Content/S3Bucket")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["elsewhere.yml", SOURCE_BUCKET]


def test_an_asset_keyed_like_the_manifest_is_an_error(tmp_path: Path) -> None:
    mirror = copy_example(tmp_path)
    (mirror / "manifest.json").write_text("{}\n")
    add_to_root(mirror, f"  Fn:\n    Type: AWS::Lambda::Function\n    Properties:\n      Code: {{S3Bucket: {SOURCE_BUCKET}, S3Key: manifest.json}}\n")
    done = cli("release", mirror, *RELEASE, "--bucket", "my-cn-bucket", "--out-dir", tmp_path / "out", "--jobs", "1")
    one_line_error(done, "object key 'manifest.json'", "collides with the release manifest")
    assert not (tmp_path / "out").exists()


# -- the out-dir ------------------------------------------------------------------------------


def test_an_out_dir_that_is_contains_or_is_inside_the_source_is_refused_even_with_force(tmp_path: Path) -> None:
    mirror = copy_example(tmp_path)
    before = tree(tmp_path)
    cases = {
        mirror: "is the source mirror",
        mirror / "v1.0.0": "is inside the source mirror",
        mirror / "new": "is inside the source mirror",
        tmp_path: "contains the source mirror",
    }
    for out, message in cases.items():
        done = cli("release", mirror, *RELEASE, "--bucket", "my-cn-bucket", "--out-dir", out, "--force", "--jobs", "1")
        one_line_error(done, message)
    assert tree(tmp_path) == before and sorted(p.name for p in tmp_path.iterdir()) == [SOURCE_BUCKET]


def test_dot_dotdot_and_a_file_as_out_dir_get_clear_errors_and_leave_no_debris(tmp_path: Path) -> None:
    mirror = copy_example(tmp_path / "mirrors")
    work = tmp_path / "work" / "inner"
    work.mkdir(parents=True)
    (work / "keep.txt").write_text("mine\n")
    for out in (".", ".."):
        done = cli("release", mirror, *RELEASE, "--bucket", "my-cn-bucket", "--out-dir", out, "--force", "--jobs", "1", cwd=work)
        one_line_error(done, f"error: {out}: the output folder is the current folder or contains it")
    (work / "a-file").write_text("not a folder\n")
    done = cli("release", mirror, *RELEASE, "--bucket", "my-cn-bucket", "--out-dir", "a-file", "--force", "--jobs", "1", cwd=work)
    one_line_error(done, "a-file: exists and is not a folder")
    assert sorted(p.name for p in work.iterdir()) == ["a-file", "keep.txt"]
    assert sorted(p.name for p in (tmp_path / "work").iterdir()) == ["inner"]


def test_a_second_run_on_a_locked_out_dir_fails_at_once(tmp_path: Path) -> None:
    out = tmp_path / "cn"
    lock = tmp_path / ".cn.lock"
    with lock.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        done = cli("release", EXAMPLE, *RELEASE, "--bucket", "my-cn-bucket", "--out-dir", out, "--jobs", "1")
    one_line_error(done, "another run is writing this output folder", ".cn.lock is held")
    assert not out.exists()
    done = cli("release", EXAMPLE, *RELEASE, "--bucket", "my-cn-bucket", "--out-dir", out, "--jobs", "1")
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cn"]  # the lock file is removed by its holder


def test_stale_staging_folders_are_removed_and_named_or_refused_when_they_hold_the_last_output(tmp_path: Path) -> None:
    out = tmp_path / "cn"
    assert cli("release", EXAMPLE, *RELEASE, "--bucket", "my-cn-bucket", "--out-dir", out, "--jobs", "1").returncode == 0
    for name in (".cn.partial-dead01", ".cn.old-dead02"):
        (tmp_path / name / "v1.0.0").mkdir(parents=True)
        (tmp_path / name / "v1.0.0" / "panther.yml").write_text("half\n")
    done = cli("release", EXAMPLE, *RELEASE, "--bucket", "my-cn-bucket", "--out-dir", out, "--force", "--jobs", "1")
    assert done.returncode == 0, done.stderr
    [note] = [line for line in done.stderr.splitlines() if line.startswith("note:")]
    assert note == "note: removed 2 staging folder(s) left by interrupted runs: .cn.partial-dead01, .cn.old-dead02"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cn"]
    # a run killed between the two renames of the fallback swap: the previous output is parked, the out-dir gone
    os.rename(out, tmp_path / ".cn.old-dead03")
    done = cli("release", EXAMPLE, *RELEASE, "--bucket", "my-cn-bucket", "--out-dir", out, "--force", "--jobs", "1")
    one_line_error(done, ".cn.old-dead03 holds the previous output of an interrupted run", "move it back")
    assert sorted(p.name for p in tmp_path.iterdir()) == [".cn.old-dead03"]


def test_the_swap_is_one_atomic_exchange(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    (a / "x").write_text("new\n")
    (b / "y").write_text("old\n")
    assert _exchange(a, b), "renameat2(RENAME_EXCHANGE) is available on Linux file systems such as this one"
    assert [p.name for p in a.iterdir()] == ["y"] and [p.name for p in b.iterdir()] == ["x"]


def test_a_reader_never_sees_the_out_dir_missing_while_it_is_replaced(tmp_path: Path) -> None:
    out = tmp_path / "cn"
    assert cli("release", EXAMPLE, *RELEASE, "--bucket", "my-cn-bucket", "--out-dir", out, "--jobs", "1").returncode == 0
    missing = []
    stop = threading.Event()

    def watch() -> None:
        while not stop.is_set():
            if not (out / "manifest.json").exists():
                missing.append(time.monotonic())

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        for _ in range(3):
            done = cli("release", EXAMPLE, *RELEASE, "--bucket", "my-cn-bucket", "--out-dir", out, "--force", "--jobs", "1")
            assert done.returncode == 0, done.stderr
    finally:
        stop.set()
        watcher.join()
    assert missing == []


def test_new_outputs_get_the_ordinary_mode_and_an_existing_file_keeps_its_mode(tmp_path: Path) -> None:
    old_umask = os.umask(0o022)
    try:
        out, report = tmp_path / "cn", tmp_path / "r.md"
        done = cli("release", EXAMPLE, *RELEASE, "--bucket", "my-cn-bucket", "--out-dir", out, "--report", report, "--jobs", "1")
        assert done.returncode == 0, done.stderr
        assert stat.S_IMODE(out.stat().st_mode) == 0o755 and stat.S_IMODE((out / "v1.0.0").stat().st_mode) == 0o755
        assert {stat.S_IMODE(p.stat().st_mode) for p in out.rglob("*") if p.is_file()} == {0o644}
        assert stat.S_IMODE(report.stat().st_mode) == 0o644
        template, kept = tmp_path / "t.yaml", tmp_path / "kept.yaml"
        kept.write_text("old\n")
        kept.chmod(0o640)
        done = cli("transform", EXAMPLES / "global-stack.yaml", "--region", "cn-north-1", "--rules", "china", "-o", kept)
        assert done.returncode == 0 and stat.S_IMODE(kept.stat().st_mode) == 0o640 and kept.read_text() != "old\n"
        done = cli("transform", EXAMPLES / "global-stack.yaml", "--region", "cn-north-1", "--rules", "china", "-o", template)
        assert done.returncode == 0 and stat.S_IMODE(template.stat().st_mode) == 0o644
    finally:
        os.umask(old_umask)


# -- signals ----------------------------------------------------------------------------------


def slow_mirror(folder: Path, templates: int = 48, resources: int = 2500) -> Path:
    """A release whose transform keeps two workers busy for many seconds (about 6 s of work on a quiet machine in 2026)."""
    mirror = folder / SOURCE_BUCKET
    (mirror / "v1.0.0").mkdir(parents=True)
    body = "".join(
        f"  T{i}:\n    Type: AWS::SNS::Topic\n    Properties:\n      KmsMasterKeyId: arn:aws:kms:us-west-1:123456789012:key/k{i}\n"
        for i in range(resources)
    )
    stacks = ""
    for n in range(templates):
        (mirror / f"child-{n}.yml").write_text("Resources:\n" + body)
        stacks += (f"  Child{n}:\n    Type: AWS::CloudFormation::Stack\n    Properties:\n"
                   f"      TemplateURL: https://{SOURCE_BUCKET}.s3.us-west-1.amazonaws.com/child-{n}.yml\n")
    (mirror / "v1.0.0" / "panther.yml").write_text("Resources:\n" + stacks)
    return mirror


def children_of(pid: int) -> set[int]:
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found |= {int(c) for c in (task / "children").read_text().split()}
        except OSError:
            pass
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def start_release_with_workers(tmp_path: Path) -> tuple[subprocess.Popen[str], set[int]]:
    mirror = slow_mirror(tmp_path / "src")
    # The command as a terminal runs it: SIGINT at its default.  A test run started in the background (`.ci/run &`)
    # passes SIGINT on ignored, and Python keeps an ignore it inherits, so Ctrl-C would never reach the command.
    as_from_a_terminal = ("import signal; signal.signal(signal.SIGINT, signal.default_int_handler); "
                          "from panther_cn_transform.cli import main_exit; main_exit()")
    process = subprocess.Popen(
        [sys.executable, "-c", as_from_a_terminal, "release", str(mirror), *RELEASE, "--bucket", "my-cn-bucket",
         "--out-dir", str(tmp_path / "out" / "cn"), "--jobs", "2"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )
    deadline = time.monotonic() + 60
    workers: set[int] = set()
    while time.monotonic() < deadline and len(workers) < 2:
        workers = children_of(process.pid)
        time.sleep(0.05)
    assert len(workers) >= 2, "the release did not start its workers"
    time.sleep(0.5)  # let them take work
    return process, workers


def assert_workers_gone(workers: set[int]) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and any(alive(pid) for pid in workers):
        time.sleep(0.05)
    assert not any(alive(pid) for pid in workers), "a worker outlived the run"


@pytest.mark.parametrize(
    ("signum", "code", "message"),
    [(signal.SIGINT, 130, "error: interrupted; no output was written"),
     (signal.SIGTERM, 143, "error: terminated (SIGTERM); no output was written")],
)
def test_ctrl_c_and_sigterm_end_the_run_in_one_line_with_no_worker_left(tmp_path: Path, signum: int, code: int, message: str) -> None:
    process, workers = start_release_with_workers(tmp_path)
    if signum == signal.SIGINT:
        os.killpg(process.pid, signum)  # a terminal's Ctrl-C reaches the whole process group
    else:
        process.send_signal(signum)
    _stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == code, stderr
    assert stderr.strip() == message and "Traceback" not in stderr
    assert_workers_gone(workers)
    assert not (tmp_path / "out").exists()  # no out-dir, no staging, no lock file, not even the parent it created


@pytest.mark.parametrize("code", [130, 143])
def test_after_ctrl_c_or_sigterm_the_command_ends_though_a_thread_would_block_the_exit(code: int) -> None:
    """A pool thread left waiting by a killed worker (it died sending a result) must not keep the process alive."""
    script = ("import threading; import panther_cn_transform.cli as cli; "
              "threading.Thread(target=threading.Event().wait).start(); "  # a thread the interpreter's exit would join forever
              f"cli.main = lambda: print('error: interrupted', file=__import__('sys').stderr) or {code}; cli.main_exit()")
    done = subprocess.run([sys.executable, "-c", script], check=False, capture_output=True, text=True, timeout=60)
    assert done.returncode == code and done.stderr == "error: interrupted\n"


def test_a_normal_end_still_runs_the_interpreter_exit() -> None:
    script = ("import atexit, panther_cn_transform.cli as cli; atexit.register(print, 'exit handlers ran'); "
              "cli.main = lambda: 0; cli.main_exit()")
    done = subprocess.run([sys.executable, "-c", script], check=False, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout == "exit handlers ran\n"


def test_sigkill_of_the_parent_takes_the_workers_with_it(tmp_path: Path) -> None:
    process, workers = start_release_with_workers(tmp_path)
    process.kill()
    process.communicate(timeout=60)  # returns only when no worker holds the pipes open
    assert_workers_gone(workers)


# -- bounded reads ----------------------------------------------------------------------------


def test_devices_and_fifos_are_refused_without_reading_or_blocking(tmp_path: Path) -> None:
    done = cli("transform", "/dev/zero", "--region", "cn-north-1", timeout=60)
    one_line_error(done, "/dev/zero: is a character device, not a regular file")
    fifo = tmp_path / "fifo.yaml"
    os.mkfifo(fifo)
    done = cli("transform", fifo, "--region", "cn-north-1", timeout=60)
    one_line_error(done, "fifo.yaml: is a FIFO (named pipe), not a regular file")
    rules = tmp_path / "rules.yml"
    os.mkfifo(rules)
    done = cli("rules", "check", rules, timeout=60)
    one_line_error(done, "rules.yml: is a FIFO (named pipe)")


def test_standard_input_is_read_with_the_limit(tmp_path: Path) -> None:
    text = (EXAMPLES / "global-stack.yaml").read_text()
    done = cli("transform", "-", "--region", "cn-north-1", "--rules", "china", input=text)
    assert done.returncode == 0 and "arn:aws-cn:" in done.stdout
    with open("/dev/zero", "rb") as zero:
        done = cli("transform", "-", "--region", "cn-north-1", "--max-input-bytes", "1000000", stdin=zero, timeout=60)
    one_line_error(done, "<stdin>: input is over the 1,000,000-byte input limit")


def test_release_objects_that_are_fifos_devices_or_link_loops_are_errors(tmp_path: Path) -> None:
    mirror = copy_example(tmp_path)
    layer = "0d4807a65db8b4758138d7b6bf9d810eed5b2563"  # the function's code
    (mirror / layer).unlink()
    os.mkfifo(mirror / layer)
    done = cli("release", mirror, *RELEASE, "--bucket", "my-cn-bucket", "--out-dir", tmp_path / "out", "--jobs", "1", timeout=60)
    one_line_error(done, f"object {layer!r} needed by", "is a FIFO (named pipe) in the source mirror, not a file")
    (mirror / layer).unlink()
    os.symlink(mirror / layer, mirror / layer)
    done = cli("release", mirror, *RELEASE, "--bucket", "my-cn-bucket", "--out-dir", tmp_path / "out", "--jobs", "1", timeout=60)
    one_line_error(done, f"object {layer!r} (needed by", "Symlink loop")
    assert not (tmp_path / "out").exists()


def test_assets_are_streamed_not_held_in_memory(tmp_path: Path) -> None:
    """Three 1 GiB assets (sparse files) under a 2 GiB address-space cap: hashed in chunks."""
    mirror = copy_example(tmp_path)
    extra = ""
    for n in range(3):
        with (mirror / f"big-{n}").open("wb") as handle:
            handle.truncate(1024**3)
        extra += f"  Big{n}:\n    Type: AWS::Lambda::Function\n    Properties:\n      Code: {{S3Bucket: {SOURCE_BUCKET}, S3Key: big-{n}}}\n"
    add_to_root(mirror, extra)

    def cap() -> None:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (2 * 1024**3, 2 * 1024**3))

    done = cli("release", mirror, *RELEASE, "--bucket", "my-cn-bucket", "--out-dir", tmp_path / "out", "--check", "--jobs", "1",
               preexec_fn=cap, timeout=600)
    assert done.returncode == 0, done.stderr
    assert "5 objects copied" in done.stderr


# -- outputs ----------------------------------------------------------------------------------


def test_nothing_is_written_when_one_output_cannot_be(tmp_path: Path) -> None:
    done = cli("transform", EXAMPLES / "global-stack.yaml", "--region", "cn-north-1", "--rules", "china", "-o", "missing/out.yaml",
               "--patch", "p.json", "--report", "r.md", cwd=tmp_path)
    one_line_error(done, "missing/out.yaml: cannot write: folder", "does not exist")
    assert list(tmp_path.iterdir()) == []


def test_dash_means_stdout_for_every_output(tmp_path: Path) -> None:
    source = EXAMPLES / "global-stack.yaml"
    patch = cli("transform", source, "--region", "cn-north-1", "--rules", "china", "-o", tmp_path / "o.yaml", "--patch", "-")
    assert patch.returncode == 0 and json.loads(patch.stdout)[0]["op"] == "replace"
    report = cli("transform", source, "--region", "cn-north-1", "--rules", "china", "-o", tmp_path / "o.yaml", "--report", "-", "--report-format", "json")
    assert report.returncode == 0 and json.loads(report.stdout)["version"] == 1
    text = cli("transform", source, "--region", "cn-north-1", "--rules", "china", "-o", "-")
    assert text.returncode == 0 and "arn:aws-cn:" in text.stdout
    both = cli("transform", source, "--region", "cn-north-1", "--rules", "china", "--report", "-")
    one_line_error(both, "--report and -o both write to standard output")


def test_dev_stdout_is_written_not_replaced(tmp_path: Path) -> None:
    link = os.readlink("/dev/stdout")
    done = cli("transform", EXAMPLES / "global-stack.yaml", "--region", "cn-north-1", "--rules", "china", "-o", "/dev/stdout")
    assert done.returncode == 0 and "arn:aws-cn:" in done.stdout, done.stderr
    assert os.path.islink("/dev/stdout") and os.readlink("/dev/stdout") == link
    assert not list(Path("/dev").glob(".stdout.*"))


# -- errors that used to be internal errors ----------------------------------------------------


def test_a_full_disk_is_a_one_line_error(tmp_path: Path) -> None:
    done = cli("transform", EXAMPLES / "global-stack.yaml", "--region", "cn-north-1", "--rules", "china", "-o", "/dev/full")
    one_line_error(done, "/dev/full: cannot write: No space left on device")
    done = cli("release", EXAMPLE, *RELEASE, "--bucket", "my-cn-bucket", "--out-dir", tmp_path / "cn", "--report", "/dev/full", "--jobs", "1")
    one_line_error(done, "/dev/full: cannot write: No space left on device", after_warnings=True)


def cli_without_root_powers(*args: str | Path) -> subprocess.CompletedProcess[str]:
    """The CLI with file permissions enforced: root loses the capabilities that bypass them."""
    prefix = ["setpriv", "--bounding-set=-dac_override,-dac_read_search"] if os.geteuid() == 0 else []
    return subprocess.run([*prefix, sys.executable, "-m", "panther_cn_transform", *map(str, args)],
                          capture_output=True, text=True, check=False, timeout=120)


def test_permission_denied_names_the_file(tmp_path: Path) -> None:
    secret = tmp_path / "secret.yaml"
    secret.write_text("Resources:\n  R:\n    Type: AWS::SNS::Topic\n")
    secret.chmod(0o000)
    one_line_error(cli_without_root_powers("transform", secret, "--region", "cn-north-1", "--rules", "china"),
                   "secret.yaml: cannot read: Permission denied")
    readable, locked = tmp_path / "t.yaml", tmp_path / "locked"
    readable.write_text("Resources:\n  R:\n    Type: AWS::SNS::Topic\n")
    locked.mkdir(mode=0o555)
    done = cli_without_root_powers("transform", readable, "--region", "cn-north-1", "--rules", "china", "-o", locked / "o.yaml")
    one_line_error(done, "o.yaml: cannot write: Permission denied")
    mirror = copy_example(tmp_path / "m")
    (mirror / "0d4807a65db8b4758138d7b6bf9d810eed5b2563").chmod(0o000)
    done = cli_without_root_powers("release", mirror, *RELEASE, "--bucket", "my-cn-bucket", "--out-dir", tmp_path / "out", "--jobs", "1")
    one_line_error(done, "cannot read 0d4807a65db8b4758138d7b6bf9d810eed5b2563: Permission denied")
    assert not (tmp_path / "out").exists()
    one_line_error(cli_without_root_powers("release", mirror, *RELEASE, "--bucket", "my-cn-bucket", "--out-dir", locked / "cn"),
                   "cannot create the lock file", "Permission denied")


def test_a_symlink_loop_is_a_one_line_error_everywhere(tmp_path: Path) -> None:
    loop = tmp_path / "loop.yaml"
    os.symlink(loop, loop)
    one_line_error(cli("transform", loop, "--region", "cn-north-1"), "loop.yaml: cannot read: Too many levels of symbolic links")
    one_line_error(cli("rules", "check", loop), "loop.yaml: cannot read: Too many levels of symbolic links")
    out = tmp_path / "out-loop"
    os.symlink(out, out)
    one_line_error(cli("release", EXAMPLE, *RELEASE, "--bucket", "my-cn-bucket", "--out-dir", out, "--jobs", "1"),
                   "out-loop: cannot resolve the output folder")


def test_a_chain_of_1200_nested_stacks_is_transformed(tmp_path: Path) -> None:
    mirror = tmp_path / SOURCE_BUCKET
    (mirror / "v1.0.0").mkdir(parents=True)
    depth = 1200

    def stack(n: int) -> str:
        return (f"Resources:\n  Next:\n    Type: AWS::CloudFormation::Stack\n    Properties:\n"
                f"      TemplateURL: https://{SOURCE_BUCKET}.s3.us-west-1.amazonaws.com/t{n}.yml\n")

    (mirror / "v1.0.0" / "panther.yml").write_text(stack(0))
    for n in range(depth):
        (mirror / f"t{n}.yml").write_text(stack(n + 1) if n + 1 < depth else "Resources:\n  T:\n    Type: AWS::SNS::Topic\n")
    done = cli("release", mirror, *RELEASE, "--bucket", "my-cn-bucket", "--out-dir", tmp_path / "out", "--jobs", "1", timeout=600)
    assert done.returncode == 0, done.stderr
    assert f"{depth + 1} templates transformed" in done.stderr


def test_a_write_that_fails_half_way_leaves_nothing_and_names_the_object(tmp_path: Path) -> None:
    """The kernel refuses writes past 2,000 bytes (RLIMIT_FSIZE, SIGXFSZ ignored): a real failing write."""

    def small_files() -> None:
        import resource

        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (2000, 2000))

    out = tmp_path / "parent" / "cn"
    done = cli("release", EXAMPLE, *RELEASE, "--bucket", "my-cn-bucket", "--out-dir", out, "--jobs", "1", preexec_fn=small_files)
    line = one_line_error(done, f"error: {out}: cannot write object ", "File too large", after_warnings=True)
    assert "partial" not in line
    assert list(tmp_path.iterdir()) == []  # no staging folder, no lock file, not even the parent folder it made


def test_a_report_that_cannot_be_written_stops_the_release_before_it_writes(tmp_path: Path) -> None:
    out = tmp_path / "cn"
    done = cli("release", EXAMPLE, *RELEASE, "--bucket", "my-cn-bucket", "--out-dir", out, "--report", tmp_path / "no" / "r.md")
    one_line_error(done, "r.md: cannot write: folder", "does not exist")
    assert list(tmp_path.iterdir()) == []
    (tmp_path / "a-folder").mkdir()
    one_line_error(cli("release", EXAMPLE, *RELEASE, "--bucket", "my-cn-bucket", "--out-dir", out, "--report", tmp_path / "a-folder"),
                   "a-folder: is a directory")
    assert [p.name for p in tmp_path.iterdir()] == ["a-folder"]

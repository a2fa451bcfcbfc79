"""Every error in docs/limits.md's table, typed as its example says, prints exactly its line.

Each row of the table (`| error | example | message |`) is one test: the example runs
through the command line (`python -m panther_cn_transform` and the example) in a copy of
examples/errors/, where the inputs it names are, and must exit 2, print one line on stderr
that is the row's message (`...` matches anything) and write nothing into the folder.

The rows about S3 and `connect` run against moto in server mode (tests/s3server.py), set
up as the row's note says; `SETUPS` holds each, and a row that talks to AWS without one
fails.
"""

from __future__ import annotations

import hashlib
import os
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest
from moto.core.authorization import enable_iam_authentication

from .s3server import S3Server

REPO = Path(__file__).resolve().parent.parent
LIMITS = REPO / "docs" / "limits.md"
EXAMPLE = REPO / "examples" / "release" / "panther-enterprise-us-west-1"
SOURCE, SOURCE_REGION, TARGET = "panther-enterprise-us-west-1", "us-west-1", "my-cn-bucket"
_CELL = re.compile(r"(?<!\\)\|")


@dataclass(frozen=True)
class Row:
    error: str
    example: str  # the arguments after `python -m panther_cn_transform`
    message: str


def rows() -> list[Row]:
    """The rows of the first table of the section `## Errors` of docs/limits.md."""
    section = LIMITS.read_text("utf-8").split("\n## Errors\n", 1)[1].split("\n## ", 1)[0]
    lines = section.splitlines()
    start = next(i for i, line in enumerate(lines) if line.replace(" ", "") == "|error|example|message|")
    found = []
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        cells = [cell.strip().replace("\\|", "|") for cell in _CELL.split(line)[1:-1]]
        error, example, message = cells
        found.append(Row(error, _code(example), _code(message)))
    return found


def _code(cell: str) -> str:
    """The text of the cell's first code span (a note after it describes the setup)."""
    match = re.match(r"`([^`]*)`", cell)
    assert match, f"a table cell without its example: {cell!r}"
    return match.group(1)


ROWS = rows()


def _environment(s3: S3Server, tmp_path: Path, credentials: bool = True) -> dict[str, str]:
    environment = {name: value for name, value in os.environ.items() if not name.startswith("AWS_")}
    environment.update(s3.environment)
    config = tmp_path / "aws-config"
    if not config.exists():
        config.write_text("")
    environment.update(AWS_CONFIG_FILE=str(config), AWS_SHARED_CREDENTIALS_FILE=str(config),
                       AWS_EC2_METADATA_DISABLED="true", XDG_CACHE_HOME=str(tmp_path / "cache"))
    if not credentials:
        environment.pop("AWS_ACCESS_KEY_ID")
        environment.pop("AWS_SECRET_ACCESS_KEY")
    return environment


def _source_bucket(s3: S3Server) -> None:
    s3.bucket(SOURCE, SOURCE_REGION)
    s3.put_folder(SOURCE, SOURCE_REGION, EXAMPLE)


def _no_credentials(s3: S3Server, tmp_path: Path) -> tuple[dict[str, str], AbstractContextManager[object]]:
    _source_bucket(s3)
    return _environment(s3, tmp_path, credentials=False), nullcontext()


def _access_denied(s3: S3Server, tmp_path: Path) -> tuple[dict[str, str], AbstractContextManager[object]]:
    _source_bucket(s3)
    iam = boto3.client("iam", region_name="us-east-1", endpoint_url=s3.url,
                       aws_access_key_id="testing", aws_secret_access_key="testing")
    iam.create_user(UserName="no-access")  # an identity without any policy
    key = iam.create_access_key(UserName="no-access")["AccessKey"]
    (tmp_path / "aws-config").write_text(
        f"[no-access]\naws_access_key_id = {key['AccessKeyId']}\naws_secret_access_key = {key['SecretAccessKey']}\n")
    return _environment(s3, tmp_path), enable_iam_authentication()


def _plain(prepare: Callable[[S3Server], object]) -> Callable[[S3Server, Path], tuple[dict[str, str], AbstractContextManager[object]]]:
    def setup(s3: S3Server, tmp_path: Path) -> tuple[dict[str, str], AbstractContextManager[object]]:
        prepare(s3)
        return _environment(s3, tmp_path), nullcontext()
    return setup


def _target_elsewhere(s3: S3Server) -> None:
    _source_bucket(s3)
    s3.bucket(TARGET, "cn-northwest-1")


SETUPS: dict[str, Callable[[S3Server, Path], tuple[dict[str, str], AbstractContextManager[object]]]] = {
    "S3: no credentials": _no_credentials,
    "S3: access denied": _access_denied,
    "S3: no such source bucket": _plain(lambda s3: None),
    "S3: no such release": _plain(_source_bucket),
    "S3: asset over the limit": _plain(_source_bucket),
    "S3: no such target bucket": _plain(_source_bucket),
    "S3: target bucket in another region": _plain(_target_elsewhere),
    "S3: not a whole bucket": _plain(lambda s3: None),
    "connect: no such stack": _plain(lambda s3: None),
    "release: blockers stop the upload": _plain(lambda s3: s3.bucket(TARGET, "cn-north-1")),
}
#: rows whose command must leave the target bucket empty, and the bucket's region
NOTHING_UPLOADED = {"S3: target bucket in another region": "cn-northwest-1", "release: blockers stop the upload": "cn-north-1"}


def _tree(folder: Path) -> dict[str, str]:
    """Every file and folder below `folder`, with a digest of each file's bytes."""
    return {path.relative_to(folder).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "dir"
            for path in sorted(folder.rglob("*"))}


def _matches(expected: str, printed: str) -> bool:
    return re.fullmatch(".*?".join(map(re.escape, expected.split("..."))), printed) is not None


def test_the_table_is_all_there() -> None:
    # guards against a parser that stops early: every kind of input has its rows
    assert len(ROWS) >= 55
    names = {row.error for row in ROWS}
    assert {"no bucket", "release: no such release", "release: folder not named after its bucket",
            "release: no such folder", "S3: no such release"} <= names
    assert len(names) == len(ROWS)  # one example each


@pytest.mark.parametrize("row", ROWS, ids=lambda row: row.error)
def test_the_example_prints_its_line_and_writes_nothing(row: Row, s3: S3Server, tmp_path: Path) -> None:
    shutil.copytree(REPO / "examples", tmp_path / "examples")
    folder = tmp_path / "examples" / "errors"
    talks_to_aws = row.example.startswith(("release s3://", "connect "))
    if talks_to_aws or row.error in SETUPS:
        assert row.error in SETUPS, f"{row.error}: the row talks to AWS, so SETUPS must say how to set it up"
        environment, during = SETUPS[row.error](s3, tmp_path)
    else:
        environment, during = _environment(s3, tmp_path), nullcontext()
    before = _tree(tmp_path / "examples")
    with during:
        done = subprocess.run([sys.executable, "-m", "panther_cn_transform", *shlex.split(row.example)], cwd=folder,
                              env=environment, capture_output=True, text=True, check=False, timeout=300)
    assert done.returncode == 2, (row.example, done.returncode, done.stderr)
    assert done.stderr.endswith("\n") and done.stderr.count("\n") == 1, f"not one line:\n{done.stderr}"
    printed = done.stderr.rstrip("\n")
    assert _matches(row.message, printed), f"the table says\n  {row.message}\nthe command printed\n  {printed}"
    assert "Traceback" not in done.stderr and done.stdout == ""
    assert _tree(tmp_path / "examples") == before  # nothing written, nothing half-written
    if row.error in NOTHING_UPLOADED:
        assert s3.objects(TARGET, NOTHING_UPLOADED[row.error]) == {}  # nothing uploaded either

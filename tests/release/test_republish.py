"""Publishing a release again never leaves a live root reading another run's objects (issue 26).

Run A publishes the example release; run B publishes it again with other rules (every nested
template changes) and is SIGKILLed right after its first PUT reached S3, by a forwarding proxy
in front of moto (real sockets both).  The live root is then still run A's, and every object
its TemplateURLs name holds run A's bytes; run B completed gives a root that reads only run B's
objects.  Nested templates are published under their content's SHA-256 (docs/release.md, "Keys").
"""

from __future__ import annotations

import http.client
import os
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

from ..s3server import S3Server

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "release" / "panther-enterprise-us-west-1"
TARGET = "my-cn-bucket"
ROOT = "v1.0.0/panther.yml"
#: rules B: the panther pack and one more rule that changes every nested template of the example
RULES_B = ("version: 1\nname: other\nextends: panther\nrules:\n  - id: other-description\n"
           "    description: Another description, so that every template changes.\n    action: replace_text\n"
           "    replacements:\n      - {pattern: '^Example (.*) stack(.*)$', replace: 'Other \\1 stack\\2'}\n")
_URL = re.compile(r"TemplateURL: https://my-cn-bucket\.s3\.cn-north-1\.amazonaws\.com\.cn/(\S+)")


@contextmanager
def forwarding_proxy(upstream: str, after_put: Callable[[], None] = lambda: None, *, refuse_later_puts: bool = False) -> Iterator[str]:
    """An HTTP proxy to `upstream` that calls `after_put` once S3 has answered the first PUT, before passing it on.

    With `refuse_later_puts`, every later PUT is answered 403 AccessDenied without reaching S3.
    """
    target = urlsplit(upstream)
    puts = []

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            pass

        def handle(self) -> None:
            try:
                super().handle()
            except ConnectionError:  # the client was killed mid-request: nothing more to pass on
                pass

        def _forward(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            headers = {name: value for name, value in self.headers.items() if name.lower() not in ("host", "connection")}
            if self.command == "PUT" and puts and refuse_later_puts:
                denied = b"<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>"
                self.send_response(403)
                self.send_header("Content-Type", "application/xml")
                self.send_header("Content-Length", str(len(denied)))
                self.end_headers()
                self.wfile.write(denied)
                return
            connection = http.client.HTTPConnection(target.hostname, target.port, timeout=60)
            connection.request(self.command, self.path, body=body, headers=headers)
            answer = connection.getresponse()
            data = answer.read()
            if self.command == "PUT" and not puts:
                puts.append(self.path)
                after_put()
            self.send_response(answer.status)
            for name, value in answer.getheaders():
                if name.lower() not in ("transfer-encoding", "connection", "content-length"):
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        do_GET = do_PUT = do_HEAD = do_POST = do_DELETE = _forward

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def command(s3: S3Server, mirror: Path, out: Path, *extra: str | Path) -> list[str]:
    return [sys.executable, "-m", "panther_cn_transform", "release", str(mirror), "--release", "v1.0.0",
            "--region", "cn-north-1", "--bucket", TARGET, "--upload", "--out-dir", str(out), "--force", "--jobs", "1",
            *map(str, extra)]


def live_children(s3: S3Server) -> dict[str, bytes]:
    """The objects the live root's TemplateURLs name, key -> bytes."""
    objects = s3.objects(TARGET, "cn-north-1")
    keys = _URL.findall(objects[ROOT].decode())
    assert len(keys) == 2, objects[ROOT]
    return {key: objects[key] for key in keys}


def published(out: Path) -> dict[str, bytes]:
    """The nested templates of a run's out-dir (what it published), key -> bytes."""
    keys = _URL.findall((out / ROOT).read_text())
    return {key: (out / key).read_bytes() for key in keys}


def test_a_republish_killed_after_its_first_put_leaves_the_live_root_reading_only_the_first_runs_objects(
    s3: S3Server, tmp_path: Path,
) -> None:
    mirror = tmp_path / "panther-enterprise-us-west-1"
    shutil.copytree(EXAMPLE, mirror)
    rules_b = tmp_path / "other.yml"
    rules_b.write_text(RULES_B)
    s3.bucket(TARGET, "cn-north-1")
    environment = {**os.environ, **s3.environment}

    first = subprocess.run(command(s3, mirror, tmp_path / "a"), capture_output=True, text=True, env=environment, check=False)
    assert first.returncode == 0, first.stderr
    run_a = published(tmp_path / "a")
    assert live_children(s3) == run_a

    process: list[subprocess.Popen[str]] = []
    with forwarding_proxy(s3.url, after_put=lambda: process[0].kill()) as proxy:
        process.append(subprocess.Popen(command(s3, mirror, tmp_path / "b", "--rules", rules_b), text=True,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                        env={**environment, "AWS_ENDPOINT_URL": proxy}))
        _, stderr = process[0].communicate(timeout=300)
    assert process[0].returncode == -9, stderr  # killed after its first PUT, as planned
    bucket = s3.objects(TARGET, "cn-north-1")
    assert any(b"Other" in data for key, data in bucket.items() if key != ROOT), sorted(bucket)  # run B's first PUT landed
    assert live_children(s3) == run_a  # the live root is run A's, and so is every object it reads

    done = subprocess.run(command(s3, mirror, tmp_path / "b", "--rules", rules_b), capture_output=True, text=True,
                          env=environment, check=False)
    assert done.returncode == 0, done.stderr
    run_b = published(tmp_path / "b")
    assert live_children(s3) == run_b and not set(run_b) & set(run_a)
    assert all(b"Other" in data for data in run_b.values()) and not any(b"Other" in data for data in run_a.values())


def test_an_upload_that_fails_half_way_says_what_was_published_and_a_report_that_fails_after_it_too(
    s3: S3Server, tmp_path: Path,
) -> None:
    mirror = tmp_path / "panther-enterprise-us-west-1"
    shutil.copytree(EXAMPLE, mirror)
    s3.bucket(TARGET, "cn-north-1")
    environment = {**os.environ, **s3.environment}
    report = tmp_path / "report.md"
    with forwarding_proxy(s3.url, refuse_later_puts=True) as proxy:
        done = subprocess.run(command(s3, mirror, tmp_path / "a", "--report", report), capture_output=True, text=True,
                              env={**environment, "AWS_ENDPOINT_URL": proxy}, check=False)
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    line = done.stderr.strip().splitlines()[-1]
    assert f"the release was written to {tmp_path / 'a'} and 1 of its 5 objects uploaded to s3://{TARGET}/" in line, line
    assert "not the root template v1.0.0/panther.yml (the live root is unchanged); no report was written" in line, line
    assert (tmp_path / "a" / "manifest.json").is_file() and not report.exists()
    assert ROOT not in s3.objects(TARGET, "cn-north-1")

    done = subprocess.run(command(s3, mirror, tmp_path / "a", "--report", "/dev/full"), capture_output=True, text=True,
                          env=environment, check=False)
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    line = done.stderr.strip().splitlines()[-1]
    assert line.startswith("error: /dev/full: cannot write: No space left on device; the release was written to ") and (
        f"and uploaded to s3://{TARGET}/, only the report is missing" in line), line
    assert ROOT in s3.objects(TARGET, "cn-north-1")


def test_object_keys_point_every_form_of_reference_to_the_bucket_at_the_published_key() -> None:
    from panther_cn_transform import load_rules
    from panther_cn_transform.model.decode import decode_text
    from panther_cn_transform.transform import transform

    template = decode_text(
        "Resources:\n"
        "  A:\n    Type: AWS::CloudFormation::Stack\n    Properties:\n"
        "      TemplateURL: https://my-cn-bucket.s3.cn-north-1.amazonaws.com.cn/child\n"
        "  B:\n    Type: AWS::CloudFormation::Stack\n    Properties:\n"
        "      TemplateURL: !Sub https://my-cn-bucket.s3.${AWS::Region}.${AWS::URLSuffix}/child\n"
        "  C:\n    Type: AWS::Lambda::Function\n    Properties:\n"
        "      Code: {S3Bucket: my-cn-bucket, S3Key: child}\n"
        "  D:\n    Type: AWS::CloudFormation::Stack\n    Properties:\n"
        "      TemplateURL: https://other-bucket.s3.cn-north-1.amazonaws.com.cn/child\n"
        "  E:\n    Type: AWS::CloudFormation::Stack\n    Properties:\n"
        "      TemplateURL: https://my-cn-bucket.s3.cn-north-1.amazonaws.com.cn/childhood\n",
        source="parent.yaml")
    result = transform(template, load_rules("china"), region="cn-north-1", variables={"bucket": "my-cn-bucket"},
                       object_keys={"child": "f" * 64})
    resources = result.model["Resources"]
    assert resources["A"]["Properties"]["TemplateURL"] == "https://my-cn-bucket.s3.cn-north-1.amazonaws.com.cn/" + "f" * 64
    assert resources["B"]["Properties"]["TemplateURL"] == {
        "Fn::Sub": "https://my-cn-bucket.s3.${AWS::Region}.${AWS::URLSuffix}/" + "f" * 64}
    assert resources["C"]["Properties"]["Code"] == {"S3Bucket": "my-cn-bucket", "S3Key": "f" * 64}
    assert resources["D"]["Properties"]["TemplateURL"].endswith("/child")  # another bucket's object: not ours
    assert resources["E"]["Properties"]["TemplateURL"].endswith("/childhood")  # another key
    assert {edit.rule for edit in result.edits} == {"release-keys"} and len(result.edits) == 3
    assert "f" * 64 in result.text and result.text.count("/child\n") == 1

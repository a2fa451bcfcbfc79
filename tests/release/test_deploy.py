"""`deploy` against moto in server mode and a local stand-in for the bridge.

The bundled example release is transformed and uploaded for both halves with `release ...
--upload`, then deployed with the command line, as an operator would.  moto's CloudFormation
runs in this process (its threaded server), completed by tests/moto_cloudformation.py where it
lacks what Panther's stacks need; every test here fails if moto still skipped a resource
type with only a warning.  The stand-in bridge accepts exactly the API keys moto's API
Gateway has enabled on the bridge's usage plan, so a retired key is refused as it would be.
"""

from __future__ import annotations

import hashlib
import json
import os
import pty
import select
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest

from panther_cn_transform.release.deploy import Deployment, DeployOptions, Half
from panther_cn_transform.ruleset.assets.web_proxy import Forwarder

from .. import moto_cloudformation
from ..aws_servers import FAKE_CREDENTIALS, FakeBridge, fake_bridge, moto_server
from .test_blockers_gate import FOREIGN_KEY

CHINA, WEB = "cn-north-1", "ap-southeast-1"
ACCOUNT = "123456789012"
REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "release" / "panther-enterprise-us-west-1"
CORE_KEY = "ca06e195591e94151bf687429730f34fe33a1aee"
FUNCTION_ZIP_KEY = "0d4807a65db8b4758138d7b6bf9d810eed5b2563"


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    moto_cloudformation.install()
    with moto_server() as url:
        yield url


@dataclass
class Account:
    """moto as both accounts, the stand-in bridge, and the command line pointed at them."""

    url: str
    env: dict[str, str]
    bridge: FakeBridge
    mirror: Path

    def client(self, service: str, region: str) -> Any:
        return boto3.client(service, region_name=region, endpoint_url=self.url, **FAKE_CREDENTIALS)

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "panther_cn_transform", *args], capture_output=True, text=True,
                              check=False, env=self.env, stdin=subprocess.DEVNULL, timeout=600)

    def upload(self, release: str, reports: Path | None = None) -> None:
        """Both halves of `release`, as the guide's steps 1 and 4 make them (their JSON reports in `reports/<pack>.json`)."""
        for pack, region, bucket in (("panther", CHINA, "my-cn-bucket"), ("panther-web-proxy", WEB, "my-web-bucket")):
            report = ("--report", str(reports / f"{pack}.json")) if reports else ()
            done = self.run("release", str(self.mirror), "--release", release, "--rules", pack, "--region", region,
                            "--bucket", bucket, "--upload", "--no-verify", "--cache-dir", self.env["XDG_CACHE_HOME"], *report)
            assert done.returncode == 0, done.stderr

    def deploy(self, command: str, release: str, *extra: str) -> subprocess.CompletedProcess[str]:
        return self.run("deploy", command, "--china-region", CHINA, "--china-profile", "china", "--bucket", "my-cn-bucket",
                        "--web-region", WEB, "--web-profile", "web", "--web-bucket", "my-web-bucket", "--release", release,
                        "--first-user-email", "admin@example.com", *extra)

    def stack(self, region: str, name: str = "panther") -> dict[str, Any]:
        found: dict[str, Any] = self.client("cloudformation", region).describe_stacks(StackName=name)["Stacks"][0]
        return found

    def outputs(self, region: str) -> dict[str, str]:
        return {o["OutputKey"]: o["OutputValue"] for o in self.stack(region).get("Outputs", [])}

    def parameters(self, region: str) -> dict[str, str]:
        return {p["ParameterKey"]: p["ParameterValue"] for p in self.stack(region).get("Parameters", [])}

    def secret(self) -> Any:
        return json.loads(self.client("secretsmanager", WEB).get_secret_value(SecretId="panther/china")["SecretString"])

    def key_value(self, key_id: str) -> str:
        return str(self.client("apigateway", CHINA).get_api_key(apiKey=key_id, includeValue=True)["value"])

    def key_values(self) -> set[str]:
        return {str(k["value"]) for k in self.client("apigateway", CHINA).get_api_keys(includeValues=True)["items"]}

    def snapshot(self) -> dict[str, Any]:
        """What a deploy could change, in both accounts: stacks, change sets, keys, usage plans, secrets, functions, pools."""
        state: dict[str, Any] = {}
        for region in (CHINA, WEB):
            cloudformation = self.client("cloudformation", region)
            stacks = cloudformation.describe_stacks()["Stacks"]
            state[f"{region} stacks"] = sorted((s["StackName"], s["StackStatus"], json.dumps(s.get("Parameters"), sort_keys=True),
                                                json.dumps(s.get("Outputs"), sort_keys=True)) for s in stacks)
            state[f"{region} change sets"] = sorted(c["ChangeSetId"] for c in cloudformation.list_change_sets(StackName="panther")["Summaries"])
            state[f"{region} functions"] = sorted(f["FunctionName"] for f in self.client("lambda", region).list_functions()["Functions"])
        apigateway = self.client("apigateway", CHINA)
        state["keys"] = sorted((k["id"], k["value"], k["enabled"]) for k in apigateway.get_api_keys(includeValues=True)["items"])
        state["plans"] = sorted((p["id"], sorted(k["id"] for k in apigateway.get_usage_plan_keys(usagePlanId=p["id"])["items"]))
                                for p in apigateway.get_usage_plans()["items"])
        secrets = self.client("secretsmanager", WEB)
        state["secrets"] = sorted((s["Name"], secrets.get_secret_value(SecretId=s["Name"])["SecretString"])
                                  for s in secrets.list_secrets()["SecretList"])
        state["pools"] = sorted(p["Id"] for p in self.client("cognito-idp", WEB).list_user_pools(MaxResults=60)["UserPools"])
        return state


@pytest.fixture
def aws(endpoint: str, tmp_path: Path) -> Iterator[Account]:
    import urllib.request

    urllib.request.urlopen(urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST"), timeout=30).close()
    (tmp_path / "credentials").write_text(
        "".join(f"[{name}]\naws_access_key_id = testing\naws_secret_access_key = testing\n" for name in ("china", "web")))
    (tmp_path / "config").write_text("[profile china]\n[profile web]\n")
    mirror = tmp_path / "panther-enterprise-us-west-1"
    shutil.copytree(EXAMPLE, mirror)
    with fake_bridge("unset") as bridge:
        bridge.accepts = lambda key: key in moto_cloudformation.bridge_keys(CHINA, ACCOUNT)
        bridge.answers["panther-source-api"] = [{"integrationId": "self"}]
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "credentials"), AWS_CONFIG_FILE=str(tmp_path / "config"),
                   AWS_ENDPOINT_URL=endpoint, AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing",
                   XDG_CACHE_HOME=str(tmp_path / "cache"), PANTHER_CN_BRIDGE_URL=bridge.url)
        account = Account(endpoint, env, bridge, mirror)
        for bucket, region in (("my-cn-bucket", CHINA), ("my-web-bucket", WEB)):
            account.client("s3", region).create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": region})
        try:
            with moto_cloudformation.strict_cloudformation():  # fails the test if moto skipped a resource type or attribute
                yield account
        finally:  # moto's backends are this process's: a later module's moto server (test_connect's) would see these stacks
            urllib.request.urlopen(urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST"), timeout=30).close()


def second_release(mirror: Path, name: str = "v1.1.0") -> None:
    """A later release in the mirror: the source API function gets a timeout (a new Core template, so a new key)."""
    core = (mirror / CORE_KEY).read_text().replace("      Runtime: provided.al2\n", "      Runtime: provided.al2\n      Timeout: 30\n")
    key = hashlib.sha1(core.encode()).hexdigest()
    (mirror / key).write_text(core)
    (mirror / name).mkdir()
    (mirror / name / "panther.yml").write_text((mirror / "v1.0.0" / "panther.yml").read_text().replace(CORE_KEY, key))


def last_line(done: subprocess.CompletedProcess[str]) -> str:
    return done.stderr.strip().splitlines()[-1] if done.stderr.strip() else ""


def test_deploy_all_installs_both_halves_connected_and_a_rerun_does_nothing(aws: Account) -> None:
    aws.upload("v1.0.0")
    done = aws.deploy("all", "v1.0.0", "--yes")
    assert done.returncode == 0, done.stderr
    china, web = aws.stack(CHINA), aws.stack(WEB)
    assert china["StackStatus"] == "UPDATE_COMPLETE" and web["StackStatus"] == "CREATE_COMPLETE"  # China: created, then given the web values
    outputs = aws.outputs(CHINA)
    # the secret holds the bridge's URL (here the stand-in) and the key the China stack names
    assert aws.secret() == {"URL": aws.bridge.url, "API_KEY": aws.key_value(outputs["BridgeApiKeyId"])}
    # the China stack's UserPoolId is the web half's pool (a placeholder until the web half existed)
    pools = aws.client("cognito-idp", WEB).list_user_pools(MaxResults=10)["UserPools"]
    assert [p["Id"] for p in pools] == [aws.parameters(CHINA)["UserPoolId"]]
    assert "placeholders UserPoolId=ap-southeast-1_pendingwebhalf" in done.stderr
    # the end-to-end check: the bridge answered with the key the secret holds
    assert aws.bridge.calls[-1] == ("/prod/cn/panther-source-api", aws.secret()["API_KEY"], {"listIntegrations": {}})
    assert last_line(done).startswith("check: cn-north-1 stack panther UPDATE_COMPLETE, ap-southeast-1 stack panther CREATE_COMPLETE")
    # the resources moto used to skip exist in its services: keys on the usage plan, the SAM functions, the pool's client
    assert len(moto_cloudformation.bridge_keys(CHINA, ACCOUNT)) == 2
    for region in (CHINA, WEB):
        assert [f["FunctionName"] for f in aws.client("lambda", region).list_functions()["Functions"]] == ["panther-source-api"]
    # the events were shown as they came, nested stacks' resources included
    assert "    Core/SourceApiFunction  AWS::Serverless::Function  CREATE_COMPLETE" in done.stderr.splitlines()
    assert aws.secret()["API_KEY"] not in done.stderr + done.stdout  # a key's value is never printed

    before = aws.snapshot()
    again = aws.deploy("all", "v1.0.0", "--yes")
    assert again.returncode == 0, again.stderr
    assert [line.split(":")[0] for line in again.stderr.splitlines()] == ["China", "connect", "web", "web values", "check"]
    assert again.stderr.count(": done") == 4
    assert aws.snapshot() == before


def test_plan_changes_nothing_on_a_first_install_and_on_an_upgrade(aws: Account) -> None:
    aws.upload("v1.0.0")
    before = aws.snapshot()
    done = aws.deploy("all", "v1.0.0", "--plan")
    assert done.returncode == 0, done.stderr
    assert aws.snapshot() == before  # the change sets and the empty REVIEW_IN_PROGRESS stacks are gone again
    lines = done.stderr.splitlines()
    assert "China: create cn-north-1 stack panther from s3://my-cn-bucket/v1.0.0/panther.yml: 14 to add, 0 to modify, 0 to replace, 0 to remove" in lines
    assert "  add         BridgeApiKeyA           AWS::ApiGateway::ApiKey" in lines
    assert [line.split(" (plan)")[0] for line in lines if "(plan)" in line] == ["China", "connect", "web", "web values", "check"]

    assert aws.deploy("all", "v1.0.0", "--yes").returncode == 0
    second_release(aws.mirror)
    aws.upload("v1.1.0")
    before = aws.snapshot()
    done = aws.deploy("all", "v1.1.0", "--plan")
    assert done.returncode == 0, done.stderr
    assert aws.snapshot() == before
    lines = done.stderr.splitlines()
    assert any(line.split()[:2] == ["replace", "BridgeApiKeyB"] and "expected: slot b's new key for v1.1.0" in line for line in lines)
    assert any(line.startswith("rotate (plan): then the bridge is checked with slot b's new key") for line in done.stderr.splitlines())


def test_an_upgrade_updates_both_halves_and_moves_the_secret_to_a_new_key(aws: Account) -> None:
    aws.upload("v1.0.0")
    assert aws.deploy("all", "v1.0.0", "--yes").returncode == 0
    old_key = aws.secret()["API_KEY"]
    second_release(aws.mirror)
    aws.upload("v1.1.0")
    done = aws.deploy("all", "v1.1.0", "--yes")
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    # the China change set shows the key's replacement, from CloudFormation's Replacement answer, and says it is expected
    replaced = [line for line in lines if line.startswith("  replace ")]
    assert replaced[0].split()[1:3] == ["BridgeApiKeyB", "AWS::ApiGateway::ApiKey"] and "expected: slot b's new key for v1.1.0" in replaced[0]
    assert any(line.split()[:2] == ["modify", "Core"] for line in lines)
    # with the nested stack's own change set, read through the parent's (IncludeNestedStacks)
    assert [line.split() for line in lines if "Core/SourceApiFunction" in line and line.startswith("  modify")] == [
        ["modify", "Core/SourceApiFunction", "AWS::Serverless::Function", "(Timeout)"]] * 2  # China, then web
    # both halves run the new release
    for region, bucket in ((CHINA, "my-cn-bucket"), (WEB, "my-web-bucket")):
        assert aws.stack(region)["StackStatus"] == "UPDATE_COMPLETE"
        template = aws.client("cloudformation", region).get_template(StackName="panther")["TemplateBody"]
        assert f"{bucket}" in str(template) and CORE_KEY not in str(template)
        assert aws.client("lambda", region).get_function(FunctionName="panther-source-api")["Configuration"]["Timeout"] == 30
    # the new key is in the secret, the outputs name it, the old key is gone and refused
    outputs, secret = aws.outputs(CHINA), aws.secret()
    assert outputs["BridgeKeyInUse"] == "b" and secret["API_KEY"] == aws.key_value(outputs["BridgeApiKeyId"]) != old_key
    assert old_key not in aws.key_values() and not aws.bridge.accepts(old_key)  # type: ignore[misc]
    assert aws.parameters(CHINA)["BridgeKeyA"] == aws.parameters(CHINA)["BridgeKeyB"] == "v1.1.0"
    assert last_line(done).startswith("check: ")
    # a rerun sees it all done
    again = aws.deploy("all", "v1.1.0", "--yes")
    assert again.returncode == 0 and again.stderr.count(": done") == 4, again.stderr


def test_a_failure_in_the_middle_exits_2_with_its_reason_and_a_rerun_continues(aws: Account) -> None:
    aws.upload("v1.0.0")
    aws.client("s3", WEB).delete_object(Bucket="my-web-bucket", Key=FUNCTION_ZIP_KEY)  # the web half's function code is missing
    done = aws.deploy("all", "v1.0.0", "--yes")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert last_line(done).startswith(
        "error: ap-southeast-1 stack panther: Core/SourceApiFunction (AWS::Serverless::Function) CREATE_FAILED: ")
    assert "NoSuchKey" in last_line(done) or "does not exist" in last_line(done)
    assert last_line(done).endswith("; the stack is ROLLBACK_COMPLETE: fix the cause and run deploy again "
                                    "(the stack is deleted and created again)")
    assert aws.stack(WEB)["StackStatus"] == "ROLLBACK_COMPLETE" and not any(line.startswith(("web values", "check")) for line in done.stderr.splitlines())
    assert aws.stack(CHINA)["StackStatus"] == "CREATE_COMPLETE" and "API_KEY" in aws.secret()  # the steps before it stay done

    aws.upload("v1.0.0")  # the operator uploads the web half again: the missing object is sent
    again = aws.deploy("all", "v1.0.0", "--yes")
    assert again.returncode == 0, again.stderr
    lines = again.stderr.splitlines()
    assert lines[0] == "China: cn-north-1 stack panther is already as asked (the change set had no changes): done"
    assert lines[1].startswith("connect: secret panther/china (ap-southeast-1) already holds the bridge")
    assert "web: ap-southeast-1 stack panther deleted (ROLLBACK_COMPLETE)" in lines
    assert aws.stack(WEB)["StackStatus"] == "CREATE_COMPLETE" and last_line(again).startswith("check: ")


def test_a_china_specific_blocker_recorded_by_the_upload_stops_deploy_until_accepted(aws: Account) -> None:
    """The gate of `deploy`: the blockers `release --upload --accept-blockers` recorded on the root stop it again."""
    root = (aws.mirror / "v1.0.0" / "panther.yml").read_text()
    topic = f"Resources:\n  AlarmTopic:\n    Type: AWS::SNS::Topic\n    Properties:\n      KmsMasterKeyId: {FOREIGN_KEY}\n"
    (aws.mirror / "v1.0.1").mkdir()
    (aws.mirror / "v1.0.1" / "panther.yml").write_text(root.replace("Resources:\n", topic, 1))
    upload = ("release", str(aws.mirror), "--release", "v1.0.1", "--rules", "panther", "--region", CHINA, "--bucket",
              "my-cn-bucket", "--upload", "--no-verify", "--cache-dir", aws.env["XDG_CACHE_HOME"])
    assert aws.run(*upload).returncode == 2  # release --upload stops on it
    assert aws.run(*upload, "--accept-blockers").returncode == 0
    head = aws.client("s3", CHINA).head_object(Bucket="my-cn-bucket", Key="v1.0.1/panther.yml")
    assert head["Metadata"]["blockers"] == "1" and head["Metadata"]["blocker-places"] == "foreign-region in root"

    def deploy_china(*extra: str) -> subprocess.CompletedProcess[str]:  # the web half of v1.0.1 is not uploaded
        return aws.run("deploy", "china", "--china-region", CHINA, "--china-profile", "china", "--bucket", "my-cn-bucket",
                       "--web-region", WEB, "--web-profile", "web", "--release", "v1.0.1",
                       "--first-user-email", "admin@example.com", *extra)

    before = aws.snapshot()
    done = deploy_china("--yes")
    assert done.returncode == 2 and done.stderr == (
        "error: cn-north-1 stack panther: 1 blocker(s) the global release does not have in the China half's release "
        's3://my-cn-bucket/v1.0.1/panther.yml (foreign-region in root); its release report lists them under "What blocks '
        'a deployment"; nothing deployed: fix them, or add --accept-blockers to deploy anyway\n'), done.stderr
    assert aws.snapshot() == before  # nothing deployed, not even an empty stack
    # --plan says it would stop, and shows the change set all the same
    planned = deploy_china("--plan")
    assert planned.returncode == 0 and planned.stderr.startswith("blockers (plan): 1 blocker(s)"), planned.stderr
    assert aws.snapshot() == before

    accepted = deploy_china("--yes", "--accept-blockers")
    assert accepted.returncode == 0, accepted.stderr
    assert accepted.stderr.splitlines()[0].endswith("deploying anyway (--accept-blockers)")
    assert aws.stack(CHINA)["StackStatus"] == "CREATE_COMPLETE"


def test_a_release_without_blockers_deploys_and_a_root_without_a_record_is_said_to_be_unchecked(aws: Account) -> None:
    aws.upload("v1.0.0")
    s3 = aws.client("s3", CHINA)
    assert s3.head_object(Bucket="my-cn-bucket", Key="v1.0.0/panther.yml")["Metadata"]["blockers"] == "0"
    done = aws.deploy("china", "v1.0.0", "--plan")
    assert done.returncode == 0 and "blockers" not in done.stderr, done.stderr
    # the same root copied by hand: no record, so deploy says it did not check and goes on
    s3.copy_object(Bucket="my-cn-bucket", Key="v1.0.0/panther.yml", CopySource={"Bucket": "my-cn-bucket", "Key": "v1.0.0/panther.yml"},
                   MetadataDirective="REPLACE", Metadata={})
    done = aws.deploy("china", "v1.0.0", "--plan")
    assert done.returncode == 0, done.stderr
    assert done.stderr.splitlines()[0] == ("blockers: s3://my-cn-bucket/v1.0.0/panther.yml carries no record of its blockers "
                                          "(uploaded by hand or by an older version): not checked; its release report lists them")


def test_without_yes_and_without_a_terminal_nothing_changes(aws: Account) -> None:
    aws.upload("v1.0.0")
    before = aws.snapshot()
    done = aws.deploy("china", "v1.0.0")
    assert done.returncode == 2
    assert last_line(done) == ("error: cn-north-1 stack panther: nothing changed (standard input is not a terminal: run again with "
                               "--yes to go on (or --plan to see the plan)); the change set was deleted")
    assert aws.snapshot() == before


def test_an_interactive_yes_executes_and_the_terminal_shows_the_events(aws: Account) -> None:
    aws.upload("v1.0.0")
    command = [sys.executable, "-m", "panther_cn_transform", "deploy", "china", "--china-region", CHINA, "--bucket", "my-cn-bucket",
               "--web-region", WEB, "--release", "v1.0.0"]
    pid, fd = pty.fork()
    if pid == 0:  # the child: the command on a terminal
        os.execve(sys.executable, command, {**aws.env, "TERM": "xterm", "COLUMNS": "200"})
    seen, answered, deadline = b"", False, time.monotonic() + 300
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 1)
        if not ready:
            continue
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
        if not answered and b"[y/N]" in seen:
            os.write(fd, b"y\n")
            answered = True
    _, status = os.waitpid(pid, 0)
    text = seen.decode("utf-8", "replace")
    assert os.waitstatus_to_exitcode(status) == 0, text
    assert "create cn-north-1 stack panther with this change set? [y/N]" in text
    assert "BridgeApiKeyA  AWS::ApiGateway::ApiKey  CREATE_COMPLETE" in text
    assert aws.stack(CHINA)["StackStatus"] == "CREATE_COMPLETE"


def test_update_rollback_failed_gets_one_line_saying_what_to_do(aws: Account) -> None:
    from moto.cloudformation.models import cloudformation_backends

    aws.upload("v1.0.0")
    assert aws.deploy("china", "v1.0.0", "--yes").returncode == 0
    backend = cloudformation_backends[ACCOUNT][CHINA]
    next(s for s in backend.stacks.values() if s.name == "panther").status = "UPDATE_ROLLBACK_FAILED"  # as a failed rollback leaves it
    before = aws.snapshot()
    done = aws.deploy("all", "v1.0.0", "--yes")
    assert done.returncode == 2 and done.stderr.count("\n") == 1
    assert done.stderr == ("error: cn-north-1 stack panther: the stack is UPDATE_ROLLBACK_FAILED: continue the rollback first "
                           "(aws cloudformation continue-update-rollback --region cn-north-1 --stack-name panther, with "
                           "--resources-to-skip for a resource that cannot roll back), then run deploy again\n")
    assert aws.snapshot() == before


def test_key_rotation_keeps_every_proxy_call_working_and_retires_the_old_key(aws: Account) -> None:
    aws.upload("v1.0.0")
    assert aws.deploy("all", "v1.0.0", "--yes").returncode == 0
    old_key = aws.secret()["API_KEY"]
    secrets = aws.client("secretsmanager", WEB)
    proxy = Forwarder("panther/china", secrets, timeout=5)  # a web proxy that read the secret before the rotation
    assert proxy.forward("panther-source-api", {"listIntegrations": {}}) == [{"integrationId": "self"}]

    class EveryStep:
        """The rotation's output; after each line it printed, a proxy call must still succeed."""

        def __init__(self) -> None:
            self.lines: list[str] = []

        def write(self, text: str) -> int:
            for line in text.splitlines():
                if line.strip():
                    self.lines.append(line)
                    assert proxy.forward("panther-source-api", {"listIntegrations": {}}) == [{"integrationId": "self"}], line
            return len(text)

        def flush(self) -> None:
            pass

        def isatty(self) -> bool:
            return False

    options = DeployOptions(china=Half("China", CHINA, "panther"), web=Half("web", WEB, "panther"), yes=True, interval=0.1)
    saved = {name: os.environ.get(name) for name in ("AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
                                                     "PANTHER_CN_BRIDGE_URL", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE")}
    os.environ.update({name: aws.env[name] for name in saved})
    try:
        stream = EveryStep()
        Deployment(options, stream).rotate_key()  # type: ignore[arg-type]
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    steps = [line for line in stream.lines if line.startswith("rotate:")]
    assert steps[0] == "rotate: slot a is in use; slot b gets a new key (" + steps[0].split("(")[1]
    assert any("holds slot b's key" in line for line in steps) and steps[-1] == "rotate: cn-north-1 stack panther UPDATE_COMPLETE"
    outputs, secret = aws.outputs(CHINA), aws.secret()
    assert outputs["BridgeKeyInUse"] == "b" and secret["API_KEY"] == aws.key_value(outputs["BridgeApiKeyId"]) != old_key
    assert old_key not in aws.key_values() and not aws.bridge.accepts(old_key)  # type: ignore[misc]
    # the proxy that held the old key was refused once, read the secret again and went on
    assert proxy.forward("panther-source-api", {"listIntegrations": {}}) == [{"integrationId": "self"}]
    assert [key for _path, key, _payload in aws.bridge.calls].count(old_key) >= 1


def test_a_rotation_whose_new_key_is_refused_leaves_the_old_key_and_the_secret(aws: Account) -> None:
    aws.upload("v1.0.0")
    assert aws.deploy("all", "v1.0.0", "--yes").returncode == 0
    secret_before = aws.secret()
    in_use = aws.secret()["API_KEY"]
    aws.bridge.accepts = lambda key: key == in_use  # the bridge does not take the new key (say, the usage plan lost it)
    done = aws.run("deploy", "rotate-key", "--china-region", CHINA, "--web-region", WEB, "--yes")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert last_line(done).startswith("error: cn-north-1 stack panther: the bridge refused slot b's new key (")
    assert last_line(done).endswith("nothing else changed: the secret still holds slot a's key, which still works")
    assert aws.secret() == secret_before and in_use in aws.key_values()
    assert aws.outputs(CHINA)["BridgeKeyInUse"] == "a"


@pytest.mark.parametrize(("args", "message"), [
    (("deploy", "china", "--china-region", "us-east-1", "--bucket", "b", "--web-region", WEB, "--release", "v1"),
     "error: <command line>: --china-region us-east-1 is not a China region (cn-north-1, cn-northwest-1)"),
    (("deploy", "web", "--china-region", CHINA, "--web-region", "cn-north-1", "--web-bucket", "b", "--release", "v1"),
     "error: <command line>: --web-region cn-north-1: Panther's China guide runs the web half in ap-southeast-1 or ap-southeast-2"),
    (("deploy", "china", "--china-region", CHINA, "--bucket", "my-cn-bucket", "--web-region", WEB, "--release", "v9"),
     ("error: s3://my-cn-bucket: no root template v9/panther.yml: upload the China half first (python -m panther_cn_transform "
      "release ... --region cn-north-1 --bucket my-cn-bucket --upload)")),
    (("deploy", "all", "--china-region", CHINA, "--bucket", "b", "--web-region", WEB, "--web-bucket", "w", "--release", "v1",
      "--plan", "--yes"), "error: <command line>: --plan changes nothing and --yes executes: give one of them"),
    (("deploy", "china", "--china-region", CHINA, "--bucket", "b", "--web-region", WEB, "--release", "v1", "--parameter", "x"),
     "error: <command line>: --parameter expects NAME=VALUE (a CloudFormation parameter name), got 'x'"),
])
def test_bad_input_is_one_line(aws: Account, args: tuple[str, ...], message: str) -> None:
    done = aws.run(*args)
    assert done.returncode == 2 and done.stderr == message + "\n"


def test_the_local_aws_of_try_it_without_aws_deploys_the_example(tmp_path: Path) -> None:
    """docs/release.md, "Try it without AWS": tests/local_aws.py as a user runs it, in a process of its own."""
    server = subprocess.Popen([sys.executable, str(REPO / "tests" / "local_aws.py"), "--port", "0"], stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, text=True)
    try:
        assert server.stdout is not None
        settings = dict(item.split("=", 1) for item in server.stdout.readline().split()[1:])
        assert set(settings) == {"AWS_ENDPOINT_URL", "PANTHER_CN_BRIDGE_URL"}
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(settings, AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", XDG_CACHE_HOME=str(tmp_path / "cache"),
                   AWS_CONFIG_FILE=str(tmp_path / "none"), AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "none"))

        def run(*args: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run([sys.executable, "-m", "panther_cn_transform", *args], capture_output=True, text=True,
                                  check=False, env=env, stdin=subprocess.DEVNULL, timeout=600)

        for pack, region, bucket in (("panther", CHINA, "my-cn-bucket"), ("panther-web-proxy", WEB, "my-web-bucket")):
            done = run("release", str(EXAMPLE), "--release", "v1.0.0", "--rules", pack, "--region", region, "--bucket", bucket,
                       "--upload", "--no-verify")
            assert done.returncode == 0, done.stderr
        done = run("deploy", "all", "--china-region", CHINA, "--bucket", "my-cn-bucket", "--web-region", WEB, "--web-bucket",
                   "my-web-bucket", "--release", "v1.0.0", "--yes")
        assert done.returncode == 0, done.stderr
        assert last_line(done).startswith("check: cn-north-1 stack panther UPDATE_COMPLETE")
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_a_bridge_url_that_is_not_the_bridges_stops_deploy_before_the_secret(aws: Account) -> None:
    # the China root's output BridgeUrl rewritten to http (a tampered or hand-edited root): the key is neither sent nor stored
    aws.upload("v1.0.0")
    s3 = aws.client("s3", CHINA)
    root = s3.get_object(Bucket="my-cn-bucket", Key="v1.0.0/panther.yml")["Body"].read().decode()
    assert root.count("https://${BridgeApi}.execute-api.") == 1
    s3.put_object(Bucket="my-cn-bucket", Key="v1.0.0/panther.yml",
                  Body=root.replace("https://${BridgeApi}.execute-api.", "http://${BridgeApi}.execute-api.").encode())
    calls = len(aws.bridge.calls)
    done = aws.deploy("all", "v1.0.0", "--yes")
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    assert last_line(done).startswith(f"error: {CHINA} stack panther: output BridgeUrl 'http://"), done.stderr
    assert "its scheme is http, not https; nothing was stored" in last_line(done)
    assert len(aws.bridge.calls) == calls
    secrets = aws.client("secretsmanager", WEB)
    with pytest.raises(secrets.exceptions.ResourceNotFoundException):
        secrets.get_secret_value(SecretId="panther/china")

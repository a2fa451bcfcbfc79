"""Every command of both halves' reports' next steps, run with `bash -c` against moto in server mode.

The bundled example release is uploaded for both halves with `release ... --upload --report`
(tests/release/test_deploy.py's `Account`, moto completed by tests/moto_cloudformation.py, the
stand-in bridge), and the JSON reports' `next_steps` are then followed as an operator would
paste them: the China report in order, and at its "web-half" step ("deploy it as its report's
next steps say") the web report in order, then the rest of the China report.  Steps whose
`when` is the other case are not run.  Nothing is compared as text: each command must exit 0
(the "which" step's answer must match the case), and the account's state afterwards is what
is asserted on.

The commands are run as they are written: this tool's (`python -m panther_cn_transform`,
`python` on PATH being this interpreter) and the AWS CLI's (awscli, from the test extras),
both pointed at moto by `AWS_ENDPOINT_URL`.  The only thing the test supplies is what the
steps take from the operator's machine: the AWS CLI profiles the names step names
(`CHINA_PROFILE=china`, `WEB_PROFILE=global`) exist in the test's credentials file.  The
names step's own values (regions, stacks, buckets) are the test's already, so no command text
is changed.  Each command runs in its own `bash -c`, after the names step and the variable
assignments earlier in its step (`USER_POOL_ID=$(aws ...)`), as the same shell would have them.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from . import test_deploy
from .test_deploy import CHINA, CORE_KEY, WEB, Account, second_release

#: test_deploy's fixtures: moto in server mode with its CloudFormation completed, both accounts, the stand-in bridge
endpoint, aws_account = test_deploy.endpoint, test_deploy.aws

FIRST_INSTALL, UPGRADE = "first install", "upgrade"
_ASSIGNMENT = re.compile(r"^([A-Z_][A-Z0-9_]*)=")


class Operator:
    """Pastes the reports' commands into bash, one `bash -c` each, in `cwd`."""

    def __init__(self, aws: Account, cwd: Path) -> None:
        self.aws, self.cwd = aws, cwd
        bin_dir = cwd / "bin"
        bin_dir.mkdir()
        (bin_dir / "python").symlink_to(sys.executable)  # `python -m panther_cn_transform` is this interpreter
        credentials, config = Path(aws.env["AWS_SHARED_CREDENTIALS_FILE"]), Path(aws.env["AWS_CONFIG_FILE"])
        # the web half's profile the names step names (WEB_PROFILE=global), beside the fixture's china and web
        credentials.write_text(credentials.read_text() + "[global]\naws_access_key_id = testing\naws_secret_access_key = testing\n")
        config.write_text(config.read_text() + "[profile global]\n")
        self.env = {**aws.env, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}", "AWS_PAGER": ""}
        self.ran: list[str] = []

    def follow(self, report: dict[str, Any], case: str, *, web: dict[str, Any] | None = None) -> None:
        """Run the report's steps for `case` in order; at the China report's "web-half" step, the web report's."""
        names = _step(report, "names")["commands"][0]
        for step in report["next_steps"]:
            if step["id"] == "names" or step.get("when", case) != case:
                continue
            if step["id"] == "which":
                self.which(names, step, case)
                continue
            self.run_step(names, step)
            if step["id"] == "web-half":
                assert web is not None, "the China report's web-half step sends the operator to the web report"
                self.follow(web, case)

    def which(self, names: str, step: dict[str, Any], case: str) -> None:
        """"First install or upgrade?": the account's answer must be the case the test is in."""
        [command] = step["commands"]
        self.ran.append(command)
        done = self.bash(names, command)
        if case == FIRST_INSTALL:
            assert done.returncode != 0 and "does not exist" in done.stderr, (command, done.stdout, done.stderr)
        else:
            assert done.returncode == 0 and done.stdout.strip() in ("CREATE_COMPLETE", "UPDATE_COMPLETE"), (command, done.stderr)

    def run_step(self, names: str, step: dict[str, Any]) -> None:
        assigned: list[str] = []
        for command in step["commands"]:
            variable = _ASSIGNMENT.match(command)
            shown = f'\nprintf "%s" "${variable.group(1)}"' if variable else ""
            self.ran.append(command)
            done = self.bash(names, "\n".join([*assigned, command]) + shown)
            assert done.returncode == 0, f"step {step['id']}: {command}\nexit {done.returncode}: {done.stderr}"
            if variable:  # a value the later commands of the step read: it must be a real one
                assert done.stdout.strip() not in ("", "None"), f"step {step['id']}: {command} gave {done.stdout!r}"
                assigned.append(command)

    def bash(self, names: str, script: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["bash", "-c", f"set -o pipefail\n{names}\n{script}"], capture_output=True, text=True,
                              check=False, env=self.env, cwd=self.cwd, stdin=subprocess.DEVNULL, timeout=600)


def _step(report: dict[str, Any], step_id: str) -> dict[str, Any]:
    found: dict[str, Any] = next(step for step in report["next_steps"] if step["id"] == step_id)
    return found


def _every_command(case: str, *reports: dict[str, Any]) -> list[str]:
    """Every command of the reports' steps for `case` but the names step (which prefixes each of them)."""
    return [command for report in reports for step in report["next_steps"]
            if step["id"] != "names" and step.get("when", case) == case for command in step["commands"]]


def _reports(folder: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    china = json.loads((folder / "panther.json").read_text())
    web = json.loads((folder / "panther-web-proxy.json").read_text())
    assert china["uploaded"] and web["uploaded"] and china["half"] == "china" and web["half"] == "web"
    return china, web


def _connected(aws: Account) -> dict[str, str]:
    """Both stacks complete and the secret holding the bridge's URL and the key the China stack's outputs name."""
    for region in (CHINA, WEB):
        assert aws.stack(region)["StackStatus"] in ("CREATE_COMPLETE", "UPDATE_COMPLETE")
    outputs = aws.outputs(CHINA)
    secret: dict[str, str] = aws.secret()
    assert secret == {"URL": aws.bridge.url, "API_KEY": aws.key_value(outputs["BridgeApiKeyId"])}
    assert aws.bridge.calls[-1] == ("/prod/cn/panther-source-api", secret["API_KEY"], {"listIntegrations": {}})  # connect --test
    return secret


def test_the_first_install_commands_create_both_stacks_and_the_secret(aws_account: Account, tmp_path: Path) -> None:
    aws = aws_account
    (tmp_path / "shell").mkdir()
    operator = Operator(aws, tmp_path / "shell")
    reports = tmp_path / "reports"
    reports.mkdir()
    aws.upload("v1.0.0", reports)
    china, web = _reports(reports)
    assert ".amazonaws.com.cn" not in json.dumps(web["next_steps"])  # the web half's report names no China host

    operator.follow(china, FIRST_INSTALL, web=web)
    missed = [command for command in _every_command(FIRST_INSTALL, china, web) if command not in operator.ran]
    assert not missed, missed
    # the China stack: created with the placeholder, then given the web half's pool by the web-values step
    assert aws.stack(CHINA)["StackStatus"] == "UPDATE_COMPLETE" and aws.stack(WEB)["StackStatus"] == "CREATE_COMPLETE"
    pools = aws.client("cognito-idp", WEB).list_user_pools(MaxResults=10)["UserPools"]
    assert [p["Id"] for p in pools] == [aws.parameters(CHINA)["UserPoolId"]]
    _connected(aws)
    # every kind of command ran: this tool's release and connect, and the AWS CLI's create, change set and waits
    ran = "\n".join(operator.ran)
    for command in ("panther_cn_transform release", "panther_cn_transform connect", "aws cloudformation create-stack",
                    "aws cloudformation execute-change-set", "aws cloudformation wait stack-update-complete"):
        assert command in ran, command


def test_the_upgrade_commands_update_both_stacks_and_move_the_secret_to_a_new_key(aws_account: Account, tmp_path: Path) -> None:
    """From a first install made by `deploy all` (the first install's own commands are the test above), the
    upgrade's commands: a separate test, so that the two halves of the operator's work run side by side."""
    aws = aws_account
    (tmp_path / "shell").mkdir()
    operator = Operator(aws, tmp_path / "shell")
    aws.upload("v1.0.0")
    installed = aws.deploy("all", "v1.0.0", "--yes")
    assert installed.returncode == 0, installed.stderr
    old_key = _connected(aws)["API_KEY"]

    second_release(aws.mirror)
    upgrade = tmp_path / "upgrade"
    upgrade.mkdir()
    aws.upload("v1.1.0", upgrade)
    china, web = _reports(upgrade)
    operator.follow(china, UPGRADE, web=web)
    missed = [command for command in _every_command(UPGRADE, china, web) if command not in operator.ran]
    assert not missed, missed
    assert len(operator.ran) >= 15, operator.ran
    assert "create-stack" not in "\n".join(operator.ran) and "create-secret" not in "\n".join(operator.ran)
    # both halves run the new release, and the secret holds the new key the China stack's outputs name
    for region, bucket in ((CHINA, "my-cn-bucket"), (WEB, "my-web-bucket")):
        assert aws.stack(region)["StackStatus"] == "UPDATE_COMPLETE"
        template = str(aws.client("cloudformation", region).get_template(StackName="panther")["TemplateBody"])
        assert bucket in template and CORE_KEY not in template
        assert aws.client("lambda", region).get_function(FunctionName="panther-source-api")["Configuration"]["Timeout"] == 30
    assert _connected(aws)["API_KEY"] != old_key

"""The report's next steps are true: both halves of the split, built from the bundled example release.

Host names come from the partition data of the half's region; every command of this tool
repeats the pack; each AWS command names its half's region and profile; "China" names the
China half alone; a first install creates, an upgrade goes through a change set; `connect`
writes the secret; the steps come in the guide's order.
"""

from __future__ import annotations

import functools
import re
import shlex
import subprocess
from pathlib import Path
from typing import Any

import pytest

from panther_cn_transform import decode_text, format_report, load_rules, transform_release
from panther_cn_transform.report import guide
from panther_cn_transform.report.guide import FIRST_INSTALL, PLACEHOLDERS, UPGRADE, attach_next_steps

from ..corpus import CORPUS

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "release" / "panther-enterprise-us-west-1"
MIRROR = CORPUS / "panther-release" / "panther-enterprise-us-west-1"
CHINA_ORDER = ["names", "upload", "which", "create", "update", "connect", "web-half", "web-values", "check"]
WEB_ORDER = ["names", "china-half", "upload", "connect", "which", "create", "update", "web-values", "check"]


@functools.cache
def report(half: str, folder: Path, source: Path = EXAMPLE, release: str = "v1.0.0") -> dict[str, Any]:
    region, bucket, pack = {"china": ("cn-north-1", "my-cn-bucket", "panther"),
                            "web": ("ap-southeast-1", "my-web-bucket", "panther-web-proxy")}[half]
    return transform_release(source, release=release, region=region, bucket=bucket, rules=load_rules(pack),
                             out_dir=folder / half, jobs=1, source_label=str(source)).report


@pytest.fixture(scope="module")
def halves(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    folder = tmp_path_factory.mktemp("halves")
    return {half: report(half, folder) for half in ("china", "web")}


def commands(steps: list[dict[str, Any]]) -> list[str]:
    """Every command of the steps, continuation lines joined."""
    return [command.replace("\\\n", " ") for step in steps for command in step["commands"]]


def tokens(command: str) -> list[str]:
    return shlex.split(command.split("=$(", 1)[-1].rstrip(")"), comments=True)


def option(words: list[str], name: str) -> str | None:
    return words[words.index(name) + 1] if name in words[:-1] else None


def test_the_steps_come_in_the_guides_order_for_each_half(halves: dict[str, dict[str, Any]]) -> None:
    assert [step["id"] for step in halves["china"]["next_steps"]] == CHINA_ORDER
    assert [step["id"] for step in halves["web"]["next_steps"]] == WEB_ORDER
    for data in halves.values():
        text = format_report(data, "markdown")
        steps = text.split("## Next steps", 1)[1]
        assert "the web half" in steps and "`connect`" in steps and "in order:" in steps
        assert steps.index("Connect the halves") < steps.index("Check end to end")


def test_the_web_report_names_no_china_host_and_takes_its_hosts_from_the_partition_data(halves: dict[str, dict[str, Any]]) -> None:
    web, china = halves["web"], halves["china"]
    assert web["template_url"] == "https://my-web-bucket.s3.ap-southeast-1.amazonaws.com/v1.0.0/panther.yml"
    assert china["template_url"] == "https://my-cn-bucket.s3.cn-north-1.amazonaws.com.cn/v1.0.0/panther.yml"
    text = format_report(web, "markdown")
    assert ".amazonaws.com.cn" not in text and "amazonaws.cn" not in text
    for data in halves.values():
        deploys = [c for c in commands(data["next_steps"]) if "--template-url" in c]
        assert deploys and all(option(tokens(c), "--template-url") == data["template_url"] for c in deploys)
    source = Path(guide.__file__).read_text()
    assert ".amazonaws.com" not in source  # never a host literal: the partition data says it


def test_every_command_of_the_web_half_repeats_its_pack(halves: dict[str, dict[str, Any]]) -> None:
    for half, data in halves.items():
        for command in commands(data["next_steps"]):
            words = tokens(command)
            if words[:3] != ["python", "-m", "panther_cn_transform"] or words[3] != "release":
                continue
            web = half == "web" or option(words, "--region") == "$WEB_REGION"
            rules = [words[i + 1] for i, word in enumerate(words[:-1]) if word == "--rules"]
            assert rules == (["panther-web-proxy"] if web else ["panther"]), command
            if web:
                assert option(words, "--target-profile") == "$WEB_PROFILE", command


def test_each_aws_command_names_its_halfs_region_and_profile(halves: dict[str, dict[str, Any]]) -> None:
    profiles = {"china": {"$REGION": "$CHINA_PROFILE", "$WEB_REGION": "$WEB_PROFILE"},
                "web": {"$REGION": "$WEB_PROFILE", "$CHINA_REGION": "$CHINA_PROFILE"}}
    for half, data in halves.items():
        found = 0
        for command in commands(data["next_steps"]):
            words = tokens(command)
            if words[:1] == ["aws"]:
                found += 1
                assert profiles[half][str(option(words, "--region"))] == option(words, "--profile"), command
            elif words[3:4] == ["connect"]:
                assert option(words, "--china-profile") == "$CHINA_PROFILE" and option(words, "--web-profile") == "$WEB_PROFILE"
                assert option(words, "--web-region") == ("$WEB_REGION" if half == "china" else "$REGION")
            elif words[3:4] == ["release"] and half == "china" and option(words, "--region") != "$WEB_REGION":
                assert option(words, "--target-profile") == "$CHINA_PROFILE"
        assert found >= 8
        assert "<" not in "".join(commands(data["next_steps"])).replace("<<", "")  # no <placeholder>: a redirection in a shell


def test_china_names_the_china_half_alone(halves: dict[str, dict[str, Any]]) -> None:
    web = halves["web"]
    text = format_report(web, "text")
    assert text.startswith("Web half release report: v1.0.0 for ap-southeast-1")
    for step in web["next_steps"]:
        if step["id"] in ("upload", "which", "create", "update"):  # this half's own steps
            assert "China" not in step["title"] + step["text"] + "".join(step["commands"]), step
    assert format_report(halves["china"], "text").startswith("China release report: v1.0.0 for cn-north-1")


def test_a_first_install_creates_an_upgrade_goes_through_a_change_set_and_connect_writes_the_secret(
        halves: dict[str, dict[str, Any]]) -> None:
    for data in halves.values():
        steps = {step["id"]: step for step in data["next_steps"]}
        create, update = " ".join(commands([steps["create"]])), " ".join(commands([steps["update"]]))
        assert steps["create"]["when"] == FIRST_INSTALL and steps["update"]["when"] == UPGRADE
        assert "aws cloudformation create-stack" in create and "create-change-set" not in create
        assert "create-stack" not in update and "--change-set-type UPDATE" in update
        assert update.index("create-change-set") < update.index("describe-change-set") < update.index("execute-change-set")
        assert "--include-nested-stacks" in update and "Replacement" in update
        assert "describe-stacks" in " ".join(commands([steps["which"]]))
        everything = " ".join(commands(data["next_steps"]))
        assert "create-secret" not in everything and "put-secret-value" not in everything
        assert "panther_cn_transform connect" in " ".join(commands([steps["connect"]]))
    china = {step["id"]: step for step in halves["china"]["next_steps"]}
    assert "BridgeApiKey" in china["update"]["text"]  # the key's replacement is expected, and said so
    assert china["web-values"]["when"] == FIRST_INSTALL and "--use-previous-template" in " ".join(commands([china["web-values"]]))
    assert 'ParameterKey=UserPoolId,ParameterValue="$USER_POOL_ID"' in " ".join(commands([china["web-values"]]))
    assert china["create"]["commands"][0].startswith(f"USER_POOL_ID={PLACEHOLDERS['UserPoolId']}   # placeholder")


def test_every_command_is_shell_a_paste_can_run(halves: dict[str, dict[str, Any]]) -> None:
    for data in halves.values():
        for step in data["next_steps"]:
            for command in step["commands"]:
                done = subprocess.run(["bash", "-n", "-c", command], capture_output=True, text=True, check=False)
                assert done.returncode == 0, (command, done.stderr)


def test_after_an_upload_no_upload_step_is_left(halves: dict[str, dict[str, Any]]) -> None:
    for data in halves.values():
        uploaded = {**data, "uploaded": True}
        attach_next_steps(uploaded)
        assert "upload" not in [step["id"] for step in uploaded["next_steps"]]
        assert len(uploaded["next_steps"]) == len(data["next_steps"]) - 1


def test_the_first_install_placeholders_fit_the_nested_parameters_they_feed(tmp_path: Path) -> None:
    assert MIRROR.is_dir(), f"Panther release mirror not found at {MIRROR}"
    china = report("china", tmp_path, MIRROR, "v1.16.0")
    lifted = {p["name"] for p in china["parameters"] if p["from"]}
    assert lifted == {"UserPoolId", "AppDomainURL"} and not [p for p in china["parameters"] if p["name"] == "SecretID"]
    root = decode_text((tmp_path / "china" / "v1.16.0" / "panther.yml").read_text()).model
    checked = 0
    for logical_id, resource in root["Resources"].items():
        if resource["Type"] != "AWS::CloudFormation::Stack":
            continue
        child = decode_text((tmp_path / "china" / resource["Properties"]["TemplateURL"].rsplit("/", 1)[-1]).read_text()).model
        for name, value in (resource["Properties"].get("Parameters") or {}).items():
            if isinstance(value, dict) and value.get("Ref") in lifted:
                pattern = child["Parameters"][name].get("AllowedPattern")
                if pattern:
                    assert re.fullmatch(pattern, PLACEHOLDERS[value["Ref"]]), (logical_id, name, pattern)
                    checked += 1
    assert checked >= 2
    web = report("web", tmp_path, MIRROR, "v1.16.0")
    assert [p["name"] for p in web["parameters"]] == ["FirstUserEmail"]  # SecretID has its default: nothing to supply

"""The partition model: one set of facts per partition, from botocore and the partition files; --region checked against it."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest
from botocore.loaders import create_loader

from panther_cn_transform import RegionError, RuleFileError, RuleSet, load_rules, transform_text
from panther_cn_transform.partitions.endpoint_data import partition_endpoints
from panther_cn_transform.ruleset.actions import ACTIONS

ROOT = Path(__file__).resolve().parents[2]
TOPIC = "Resources:\n  T:\n    Type: AWS::SNS::Topic\n"


def _botocore(name: str) -> dict[str, object]:
    return next(p for p in create_loader().load_data("endpoints")["partitions"] if p["partition"] == name)


@pytest.mark.parametrize(("pack", "name"), [("china", "aws-cn"), ("panther", "aws-cn"), ("aws-us-gov", "aws-us-gov")])
def test_each_pack_selects_a_partition_whose_dns_suffix_and_regions_are_botocores(pack: str, name: str) -> None:
    region = min(_botocore(name)["regions"])  # type: ignore[call-overload]
    source, target = load_rules(pack).partitions(region)
    assert (source.name, target.name) == ("aws", name)
    assert target.dns_suffix == _botocore(name)["dnsSuffix"]
    assert set(target.regions) == set(_botocore(name)["regions"])  # type: ignore[call-overload]
    assert target.facts.file.endswith(f"partitions/{name}.yml")


def test_the_endpoint_index_is_botocores_endpoint_data() -> None:
    raw = _botocore("aws-cn")
    index = partition_endpoints("aws-cn")
    for service, spec in raw["services"].items():  # type: ignore[attr-defined]
        for key, entry in spec["endpoints"].items():
            if key in raw["regions"] and not entry.get("deprecated"):  # type: ignore[operator]
                host = entry.get("hostname") or f"{service}.{key}.{raw['dnsSuffix']}"
                assert host in {e.hostname for e in index.by_service[service]}, (service, key)


def test_the_endpoint_data_is_what_botocores_loader_reads() -> None:
    # Read without importing botocore.loaders (start-up), from the folders and files the loader reads, in its order.
    from panther_cn_transform.partitions import endpoint_data

    assert endpoint_data._raw.__wrapped__() == create_loader().load_data("endpoints")


def test_the_endpoint_data_in_the_users_models_folder_comes_first(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # botocore's loader reads ~/.aws/models before its own data/ (an override a user may have installed).
    import gzip
    import json

    from panther_cn_transform.partitions import endpoint_data

    models = tmp_path / ".aws" / "models"
    models.mkdir(parents=True)
    (models / "endpoints.json.gz").write_bytes(gzip.compress(json.dumps({"partitions": [], "version": 3}).encode()))
    monkeypatch.setenv("HOME", str(tmp_path))
    assert endpoint_data._raw.__wrapped__() == {"partitions": [], "version": 3}


@pytest.mark.parametrize(
    ("pack", "region", "valid"),
    [
        ("china", "us-east-1", "cn-north-1, cn-northwest-1"),
        ("china", "eu-west-1", "cn-north-1, cn-northwest-1"),
        ("china", "cn-east-9", "cn-north-1, cn-northwest-1"),
        ("aws-us-gov", "cn-north-1", "us-gov-east-1, us-gov-west-1"),
    ],
)
def test_a_region_outside_the_packs_partition_is_an_error_naming_the_valid_ones(pack: str, region: str, valid: str) -> None:
    with pytest.raises(RegionError, match=f"valid regions: {valid}"):
        transform_text(TOPIC, load_rules(pack), region=region)


def test_rules_without_a_partition_take_the_regions_and_still_refuse_unknown_regions() -> None:
    assert transform_text(TOPIC, RuleSet.empty(), region="us-gov-west-1").text == TOPIC
    with pytest.raises(RegionError, match="valid regions: cn-north-1, cn-northwest-1"):
        transform_text(TOPIC, RuleSet.empty(), region="cn-east-9")
    with pytest.raises(RegionError, match="unknown region 'xx-nowhere-1'"):
        transform_text(TOPIC, RuleSet.empty(), region="xx-nowhere-1")


@pytest.mark.parametrize("region", ["us-east-1", "cn-east-9"])
def test_the_cli_exits_2_with_one_line_and_writes_nothing(tmp_path: Path, region: str) -> None:
    (tmp_path / "t.yaml").write_text(TOPIC)
    done = subprocess.run([sys.executable, "-m", "panther_cn_transform", "transform", "t.yaml", "--rules", "china",
                           "--region", region, "-o", "out.yaml"], capture_output=True, text=True, check=False, cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "valid regions: cn-north-1, cn-northwest-1" in done.stderr
    assert "Traceback" not in done.stderr and not (tmp_path / "out.yaml").exists()


def test_a_pack_may_carry_its_partition_inline_or_as_a_file(tmp_path: Path) -> None:
    (tmp_path / "facts.yml").write_text("name: aws-cn\nconsole_host: console.example.cn\n")
    (tmp_path / "by-file.yml").write_text(
        "partition: facts.yml\nrules:\n  - {id: c, description: d, action: replace_text,"
        " replacements: [{pattern: 'https://console\\.aws\\.amazon\\.com', replace: 'https://${console_host}'}]}\n"
    )
    text = "Outputs:\n  C:\n    Value: https://console.aws.amazon.com/x\nResources:\n  T:\n    Type: AWS::SNS::Topic\n"
    out = transform_text(text, load_rules(tmp_path / "by-file.yml"), region="cn-north-1")
    assert out.model["Outputs"]["C"]["Value"] == "https://console.example.cn/x"
    (tmp_path / "inline.yml").write_text("partition: {name: aws-cn, principals: {sqs: global}}\nrules:\n"
                                         "  - {id: p, description: d, action: map_principals}\n")
    policy = "Resources:\n  R:\n    Type: AWS::SQS::QueuePolicy\n    Properties:\n      PolicyDocument: {Statement: [{Principal: {Service: sqs.amazonaws.com}}]}\n"
    out = transform_text(policy, load_rules(tmp_path / "inline.yml"), region="cn-north-1")
    assert out.model["Resources"]["R"]["Properties"]["PolicyDocument"]["Statement"][0]["Principal"]["Service"] == "sqs.amazonaws.com.cn"
    (tmp_path / "bad.yml").write_text("name: aws-cn\nprincipals: {logs: sometimes}\n")
    (tmp_path / "uses-bad.yml").write_text("partition: bad.yml\nrules: []\n")
    with pytest.raises(RuleFileError) as caught:
        load_rules(tmp_path / "uses-bad.yml")
    assert caught.value.file == str(tmp_path / "bad.yml") and caught.value.line == 2


def test_no_partition_literals_in_action_code() -> None:
    """Partition facts live in the partition files and botocore; action code only reads them.

    Docstrings and the `spec` declarations (prose and examples) may name China; code may not.
    """
    forbidden = ("amazonaws.com.cn", "aws-cn", "cn-north", "cn-northwest", "cn.com.amazonaws", "China", "us-gov")
    for action in ACTIONS.values():
        path = Path(sys.modules[action.__module__].__file__ or "")
        tree = ast.parse(path.read_text("utf-8"))
        declared = {id(node) for call in ast.walk(tree) if isinstance(call, ast.Call) and getattr(call.func, "id", "") == "ActionSpec"
                    for node in ast.walk(call)}
        docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                      if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef)) and node.body
                      and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)}
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in declared | docstrings:
                assert not any(word in node.value for word in forbidden), (path.name, node.lineno, node.value)


def test_release_mode_checks_the_region_before_reading_or_writing(tmp_path: Path) -> None:
    mirror = ROOT / "examples" / "release" / "panther-enterprise-us-west-1"
    done = subprocess.run([sys.executable, "-m", "panther_cn_transform", "release", str(mirror), "--release", "v1.0.0",
                           "--out-dir", str(tmp_path / "out"), "--region", "eu-west-1", "--bucket", "my-cn-bucket"],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 2 and "valid regions: cn-north-1, cn-northwest-1" in done.stderr
    assert done.stderr.count("\n") == 1 and not (tmp_path / "out").exists()


WEB_REGIONS = "valid regions: ap-southeast-1, ap-southeast-2"
EXAMPLE = ROOT / "examples" / "release" / "panther-enterprise-us-west-1"


@pytest.mark.parametrize("region", ["cn-north-1", "us-east-1", "eu-west-1"])
def test_the_web_pack_takes_only_the_regions_panthers_china_guide_names(region: str) -> None:
    web = load_rules("panther-web-proxy")
    assert web.regions == ("ap-southeast-1", "ap-southeast-2") == web.valid_regions()
    with pytest.raises(RegionError) as caught:
        transform_text(TOPIC, web, region=region, variables={"bucket": "my-web-bucket"})
    assert str(caught.value) == (f"<command line>: region {region!r} is not one of the regions of the rules "
                                 f"(<builtin>/panther-web-proxy.yml); {WEB_REGIONS}")
    for allowed in web.regions:
        assert transform_text(TOPIC, web, region=allowed, variables={"bucket": "my-web-bucket"}).text == TOPIC


def test_a_pack_that_extends_the_web_pack_may_narrow_its_regions(tmp_path: Path) -> None:
    (tmp_path / "sydney.yml").write_text("extends: panther-web-proxy\nregions: [ap-southeast-2]\nrules: []\n")
    sydney = load_rules(tmp_path / "sydney.yml")
    assert sydney.regions == ("ap-southeast-2",) and sydney.to_data()["regions"] == ["ap-southeast-2"]
    with pytest.raises(RegionError, match="valid regions: ap-southeast-2$"):
        sydney.partitions("ap-southeast-1")
    assert load_rules("panther").regions is None and load_rules("panther").valid_regions() == ("cn-north-1", "cn-northwest-1")


@pytest.mark.parametrize("region", ["cn-north-1", "us-east-1"])
@pytest.mark.parametrize("command", ["release", "transform"])
def test_the_cli_refuses_another_web_region_in_one_line_and_writes_nothing(tmp_path: Path, command: str, region: str) -> None:
    (tmp_path / "t.yaml").write_text(TOPIC)
    given = (["release", str(EXAMPLE), "--release", "v1.0.0", "--out-dir", "out"] if command == "release"
             else ["transform", "t.yaml", "-o", "out"])
    done = subprocess.run([sys.executable, "-m", "panther_cn_transform", *given, "--rules", "panther-web-proxy",
                           "--region", region, "--bucket", "my-web-bucket"],
                          capture_output=True, text=True, check=False, cwd=tmp_path)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr == (f"error: <command line>: region {region!r} is not one of the regions of the rules "
                           f"(<builtin>/panther-web-proxy.yml); {WEB_REGIONS}\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.yaml"]  # nothing written, no staging folder or lock left


def test_a_packs_regions_read_from_its_files_alone_are_those_load_rules_gives() -> None:
    from panther_cn_transform.ruleset.rule_files import builtin_packs, shipped_pack_regions

    for pack in builtin_packs():
        assert shipped_pack_regions(pack) == load_rules(pack).valid_regions(), pack

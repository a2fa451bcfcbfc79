"""Both halves of Panther's China split, built from the same v1.16.0 release mirror.

The China half (pack `panther`, cn-north-1) and the web half (pack `panther-web-proxy`,
ap-southeast-1) together must hold the whole release, each piece where it can run, and
must agree on the bridge between them.
"""

from __future__ import annotations

import functools
import io
import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

from panther_cn_transform import decode_text, load_rules, transform
from panther_cn_transform.release.manifest import check_manifest
from panther_cn_transform.release.pipeline import transform_release
from panther_cn_transform.ruleset.packaged import asset_key, asset_zip

from ..corpus import CORPUS

MIRROR = CORPUS / "panther-release" / "panther-enterprise-us-west-1"
RELEASE = "v1.16.0"
ROOT = f"{RELEASE}/panther.yml"
ASSETS = Path(__file__).resolve().parents[2] / "panther_cn_transform" / "ruleset" / "assets"
# Stacks both halves deploy, and why: Bootstrap and BootstrapGateway are the foundation
# whose outputs every other stack takes as parameters (buckets, keys, alarm topic, the
# custom-resource function); Core is split by function (the users API runs beside the pool).
IN_BOTH = {"Bootstrap", "BootstrapGateway", "Core"}
# resources both halves deploy in BootstrapGateway: each half's custom resources call their own function
SHARED_FOUNDATION = {"CustomResourceFunction", "CustomResourceLogGroup", "CustomResourceMetricFilters", "CustomResourceAlarms",
                     "CustomTeardown", "AlarmTopicAlarms", "ProcessedDataTopicAlarms"}
WEB_ONLY_TYPES = ("AWS::Cognito::", "Custom::Cognito", "AWS::AppSync::", "AWS::ECS::Service", "AWS::ElasticLoadBalancingV2::")
FUNCTION_ARN = re.compile(r"^arn:\$\{AWS::Partition\}:lambda:\$\{AWS::Region\}:\$\{AWS::AccountId\}:function:(?P<name>[a-z0-9-]+)$")


@functools.cache
def halves(tmp: Path) -> tuple[Path, Path]:
    """The China half and the web half of the mirror's v1.16.0, written under `tmp`."""
    assert MIRROR.is_dir(), f"Panther release mirror not found at {MIRROR}"
    china, web = tmp / "cn-release", tmp / "web-release"
    transform_release(MIRROR, release=RELEASE, region="cn-north-1", bucket="my-cn-bucket", rules=load_rules("panther"), out_dir=china, jobs=1)
    transform_release(MIRROR, release=RELEASE, region="ap-southeast-1", bucket="my-web-bucket", rules=load_rules("panther-web-proxy"),
                      out_dir=web, jobs=1)
    return china, web


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return halves(tmp_path_factory.mktemp("split"))


def model(folder: Path, key: str) -> dict[str, Any]:
    return decode_text((folder / key).read_text("utf-8"), source=key).model


def stacks(folder: Path, key: str = ROOT, prefix: str = "") -> dict[str, dict[str, Any]]:
    """Every template of a release by stack path (`""` for the root, `Onboard/ComplianceRoles`, ...)."""
    found = {prefix: model(folder, key)}
    for logical_id, resource in found[prefix]["Resources"].items():
        if resource.get("Type") == "AWS::CloudFormation::Stack":
            child = resource["Properties"]["TemplateURL"].rsplit("/", 1)[-1]
            found.update(stacks(folder, child, f"{prefix}/{logical_id}".lstrip("/")))
    return found


def function_name(arn: Any) -> str:
    text = arn["Fn::Sub"] if isinstance(arn, dict) else arn
    match = FUNCTION_ARN.match(text)
    assert match, arn
    return match.group("name")


def bridge_functions(china_root: dict[str, Any]) -> set[str]:
    statements = china_root["Resources"]["BridgeInvokeRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
    return {function_name(arn) for statement in statements for arn in statement["Resource"]}


def proxies(web_root: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Proxy functions of the web root by function name."""
    return {
        resource["Properties"]["FunctionName"]: resource for resource in web_root["Resources"].values()
        if resource["Type"] == "AWS::Lambda::Function" and resource["Properties"].get("Handler") == "web_proxy.handler"
    }


def test_both_halves_are_complete_releases(built: tuple[Path, Path]) -> None:
    for folder in built:
        assert check_manifest(folder) == []
        for path, template in stacks(folder).items():
            assert template["Resources"], path


def test_together_the_halves_hold_every_stack_of_the_original_once_or_split(built: tuple[Path, Path]) -> None:
    china, web = (stacks(folder) for folder in built)
    original = stacks(MIRROR)
    nested = set(original) - {""}
    assert set(china) | set(web) == set(original)  # nothing lost
    assert (set(china) & set(web)) - {""} == IN_BOTH  # deployed twice only where stated
    assert {"Appsync", "Web"} <= set(web) - set(china) and {"CloudSecurity", "LogAnalysis", "Onboard", "Dashboards"} <= set(china) - set(web)
    assert nested - IN_BOTH == (set(china) ^ set(web)) - {""}
    for path in [*IN_BOTH, ""]:
        in_china, in_web = set(china[path]["Resources"]), set(web[path]["Resources"])
        added = {r for r in in_china | in_web if r.startswith(("Bridge", "Proxy", "WebProxy"))}
        assert in_china | in_web == set(original[path]["Resources"]) | added, path  # every resource in some half
    # Core is split by function: each of its resources runs in exactly one half
    for path in ("Core", "BootstrapGateway"):
        assert not set(china[path]["Resources"]) & set(web[path]["Resources"]) - SHARED_FOUNDATION, path
    assert set(web["Core"]["Resources"]) == {"UsersAPIAlarms", "UsersAPIFunction", "UsersAPILogGroup", "UsersAPIMetricFilters",
                                              "CustomMessageTriggerInvokePermission"}
    # what only a global region has lives only in the web half
    for path, template in china.items():
        assert not [r for r, v in template["Resources"].items() if v["Type"].startswith(WEB_ONLY_TYPES)], path
    assert {"UserPool", "GraphQLApi", "PublicLoadBalancer", "TargetGroup"} <= set(web["Bootstrap"]["Resources"])
    assert {"AppClient", "UserPoolMfa"} <= set(web["BootstrapGateway"]["Resources"])


def test_every_appsync_data_source_reaches_a_proxy_or_a_function_of_the_web_half(built: tuple[Path, Path]) -> None:
    web = stacks(built[1])
    by_name = proxies(web[""])
    local = {v["Properties"]["FunctionName"] for t in web.values() for v in t["Resources"].values()
             if v["Type"] in ("AWS::Serverless::Function", "AWS::Lambda::Function") and v not in by_name.values()}
    sources = {logical_id: function_name(v["Properties"]["LambdaConfig"]["LambdaFunctionArn"])
               for logical_id, v in web["Appsync"]["Resources"].items() if v["Type"] == "AWS::AppSync::DataSource"}
    assert len(sources) == 12
    assert {name for name in sources.values() if name not in by_name} == {"panther-users-api"} <= local
    # the custom-resource function invokes functions by name at deploy time (initial packs, first user)
    gateway = web["BootstrapGateway"]["Resources"]["CustomResourceFunction"]["Properties"]["Policies"][0]["Statement"]
    invoked = {function_name(arn) for s in gateway if s["Action"] == "lambda:InvokeFunction" for arn in s["Resource"]}
    assert invoked <= set(by_name) | local


def test_the_proxies_call_exactly_what_the_china_bridge_may_invoke(built: tuple[Path, Path]) -> None:
    china_root, web_root = model(built[0], ROOT), model(built[1], ROOT)
    by_name = proxies(web_root)
    assert set(by_name) == bridge_functions(china_root)
    assert "panther-users-api" not in bridge_functions(china_root)  # it manages Cognito users: web half only
    web_depends = web_root["Resources"]["Web"]["DependsOn"]
    for name, resource in by_name.items():
        properties = resource["Properties"]
        assert properties["Environment"]["Variables"] == {"SECRET_ID": {"Ref": "SecretID"}, "FUNCTION": name}
        assert properties["Code"] == {"S3Bucket": "my-web-bucket", "S3Key": asset_key("web_proxy.py")}
        assert next(r for r, v in web_root["Resources"].items() if v is resource) in web_depends  # before the web stack's custom resources


def test_the_web_root_takes_the_secret_keeps_the_first_user_and_shows_its_version(built: tuple[Path, Path]) -> None:
    web_root = model(built[1], ROOT)
    assert web_root["Parameters"]["SecretID"]["Default"] == "panther/china"
    assert "FirstUserEmail" in web_root["Parameters"]
    assert web_root["Mappings"]["Constants"]["Panther"]["Version"] == "1.16.0-china-web-proxy"
    assert not [p for p in web_root["Parameters"] if p not in model(MIRROR, ROOT)["Parameters"] and p != "SecretID"]  # nothing to supply


def test_the_proxy_code_is_written_as_the_asset_the_functions_name(built: tuple[Path, Path]) -> None:
    web = built[1]
    manifest = json.loads((web / "manifest.json").read_text())
    entry = next(o for o in manifest["objects"] if o["key"] == asset_key("web_proxy.py"))
    assert entry["kind"] == "asset" and len(entry["referenced_by"]) == 11
    data = (web / entry["key"]).read_bytes()
    assert data == asset_zip("web_proxy.py")
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.namelist() == ["web_proxy.py"]
        assert archive.read("web_proxy.py") == (ASSETS / "web_proxy.py").read_bytes()


def test_the_bridge_has_two_key_slots_whose_generation_replaces_a_key(built: tuple[Path, Path]) -> None:
    china_root = model(built[0], ROOT)
    parameters, resources, outputs = china_root["Parameters"], china_root["Resources"], china_root["Outputs"]
    # each slot's key is named after its generation, by default the release: a new generation renames it
    assert parameters["BridgeKeyA"]["Default"] == parameters["BridgeKeyB"]["Default"] == "v1.16.0"
    assert resources["BridgeApiKeyA"]["Properties"]["Name"] == {"Fn::Sub": "panther-cn-bridge-a-${BridgeKeyA}"}
    assert resources["BridgeApiKeyB"]["Properties"]["Name"] == {"Fn::Sub": "panther-cn-bridge-b-${BridgeKeyB}"}
    assert {resources[f"BridgeUsagePlanKey{slot}"]["Properties"]["KeyId"]["Ref"] for slot in "AB"} == {"BridgeApiKeyA", "BridgeApiKeyB"}
    # the outputs name the key in use, which BridgeKeyInUse chooses
    assert parameters["BridgeKeyInUse"]["AllowedValues"] == ["a", "b"] and parameters["BridgeKeyInUse"]["Default"] == "a"
    assert outputs["BridgeApiKeyId"]["Value"] == {"Fn::If": ["BridgeKeyAInUse", {"Ref": "BridgeApiKeyA"}, {"Ref": "BridgeApiKeyB"}]}
    template = decode_text((MIRROR / ROOT).read_text())
    defaults = {release: transform(template, load_rules("panther"), region="cn-north-1", variables={"bucket": "b", "release": release})
                .model["Parameters"]["BridgeKeyA"]["Default"] for release in ("v1.16.0", "v1.17.0")}
    assert defaults == {"v1.16.0": "v1.16.0", "v1.17.0": "v1.17.0"}
    # CloudFormation cannot rename a key: a new name replaces it, with a new value
    schemas = Path(__import__("cfnlint").__file__).parent / "data" / "schemas" / "resources"
    schema = next(json.loads(p.read_text()) for p in schemas.glob("*.json") if '"AWS::ApiGateway::ApiKey"' in p.read_text())
    assert "/properties/Name" in schema["createOnlyProperties"]


def test_parameters_a_pack_adds_with_a_default_are_not_asked_of_the_operator(tmp_path: Path) -> None:
    example = Path(__file__).resolve().parents[2] / "examples" / "release" / "panther-enterprise-us-west-1"
    result = transform_release(example, release="v1.0.0", region="cn-north-1", bucket="my-cn-bucket", rules=load_rules("panther"),
                               out_dir=tmp_path / "cn", jobs=1)
    assert {"BridgeKeyInUse", "BridgeKeyA", "BridgeKeyB"} <= set(model(tmp_path / "cn", "v1.0.0/panther.yml")["Parameters"])
    assert [p["name"] for p in result.report["parameters"]] == ["UserPoolId"]  # deploy manages the key slots


@pytest.mark.parametrize("key", ["", "Bootstrap", "BootstrapGateway", "Core", "Appsync", "Web"])
def test_the_web_half_adds_no_cfn_lint_error(built: tuple[Path, Path], key: str) -> None:
    api = pytest.importorskip("cfnlint.api")
    web, original = stacks(built[1]), stacks(MIRROR)
    config = api.ManualArgs(regions=["ap-southeast-1"])

    def errors(template: dict[str, Any]) -> set[tuple[str, str]]:
        return {(m.rule.id, re.sub(r"\d+", "N", str(m.message))) for m in api.lint(json.dumps(template), config=config) if m.rule.id.startswith("E")}

    new = errors(web[key]) - errors(original[key])
    assert not new, new


def test_the_command_line_builds_the_web_half(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "panther_cn_transform", "release", str(MIRROR), "--release", RELEASE, "--rules", "panther-web-proxy",
         "--region", "ap-southeast-1", "--bucket", "my-web-bucket", "--out-dir", str(tmp_path / "web-release"), "--jobs", "1"],
        capture_output=True, text=True, check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "6 templates transformed" in done.stderr and (tmp_path / "web-release" / ROOT).is_file()

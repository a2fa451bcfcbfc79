"""The actions the web half of the split uses: keep_resources, add_fragment's merge, replace_text's paths."""

from __future__ import annotations

from typing import Any

from panther_cn_transform import RuleSet, transform_text
from panther_cn_transform.ruleset.rule_files import Rule

CORE = """\
Parameters:
  Pool: {Type: String}
  Days: {Type: Number}
Resources:
  UsersApiFunction:
    Type: AWS::Lambda::Function
    Properties:
      Role: arn:aws:iam::123456789012:role/r
      Code: {ZipFile: 'def handler(e, c): pass'}
      Environment: {Variables: {POOL: !Ref Pool}}
  UsersApiLogGroup:
    Type: AWS::Logs::LogGroup
  AlertsTable:
    Type: AWS::DynamoDB::Table
  AlertsFunction:
    Type: AWS::Lambda::Function
    Properties:
      Role: arn:aws:iam::123456789012:role/r
      Code: {ZipFile: 'def handler(e, c): pass'}
      Environment: {Variables: {TABLE: !Ref AlertsTable, DAYS: !Ref Days}}
  AlertsPermission:
    Type: AWS::Lambda::Permission
    DependsOn: [UsersApiLogGroup, AlertsTable]
    Properties:
      FunctionName: !Ref UsersApiFunction
      Action: lambda:InvokeFunction
      Principal: sns.amazonaws.com
Outputs:
  Table:
    Value: !Ref AlertsTable
  Users:
    Value: !Ref UsersApiFunction
"""


def one_rule(action: str, **params: Any) -> RuleSet:
    return RuleSet((Rule("r", "Test rule. More.", action, params, "<test>"),))


def test_keep_resources_removes_the_rest_and_repairs_references() -> None:
    result = transform_text(CORE, one_rule("keep_resources", keep=["UsersApi*", "AWS::Lambda::Permission"], when_resources=["UsersApiFunction"]),
                            region="ap-southeast-1")
    assert sorted(result.model["Resources"]) == ["AlertsPermission", "UsersApiFunction", "UsersApiLogGroup"]
    assert result.model["Resources"]["AlertsPermission"]["DependsOn"] == ["UsersApiLogGroup"]  # the dangling entry dropped
    assert list(result.model["Outputs"]) == ["Users"]  # the output of a removed resource goes too
    reasons = {e.path: e.reason for e in result.edits if e.op == "remove"}
    assert reasons[("Resources", "AlertsTable")].startswith("AlertsTable removed: AWS::DynamoDB::Table - Test rule")
    assert "Pool" in result.text and "# " not in result.text


def test_keep_resources_applies_only_where_asked() -> None:
    elsewhere = one_rule("keep_resources", keep=["UsersApi*"], when_resources=["NotHere"])
    assert not transform_text(CORE, elsewhere, region="ap-southeast-1").changed
    root_only = one_rule("keep_resources", keep=["UsersApi*"], root_only=True)
    from panther_cn_transform import decode_text, transform

    assert not transform(decode_text(CORE), root_only, region="ap-southeast-1", is_root=False).changed
    assert transform(decode_text(CORE), root_only, region="ap-southeast-1", is_root=True).changed


ROOT = """\
Resources:
  Core:
    Type: AWS::CloudFormation::Stack
    Properties:
      TemplateURL: https://b.s3.amazonaws.com/core
      Parameters:
        Pool: pool-1
  Web:
    Type: AWS::CloudFormation::Stack
    DependsOn: [Core]
    Properties:
      TemplateURL: https://b.s3.amazonaws.com/web
"""


def test_add_fragment_merge_adds_missing_keys_and_list_items_only() -> None:
    fragment = {"Resources": {
        "Web": {"DependsOn": ["Core", "Proxy"]},
        "Core": {"Properties": {"Parameters": {"SecretID": {"Ref": "SecretID"}, "Pool": "pool-2"}}},
        "Proxy": {"Type": "AWS::SNS::Topic"},
    }}
    result = transform_text(ROOT, one_rule("add_fragment", merge=True, fragment=fragment), region="ap-southeast-1")
    resources = result.model["Resources"]
    assert resources["Web"]["DependsOn"] == ["Core", "Proxy"]
    assert resources["Core"]["Properties"]["Parameters"] == {"Pool": "pool-1", "SecretID": {"Ref": "SecretID"}}
    assert resources["Proxy"] == {"Type": "AWS::SNS::Topic"}
    assert [w.pointer for w in result.warnings] == ["/Resources/Core/Properties/Parameters/Pool"]  # a differing scalar is kept
    again = transform_text(result.text, one_rule("add_fragment", merge=True, fragment=fragment), region="ap-southeast-1")
    assert not again.changed  # a second run changes nothing
    plain = transform_text(ROOT, one_rule("add_fragment", fragment=fragment), region="ap-southeast-1")
    assert plain.model["Resources"]["Web"]["DependsOn"] == ["Core"]  # without merge an existing entry is left alone


VERSIONED = """\
Mappings:
  Constants:
    Panther: {Version: 1.16.0, Commit: e74a52eb}
Resources:
  App:
    Type: AWS::Serverless::Application
    Properties:
      Location: {ApplicationId: arn:aws:serverlessrepo:us-east-1:1:applications/A, SemanticVersion: 2020.33.1}
"""


def test_replace_text_paths_limit_the_replacement() -> None:
    rule = one_rule("replace_text", paths=["/Mappings/Constants/*/Version"],
                    replacements=[{"pattern": r"^(\d+\.\d+\.\d+)$", "replace": r"\1-china-web-proxy"}])
    result = transform_text(VERSIONED, rule, region="ap-southeast-1")
    assert result.model["Mappings"]["Constants"]["Panther"]["Version"] == "1.16.0-china-web-proxy"
    assert result.model["Resources"]["App"]["Properties"]["Location"]["SemanticVersion"] == "2020.33.1"
    assert not transform_text(result.text, rule, region="ap-southeast-1").changed


def test_parameters_left_unused_are_reported_even_after_earlier_edits() -> None:
    rules = RuleSet((
        Rule("partition", "Partition.", "rewrite_partition", {"style": "literal"}, "<test>"),  # edits the model first
        Rule("keep", "Keep users.", "keep_resources", {"keep": ["UsersApi*"]}, "<test>"),
    ))
    result = transform_text(CORE, rules, region="cn-north-1")
    assert [w.pointer for w in result.warnings if w.rule == "keep"] == ["/Parameters/Days"]

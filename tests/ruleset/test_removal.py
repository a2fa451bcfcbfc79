"""Removing what the region lacks keeps every reference whole (every reference form)."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml

from panther_cn_transform import RuleSet, decode_text, transform_text
from panther_cn_transform.model.graph import build_graph
from panther_cn_transform.ruleset.rule_files import Rule

REMOVE = RuleSet((Rule("unsupported-resources", "test", "remove_unsupported", {}, "<test>"),))
POOL = {"Type": "AWS::Cognito::UserPool"}  # exists in neither China region


def run(template: dict[str, Any], region: str = "cn-north-1", as_json: bool = False) -> tuple[dict[str, Any], Any]:
    text = json.dumps(template, indent=2) if as_json else yaml.safe_dump(template, sort_keys=False)
    result = transform_text(text, REMOVE, region=region)
    assert decode_text(result.text).model == result.model
    return result.model, result


def fn(env: Any) -> dict[str, Any]:
    return {"Type": "AWS::Lambda::Function", "Properties": {"Role": "r", "Code": {"ZipFile": "x"}, "Environment": {"Variables": {"V": env}}}}


REFERENCE_FORMS = pytest.mark.parametrize(
    "reference",
    [
        {"Ref": "Pool"},
        {"Fn::GetAtt": ["Pool", "Arn"]},
        {"Fn::GetAtt": "Pool.Arn"},
        {"Fn::Sub": "id-${Pool}"},
        {"Fn::Sub": "arn-${Pool.Arn}"},
        {"Fn::Sub": ["x-${Other}", {"Other": {"Ref": "Pool"}}]},
        {"Fn::Join": ["", ["a", {"Ref": "Pool"}]]},
    ],
    ids=["Ref", "GetAtt-list", "GetAtt-dotted", "Sub-id", "Sub-attr", "Sub-varmap", "Join"],
)


def fn_with_role(role: Any) -> dict[str, Any]:
    return {"Type": "AWS::Lambda::Function", "Properties": {"Role": role, "Code": {"ZipFile": "x"}}}


@pytest.mark.parametrize("as_json", [False, True])
@REFERENCE_FORMS
def test_a_resource_that_cannot_exist_without_a_removed_one_is_removed_with_a_chain(reference: Any, as_json: bool) -> None:
    model, result = run({"Resources": {"Pool": POOL, "Fn": fn_with_role(reference), "Keep": {"Type": "AWS::SNS::Topic"}}}, as_json=as_json)
    assert set(model["Resources"]) == {"Keep"}
    reasons = {e.pointer: e.reason for e in result.edits}
    reason = reasons["/Resources/Fn"]
    assert reason.startswith("Fn removed: Properties.Role")  # .Other for the Sub variable map
    assert " uses Pool; Pool removed: AWS::Cognito::UserPool does not exist in cn-north-1 (cfn-lint " in reason


@pytest.mark.parametrize("as_json", [False, True])
@REFERENCE_FORMS
def test_an_environment_variable_that_named_a_removed_resource_reads_a_new_parameter(reference: Any, as_json: bool) -> None:
    model, result = run({"Resources": {"Pool": POOL, "Fn": fn(reference)}}, as_json=as_json)
    assert set(model["Resources"]) == {"Fn"}  # the function stays
    (parameter,) = model["Parameters"]
    value = model["Resources"]["Fn"]["Properties"]["Environment"]["Variables"]["V"]
    assert parameter == ("Other" if "Other" in json.dumps(reference) else "V")  # named after what it stood for
    assert json.dumps(value).count(parameter) >= 1 and "Pool" not in json.dumps(value).replace(parameter, "")
    assert model["Parameters"][parameter]["Type"] == "String"
    assert "this template no longer deploys it" in model["Parameters"][parameter]["Description"]
    (warning,) = [w for w in result.warnings if w.pointer == f"/Parameters/{parameter}"]
    assert "used by Fn.Properties.Environment.Variables.V" in warning.message and "supply it when deploying" in warning.message


@pytest.mark.parametrize("as_json", [False, True])
def test_every_place_that_used_one_removed_value_shares_one_parameter(as_json: bool) -> None:
    model, result = run({"Resources": {
        "Pool": POOL,
        "A": fn({"Ref": "Pool"}),
        "B": {**fn({"Fn::Sub": "${Pool}/${Pool.Arn}"}), "Properties": {**fn(None)["Properties"], "Tags": [{"Key": "pool", "Value": {"Ref": "Pool"}}]}},
        "C": {"Type": "Custom::Setup", "Properties": {"ServiceToken": "arn:aws-cn:lambda:cn-north-1:1:function:f", "PoolArn": {"Fn::GetAtt": ["Pool", "Arn"]}}},
    }}, as_json=as_json)
    assert set(model["Resources"]) == {"A", "B", "C"}
    assert set(model["Parameters"]) == {"V", "PoolArn"}  # Pool's Ref and Pool.Arn, one parameter each
    assert model["Resources"]["B"]["Properties"]["Tags"][0]["Value"] == {"Ref": "V"}
    assert model["Resources"]["C"]["Properties"]["PoolArn"] == {"Ref": "PoolArn"}
    (warning,) = [w for w in result.warnings if w.pointer == "/Parameters/V"]
    assert "A.Properties.Environment.Variables.V" in warning.message and "B.Properties.Tags.0.Value" in warning.message


def test_a_custom_resource_still_needs_its_service_token() -> None:
    model, _ = run({"Resources": {"Pool": POOL, "Fn": {"Type": "AWS::Serverless::Function", "Properties": {"Role": {"Ref": "Pool"}}},
                                  "C": {"Type": "Custom::Setup", "Properties": {"ServiceToken": {"Fn::GetAtt": ["Fn", "Arn"]}}}}})
    assert set(model["Resources"]) == set()


def test_an_authorizer_arn_in_an_api_definition_becomes_a_parameter_with_a_warning() -> None:
    text = """\
Resources:
  Pool:
    Type: AWS::Cognito::UserPool
  Api:
    Type: AWS::Serverless::Api
    Properties:
      StageName: prod
      Auth:
        Authorizers:
          Cognito:
            UserPoolArn: !GetAtt Pool.Arn
"""
    result = transform_text(text, REMOVE, region="cn-north-1")
    assert set(result.model["Resources"]) == {"Api"}
    assert result.model["Resources"]["Api"]["Properties"]["Auth"]["Authorizers"]["Cognito"]["UserPoolArn"] == {"Ref": "CognitoUserPoolArn"}
    (warning,) = [w for w in result.warnings if w.pointer == "/Parameters/CognitoUserPoolArn"]
    assert "Cognito user-pool authorizers are not supported in China" in warning.message


def test_an_authorizer_in_an_openapi_body_keeps_its_api_in_json() -> None:
    authorizer = {"type": "apiKey", "name": "Authorization", "in": "header", "x-amazon-apigateway-authtype": "cognito_user_pools",
                  "x-amazon-apigateway-authorizer": {"type": "cognito_user_pools", "providerARNs": [{"Fn::GetAtt": ["Pool", "Arn"]}]}}
    api = {"Type": "AWS::ApiGateway::RestApi",
           "Properties": {"Body": {"swagger": "2.0", "info": {"title": "t"}, "paths": {}, "securityDefinitions": {"pool": authorizer}}}}
    model, result = run({"Resources": {"Pool": POOL, "Api": api}}, as_json=True)
    assert set(model["Resources"]) == {"Api"}
    arns = model["Resources"]["Api"]["Properties"]["Body"]["securityDefinitions"]["pool"]["x-amazon-apigateway-authorizer"]["providerARNs"]
    assert arns == [{"Ref": "PoolArn"}]  # named after what it holds: the pool's ARN (issue 27)
    (warning,) = [w for w in result.warnings if w.pointer == "/Parameters/PoolArn"]
    assert "Cognito user-pool authorizers are not supported in China" in warning.message


def test_short_forms_in_yaml_are_references_too() -> None:
    text = """\
Resources:
  Pool: {Type: AWS::Cognito::UserPool}
  A: {Type: AWS::SNS::Topic, Properties: {TopicName: !Ref Pool}}
  B: {Type: AWS::SNS::Topic, Properties: {TopicName: !GetAtt Pool.Arn}}
  C: {Type: AWS::SNS::Topic, Properties: {TopicName: !Sub '${Pool.ProviderName}'}}
  D: {Type: AWS::SNS::Topic, Properties: {TopicName: !Sub '${!Pool} is literal'}}
  E: {Type: AWS::SNS::Topic, Properties: {TopicName: !Sub ['${Pool}', {Pool: fixed}]}}
"""
    result = transform_text(text, REMOVE, region="cn-north-1")
    assert set(result.model["Resources"]) == {"D", "E"}  # ${!Pool} and a Sub variable named Pool are not references


def test_depends_on_entries_and_strings_are_dropped_not_their_owner() -> None:
    model, _ = run({"Resources": {"Pool": POOL, "T": {"Type": "AWS::SNS::Topic"},
                                  "A": {"Type": "AWS::SNS::Topic", "DependsOn": ["Pool", "T"]},
                                  "B": {"Type": "AWS::SNS::Topic", "DependsOn": "Pool"},
                                  "C": {"Type": "AWS::SNS::Topic", "DependsOn": ["Pool"]}}})
    assert model["Resources"]["A"]["DependsOn"] == ["T"]
    assert "DependsOn" not in model["Resources"]["B"] and "DependsOn" not in model["Resources"]["C"]


def test_outputs_using_it_are_dropped_and_importers_follow() -> None:
    model, _ = run({
        "Resources": {"Pool": POOL, "T": {"Type": "AWS::SNS::Topic"},
                      "Importer": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": {"Fn::ImportValue": "pool-id"}}}},
        "Outputs": {"PoolId": {"Value": {"Ref": "Pool"}, "Export": {"Name": "pool-id"}}, "Topic": {"Value": {"Ref": "T"}}},
    })
    assert list(model["Outputs"]) == ["Topic"] and set(model["Resources"]) == {"T"}
    model, _ = run({"Resources": {"Pool": POOL, "T": {"Type": "AWS::SNS::Topic"}}, "Outputs": {"P": {"Value": {"Ref": "Pool"}}}})
    assert "Outputs" not in model  # an empty Outputs section is invalid: the key goes


def policy(statements: list[dict[str, Any]]) -> dict[str, Any]:
    return {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": {"Statement": []},
            "Policies": [{"PolicyName": "p", "PolicyDocument": {"Statement": statements}}]}}


def test_allow_statements_narrow_deny_and_conditions_remove_the_owner() -> None:
    arn = {"Fn::GetAtt": ["Pool", "Arn"]}
    model, _ = run({"Resources": {"Pool": POOL, "Role": policy([
        {"Effect": "Allow", "Action": "a:B", "Resource": [arn, "arn:aws:s3:::x"]},
        {"Effect": "Allow", "Action": "a:C", "Resource": arn},
        {"Effect": "Allow", "Action": "a:D", "Resource": "*"},
    ])}})
    statements = model["Resources"]["Role"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
    assert statements == [{"Effect": "Allow", "Action": "a:B", "Resource": ["arn:aws:s3:::x"]}, {"Effect": "Allow", "Action": "a:D", "Resource": "*"}]
    model, _ = run({"Resources": {"Pool": POOL, "Role": policy([{"Effect": "Allow", "Action": "a:C", "Resource": arn}])}})
    assert "Policies" not in model["Resources"]["Role"]["Properties"]  # its only statement went: the inline policy goes
    for statement in (
        {"Effect": "Deny", "Action": "a:B", "Resource": [arn, "x"]},
        {"Effect": "Allow", "Action": "a:B", "Resource": "*", "Condition": {"StringEquals": {"k": arn}}},
        {"Effect": "Allow", "Action": "a:B", "NotResource": [arn, "x"]},
    ):
        model, _ = run({"Resources": {"Pool": POOL, "Role": policy([statement, {"Effect": "Allow", "Action": "x:Y", "Resource": "*"}]), "T": {"Type": "AWS::SNS::Topic"}}})
        assert "Role" not in model["Resources"], statement


def test_source_arn_removes_the_permission() -> None:
    model, _ = run({"Resources": {"Pool": POOL, "T": {"Type": "AWS::SNS::Topic"}, "Perm": {"Type": "AWS::Lambda::Permission", "Properties": {
        "Action": "lambda:InvokeFunction", "FunctionName": "f", "Principal": "cognito-idp.amazonaws.com", "SourceArn": {"Fn::GetAtt": ["Pool", "Arn"]}}}}})
    assert set(model["Resources"]) == {"T"}


def test_if_branch_of_an_optional_property_becomes_novalue() -> None:
    text = """\
Conditions:
  UseAuth: !Equals [a, a]
Resources:
  Pool: {Type: AWS::Cognito::UserPool}
  Api:
    Type: AWS::AppSync::GraphQLApi
    Properties:
      Name: api
      AuthenticationType: API_KEY
      UserPoolConfig: !If [UseAuth, {UserPoolId: !Ref Pool, AwsRegion: x, DefaultAction: ALLOW}, !Ref 'AWS::NoValue']
"""
    result = transform_text(text, REMOVE, region="cn-north-1")
    assert result.model["Resources"]["Api"]["Properties"]["UserPoolConfig"] == {"Fn::If": ["UseAuth", {"Ref": "AWS::NoValue"}, {"Ref": "AWS::NoValue"}]}
    assert "UserPoolConfig: !If [UseAuth, !Ref AWS::NoValue, !Ref 'AWS::NoValue']" in result.text


def test_regions_differ_identity_pool() -> None:
    template = {"Resources": {"Ids": {"Type": "AWS::Cognito::IdentityPool", "Properties": {"AllowUnauthenticatedIdentities": True}},
                              "T": {"Type": "AWS::SNS::Topic"}}}
    assert "Ids" in run(template, "cn-north-1")[0]["Resources"]
    assert "Ids" not in run(template, "cn-northwest-1")[0]["Resources"]


def test_custom_and_third_party_types_are_kept_and_unused_parameters_reported() -> None:
    model, result = run({
        "Parameters": {"PoolName": {"Type": "String"}},
        "Resources": {"Pool": {"Type": "AWS::Cognito::UserPool", "Properties": {"UserPoolName": {"Ref": "PoolName"}}},
                      "C": {"Type": "Custom::Thing", "Properties": {"ServiceToken": "x"}},
                      "M": {"Type": "MyOrg::Some::Module"}},
    })
    assert set(model["Resources"]) == {"C", "M"} and "PoolName" in model["Parameters"]
    assert [w.pointer for w in result.warnings] == ["/Parameters/PoolName"]


def test_markdown_report_lists_removals_first() -> None:
    from panther_cn_transform import build_report, format_report, load_rules

    text = yaml.safe_dump({"Resources": {"Pool": POOL, "T": {"Type": "AWS::SNS::Topic", "Properties": {"KmsMasterKeyId": "arn:aws:kms:cn-north-1:1:key/k"}}}})
    result = transform_text(text, load_rules("china"), region="cn-north-1")
    lines = [l for l in format_report(build_report([(result, None)], region="cn-north-1"), "markdown").splitlines() if l.startswith("- ")]
    assert lines[0].startswith("- remove `/Resources/Pool`") and lines[-1].startswith("- replace")


def test_graph_sees_conditions_if_and_depends_on() -> None:
    model = decode_text("""\
Conditions:
  C1: !Equals [!Ref P, x]
  C2: !And [!Condition C1, !Equals [a, b]]
Resources:
  R: {Type: T, Condition: C2, DependsOn: [S], Properties: {A: !If [C1, !Ref S, !Ref 'AWS::NoValue']}}
  S: {Type: T}
""").model
    kinds = sorted((r.kind, r.target) for r in build_graph(model).references)
    assert kinds == [("Condition", "C1"), ("Condition", "C2"), ("DependsOn", "S"), ("If", "C1"), ("Ref", "P"), ("Ref", "S")]


def test_names_used_after_a_plan_equal_a_fresh_walk_of_the_result_on_every_corpus_template() -> None:
    """`names_used_after` (no second walk) agrees with `build_graph(after)`, or declines (None)."""
    from panther_cn_transform.model.edits import EditLog
    from panther_cn_transform.ruleset.removal import names_used_after, plan_removal

    from ..corpus import decodable_corpus_templates

    compared = declined = 0
    for path, template in decodable_corpus_templates():
        ids = list(template.model["Resources"])
        for logical_id in ids[:: max(1, len(ids) // 4)]:
            for mode in ("repair", "remove"):
                log = EditLog(template.model)
                graph = log.graph()
                edits = plan_removal(template.model, {logical_id: "test"}, rule="r", on_reference=mode, graph=graph)  # type: ignore[arg-type]
                after = names_used_after(graph, edits)
                for edit in edits:
                    log.apply(edit)
                if after is None:
                    declined += 1
                    continue
                assert after == build_graph(log.model).names_used(), (path, logical_id, mode)
                compared += 1
    assert compared > 1000 and declined < compared // 20

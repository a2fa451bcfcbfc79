"""The edit_property rule kind on small cases: targets, tests, operations, SAM Globals, reference safety."""

from __future__ import annotations

from typing import Any

import pytest

from panther_cn_transform import RuleSet, transform_text
from panther_cn_transform.ruleset.rule_files import Rule

from .test_actions import renderings


def rule(**params: Any) -> RuleSet:
    return RuleSet((Rule("r", "China differs here. More detail.", "edit_property", params, "<test>"),))


def run(template: dict[str, Any] | str, rules: RuleSet) -> list[Any]:
    """The transform of `template` as YAML and as JSON (a str is taken as is)."""
    texts = [template] if isinstance(template, str) else renderings(template)
    return [transform_text(text, rules, region="cn-north-1") for text in texts]


REGIONAL = rule(resource_types=["AWS::ApiGateway::RestApi"], properties=["EndpointConfiguration.Types"],
                when=[{"absent": True}, {"contains": "EDGE"}], then="set", value=["REGIONAL"])


def api(**properties: Any) -> dict[str, Any]:
    resource: dict[str, Any] = {"Type": "AWS::ApiGateway::RestApi"}
    if properties:
        resource["Properties"] = properties
    return {"Resources": {"Api": resource}}


@pytest.mark.parametrize(
    ("properties", "expected"),
    [
        ({"Name": "a"}, {"Name": "a", "EndpointConfiguration": {"Types": ["REGIONAL"]}}),
        ({}, {"EndpointConfiguration": {"Types": ["REGIONAL"]}}),  # no Properties at all
        ({"EndpointConfiguration": {"Types": ["EDGE"]}}, {"EndpointConfiguration": {"Types": ["REGIONAL"]}}),
        ({"EndpointConfiguration": {"VpcEndpointIds": ["v"]}}, {"EndpointConfiguration": {"VpcEndpointIds": ["v"], "Types": ["REGIONAL"]}}),
        ({"EndpointConfiguration": {"Types": ["PRIVATE"]}}, {"EndpointConfiguration": {"Types": ["PRIVATE"]}}),
        ({"EndpointConfiguration": {"Types": ["REGIONAL"]}}, {"EndpointConfiguration": {"Types": ["REGIONAL"]}}),
    ],
)
def test_set_adds_missing_mappings_and_replaces_selected_values(properties: dict[str, Any], expected: dict[str, Any]) -> None:
    for result in run(api(**properties), REGIONAL):
        assert result.model["Resources"]["Api"].get("Properties") == expected
        assert not result.warnings
        assert not transform_text(result.text, REGIONAL, region="cn-north-1").edits  # a second run changes nothing


def test_each_if_branch_is_its_own_place_and_no_value_is_absent() -> None:
    branches = {"Fn::If": ["Private", {"Types": ["PRIVATE"]}, {"Ref": "AWS::NoValue"}]}
    for result in run(api(EndpointConfiguration=branches), REGIONAL):
        assert result.model["Resources"]["Api"]["Properties"]["EndpointConfiguration"] == {
            "Fn::If": ["Private", {"Types": ["PRIVATE"]}, {"Types": ["REGIONAL"]}]}


def test_a_deploy_time_value_is_a_warning_or_ignored() -> None:
    template = api(EndpointConfiguration={"Types": {"Ref": "EndpointType"}})
    for result in run(template, REGIONAL):
        assert not result.edits
        [warning] = result.warnings
        assert warning.pointer == "/Resources/Api/Properties/EndpointConfiguration/Types"
        assert 'only known at deploy time ({"Ref": "EndpointType"})' in warning.message
    quiet = rule(**{**REGIONAL.rules[0].params, "unknown": "ignore"})
    assert all(not r.warnings and not r.edits for r in run(template, quiet))


def test_replace_maps_scalars_and_list_items() -> None:
    rules = rule(resource_types=["AWS::CloudFront::Distribution"], properties=["DistributionConfig.PriceClass", "DistributionConfig.Aliases"],
                 then="replace", values={"PriceClass_100": "PriceClass_All", "old.example.com": "new.example.com"})
    template = {"Resources": {"D": {"Type": "AWS::CloudFront::Distribution", "Properties": {"DistributionConfig": {
        "PriceClass": "PriceClass_100", "Aliases": ["old.example.com", "keep.example.com"]}}}}}
    for result in run(template, rules):
        config = result.model["Resources"]["D"]["Properties"]["DistributionConfig"]
        assert config == {"PriceClass": "PriceClass_All", "Aliases": ["new.example.com", "keep.example.com"]}


def test_rename_moves_the_value_and_refuses_to_overwrite() -> None:
    rules = rule(resource_types=["AWS::ApiGateway::DomainName"], properties=["CertificateArn"], then="rename", to="RegionalCertificateArn")
    template = {"Resources": {"D": {"Type": "AWS::ApiGateway::DomainName", "Properties": {"DomainName": "api.example.com",
                                                                                         "CertificateArn": {"Ref": "Cert"}}},
                              "Cert": {"Type": "AWS::CertificateManager::Certificate", "Properties": {"DomainName": "api.example.com"}}}}
    for result in run(template, rules):
        assert result.model["Resources"]["D"]["Properties"] == {"DomainName": "api.example.com", "RegionalCertificateArn": {"Ref": "Cert"}}
    template["Resources"]["D"]["Properties"]["RegionalCertificateArn"] = "arn:aws:acm:cn-north-1:123456789012:certificate/c"
    for result in run(template, rules):
        assert not result.edits and "both set" in result.warnings[0].message


def test_remove_reports_the_parameters_it_leaves_unused() -> None:
    rules = rule(resource_types=["AWS::CloudFront::Distribution"], properties=["DistributionConfig.Origins.*.OriginShield"],
                 then="remove")
    template = {"Parameters": {"ShieldRegion": {"Type": "String"}},
                "Resources": {"D": {"Type": "AWS::CloudFront::Distribution", "Properties": {"DistributionConfig": {"Origins": [
                    {"Id": "a", "DomainName": "a.example.com", "OriginShield": {"Enabled": True, "OriginShieldRegion": {"Ref": "ShieldRegion"}}},
                    {"Id": "b", "DomainName": "b.example.com"}]}}}}}
    for result in run(template, rules):
        assert result.model["Resources"]["D"]["Properties"]["DistributionConfig"]["Origins"] == [
            {"Id": "a", "DomainName": "a.example.com"}, {"Id": "b", "DomainName": "b.example.com"}]
        assert [w.pointer for w in result.warnings] == ["/Parameters/ShieldRegion"]


def test_replace_attributes_in_getatt_and_sub() -> None:
    rules = rule(resource_types=["AWS::CloudFront::Distribution"], properties=["DistributionConfig.Logging.Bucket"],
                 then="replace_attributes", attributes={"DomainName": "RegionalDomainName"})
    for bucket, expected in [
        ({"Fn::GetAtt": ["Logs", "DomainName"]}, {"Fn::GetAtt": ["Logs", "RegionalDomainName"]}),
        ({"Fn::GetAtt": "Logs.DomainName"}, {"Fn::GetAtt": "Logs.RegionalDomainName"}),
        ({"Fn::Sub": "${Logs.DomainName}"}, {"Fn::Sub": "${Logs.RegionalDomainName}"}),
        ({"Fn::GetAtt": ["Logs", "Arn"]}, {"Fn::GetAtt": ["Logs", "Arn"]}),
    ]:
        template = {"Resources": {"Logs": {"Type": "AWS::S3::Bucket"}, "D": {"Type": "AWS::CloudFront::Distribution", "Properties": {
            "DistributionConfig": {"Logging": {"Bucket": bucket}}}}}}
        for result in run(template, rules):
            assert result.model["Resources"]["D"]["Properties"]["DistributionConfig"]["Logging"]["Bucket"] == expected


def test_a_change_renames_retired_attributes_everywhere_they_are_read() -> None:
    rules = rule(resource_types=["AWS::ApiGateway::DomainName"], properties=["EndpointConfiguration.Types"],
                 when=[{"absent": True}, {"contains": "EDGE"}], then="set", value=["REGIONAL"],
                 rename_references={"DistributionDomainName": "RegionalDomainName", "DistributionHostedZoneId": "RegionalHostedZoneId"})
    text = """\
Resources:
  Domain:
    Type: AWS::ApiGateway::DomainName
    Properties:
      DomainName: api.example.com
  Record:
    Type: AWS::Route53::RecordSet
    Properties:
      Name: api.example.com.
      Type: A
      AliasTarget:
        DNSName: !GetAtt Domain.DistributionDomainName
        HostedZoneId: !GetAtt [Domain, DistributionHostedZoneId]
  Other:
    Type: AWS::ApiGateway::DomainName
    Properties:
      DomainName: other.example.com
      EndpointConfiguration: {Types: [REGIONAL]}
Outputs:
  Url:
    Value: !Sub https://${Domain.DistributionDomainName}/v1 and ${Other.DistributionDomainName}
"""
    [result] = run(text, rules)
    alias = result.model["Resources"]["Record"]["Properties"]["AliasTarget"]
    assert alias == {"DNSName": {"Fn::GetAtt": ["Domain", "RegionalDomainName"]}, "HostedZoneId": {"Fn::GetAtt": ["Domain", "RegionalHostedZoneId"]}}
    # only the domain the rule changed: Other was REGIONAL already
    assert result.model["Outputs"]["Url"]["Value"] == {"Fn::Sub": "https://${Domain.RegionalDomainName}/v1 and ${Other.DistributionDomainName}"}
    assert "!Sub https://${Domain.RegionalDomainName}/v1" in result.text  # only the changed characters


def test_parameters_are_added_with_the_change_and_reported() -> None:
    rules = rule(resource_types=["AWS::CloudFront::Distribution"], properties=["DistributionConfig.ViewerCertificate.AcmCertificateArn"],
                 then="rename", to="IamCertificateId", value={"Ref": "IamCert"}, parameters={"IamCert": {"Type": "String"}})
    template = {"Resources": {"D": {"Type": "AWS::CloudFront::Distribution", "Properties": {"DistributionConfig": {
        "ViewerCertificate": {"AcmCertificateArn": "arn:aws:acm:us-east-1:123456789012:certificate/c", "SslSupportMethod": "sni-only"}}}}}}
    for result in run(template, rules):
        assert result.model["Parameters"] == {"IamCert": {"Type": "String"}}
        assert result.model["Resources"]["D"]["Properties"]["DistributionConfig"]["ViewerCertificate"] == {
            "SslSupportMethod": "sni-only", "IamCertificateId": {"Ref": "IamCert"}}
        assert "/Parameters/IamCert" in [w.pointer for w in result.warnings]
    untouched = {"Resources": {"T": {"Type": "AWS::SNS::Topic"}}}
    assert all("Parameters" not in r.model for r in run(untouched, rules))  # no change, no parameter


def test_logical_ids_only_with_and_where_narrow_the_resources() -> None:
    base = {"resource_types": ["AWS::Lambda::Function"], "properties": ["SnapStart"], "then": "remove"}
    template = {"Resources": {
        "Py": {"Type": "AWS::Lambda::Function", "Properties": {"Runtime": "python3.12", "SnapStart": {"ApplyOn": "PublishedVersions"}}},
        "Java": {"Type": "AWS::Lambda::Function", "Properties": {"Runtime": "java21", "SnapStart": {"ApplyOn": "PublishedVersions"}}},
        "Any": {"Type": "AWS::Lambda::Function", "Properties": {"Runtime": {"Ref": "Runtime"}, "SnapStart": {"ApplyOn": "PublishedVersions"}}},
    }}

    def kept(rules: RuleSet) -> list[list[str]]:
        return [sorted(i for i, r in res.model["Resources"].items() if "SnapStart" in r["Properties"]) for res in run(template, rules)]

    assert kept(rule(**base, where=[{"property": "Runtime", "matches": "^python"}])) == [["Any", "Java"]] * 2
    assert kept(rule(**base, logical_ids=["J*"])) == [["Any", "Py"]] * 2
    assert kept(rule(**base, only_with=["Handler"])) == [["Any", "Java", "Py"]] * 2
    [yaml_result, _] = run(template, rule(**base, where=[{"property": "Runtime", "matches": "^python"}]))
    assert [w.pointer for w in yaml_result.warnings] == ["/Resources/Any/Properties/Runtime"]  # cannot tell: reported


SAM_REGIONAL = rule(resource_types=["AWS::Serverless::Api"], properties=["EndpointConfiguration"],
                    when=[{"absent": True}, {"equals": "EDGE"}, {"equals": {"Type": "EDGE"}}], then="set", value={"Type": "REGIONAL"})


def sam(resources: dict[str, Any], globals_: dict[str, Any] | None = None) -> dict[str, Any]:
    template: dict[str, Any] = {"Transform": "AWS::Serverless-2016-10-31"}
    if globals_ is not None:
        template["Globals"] = globals_
    template["Resources"] = resources
    return template


FUNCTION = {"Type": "AWS::Serverless::Function", "Properties": {"Runtime": "python3.12", "Handler": "h", "CodeUri": ".",
                                                                  "Events": {"Get": {"Type": "Api", "Properties": {"Path": "/", "Method": "get"}}}}}


def test_sam_implicit_api_is_set_in_globals() -> None:
    for result in run(sam({"Fn": FUNCTION}), SAM_REGIONAL):
        assert result.model["Globals"] == {"Api": {"EndpointConfiguration": {"Type": "REGIONAL"}}}
    for result in run(sam({"Fn": FUNCTION}, {"Function": {"Timeout": 3}}), SAM_REGIONAL):
        assert result.model["Globals"] == {"Function": {"Timeout": 3}, "Api": {"EndpointConfiguration": {"Type": "REGIONAL"}}}


def test_sam_globals_edge_is_fixed_and_inherited_by_explicit_apis() -> None:
    explicit = {"Type": "AWS::Serverless::Api", "Properties": {"StageName": "prod"}}
    for result in run(sam({"Api": explicit}, {"Api": {"EndpointConfiguration": "EDGE"}}), SAM_REGIONAL):
        assert result.model["Globals"]["Api"]["EndpointConfiguration"] == {"Type": "REGIONAL"}
        assert "EndpointConfiguration" not in result.model["Resources"]["Api"]["Properties"]  # inherits it


def test_sam_explicit_api_without_globals_is_set_on_the_resource() -> None:
    explicit = {"Type": "AWS::Serverless::Api", "Properties": {"StageName": "prod", "EndpointConfiguration": {"Type": "EDGE"}}}
    plain = {"Type": "AWS::Serverless::Api", "Properties": {"StageName": "prod"}}
    for result in run(sam({"Edge": explicit, "Plain": plain}), SAM_REGIONAL):
        assert "Globals" not in result.model  # no implicit API: nothing to set there
        for name in ("Edge", "Plain"):
            assert result.model["Resources"][name]["Properties"]["EndpointConfiguration"] == {"Type": "REGIONAL"}


def test_an_event_on_an_explicit_api_makes_no_implicit_api() -> None:
    function = {"Type": "AWS::Serverless::Function", "Properties": {"Runtime": "python3.12", "Handler": "h", "CodeUri": ".", "Events": {
        "Get": {"Type": "Api", "Properties": {"Path": "/", "Method": "get", "RestApiId": {"Ref": "Api"}}}}}}
    explicit = {"Type": "AWS::Serverless::Api", "Properties": {"StageName": "prod", "EndpointConfiguration": "REGIONAL"}}
    for result in run(sam({"Fn": function, "Api": explicit}), SAM_REGIONAL):
        assert not result.edits


def test_a_warning_about_an_implicit_api_without_globals_points_at_its_event() -> None:
    rules = rule(resource_types=["AWS::Serverless::Api"], properties=["Auth.DefaultAuthorizer"],
                 when=[{"absent": True}, {"not_in": ["AWS_IAM"]}], then="warn", message="needs ICP")
    for result in run(sam({"Fn": FUNCTION}), rules):
        assert [(w.pointer, w.message) for w in result.warnings] == [("/Resources/Fn/Properties/Events/Get", "needs ICP")]
    iam = {"Api": {"Auth": {"DefaultAuthorizer": "AWS_IAM"}}}
    assert all(not r.warnings for r in run(sam({"Fn": FUNCTION}, iam), rules))


def test_remove_resource_uses_the_removal_planner_and_never_widens() -> None:
    from panther_cn_transform.testing import assert_no_dangling_references

    rules = rule(resource_types=["AWS::WAFv2::WebACL"], properties=["Scope"], when=[{"equals": "CLOUDFRONT"}], then="remove_resource")
    acl = {"Type": "AWS::WAFv2::WebACL", "Properties": {"Scope": "CLOUDFRONT", "DefaultAction": {"Allow": {}}}}
    regional = {"Type": "AWS::WAFv2::WebACL", "Properties": {"Scope": "REGIONAL", "DefaultAction": {"Allow": {}}}}
    policy = {"Type": "AWS::IAM::ManagedPolicy", "Properties": {"PolicyDocument": {"Statement": [
        {"Effect": "Allow", "Action": "wafv2:GetWebACL", "Resource": [{"Fn::GetAtt": ["Acl", "Arn"]}, {"Fn::GetAtt": ["Regional", "Arn"]}]}]}}}
    cdn = {"Type": "AWS::CloudFront::Distribution", "Properties": {"DistributionConfig": {"Enabled": True, "WebACLId": {"Fn::GetAtt": ["Acl", "Arn"]}}}}
    template = {"Resources": {"Acl": acl, "Regional": regional, "Policy": policy, "Cdn": cdn},
                "Outputs": {"AclArn": {"Value": {"Fn::GetAtt": ["Acl", "Arn"]}}, "Keep": {"Value": {"Ref": "Regional"}}}}
    for result in run(template, rules):
        model = result.model
        assert sorted(model["Resources"]) == ["Policy", "Regional"]  # the distribution needed the web ACL: removed with it
        assert model["Resources"]["Policy"]["Properties"]["PolicyDocument"]["Statement"][0]["Resource"] == [{"Fn::GetAtt": ["Regional", "Arn"]}]
        assert list(model["Outputs"]) == ["Keep"]
        assert_no_dangling_references(model)
        assert any(e.pointer == "/Resources/Acl" and "Scope" in e.reason for e in result.edits)


def test_where_reads_a_sam_property_from_globals() -> None:
    rules = rule(resource_types=["AWS::Serverless::Function"], where=[{"property": "Runtime", "matches": "^python"}],
                 properties=["SnapStart"], then="remove")
    function = {"Type": "AWS::Serverless::Function", "Properties": {"Handler": "h", "CodeUri": ".", "SnapStart": {"ApplyOn": "PublishedVersions"}}}
    for result in run(sam({"Fn": function}, {"Function": {"Runtime": "python3.12"}}), rules):
        assert "SnapStart" not in result.model["Resources"]["Fn"]["Properties"]
    for result in run(sam({"Fn": function}, {"Function": {"Runtime": "java21"}}), rules):
        assert "SnapStart" in result.model["Resources"]["Fn"]["Properties"]

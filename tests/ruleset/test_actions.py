"""Each China action on small before/after cases, in YAML (short and long form) and JSON."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from panther_cn_transform import RuleSet, load_rules, transform_text
from panther_cn_transform.ruleset.rule_files import Rule

CHINA = load_rules("china")
PANTHER = load_rules("panther")


def one_rule(action: str, **params: Any) -> RuleSet:
    return RuleSet((Rule("r", "test rule", action, params, "<test>"),))


def resource(properties: dict[str, Any], rtype: str = "AWS::SNS::Topic") -> dict[str, Any]:
    return {"Resources": {"R": {"Type": rtype, "Properties": properties}}}


def renderings(template: dict[str, Any]) -> list[str]:
    """The same template as block YAML and as indented JSON."""
    return [yaml.safe_dump(template, sort_keys=False), json.dumps(template, indent=2)]


def out_props(text: str, rules: RuleSet, **variables: str) -> dict[str, Any]:
    result = transform_text(text, rules, region=variables.pop("region", "cn-north-1"), variables=variables)
    return result.model["Resources"]["R"]["Properties"]  # type: ignore[no-any-return]


@pytest.mark.parametrize("text", renderings(resource({"A": "arn:aws:s3:::b/*", "B": {"Fn::Sub": "arn:aws:sns:${AWS::Region}:1:t"}})))
def test_partition_literal(text: str) -> None:
    props = out_props(text, one_rule("rewrite_partition"))
    assert props == {"A": "arn:aws-cn:s3:::b/*", "B": {"Fn::Sub": "arn:aws-cn:sns:${AWS::Region}:1:t"}}


@pytest.mark.parametrize(("source", "target"), [("aws", "aws-cn"), ("aws-cn", "aws-us-gov"), ("aws-ab", "aws-cd")])  # the last: equal lengths
def test_a_partition_edit_says_how_many_arns_it_rewrote(source: str, target: str) -> None:
    arns = [f"arn:{source}:s3:::bucket-{n}/*" for n in range(7)]
    text = json.dumps(resource({"One": arns[0], "Many": {"Fn::Join": [",", [" ".join(arns)]]}, "Two": f"{arns[1]} {arns[2]}"}))
    result = transform_text(text, one_rule("rewrite_partition", **{"from": source, "to": target}), region="cn-north-1")
    reasons = {edit.path[-1] if isinstance(edit.path[-1], str) else "Many": edit.reason for edit in result.edits}
    assert reasons == {name: f"{count} ARN{'s' if count > 1 else ''} in the {source} partition rewritten to {target}"
                       for name, count in (("One", 1), ("Many", 7), ("Two", 2))}


def test_partition_pseudo_wraps_plain_strings_in_sub_and_escapes() -> None:
    text = "Resources:\n  R:\n    Type: T\n    Properties:\n      A: arn:aws:s3:::b/${x}\n      B: !Sub arn:aws:s3:::${B}\n"
    props = out_props(text, one_rule("rewrite_partition", style="pseudo"))
    assert props == {"A": {"Fn::Sub": "arn:${AWS::Partition}:s3:::b/${!x}"}, "B": {"Fn::Sub": "arn:${AWS::Partition}:s3:::${B}"}}
    already = "Resources:\n  R:\n    Type: T\n    Properties:\n      A: !Sub arn:${AWS::Partition}:s3:::b\n"
    assert not transform_text(already, one_rule("rewrite_partition", style="pseudo"), region="cn-north-1").changed


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("https://sqs.us-west-1.amazonaws.com/1/q", "https://sqs.cn-north-1.amazonaws.com.cn/1/q"),
        ("https://b.s3.amazonaws.com/k", "https://b.s3.amazonaws.com/k"),  # another owner's bucket: reported
        ("https://s3-us-west-1.amazonaws.com/b/k", "https://s3-us-west-1.amazonaws.com/b/k"),
        ("https://s3.us-west-1.amazonaws.com", "https://s3.cn-north-1.amazonaws.com.cn"),
        ("https://iam.amazonaws.com", "https://iam.cn-north-1.amazonaws.com.cn"),  # botocore: aws-cn-global
        ("https://b.s3.cn-north-1.amazonaws.com/k", "https://b.s3.cn-north-1.amazonaws.com.cn/k"),
        ("sqs.cn-north-1.amazonaws.com", "sqs.cn-north-1.amazonaws.com.cn"),
        ("lambda.amazonaws.com", "lambda.amazonaws.com"),  # bare service name: a principal, not an endpoint
        ("https://x.amazonaws.com.cn/", "https://x.amazonaws.com.cn/"),
        ("arn:aws:iam::1:role/aws-service-role/es.amazonaws.com/R", "arn:aws:iam::1:role/aws-service-role/es.amazonaws.com/R"),
    ],
)
def test_endpoints(before: str, after: str) -> None:
    for text in renderings(resource({"Url": before})):
        assert out_props(text, one_rule("rewrite_endpoints", source_region="us-west-1"))["Url"] == after


def test_endpoint_in_another_global_region_is_a_warning_not_a_rewrite() -> None:
    text = yaml.safe_dump(resource({"Url": "https://sqs.eu-west-1.amazonaws.com/1/q"}))
    result = transform_text(text, one_rule("rewrite_endpoints", source_region="us-west-1"), region="cn-north-1")
    assert not result.changed and "eu-west-1 is outside aws-cn" in result.warnings[0].message


def test_sub_endpoints_keep_pseudo_region() -> None:
    text = "Resources:\n  R:\n    Type: T\n    Properties:\n      V: !Sub 'sqs.${AWS::Region}.amazonaws.com'\n"
    assert out_props(text, one_rule("rewrite_endpoints")) == {"V": {"Fn::Sub": "sqs.${AWS::Region}.amazonaws.com.cn"}}


@pytest.mark.parametrize(
    ("service", "expected"),
    [
        ("logs.amazonaws.com", "logs.cn-northwest-1.amazonaws.com.cn"),
        ("ec2.amazonaws.com", "ec2.amazonaws.com.cn"),
        ("lambda.amazonaws.com", "lambda.amazonaws.com"),
        ("elasticmapreduce.amazonaws.com", "elasticmapreduce.amazonaws.com.cn"),
    ],
)
def test_service_principals_follow_the_table(service: str, expected: str) -> None:
    policy = {"Statement": [{"Effect": "Allow", "Principal": {"Service": [service]}, "Action": "sts:AssumeRole"}]}
    for text in renderings(resource({"AssumeRolePolicyDocument": policy}, "AWS::IAM::Role")):
        props = out_props(text, CHINA, region="cn-northwest-1")
        assert props["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]["Service"] == [expected]


def test_principals_in_sub_join_and_passed_to_service() -> None:
    text = """\
Resources:
  R:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Statement:
          - Principal:
              Service:
                - !Sub logs.${AWS::Region}.amazonaws.com
                - !Join ['', [codedeploy., !Ref 'AWS::Region', .amazonaws.com]]
      Policies:
        - PolicyDocument:
            Statement:
              - Action: iam:PassRole
                Condition: {StringEquals: {iam:PassedToService: ec2.amazonaws.com}}
"""
    props = out_props(text, CHINA)
    services = props["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]["Service"]
    assert services[0] == {"Fn::Sub": "logs.${AWS::Region}.amazonaws.com.cn"}
    assert services[1] == {"Fn::Join": ["", ["codedeploy.", {"Ref": "AWS::Region"}, ".amazonaws.com.cn"]]}
    condition = props["Policies"][0]["PolicyDocument"]["Statement"][0]["Condition"]
    assert condition == {"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com.cn"}}


def test_s3_principal_is_kept_with_a_warning() -> None:
    text = yaml.safe_dump(resource({"PolicyDocument": {"Statement": [{"Principal": {"Service": "s3.amazonaws.com"}}]}}))
    result = transform_text(text, CHINA, region="cn-north-1")
    assert not result.changed and result.warnings[0].rule == "service-principals"


def test_console_urls_and_vpc_endpoint_names() -> None:
    text = """\
Resources:
  R:
    Type: AWS::EC2::VPCEndpoint
    Properties:
      VpcEndpointType: Interface
      ServiceName: !Sub com.amazonaws.${AWS::Region}.sqs
      Gateway: com.amazonaws.cn-north-1.dynamodb
Outputs:
  Console: {Value: 'https://us-west-1.console.aws.amazon.com/cloudformation/home'}
"""
    result = transform_text(text, CHINA, region="cn-north-1")
    assert result.model["Resources"]["R"]["Properties"]["ServiceName"] == {"Fn::Sub": "cn.com.amazonaws.${AWS::Region}.sqs"}
    assert result.model["Outputs"]["Console"]["Value"] == "https://console.amazonaws.cn/cloudformation/home"


S3_FORMS = [
    "https://panther-enterprise-us-west-1.s3.amazonaws.com/k1",
    "https://panther-enterprise-us-west-1.s3.us-west-1.amazonaws.com/k1",
    "https://panther-enterprise-us-west-1.s3-us-west-1.amazonaws.com/k1",
    "https://s3.amazonaws.com/panther-enterprise-us-west-1/k1",
    "https://s3.us-west-1.amazonaws.com/panther-enterprise-us-west-1/k1",
    "https://s3-us-west-1.amazonaws.com/panther-enterprise-us-west-1/k1",
]


@pytest.mark.parametrize("url", S3_FORMS)
def test_every_s3_url_form_of_a_template_url(url: str) -> None:
    for text in renderings(resource({"TemplateURL": url}, "AWS::CloudFormation::Stack")):
        props = out_props(text, PANTHER, bucket="cn-bucket", region="cn-northwest-1")
        assert props["TemplateURL"] == "https://cn-bucket.s3.cn-northwest-1.amazonaws.com.cn/k1"


def test_s3_objects_uris_arns_and_region_built_buckets() -> None:
    text = """\
Resources:
  R:
    Type: AWS::Lambda::Function
    Properties:
      Code: {S3Bucket: !Sub 'panther-community-${AWS::Region}', S3Key: abc}
      Uri: s3://panther-enterprise-us-west-1/abc
      Arn: !Sub arn:aws:s3:::panther-enterprise-${AWS::Region}/*
      Other: s3://someone-elses-bucket/x
"""
    result = transform_text(text, PANTHER, region="cn-north-1", variables={"bucket": "b"})
    props = result.model["Resources"]["R"]["Properties"]
    assert props["Code"] == {"S3Bucket": "b", "S3Key": "abc"}
    assert props["Uri"] == "s3://b/abc"
    assert props["Arn"] == {"Fn::Sub": "arn:aws-cn:s3:::b/*"}
    assert props["Other"] == "s3://someone-elses-bucket/x"


def test_unknown_asset_bucket_is_a_warning() -> None:
    text = yaml.safe_dump(resource({"CodeUri": "s3://vendor-bucket/x.zip"}, "AWS::Serverless::Function"))
    result = transform_text(text, PANTHER, region="cn-north-1", variables={"bucket": "b"})
    assert [w.rule for w in result.warnings] == ["s3-assets"] and "vendor-bucket" in result.warnings[0].message


def test_foreign_arns_managed_policies_and_region_mappings_warn() -> None:
    text = """\
Mappings:
  AMI: {us-east-1: {Id: ami-1}}
Resources:
  R:
    Type: AWS::IAM::Role
    Properties:
      ManagedPolicyArns: [arn:aws:iam::aws:policy/AmazonElasticContainerRegistryPublicReadOnly]
      Key: arn:aws:kms:us-west-2:123456789012:key/k
      Image: !FindInMap [AMI, !Ref 'AWS::Region', Id]
"""
    result = transform_text(text, CHINA, region="cn-north-1")
    assert sorted(w.rule for w in result.warnings) == ["foreign-arns", "missing-managed-policies", "region-mappings"]
    assert all(w.path for w in result.warnings)


@pytest.mark.parametrize(
    ("region", "service", "expected"),
    [
        ("cn-northwest-1", "polly", "cn.com.amazonaws.cn-northwest-1.polly"),
        ("cn-north-1", "polly", "com.amazonaws.cn-north-1.polly"),  # not in Beijing's list
        ("cn-north-1", "transcribe", "cn.com.amazonaws.cn-north-1.transcribe.cn"),
        ("cn-north-1", "dynamodb", "com.amazonaws.cn-north-1.dynamodb"),
    ],
)
def test_vpc_endpoint_names_differ_per_region(region: str, service: str, expected: str) -> None:
    endpoint = {"VpcEndpointType": "Interface", "ServiceName": f"com.amazonaws.{region}.{service}"}
    text = yaml.safe_dump(resource(endpoint, "AWS::EC2::VPCEndpoint"))
    assert out_props(text, CHINA, region=region)["ServiceName"] == expected


def test_panther_pack_reads_the_source_region_from_its_bucket_name() -> None:
    text = yaml.safe_dump(resource({
        "CodeUri": "s3://panther-enterprise-us-west-1/abc",
        "Queue": "https://sqs.us-west-1.amazonaws.com/123456789012/q",
        "Other": "https://sqs.eu-west-1.amazonaws.com/123456789012/q",
    }, "AWS::Serverless::Function"))
    result = transform_text(text, PANTHER, region="cn-northwest-1", variables={"bucket": "b"})
    props = result.model["Resources"]["R"]["Properties"]
    assert props["Queue"] == "https://sqs.cn-northwest-1.amazonaws.com.cn/123456789012/q"
    assert props["Other"] == "https://sqs.eu-west-1.amazonaws.com/123456789012/q"
    assert [w.rule for w in result.warnings] == ["endpoints"] and "eu-west-1 is outside aws-cn" in result.warnings[0].message


def test_scripts_are_warned_at_the_line_that_needs_a_region_or_a_china_host() -> None:
    text = """\
Resources:
  Host:
    Type: AWS::EC2::Instance
    Properties:
      ImageId: ami-12345678
      UserData:
        Fn::Base64: !Sub |
          #!/bin/bash
          aws s3 cp s3://${AssetBucket}/setup.sh /tmp/setup.sh
          aws s3 sync s3://b/dir /opt/dir --region ${AWS::Region}
          aws ssm get-parameter --name /app/key --region us-east-1
          mount -t nfs4 $FS.efs.$REGION.amazonaws.com:/ /mnt
  Fn:
    Type: AWS::Lambda::Function
    Properties:
      Role: r
      Code:
        ZipFile: |
          import boto3
          # support API, see https://docs.aws.amazon.com in us-east-1
          client = boto3.client('support', region_name='us-east-1')
"""
    scripts_only = RuleSet((Rule("scripts", "test", "warn_scripts", {}, "<test>"),))
    result = transform_text(text, scripts_only, region="cn-north-1")
    found = sorted((w.pointer, w.message.split(":")[0]) for w in result.warnings if w.rule == "scripts")
    user_data = "/Resources/Host/Properties/UserData/Fn::Base64/Fn::Sub"
    assert found == sorted([
        (user_data, "line 2"),  # aws s3 cp without --region
        (user_data, "line 4"),  # us-east-1
        (user_data, "line 5"),  # shell-built amazonaws.com host
        ("/Resources/Fn/Properties/Code/ZipFile", "line 3"),  # region_name (the comment on line 2 is not code)
    ])
    assert not [e for e in result.edits if e.rule == "scripts"]  # warnings only, by default


def test_scripts_can_be_told_the_region_inside_a_sub(tmp_path: Path) -> None:
    rules_path = tmp_path / "fix.yml"
    rule = {"id": "scripts", "description": "fix", "action": "warn_scripts", "fix_s3_region": True}
    rules_path.write_text(yaml.safe_dump({"version": 1, "name": "fix", "extends": "china", "rules": [rule]}), "utf-8")
    text = "Resources:\n  H:\n    Type: AWS::EC2::Instance\n    Properties:\n      UserData:\n        Fn::Base64: !Sub |\n          aws s3 cp s3://b/k /tmp/k\n"
    result = transform_text(text, load_rules(str(rules_path)), region="cn-north-1")
    assert "          aws s3 cp s3://b/k /tmp/k --region ${AWS::Region}\n" in result.text
    assert not [w for w in result.warnings if w.rule == "scripts"]


@pytest.mark.parametrize("url", [
    "https://other-bucket.s3.us-east-1.amazonaws.com/x.yaml",
    "https://other-bucket.s3.amazonaws.com/x.yaml",
    "https://s3.us-east-1.amazonaws.com/other-bucket/x.yaml",
])
def test_an_unmapped_asset_bucket_is_one_warning_though_two_rules_see_it(url: str) -> None:
    text = f"Resources:\n  S:\n    Type: AWS::CloudFormation::Stack\n    Properties:\n      TemplateURL: {url}\n"
    result = transform_text(text, load_rules("china"), region="cn-north-1", variables={"bucket": "my-cn-bucket"})
    assert result.text == text
    assert [(w.pointer, w.rule) for w in result.warnings] == [("/Resources/S/Properties/TemplateURL", "s3-assets")]
    assert "other-bucket" in result.warnings[0].message


@pytest.mark.parametrize("service_name", [
    "!Join ['', ['com.amazonaws.', 'cn-northwest-1.polly']]",
    "!Join ['', ['com.amazonaws.cn-northwest-1', '.polly']]",
    "!Join ['.', ['com.amazonaws', 'cn-northwest-1', 'polly']]",
])
def test_a_vpc_endpoint_name_built_with_join_gets_the_name_of_its_own_region_like_the_plain_string(service_name: str) -> None:
    def ported(name: str) -> Any:
        text = f"Resources:\n  E:\n    Type: AWS::EC2::VPCEndpoint\n    Properties:\n      VpcEndpointType: Interface\n      VpcId: v\n      ServiceName: {name}\n"
        result = transform_text(text, load_rules("china"), region="cn-north-1", variables={"bucket": "my-cn-bucket"})
        assert result.warnings == ()
        return result.model["Resources"]["E"]["Properties"]["ServiceName"]
    joined = ported(service_name)["Fn::Join"]
    assert joined[0].join(joined[1]) == ported("com.amazonaws.cn-northwest-1.polly") == "cn.com.amazonaws.cn-northwest-1.polly"


SCRIPT_PIECES = ["aws s3 cp s3://b/k /tmp/k", "aws", " ", "s3", "\n", "\r\n", "\r", "\u2028", "\x0c", "us-west-2", "# ", "x",
                 "${Host}.amazonaws.com", "$H.amazonaws.com.cn", "--region us-east-1", ";", "aws\ns3 ls"]


@given(st.lists(st.sampled_from([*SCRIPT_PIECES, "_", "é", "x2", "-", "aaws", "s3api", "sync"]), max_size=12))
def test_the_aws_s3_pattern_finds_what_a_word_boundary_before_aws_finds(pieces: list[str]) -> None:
    from panther_cn_transform.ruleset.actions.warn_scripts import _AWS_S3

    value = "".join(pieces)
    plain = re.compile(r"\baws\s+s3(?:api)?\s+[a-z-]+\b[^\n;&|]*")
    assert [m.span() for m in _AWS_S3.finditer(value)] == [m.span() for m in plain.finditer(value)]


@given(st.lists(st.sampled_from([*SCRIPT_PIECES, "cn-north-1", "us-gov-west-1", "us-isob-east-1", "-", "a", "ab", "_", "1", "gov", "iso"]),
                max_size=12))
def test_the_region_pattern_finds_the_regions_a_search_from_their_first_letter_finds(pieces: list[str]) -> None:
    from panther_cn_transform.model.walk import REGION_PATTERN
    from panther_cn_transform.ruleset.actions.warn_scripts import _REGION_LITERAL, _region_at

    value = "".join(pieces)
    plain = re.compile(rf"(?<![\w-])({REGION_PATTERN})(?![\w-])")
    assert [(m.start() - 2, _region_at(m)) for m in _REGION_LITERAL.finditer(value)] == [(m.start(), m.group(1)) for m in plain.finditer(value)]


@given(st.lists(st.sampled_from(SCRIPT_PIECES), max_size=12))
def test_warn_scripts_looks_at_every_line_a_pattern_matches_in(pieces: list[str]) -> None:
    from panther_cn_transform.ruleset.actions.warn_scripts import (
        _AWS_S3,
        _REGION_LITERAL,
        _lines_with_matches,
        _shell_host,
    )

    value = "".join(pieces)
    patterns = [_AWS_S3, _REGION_LITERAL, _shell_host("amazonaws.com")]
    expected = [(number, line) for number, line in enumerate(value.splitlines(), start=1) if any(p.search(line) for p in patterns)]
    found = _lines_with_matches(value, patterns)
    assert [entry for entry in found if entry in expected] == expected
    assert all(value.splitlines()[number - 1] == line for number, line in found)

"""Issue 10, case by case: what a value is and where it is decides its rewrite, in every layout it was found in.

Each case runs in the layouts the issue names (block YAML, flow YAML, JSON, and the
string forms: JSON-string policies, inline ZipFile code, UserData in Fn::Sub and in
Fn::Join) and both China regions.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest
import yaml

from panther_cn_transform import load_rules, read_template, transform, transform_text
from panther_cn_transform.model.walk import iter_strings
from panther_cn_transform.report.blockers import find_blockers

from ..corpus import CORPUS
from ..ruleset.test_actions import renderings, resource

CHINA = load_rules("china")
REGIONS = ["cn-north-1", "cn-northwest-1"]


def layouts(template: dict[str, Any]) -> list[str]:
    """The template as block YAML, indented JSON and flow YAML."""
    return [*renderings(template), yaml.safe_dump(template, sort_keys=False, default_flow_style=True, width=10**6)]


def run(template: dict[str, Any], region: str = "cn-north-1", **variables: str) -> list[Any]:
    """The transform of every layout; all layouts must give the same model."""
    results = [transform_text(text, CHINA, region=region, variables=variables) for text in layouts(template)]
    assert all(r.model == results[0].model for r in results)
    assert all([(w.pointer, w.message) for w in r.warnings] == [(w.pointer, w.message) for w in results[0].warnings] for r in results)
    return results


def props(result: Any) -> Any:
    return result.model["Resources"]["R"]["Properties"]


# -- service principals, wherever they appear ----------------------------------------------------

TRUST = '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": ["states.amazonaws.com", "events.amazonaws.com", "ec2.amazonaws.com"]}, "Action": "sts:AssumeRole"}]}'


@pytest.mark.parametrize("region", REGIONS)
def test_principals_in_a_json_string_policy_follow_the_table_only(region: str) -> None:
    result = run(resource({"AssumeRolePolicyDocument": TRUST}, "AWS::IAM::Role"), region)[0]
    policy = json.loads(props(result)["AssumeRolePolicyDocument"])
    assert policy["Statement"][0]["Principal"]["Service"] == ["states.amazonaws.com", "events.amazonaws.com", "ec2.amazonaws.com.cn"]
    assert {e.rule for e in result.edits} == {"service-principals"}


def test_principals_in_inline_zipfile_code_are_never_endpoints() -> None:
    code = (
        "import boto3, json\n"
        "iam = boto3.client('iam')\n"
        "trust = json.dumps({'Statement': [{'Effect': 'Allow', 'Principal': {'Service': 'lambda.amazonaws.com'}}]})\n"
        "boto3.client('lambda').add_permission(FunctionName='f', Principal='events.amazonaws.com', StatementId='s')\n"
        "sqs = 'https://sqs.us-west-1.amazonaws.com/123456789012/q'\n"
    )
    result = run(resource({"Code": {"ZipFile": code}}, "AWS::Lambda::Function"), source_region="us-west-1")[0]
    new = props(result)["Code"]["ZipFile"]
    assert "'Service': 'lambda.amazonaws.com'}" in new and "Principal='events.amazonaws.com'" in new
    assert "https://sqs.cn-north-1.amazonaws.com.cn/123456789012/q" in new  # the endpoint in the same code is moved


@pytest.mark.parametrize("name", ["amzn2-greengrass-cfn-pkg.yaml", "amzn2-greengrass-cfn-pkg.json"])
@pytest.mark.parametrize("region", REGIONS)
def test_the_greengrass_principal_in_inline_code_of_the_corpus_is_kept(name: str, region: str) -> None:
    path = next((CORPUS / "public").rglob(name))
    result = transform(read_template(path), CHINA, region=region)
    code = result.model["Resources"]["GroupDeploymentResetFunction"]["Properties"]["Code"]["ZipFile"]
    assert '"Principal": {"Service": "greengrass.amazonaws.com"}' in code
    assert not any("greengrass.amazonaws.com.cn" in value for _, value in iter_strings(result.model))
    # the data-plane host of the same template is not in botocore's data for aws: kept, and reported
    assert any("greengrass-ats.iot.${AWS::Region}.amazonaws.com" in w.message and w.rule == "endpoints" for w in result.warnings)


def test_principals_in_sub_and_join_follow_the_table() -> None:
    template = resource({"AssumeRolePolicyDocument": {"Statement": [{"Effect": "Allow", "Principal": {"Service": [
        {"Fn::Sub": "logs.${AWS::Region}.amazonaws.com"},
        {"Fn::Join": ["", ["states.", {"Ref": "AWS::Region"}, ".amazonaws.com"]]},
        {"Fn::Sub": "ec2.${AWS::URLSuffix}"},
        {"Fn::Sub": "lambda.${AWS::URLSuffix}"},
    ]}}]}}, "AWS::IAM::Role")
    result = run(template)[0]
    services = props(result)["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]["Service"]
    assert services[0] == {"Fn::Sub": "logs.${AWS::Region}.amazonaws.com.cn"}  # the table: logs is regional .com.cn
    assert services[1] == {"Fn::Join": ["", ["states.", {"Ref": "AWS::Region"}, ".amazonaws.com"]]}  # not in the table
    assert services[2] == {"Fn::Sub": "ec2.${AWS::URLSuffix}"}  # partition-neutral: left alone
    assert services[3] == {"Fn::Sub": "lambda.${AWS::URLSuffix}"}  # left alone, but it evaluates to .com.cn in China:
    assert any("lambda.amazonaws.com.cn in aws-cn, where the principal is lambda.amazonaws.com" in w.message for w in result.warnings)


# -- hosts: only a known endpoint of a service the target has -------------------------------------

USER_DATA = (
    "#!/bin/bash\n"
    "curl https://awscli.amazonaws.com/awscli-exe-linux-x86_64.zip -o awscliv2.zip\n"
    "pip3 install https://s3.amazonaws.com/cloudformation-examples/aws-cfn-bootstrap-py3-latest.tar.gz\n"
    "aws sqs send-message --queue-url https://sqs.${AWS::Region}.amazonaws.com/${AWS::AccountId}/q --region ${AWS::Region}\n"
)


@pytest.mark.parametrize("region", REGIONS)
def test_user_data_in_sub_keeps_download_sites_and_moves_endpoints(region: str) -> None:
    template = resource({"ImageId": "ami-12345678", "UserData": {"Fn::Base64": {"Fn::Sub": USER_DATA}}}, "AWS::EC2::Instance")
    result = run(template, region)[0]
    script = props(result)["UserData"]["Fn::Base64"]["Fn::Sub"]
    assert "https://awscli.amazonaws.com/awscli-exe-linux-x86_64.zip" in script
    assert "https://s3.amazonaws.com/cloudformation-examples/aws-cfn-bootstrap-py3-latest.tar.gz" in script
    assert "https://sqs.${AWS::Region}.amazonaws.com.cn/${AWS::AccountId}/q" in script
    messages = [w.message for w in result.warnings if w.rule == "endpoints"]
    assert any(m.startswith("awscli.amazonaws.com: not a service endpoint") for m in messages)
    assert any(m.startswith("s3.amazonaws.com: bucket cloudformation-examples belongs to the aws partition") for m in messages)


def test_user_data_in_join_moves_only_the_part_that_holds_the_suffix() -> None:
    lines = ["#!/bin/bash\n", "curl https://awscli.amazonaws.com/awscli-exe-linux-x86_64.zip -o a.zip\n",
             "aws sqs list-queues --endpoint-url https://sqs.", {"Ref": "AWS::Region"}, ".amazonaws.com\n"]
    template = resource({"ImageId": "ami-1", "UserData": {"Fn::Base64": {"Fn::Join": ["", lines]}}}, "AWS::EC2::Instance")
    result = run(template)[0]
    parts = props(result)["UserData"]["Fn::Base64"]["Fn::Join"][1]
    assert parts[1] == lines[1] and parts[2] == lines[2] and parts[4] == ".amazonaws.com.cn\n"
    assert [w.message.split(":")[0] for w in result.warnings if w.rule == "endpoints"] == ["awscli.amazonaws.com"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"Fn::Sub": "https://${Site}.s3.amazonaws.com/index.html"}, {"Fn::Sub": "https://${Site}.s3.${AWS::Region}.amazonaws.com.cn/index.html"}),
        ({"Fn::Sub": "${Api}.execute-api.${AWS::Region}.amazonaws.com"}, {"Fn::Sub": "${Api}.execute-api.${AWS::Region}.amazonaws.com.cn"}),
        ({"Fn::Sub": "${AWS::AccountId}.dkr.ecr.${AWS::Region}.amazonaws.com/app"}, {"Fn::Sub": "${AWS::AccountId}.dkr.ecr.${AWS::Region}.amazonaws.com.cn/app"}),
        ("https://iam.amazonaws.com/", "https://iam.cn-north-1.amazonaws.com.cn/"),  # botocore: aws-cn's partition endpoint
        ("https://sts.amazonaws.com", "https://sts.cn-north-1.amazonaws.com.cn"),
        ({"Fn::Sub": "ec2.${AWS::URLSuffix}"}, {"Fn::Sub": "ec2.${AWS::URLSuffix}"}),  # partition-neutral already
        ({"Fn::Sub": "https://sqs.${AWS::Region}.${AWS::URLSuffix}/q"}, {"Fn::Sub": "https://sqs.${AWS::Region}.${AWS::URLSuffix}/q"}),
        ("https://s3.amazonaws.com/cloudformation-examples/a.tar.gz", "https://s3.amazonaws.com/cloudformation-examples/a.tar.gz"),
        ("https://awscli.amazonaws.com/awscli-exe-linux-x86_64.zip", "https://awscli.amazonaws.com/awscli-exe-linux-x86_64.zip"),
        ("https://sqs.eu-west-1.amazonaws.com/1/q", "https://sqs.eu-west-1.amazonaws.com/1/q"),  # foreign region: reported
        ("https://shield.us-east-1.amazonaws.com", "https://shield.us-east-1.amazonaws.com"),  # no Shield in aws-cn
        ({"Fn::Sub": "https://s3-eu-west-1.amazonaws.com/${B}/k"}, {"Fn::Sub": "https://s3-eu-west-1.amazonaws.com/${B}/k"}),  # legacy form, foreign region
    ],
)
def test_hosts_by_what_the_data_says_they_are(value: Any, expected: Any) -> None:
    result = run(resource({"Environment": {"Variables": {"V": value}}}, "AWS::Lambda::Function"))[0]
    assert props(result)["Environment"]["Variables"]["V"] == expected
    if value == expected and "URLSuffix" not in json.dumps(value):
        assert [w.rule for w in result.warnings] == ["endpoints"]


@pytest.mark.parametrize("region", REGIONS)
def test_text_fields_may_change_but_are_never_warned_about(region: str) -> None:
    template = {
        "Description": "Needs arn:aws:kms:us-east-1:123456789012:key/example; see https://awscli.amazonaws.com/v2",
        "Metadata": {"AWS::CloudFormation::Interface": {"ParameterLabels": {"Key": {"default": "arn:aws:kms:us-west-2:1:key/k"}}}},
        "Parameters": {"Key": {"Type": "String", "Description": "e.g. arn:aws:kms:us-east-1:123456789012:key/k",
                               "ConstraintDescription": "Get your address from checkip.amazonaws.com"}},
        "Resources": {"T": {"Type": "AWS::SNS::Topic"}},
    }
    result = run(template, region)[0]
    assert result.warnings == ()
    assert find_blockers(result.model, region=region, bucket=None, today=date(2026, 12, 1)) == []
    # an ARN in a global region stays whole in prose too (issue 27: the siem pair's build script wrote
    # arn:aws-cn:sqs:us-east-1:..., which names nothing); hosts change only where the data knows them
    assert result.model["Description"] == template["Description"]
    assert result.model["Metadata"] == template["Metadata"]
    assert result.model["Parameters"] == template["Parameters"]


@pytest.mark.parametrize(
    ("prose", "expected"),
    [
        # the siem-main parameter description: an example ARN naming us-east-1 stays whole
        ("Specify SQS ARN (e.g., arn:aws:sqs:us-east-1:123456789012:aes-siem-ct )",
         "Specify SQS ARN (e.g., arn:aws:sqs:us-east-1:123456789012:aes-siem-ct )"),
        # beside a regionless ARN, which moves: each ARN decided alone, none half-rewritten
        ("Role arn:aws:iam::123456789012:role/r reads arn:aws:sqs:eu-west-1:123456789012:q",
         "Role arn:aws-cn:iam::123456789012:role/r reads arn:aws:sqs:eu-west-1:123456789012:q"),
        # an ARN in a target region moves whole
        ("Queue arn:aws:sqs:cn-north-1:123456789012:q or arn:aws:sqs:us-west-2:123456789012:q",
         "Queue arn:aws-cn:sqs:cn-north-1:123456789012:q or arn:aws:sqs:us-west-2:123456789012:q"),
    ],
)
@pytest.mark.parametrize("place", ["description", "metadata", "output-description"])
def test_prose_never_holds_a_half_rewritten_arn(prose: str, expected: str, place: str) -> None:
    template: dict[str, Any] = {"Resources": {"T": {"Type": "AWS::SNS::Topic"}}}
    if place == "description":
        template["Parameters"] = {"P": {"Type": "String", "Description": prose}}
        at: tuple[str, ...] = ("Parameters", "P", "Description")
    elif place == "metadata":
        template["Metadata"] = {"Notes": {"Queue": prose}}
        at = ("Metadata", "Notes", "Queue")
    else:
        template["Outputs"] = {"O": {"Value": "v", "Description": prose}}
        at = ("Outputs", "O", "Description")
    result = run(template)[0]
    value: Any = result.model
    for key in at:
        value = value[key]
    assert value == expected
    assert result.warnings == ()  # prose is never reported, nor a blocker
    assert find_blockers(result.model, region="cn-north-1", bucket=None, today=date(2026, 12, 1)) == []


def test_a_comment_line_in_inline_code_is_prose() -> None:
    code = ("# e.g. QUEUE=arn:aws:sqs:us-east-1:123456789012:q\n"
            "// the key: arn:aws:kms:eu-west-1:123456789012:key/k\n"
            "KEY = 'arn:aws:kms:us-west-2:123456789012:key/k'\n")
    result = run(resource({"Runtime": "python3.12", "Handler": "index.h", "Code": {"ZipFile": code}}, "AWS::Lambda::Function"))[0]
    assert props(result)["Code"]["ZipFile"] == code  # every ARN names a global region: all stay whole
    arns = [w for w in result.warnings if w.rule == "foreign-arns"]
    assert len(arns) == 1 and "us-west-2" in arns[0].message  # the code line only, not the comments
    blockers = find_blockers(result.model, region="cn-north-1", bucket=None, today=date(2026, 12, 1))
    assert [b.message for b in blockers if b.kind == "foreign-region"] == [
        f"{code!r} names us-west-2, outside aws-cn: provide this resource in cn-north-1"]


def test_siem_main_example_arns_in_descriptions_stay_whole() -> None:
    """The hand port's build script wrote `arn:aws-cn:sqs:us-east-1:...` into two parameter descriptions."""
    result = transform(read_template(CORPUS / "pairs" / "siem-main" / "global.template"), CHINA, region="cn-north-1")
    parameters = result.model["Parameters"]
    assert "(e.g., arn:aws:sqs:us-east-1:123456789012:aes-siem-ct )" in parameters["ControlTowerSqsForLogBuckets"]["Description"]
    assert "arn:aws:sqs:us-east-1:123456789012:AmazonSecurityLake-" in parameters["SecurityLakeSubscriberSqs"]["Description"]
    assert "(e.g., arn:aws-cn:iam::123456789012:role/ct-role-for-siem )" in parameters["ControlTowerRoleArnForEsLoader"]["Description"]
    assert not any(w.pointer.startswith("/Parameters/") and w.pointer.endswith("/Description") for w in result.warnings)


def test_a_foreign_region_arn_is_reported_and_left_whole() -> None:
    result = run(resource({"KmsMasterKeyId": "arn:aws:kms:us-west-2:123456789012:key/k",
                                              "Other": "arn:aws:s3:::my-bucket/*"}, "AWS::SNS::Topic"))[0]
    assert props(result) == {"KmsMasterKeyId": "arn:aws:kms:us-west-2:123456789012:key/k", "Other": "arn:aws-cn:s3:::my-bucket/*"}
    assert [w.rule for w in result.warnings] == ["foreign-arns"]


# -- VPC endpoint names by endpoint type ----------------------------------------------------------


@pytest.mark.parametrize(
    ("properties", "expected"),
    [
        ({"ServiceName": {"Fn::Sub": "com.amazonaws.${AWS::Region}.s3"}, "RouteTableIds": ["rtb-1"]}, {"Fn::Sub": "com.amazonaws.${AWS::Region}.s3"}),
        ({"ServiceName": {"Fn::Sub": "com.amazonaws.${AWS::Region}.s3"}, "VpcEndpointType": "Gateway"}, {"Fn::Sub": "com.amazonaws.${AWS::Region}.s3"}),
        ({"ServiceName": {"Fn::Sub": "com.amazonaws.${AWS::Region}.s3"}, "VpcEndpointType": "Interface"}, {"Fn::Sub": "cn.com.amazonaws.${AWS::Region}.s3"}),
        ({"ServiceName": {"Fn::Join": ["", ["com.amazonaws.", {"Ref": "AWS::Region"}, ".dynamodb"]]}}, {"Fn::Join": ["", ["com.amazonaws.", {"Ref": "AWS::Region"}, ".dynamodb"]]}),
        ({"ServiceName": {"Fn::Join": ["", ["com.amazonaws.", {"Ref": "AWS::Region"}, ".sqs"]]}, "VpcEndpointType": "Interface"},
         {"Fn::Join": ["", ["cn.com.amazonaws.", {"Ref": "AWS::Region"}, ".sqs"]]}),
        ({"ServiceName": "com.amazonaws.us-west-2.sqs", "VpcEndpointType": "Interface"}, "com.amazonaws.us-west-2.sqs"),
        ({"ServiceName": {"Fn::Sub": "com.amazonaws.${AWS::Region}.logs"}, "VpcEndpointType": "Interface"}, {"Fn::Sub": "com.amazonaws.${AWS::Region}.logs"}),
    ],
)
def test_vpc_endpoint_names_follow_the_endpoint_type_and_region(properties: dict[str, Any], expected: Any) -> None:
    result = run(resource({"VpcId": "vpc-1", **properties}, "AWS::EC2::VPCEndpoint"))[0]
    assert props(result)["ServiceName"] == expected
    foreign = properties["ServiceName"] == "com.amazonaws.us-west-2.sqs"
    assert [w.rule for w in result.warnings] == (["vpc-endpoint-names"] if foreign else [])


def test_an_endpoint_type_decided_at_deploy_time_is_reported() -> None:
    properties = {"VpcId": "vpc-1", "VpcEndpointType": {"Ref": "Kind"}, "ServiceName": {"Fn::Sub": "com.amazonaws.${AWS::Region}.sqs"}}
    template = {"Parameters": {"Kind": {"Type": "String"}}, **resource(properties, "AWS::EC2::VPCEndpoint")}
    result = run(template)[0]
    assert props(result)["ServiceName"] == properties["ServiceName"]
    assert "decided at deploy time" in result.warnings[0].message


# -- the corpus cases the issue names ---------------------------------------------------------------


@pytest.mark.parametrize("region", REGIONS)
def test_corpus_cases_of_the_issue(region: str) -> None:
    def model_of(name: str) -> Any:
        return transform(read_template(next((CORPUS / "public").rglob(name))), CHINA, region=region)

    refarch = model_of("ecs-cluster.yaml")
    role = refarch.model["Resources"]["ECSRole"]["Properties"]["AssumeRolePolicyDocument"]
    assert '"Service": "ec2.amazonaws.com.cn"' in role  # a JSON-string policy: the table applies
    script = refarch.model["Resources"]["ECSLaunchConfiguration"]["Properties"]["UserData"]["Fn::Base64"]["Fn::Sub"]
    assert "https://s3.amazonaws.com/ec2-downloads-windows/" in script  # another owner's bucket: kept, reported
    gitlab = model_of("GitLabServer-pkg.yaml")
    assert not [w for w in gitlab.warnings if "Description" in w.pointer]


# -- hosts whose DNS suffix is cut by Fn::Join parts ------------------------------------------------


def test_an_endpoint_whose_suffix_runs_across_join_parts_is_rewritten_in_the_part_it_ends_in() -> None:
    queue = {"Fn::Join": ["", ["https://sqs.", {"Ref": "AWS::Region"}, ".amazonaws", ".com/123456789012/q"]]}
    result = run(resource({"Environment": {"Variables": {"QUEUE": queue}}}, "AWS::Lambda::Function"))[0]
    assert props(result)["Environment"]["Variables"]["QUEUE"] == {
        "Fn::Join": ["", ["https://sqs.", {"Ref": "AWS::Region"}, ".amazonaws", ".com.cn/123456789012/q"]]}


def test_an_unknown_host_cut_by_join_parts_is_reported_where_it_ends_not_missed() -> None:
    """The moodle-efs pair's output: `!Join ['.', [!Ref FileSystem, 'efs', !Ref 'AWS::Region', 'amazonaws', 'com']]`."""
    dns = {"Fn::Join": [".", [{"Ref": "FileSystem"}, "efs", {"Ref": "AWS::Region"}, "amazonaws", "com"]]}
    template = {"Resources": {"FileSystem": {"Type": "AWS::EFS::FileSystem"}}, "Outputs": {"Dns": {"Value": dns}}}
    result = run(template)[0]
    assert result.model["Outputs"]["Dns"]["Value"] == dns  # botocore knows no such endpoint: left as is
    assert [(w.pointer, w.rule) for w in result.warnings] == [("/Outputs/Dns/Value/Fn::Join/1/4", "endpoints")]
    assert "${FileSystem}.efs.${AWS::Region}.amazonaws.com: not a service endpoint" in result.warnings[0].message


def test_a_service_principal_whose_suffix_runs_across_join_parts_is_mapped_in_the_part_it_ends_in() -> None:
    statement = {"Effect": "Allow", "Action": "sts:AssumeRole",
                 "Principal": {"Service": {"Fn::Join": ["", ["ec2.amazonaws", ".com"]]}}}
    result = run(resource({"AssumeRolePolicyDocument": {"Statement": [statement]}}, "AWS::IAM::Role"))[0]
    mapped = props(result)["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]["Service"]
    assert mapped == {"Fn::Join": ["", ["ec2.amazonaws", ".com.cn"]]}  # ec2's principal in China, as the table says


def test_an_arn_spelled_across_join_parts_is_reported_at_the_join_not_missed() -> None:
    sns = {"Fn::Join": [":", ["arn", "aws", "sns", {"Ref": "AWS::Region"}, {"Ref": "AWS::AccountId"}, "alerts"]]}
    s3 = {"Fn::Join": ["", ["arn:", "aws", ":s3:::my-bucket/*"]]}
    statements = [{"Effect": "Allow", "Action": "sns:Publish", "Resource": sns},
                  {"Effect": "Allow", "Action": "s3:GetObject", "Resource": s3}]
    result = run(resource({"PolicyDocument": {"Statement": statements}}, "AWS::IAM::ManagedPolicy"))[0]
    assert props(result)["PolicyDocument"]["Statement"] == statements  # left as is: which part is the partition is not plain
    found = [(w.pointer, w.rule) for w in result.warnings if "Fn::Join parts names the aws partition" in w.message]
    assert found == [("/Resources/R/Properties/PolicyDocument/Statement/0/Resource/Fn::Join", "partition"),
                     ("/Resources/R/Properties/PolicyDocument/Statement/1/Resource/Fn::Join", "partition")]

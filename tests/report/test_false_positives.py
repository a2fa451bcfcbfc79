"""Issue 27, class 9: what is no blocker and no warning although it names a global region or has no authorizer.

A region compared in a Condition or a Rule, regions under a name that leaves them out, a
list of several regions in a script, an example URL in a Description, an API that IAM
(SigV4) protects: none of them is something China lacks.
"""

from __future__ import annotations

from datetime import date

from panther_cn_transform import load_rules, read_template, transform, transform_text
from panther_cn_transform.report.blockers import find_blockers

from ..corpus import CORPUS

CHINA = load_rules("china")
TODAY = date(2026, 12, 1)


def blockers(text: str) -> list[tuple[str, str]]:
    result = transform_text(text, CHINA, region="cn-north-1")
    return [(b.kind, "/".join(map(str, b.path))) for b in find_blockers(result.model, region="cn-north-1", bucket=None, today=TODAY)]


def test_a_region_compared_in_a_condition_or_a_rule_is_no_resource_in_another_region() -> None:
    text = """\
Rules:
  NotHere:
    Assertions:
      - Assert: !Not [!Contains [[us-gov-west-1, eu-west-1], !Ref AWS::Region]]
        AssertDescription: not in us-gov-west-1
Conditions:
  IsGov: !Equals [!Ref AWS::Region, us-gov-west-1]
  IsEu: !Equals [eu-west-1, !Ref AWS::Region]
Resources:
  Topic:
    Type: AWS::SNS::Topic
    Properties:
      KmsMasterKeyId: arn:aws:kms:us-west-2:123456789012:key/abc
"""
    assert blockers(text) == [("foreign-region", "Resources/Topic/Properties/KmsMasterKeyId")]  # a real one stays


def test_siem_conditions_on_govcloud_regions_are_no_blockers() -> None:
    path = CORPUS / "pairs" / "siem-main" / "global.template"
    result = transform(read_template(path), CHINA, region="cn-north-1")
    found = find_blockers(result.model, region="cn-north-1", bucket=None, today=TODAY)
    assert not [b for b in found if b.path[0] in ("Conditions", "Rules")]


def test_regions_under_a_name_that_leaves_them_out_are_no_blockers() -> None:
    text = """\
Resources:
  Fn:
    Type: AWS::Lambda::Function
    Properties:
      Role: arn:aws-cn:iam::123456789012:role/r
      Code: {ZipFile: x}
      Environment:
        Variables:
          DENY_REGION: us-west-2
          ExcludedRegion: eu-west-1
          HOME_REGION: us-east-1
"""
    assert blockers(text) == [("foreign-region", "Resources/Fn/Properties/Environment/Variables/HOME_REGION")]


def test_an_example_url_in_a_description_is_no_blocker() -> None:
    text = """\
Parameters:
  Source:
    Type: String
    Description: the zip, e.g. https://my-bucket.s3.us-west-2.amazonaws.com/code/app.zip
Resources:
  Topic:
    Type: AWS::SNS::Topic
    Properties:
      DisplayName: x
  Fn:
    Type: AWS::Lambda::Function
    Properties:
      Description: built from s3://global-bucket-us-east-1/code/app.zip
      Role: arn:aws-cn:iam::123456789012:role/r
      Code: {S3Bucket: global-bucket-us-east-1, S3Key: code/app.zip}
"""
    assert blockers(text) == [("global-bucket", "Resources/Fn/Properties/Code/S3Bucket")]  # the asset itself still blocks


def script_warnings(code: str) -> list[str]:
    text = "Resources:\n  Fn:\n    Type: AWS::Lambda::Function\n    Properties:\n      Role: r\n      Code:\n        ZipFile: |\n"
    text += "".join(f"          {line}\n" for line in code.splitlines())
    result = transform_text(text, CHINA, region="cn-north-1")
    return [w.message for w in result.warnings if w.rule == "scripts"]


def test_a_list_of_regions_or_regions_to_exclude_in_code_are_not_hard_coded_regions() -> None:
    code = """\
EXCLUDED_REGIONS = ["us-east-1"]
OPT_IN = ["ap-east-1", "me-south-1"]
for r in us-east-1 us-west-2; do echo $r; done
SUPPORTED = [
    "eu-west-1",
    "eu-central-1",
]
client = boto3.client("support", region_name="us-east-1")
aws ec2 copy-image --source-region eu-west-2 --region us-west-2
"""
    assert script_warnings(code) == [
        "line 8: hard-coded region us-east-1 in a script; in aws-cn use the stack's region (cn-north-1)",
        "line 9: hard-coded region eu-west-2 in a script; in aws-cn use the stack's region (cn-north-1)",
        "line 9: hard-coded region us-west-2 in a script; in aws-cn use the stack's region (cn-north-1)",
    ]


SIGV4_BODY = """\
        swagger: '2.0'
        info: {title: t}
        securityDefinitions:
          sigv4: {type: apiKey, name: Authorization, in: header, x-amazon-apigateway-authtype: awsSigv4}
        security: [{sigv4: []}]
        paths:
          /items:
            get:
              x-amazon-apigateway-integration: {type: aws_proxy, httpMethod: POST, uri: !Sub 'arn:aws:apigateway:${AWS::Region}:lambda:path/fn'}
            options:
              x-amazon-apigateway-integration: {type: mock}
"""


def icp_warnings(text: str) -> list[str]:
    result = transform_text(text, CHINA, region="cn-north-1")
    return [w.pointer for w in result.warnings if w.rule.startswith("api-gateway-icp")]


def test_an_imported_api_that_signs_every_operation_with_sigv4_needs_no_icp_license() -> None:
    rest = "Resources:\n  Api:\n    Type: AWS::ApiGateway::RestApi\n    Properties:\n      Body:\n" + SIGV4_BODY
    assert icp_warnings(rest) == []
    sam = ("Transform: AWS::Serverless-2016-10-31\nResources:\n  Api:\n    Type: AWS::Serverless::Api\n    Properties:\n"
           "      StageName: prod\n      DefinitionBody:\n" + SIGV4_BODY)
    assert icp_warnings(sam) == []
    # one operation without IAM, and the license is needed again
    open_get = rest.replace("            get:\n", "            get:\n              security: []\n")
    assert icp_warnings(open_get) == ["/Resources/Api/Properties/Body"]
    assert icp_warnings(sam.replace("security: [{sigv4: []}]", "security: []")) == ["/Resources/Api/Properties/Auth/DefaultAuthorizer"]

"""Issue 27, class 6: services the target partition lacks, seen in IAM statements, ARNs and code.

botocore's endpoint data decides: `cognito-idp` has no endpoint in aws-cn, so what allows,
names or calls it is warned at its place, once per service and statement (or property, or
script); the ARN itself still moves to aws-cn.  Global services China has under another
host (iam, sts, s3, cloudfront, route53) are never warned.
"""

from __future__ import annotations

from panther_cn_transform import load_rules, read_template, transform, transform_text

from ..corpus import CORPUS

CHINA = load_rules("china")


def missing(text: str, region: str = "cn-north-1") -> list[tuple[str, str]]:
    result = transform_text(text, CHINA, region=region)
    return [(w.pointer, w.message.split(" ", 1)[0]) for w in result.warnings if w.rule == "missing-services"]


POLICY = """\
Resources:
  Role:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument: {Statement: [{Effect: Allow, Principal: {Service: lambda.amazonaws.com}, Action: sts:AssumeRole}]}
      Policies:
        - PolicyName: p
          PolicyDocument:
            Statement:
              - Effect: Allow
                Action: [cognito-idp:AdminGetUser, cognito-idp:AdminUpdateUserAttributes, iam:PassRole, sts:AssumeRole, s3:GetObject,
                         cloudfront:CreateInvalidation, route53:ChangeResourceRecordSets, es:ESHttpGet, cloudwatch:PutMetricData]
                Resource: !Sub 'arn:aws:cognito-idp:${AWS::Region}:${AWS::AccountId}:userpool/*'
              - Effect: Allow
                Action: logs:PutLogEvents
                Resource: !Sub 'arn:aws:aoss:${AWS::Region}:${AWS::AccountId}:collection/*'
              - Effect: Deny
                Action: bedrock:*
                Resource: '*'
"""


def test_a_statement_that_allows_a_missing_service_is_warned_once_naming_the_service() -> None:
    statements = "/Resources/Role/Properties/Policies/0/PolicyDocument/Statement"
    assert missing(POLICY) == [(f"{statements}/0/Action", "cognito-idp"), (f"{statements}/1/Action", "aoss")]
    model = transform_text(POLICY, CHINA, region="cn-north-1").model  # the ARN still moves: IAM rejects arn:aws: in China
    resource = model["Resources"]["Role"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"][0]["Resource"]
    assert resource == {"Fn::Sub": "arn:aws-cn:cognito-idp:${AWS::Region}:${AWS::AccountId}:userpool/*"}


def test_the_service_research_workbench_backends_cognito_permissions_are_warned_per_statement() -> None:
    # cn-northwest-1 has AppStream's resource types (cfn-lint), though botocore lists no appstream2 endpoint in aws-cn:
    # both sources must agree, so its appstream statements are not reported there (in cn-north-1, which has neither, they are)
    result = transform(read_template(CORPUS / "pairs" / "swb-backend" / "global.yml"), CHINA, region="cn-northwest-1")
    assert [(w.pointer, w.message.split(" ", 1)[0]) for w in result.warnings if w.rule == "missing-services"] == [
        ("/Resources/RoleAuthenticationLayerHandler/Properties/Policies/2/PolicyDocument/Statement/Action", "cognito-idp"),
        ("/Resources/PolicyApiHandler/Properties/PolicyDocument/Statement/13/Action", "cognito-idp"),
    ]


CODE = """\
Resources:
  Fn:
    Type: AWS::Lambda::Function
    Properties:
      Role: arn:aws-cn:iam::123456789012:role/r
      Runtime: python3.12
      Handler: index.handler
      Environment:
        Variables:
          POOL_ARN: !Sub arn:aws:cognito-idp:${AWS::Region}:${AWS::AccountId}:userpool/abc
      Code:
        ZipFile: |
          import boto3
          idp = boto3.client('cognito-idp')
          again = boto3.client("cognito-idp", region_name=region)
          cw = boto3.client("cloudwatch")
          iam = boto3.client("iam")
  Js:
    Type: AWS::Lambda::Function
    Properties:
      Role: arn:aws-cn:iam::123456789012:role/r
      Runtime: nodejs18.x
      Handler: index.handler
      Code:
        ZipFile: |
          const AWS = require('aws-sdk');
          const idp = new AWS.CognitoIdentityServiceProvider();
          const s3 = new AWS.S3();
  Setup:
    Type: Custom::PoolSetup
    Properties:
      ServiceToken: !GetAtt Js.Arn
  Host:
    Type: AWS::EC2::Instance
    Properties:
      ImageId: ami-12345678
      UserData:
        Fn::Base64: !Sub |
          #!/bin/bash
          aws cognito-idp admin-create-user --user-pool-id "$POOL" --username admin
          aws route53 list-hosted-zones
"""


def test_code_that_calls_a_missing_service_and_the_custom_resource_that_runs_it_are_named() -> None:
    assert missing(CODE) == [
        ("/Resources/Fn/Properties/Environment/Variables/POOL_ARN/Fn::Sub", "cognito-idp"),
        ("/Resources/Fn/Properties/Code/ZipFile", "cognito-idp"),
        ("/Resources/Js/Properties/Code/ZipFile", "cognito-idp"),
        ("/Resources/Host/Properties/UserData/Fn::Base64/Fn::Sub", "cognito-idp"),
        ("/Resources/Setup/Properties/ServiceToken", "cognito-idp"),
    ]


def test_a_second_run_warns_the_same() -> None:
    first = transform_text(POLICY + CODE.split("Resources:\n", 1)[1], CHINA, region="cn-north-1")
    second = transform_text(first.text, CHINA, region="cn-north-1")
    warned = [w for w in first.warnings if w.rule == "missing-services"]
    assert len(warned) == 7 and [w for w in second.warnings if w.rule == "missing-services"] == warned

"""Build the bundled example release (a small, Panther-shaped bucket mirror).

    python examples/make_example_release.py

Writes examples/release/panther-enterprise-us-west-1/: the root v1.0.0/panther.yml, two
nested templates and two zip assets stored under the SHA-1 of their content, exactly as
Panther's packager lays out a release.  Written for this project; deterministic, so
running it again reproduces the committed files byte for byte (a test checks this).
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from pathlib import Path

BUCKET = "panther-enterprise-us-west-1"
HERE = Path(__file__).resolve().parent / "release" / BUCKET


def zip_bytes(name: str, content: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
        archive.writestr(info, content)
    return buffer.getvalue()


def sha1(data: bytes) -> str:
    return hashlib.sha1(data).hexdigest()


FUNCTION_ZIP = zip_bytes("main", "placeholder for the source-api binary\n")
LAYER_ZIP = zip_bytes("python/panther.py", "# placeholder for the analysis layer\n")

BOOTSTRAP = """\
AWSTemplateFormatVersion: '2010-09-09'
Description: Example bootstrap stack (users, alarms)
Resources:
  AlarmTopic:
    Type: AWS::SNS::Topic
    Properties:
      TopicName: panther-alarms
  UserPool:
    Type: AWS::Cognito::UserPool
    Properties:
      UserPoolName: panther-users
  UserPoolClient:
    Type: AWS::Cognito::UserPoolClient
    Properties:
      UserPoolId:
        Ref: UserPool
Outputs:
  AlarmTopicArn:
    Value:
      Ref: AlarmTopic
  UserPoolId:
    Value:
      Ref: UserPool
  AppClientId:
    Value:
      Ref: UserPoolClient
"""

CORE = f"""\
AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Description: Example core stack (one API function and its layer)
Parameters:
  AlarmTopicArn:
    Type: String
  UserPoolId:
    Type: String
Resources:
  AnalysisLayer:
    Type: AWS::Lambda::LayerVersion
    Properties:
      LayerName: panther-analysis
      Content:
        S3Bucket: {BUCKET}
        S3Key: {sha1(LAYER_ZIP)}
  SourceApiFunction:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: panther-source-api
      CodeUri: s3://{BUCKET}/{sha1(FUNCTION_ZIP)}
      Handler: main
      Runtime: provided.al2
      Layers:
        - Ref: AnalysisLayer
      Environment:
        Variables:
          USER_POOL_ID:
            Ref: UserPoolId
      Policies:
        - Statement:
            - Effect: Allow
              Action: sns:Publish
              Resource:
                Ref: AlarmTopicArn
            - Effect: Allow
              Action: s3:GetObject
              Resource: arn:aws:s3:::{BUCKET}/*
            - Effect: Allow
              Action: cognito-idp:AdminGetUser
              Resource:
                Fn::Sub: arn:aws:cognito-idp:${{AWS::Region}}:${{AWS::AccountId}}:userpool/${{UserPoolId}}
"""


def root(bootstrap_key: str, core_key: str) -> str:
    return f"""\
# Panther-shaped example release, written for panther-cn-transform
AWSTemplateFormatVersion: '2010-09-09'
Description: Example Panther release root
Resources:
  Bootstrap:
    Type: AWS::CloudFormation::Stack
    Properties:
      TemplateURL: https://{BUCKET}.s3.us-west-1.amazonaws.com/{bootstrap_key}
  Core:
    Type: AWS::CloudFormation::Stack
    Properties:
      TemplateURL: https://{BUCKET}.s3.us-west-1.amazonaws.com/{core_key}
      Parameters:
        AlarmTopicArn:
          Fn::GetAtt: [Bootstrap, Outputs.AlarmTopicArn]
        UserPoolId:
          Fn::GetAtt: [Bootstrap, Outputs.UserPoolId]
Outputs:
  AlarmTopicArn:
    Value:
      Fn::GetAtt: [Bootstrap, Outputs.AlarmTopicArn]
"""


def objects() -> dict[str, bytes]:
    """Every object of the example bucket, by key."""
    bootstrap, core = BOOTSTRAP.encode(), CORE.encode()
    return {
        "v1.0.0/panther.yml": root(sha1(bootstrap), sha1(core)).encode(),
        sha1(bootstrap): bootstrap,
        sha1(core): core,
        sha1(FUNCTION_ZIP): FUNCTION_ZIP,
        sha1(LAYER_ZIP): LAYER_ZIP,
    }


def main() -> None:
    for key, data in objects().items():
        path = HERE / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        print(f"{key} ({len(data)} bytes)")


if __name__ == "__main__":
    main()

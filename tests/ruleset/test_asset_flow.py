"""Asset locations that are computed: followed to the place that sets them, rewritten or warned there."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from panther_cn_transform import decode_text, load_rules, transform_text
from panther_cn_transform.model.flow import expansions, text_of

CHINA = load_rules("china")
PANTHER = load_rules("panther")

QUICK_START = """\
Parameters:
  QSS3BucketName:
    Type: String
    Default: aws-quickstart
  QSS3BucketRegion:
    Type: String
    Default: us-east-1
  QSS3KeyPrefix:
    Type: String
    Default: quickstart-vpc/
Conditions:
  UsingDefaultBucket: !Equals [!Ref QSS3BucketName, 'aws-quickstart']
Resources:
  VPCStack:
    Type: AWS::CloudFormation::Stack
    Properties:
      TemplateURL: !Sub
        - 'https://${S3Bucket}.s3.${S3Region}.${AWS::URLSuffix}/${QSS3KeyPrefix}templates/vpc.yaml'
        - S3Region: !If [UsingDefaultBucket, !Ref 'AWS::Region', !Ref QSS3BucketRegion]
          S3Bucket: !If [UsingDefaultBucket, !Sub 'aws-quickstart-${AWS::Region}', !Ref QSS3BucketName]
"""


def as_layout(text: str, layout: str) -> str:
    return text if layout == "yaml" else json.dumps(decode_text(text).model, indent=2)


def rules_file(tmp_path: Path, params: dict[str, Any]) -> Any:
    path = tmp_path / "qs.yml"
    rule = {"id": "s3-assets", "description": "Quick Start assets copied to China", "action": "rewrite_s3_assets", "source_buckets": [], "target_bucket": "${region}-assets",
            "asset_properties": ["AWS::CloudFormation::Stack.TemplateURL", "AWS::Lambda::Function.Code"], **params}
    path.write_text(yaml.safe_dump({"version": 1, "name": "qs", "extends": "china", "rules": [rule]}), "utf-8")
    return load_rules(str(path))


def test_branches_on_one_condition_are_taken_consistently() -> None:
    model = decode_text(QUICK_START).model
    url = model["Resources"]["VPCStack"]["Properties"]["TemplateURL"]
    spelled = sorted(text_of(e) for e in expansions(model, url, ("Resources", "VPCStack", "Properties", "TemplateURL")))
    assert spelled == [
        "https://aws-quickstart-${AWS::Region}.s3.${AWS::Region}.${AWS::URLSuffix}/quickstart-vpc/templates/vpc.yaml",
        "https://aws-quickstart.s3.us-east-1.${AWS::URLSuffix}/quickstart-vpc/templates/vpc.yaml",
    ]


@pytest.mark.parametrize("layout", ["yaml", "json"])
def test_an_unmapped_bucket_is_warned_where_it_is_set(layout: str) -> None:
    result = transform_text(as_layout(QUICK_START, layout), CHINA, region="cn-north-1")
    assert not [e for e in result.edits if e.rule == "s3-assets"]
    warned = {w.pointer: w.message for w in result.warnings if w.rule == "s3-assets"}
    default = warned["/Parameters/QSS3BucketName/Default"]
    assert "sets the asset bucket 'aws-quickstart'" in default
    assert "/Conditions/UsingDefaultBucket/Fn::Equals/1 compares it" in default
    assert "it feeds /Resources/VPCStack/Properties/TemplateURL" in default
    branch = "/Resources/VPCStack/Properties/TemplateURL/Fn::Sub/1/S3Bucket/Fn::If/1/Fn::Sub"
    assert "sets the asset bucket 'aws-quickstart-${AWS::Region}'" in warned[branch]
    assert "sets the asset bucket's region 'us-east-1'" in warned["/Parameters/QSS3BucketRegion/Default"]
    assert not any(pointer.startswith("/Resources/VPCStack/Properties/TemplateURL/Fn::Sub/0") for pointer in warned)


@pytest.mark.parametrize("layout", ["yaml", "json"])
def test_a_mapped_bucket_is_rewritten_where_it_is_set_and_its_condition_follows(layout: str, tmp_path: Path) -> None:
    rules = rules_file(tmp_path, {
        "bucket_map": {"aws-quickstart": "aws-cn-quickstart", "aws-quickstart-${AWS::Region}": "aws-cn-quickstart-${AWS::Region}"},
        "region_defaults": True,
    })
    result = transform_text(as_layout(QUICK_START, layout), rules, region="cn-northwest-1")
    model = result.model
    assert model["Parameters"]["QSS3BucketName"]["Default"] == "aws-cn-quickstart"
    assert model["Parameters"]["QSS3BucketRegion"]["Default"] == "cn-northwest-1"
    assert model["Conditions"]["UsingDefaultBucket"] == {"Fn::Equals": [{"Ref": "QSS3BucketName"}, "aws-cn-quickstart"]}
    variables = model["Resources"]["VPCStack"]["Properties"]["TemplateURL"]["Fn::Sub"][1]
    assert variables["S3Bucket"]["Fn::If"][1] == {"Fn::Sub": "aws-cn-quickstart-${AWS::Region}"}
    assert not [w for w in result.warnings if w.rule == "s3-assets"]
    reasons = {e.pointer: e.reason for e in result.edits}
    assert "feeds /Resources/VPCStack/Properties/TemplateURL" in reasons["/Parameters/QSS3BucketName/Default"]
    if layout == "yaml":  # only the set values changed, in place
        assert "  UsingDefaultBucket: !Equals [!Ref QSS3BucketName, 'aws-cn-quickstart']\n" in result.text


def test_a_panther_bucket_built_with_sub_is_rewritten_in_every_spelling() -> None:
    text = """\
Resources:
  A:
    Type: AWS::CloudFormation::Stack
    Properties:
      TemplateURL: !Sub https://panther-enterprise-${AWS::Region}.s3.${AWS::Region}.${AWS::URLSuffix}/v1/a.yml
  B:
    Type: AWS::CloudFormation::Stack
    Properties:
      TemplateURL: !Sub
        - https://${Bucket}.s3.${AWS::Region}.${AWS::URLSuffix}/v1/b.yml
        - Bucket: !Sub panther-enterprise-${AWS::Region}
  C:
    Type: AWS::Lambda::Function
    Properties:
      Role: r
      Code:
        S3Bucket: !Sub panther-community-${AWS::Region}
        S3Key: c.zip
"""
    result = transform_text(text, PANTHER, region="cn-north-1", variables={"bucket": "my-cn-bucket"})
    resources = result.model["Resources"]
    assert resources["A"]["Properties"]["TemplateURL"] == {"Fn::Sub": "https://my-cn-bucket.s3.cn-north-1.amazonaws.com.cn/v1/a.yml"}
    assert resources["B"]["Properties"]["TemplateURL"]["Fn::Sub"][1] == {"Bucket": {"Fn::Sub": "my-cn-bucket"}}
    assert resources["C"]["Properties"]["Code"]["S3Bucket"] == "my-cn-bucket"
    assert not [w for w in result.warnings if w.rule == "s3-assets"]


def test_a_solutions_bucket_and_a_mapping_are_warned_where_they_are_set() -> None:
    text = """\
Mappings:
  Source:
    us-east-1: {Bucket: my-assets-us-east-1}
    eu-west-1: {Bucket: my-assets-eu-west-1}
Resources:
  Fn:
    Type: AWS::Lambda::Function
    Properties:
      Role: r
      Code:
        S3Bucket: !Sub solutions-${AWS::Region}
        S3Key: fn.zip
  Script:
    Type: AWS::EC2::Instance
    Properties:
      ImageId: ami-1
      UserData:
        Fn::Base64: !Sub
          - "aws s3 cp s3://${B}/setup.sh .\\n"
          - B: !FindInMap [Source, !Ref 'AWS::Region', Bucket]
"""
    result = transform_text(text, CHINA, region="cn-north-1")
    warned = {w.pointer: w.message for w in result.warnings if w.rule == "s3-assets"}
    assert "sets the asset bucket 'solutions-${AWS::Region}'" in warned["/Resources/Fn/Properties/Code/S3Bucket/Fn::Sub"]
    assert "mapping Source/us-east-1/Bucket sets the asset bucket 'my-assets-us-east-1'" in warned["/Mappings/Source/us-east-1/Bucket"]
    assert "it feeds /Resources/Script/Properties/UserData" in warned["/Mappings/Source/eu-west-1/Bucket"]


def test_the_quick_start_example_rule_file_sets_the_buckets_the_authors_chose() -> None:
    from panther_cn_transform import read_template

    from ..corpus import CORPUS

    example = Path(__file__).resolve().parents[2] / "examples" / "quickstart-buckets.yml"
    pair = CORPUS / "pairs" / "qs-linux-bastion"
    ours = transform_text((pair / "global.template").read_text("utf-8"), load_rules(str(example)), region="cn-north-1").model
    theirs = read_template(pair / "china.template").model
    for parameter in ("QSS3BucketName", "QSS3BucketRegion"):
        assert ours["Parameters"][parameter]["Default"] == theirs["Parameters"][parameter]["Default"]
    assert ours["Conditions"]["UsingDefaultBucket"] == theirs["Conditions"]["UsingDefaultBucket"]

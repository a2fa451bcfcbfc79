"""A second partition with rules only: the `aws-us-gov` pack, on the siem templates of the corpus and on fixtures."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from panther_cn_transform import load_rules, read_template, transform, transform_text
from panther_cn_transform.model.walk import is_region, iter_strings
from panther_cn_transform.partitions.endpoint_data import partition_endpoints
from panther_cn_transform.ruleset.actions import ACTIONS

from ..corpus import CORPUS

GOV = load_rules("aws-us-gov")
REGIONS = ["us-gov-west-1", "us-gov-east-1"]
SIEM = sorted((CORPUS / "pairs").glob("siem-*/global.template")) if CORPUS.is_dir() else []
_ARN = re.compile(r"arn:(?P<partition>[a-z-]+):(?:[a-z0-9-]*:(?P<region>[^:\s\"']*):)?")
_HOST = re.compile(r"(?:[A-Za-z0-9-]+\.)+amazonaws\.com(?:\.cn)?")


def _arns(value: str) -> list[tuple[str, str]]:
    return [(m.group("partition"), m.group("region") or "") for m in _ARN.finditer(value)]


def _portable(path: tuple[object, ...], value: str) -> bool:
    """An ARN of the global partition the partition rule rewrites: one not pinned to a global region (in prose too: issue 27)."""
    return any(partition == "aws" and not is_region(region) for partition, region in _arns(value))


def test_the_pack_is_shipped_actions_and_partition_data_only() -> None:
    assert {rule.action for rule in GOV.rules} <= set(ACTIONS)
    assert GOV.partition is not None and GOV.partition.file == "<builtin>/partitions/aws-us-gov.yml"
    assert GOV.files == ("<builtin>/aws-us-gov.yml",)


def test_the_siem_pairs_it_ports_are_in_the_corpus() -> None:
    assert len(SIEM) >= 2, f"siem pairs not found in {CORPUS}"


@pytest.mark.parametrize("region", REGIONS)
@pytest.mark.parametrize("path", SIEM, ids=lambda p: p.parent.name)
def test_siem_templates_port_to_govcloud(path: Path, region: str) -> None:
    before = read_template(path)
    result = transform(before, GOV, region=region)
    # partition: every ARN that is not pinned to a global region now names aws-us-gov
    assert not [value for path, value in iter_strings(result.model) if _portable(path, value)]
    rewritten = [e for e in result.edits if e.rule == "partition"]
    assert len(rewritten) == sum(1 for path, value in iter_strings(before.model) if _portable(path, value)) > 0
    assert all("arn:aws-us-gov:" in e.value for e in rewritten)
    # endpoints: GovCloud keeps amazonaws.com; no China host appears, and a changed host is a GovCloud endpoint
    known = {e.hostname for endpoints in partition_endpoints("aws-us-gov").by_service.values() for e in endpoints}
    for edit in result.edits:
        if isinstance(edit.old, str) and isinstance(edit.value, str):
            assert "amazonaws.com.cn" not in edit.value
            for host in set(_HOST.findall(edit.value)) - set(_HOST.findall(edit.old)):
                assert host in known, (edit.pointer, host)
    assert result.text.count("arn:aws-us-gov:") >= len(rewritten)


@pytest.mark.parametrize(
    ("value", "expected", "warned"),
    [
        ("https://sqs.us-west-1.amazonaws.com/123456789012/q", "https://sqs.{r}.amazonaws.com/123456789012/q", False),
        ("https://iam.amazonaws.com/", "https://iam.us-gov.amazonaws.com/", False),  # botocore: aws-us-gov-global
        ("https://sts.amazonaws.com", "https://sts.{r}.amazonaws.com", False),
        ({"Fn::Sub": "https://${Site}.s3.amazonaws.com/index.html"}, {"Fn::Sub": "https://${Site}.s3.${AWS::Region}.amazonaws.com/index.html"}, False),
        ({"Fn::Sub": "https://sqs.${AWS::Region}.amazonaws.com/q"}, {"Fn::Sub": "https://sqs.${AWS::Region}.amazonaws.com/q"}, False),
        ("https://awscli.amazonaws.com/awscli-exe-linux-x86_64.zip", "https://awscli.amazonaws.com/awscli-exe-linux-x86_64.zip", False),
        ("https://cloudfront.amazonaws.com/2020-05-31/distribution", "https://cloudfront.amazonaws.com/2020-05-31/distribution", True),
        ("https://sqs.eu-west-1.amazonaws.com/1/q", "https://sqs.eu-west-1.amazonaws.com/1/q", True),
        ("https://us-east-1.console.aws.amazon.com/cloudformation", "https://console.amazonaws-us-gov.com/cloudformation", False),
        ("arn:aws:s3:::my-bucket/*", "arn:aws-us-gov:s3:::my-bucket/*", False),
        ("arn:aws:kms:us-west-2:123456789012:key/k", "arn:aws:kms:us-west-2:123456789012:key/k", True),
    ],
)
@pytest.mark.parametrize("region", REGIONS)
def test_govcloud_endpoints_and_arns(value: object, expected: object, warned: bool, region: str) -> None:
    text = "Outputs:\n  V:\n    Value: " + (f"!Sub '{value['Fn::Sub']}'" if isinstance(value, dict) else f"'{value}'") + "\nResources:\n  T:\n    Type: AWS::SNS::Topic\n"
    result = transform_text(text, GOV, region=region, variables={"source_region": "us-west-1"})
    want = {"Fn::Sub": expected["Fn::Sub"]} if isinstance(expected, dict) else str(expected).format(r=region)
    assert result.model["Outputs"]["V"]["Value"] == want
    assert bool(result.warnings) == warned, [w.message for w in result.warnings]


def test_govcloud_keeps_principals_and_vpc_endpoint_names() -> None:
    text = """\
Resources:
  Role:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Statement: [{Effect: Allow, Principal: {Service: [ec2.amazonaws.com, logs.amazonaws.com]}, Action: 'sts:AssumeRole'}]
  Endpoint:
    Type: AWS::EC2::VPCEndpoint
    Properties:
      VpcId: vpc-1
      VpcEndpointType: Interface
      ServiceName: !Sub com.amazonaws.${AWS::Region}.sqs
"""
    result = transform_text(text, GOV, region="us-gov-west-1")
    assert not result.edits and not result.warnings

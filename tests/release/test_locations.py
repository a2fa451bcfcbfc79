"""`release/locations.py`: which objects of a bucket a template may read, and which locations cannot be told (pure)."""

from __future__ import annotations

from typing import Any

from panther_cn_transform import decode_text
from panther_cn_transform.release.locations import MAX_SPELLINGS, object_locations

BUCKET = "panther-enterprise-us-west-1"
HOST = f"https://{BUCKET}.s3.us-west-1.amazonaws.com"
CODE = {("AWS::Lambda::Function", "Code"), ("AWS::Serverless::Function", "CodeUri")}


def model(text: str) -> Any:
    return decode_text(text).model


def keys(text: str) -> list[str]:
    found = object_locations(model(text), BUCKET, "us-west-1", CODE)
    assert found.unresolved == [] and found.foreign == [], found
    return sorted(location.key for location in found.located)


def unresolved(text: str) -> list[tuple[str, str]]:
    found = object_locations(model(text), BUCKET, "us-west-1", CODE)
    return [("/".join(map(str, u.path)), u.why) for u in found.unresolved]


def stack(url: str) -> str:
    return f"Resources:\n  Child:\n    Type: AWS::CloudFormation::Stack\n    Properties:\n      TemplateURL: {url}\n"


def test_a_region_placeholder_in_the_bucket_is_the_source_region() -> None:
    assert keys(stack('!Sub "https://panther-enterprise-${AWS::Region}.s3.amazonaws.com/v1/child.yml"')) == ["v1/child.yml"]


def test_a_computed_mapping_key_follows_every_entry() -> None:
    text = ("Mappings:\n  Code:\n    us-west-1: {Key: v1/west.zip}\n    us-east-1: {Key: v1/east.zip}\nResources:\n"
            "  Fn:\n    Type: AWS::Serverless::Function\n    Properties:\n"
            f'      CodeUri: !Sub ["s3://{BUCKET}/${{K}}", {{K: !FindInMap [Code, !Ref "AWS::Region", Key]}}]\n')
    assert keys(text) == ["v1/east.zip", "v1/west.zip"]


def test_an_if_with_no_value_on_one_side_follows_the_other() -> None:
    text = ("Conditions:\n  Enabled: !Equals [a, a]\n" + stack(f'!If [Enabled, "{HOST}/v1/child.yml", !Ref "AWS::NoValue"]'))
    assert keys(text) == ["v1/child.yml"]


def test_a_key_that_depends_on_the_region_cannot_be_told() -> None:
    assert unresolved(stack(f'!Sub "{HOST}/${{AWS::Region}}/child.yml"')) == [
        ("Resources/Child/Properties/TemplateURL", ("its key '${AWS::Region}/child.yml' is not known before deployment "
                                                    "(a parameter without a default, an attribute, an import, a pseudo parameter)"))]


def test_an_intrinsic_the_expansion_does_not_follow_around_the_bucket_cannot_be_told() -> None:
    text = ("Resources:\n  Fn:\n    Type: AWS::Serverless::Function\n    Properties:\n"
            f'      CodeUri: !Select [0, ["s3://{BUCKET}/v1/a.zip", "s3://{BUCKET}/v1/b.zip"]]\n')
    assert unresolved(text) == [("Resources/Fn/Properties/CodeUri", "its intrinsics cannot be followed to an object")]


def test_more_spellings_than_followed_cannot_be_told() -> None:
    branches = "\n".join(f"    K{i}: {{a: {{Key: v{i}a}}, b: {{Key: v{i}b}}}}" for i in range(9))  # 2**9 = 512 spellings
    parts = ", ".join(f"!FindInMap [K{i}, !Ref Pick, Key]" for i in range(9))
    text = (f"Parameters:\n  Pick:\n    Type: String\nMappings:\n{branches}\n"
            + stack(f'!Join ["", ["{HOST}/", {parts}]]'))
    assert unresolved(text) == [("Resources/Child/Properties/TemplateURL", f"more than {MAX_SPELLINGS} possible values")]


def test_strings_that_merely_mention_s3_are_not_locations() -> None:
    text = ("Resources:\n  Role:\n    Type: AWS::IAM::Role\n    Properties:\n      Policies:\n"
            f'        - Resource: !Sub "arn:${{AWS::Partition}}:s3:::{BUCKET}/*"\n'
            "  Fn:\n    Type: AWS::Lambda::Function\n    Properties:\n      Code:\n"
            '        ZipFile: !Sub "print(\'s3://${Unknown}/x\')"\n')
    assert keys(text) == []

"""Paths of the model placed in the template's text: line and column (model/positions.py)."""

from __future__ import annotations

from panther_cn_transform import decode_text
from panther_cn_transform.model.edits import Edit, EditLog, list_alignment
from panther_cn_transform.model.positions import input_path, position

YAML = """\
AWSTemplateFormatVersion: '2010-09-09'
Resources:
  Fn:
    Type: AWS::Lambda::Function
    Properties:
      Runtime: go1.x
      Role: !GetAtt Role.Arn
      Code:
        S3Bucket: !Sub 'assets-${AWS::Region}'
      Layers:
        - arn:aws:lambda:us-east-1:1:layer:a:1
        - &second arn:aws:lambda:us-east-1:1:layer:b:1
        - *second
  Shared: &shared
    Type: AWS::SNS::Topic
  Copy: *shared
"""


def _at(text: str, line: int, column: int) -> str:
    return text.splitlines()[line - 1][column - 1:]


def test_a_mapping_entry_is_placed_at_its_key_and_a_list_item_where_it_starts() -> None:
    root = decode_text(YAML).root
    assert position(root, ("Resources", "Fn", "Properties", "Runtime")) == (6, 7)
    assert _at(YAML, *position(root, ("Resources", "Fn", "Properties", "Runtime"))).startswith("Runtime: go1.x")
    assert _at(YAML, *position(root, ("Resources", "Fn", "Properties", "Layers", 0))).startswith("arn:aws:lambda:us-east-1:1:layer:a")
    assert _at(YAML, *position(root, ("Resources", "Fn", "Properties", "Layers", 1))).startswith("&second")


def test_short_tags_are_their_long_form_and_a_path_inside_one_scalar_stops_there() -> None:
    root = decode_text(YAML).root
    assert _at(YAML, *position(root, ("Resources", "Fn", "Properties", "Code", "S3Bucket", "Fn::Sub"))).startswith("S3Bucket:")
    assert _at(YAML, *position(root, ("Resources", "Fn", "Properties", "Role", "Fn::GetAtt", 1))).startswith("Role: !GetAtt")


def test_a_path_through_an_alias_is_placed_at_the_alias_not_at_its_anchor() -> None:
    root = decode_text(YAML).root
    assert _at(YAML, *position(root, ("Resources", "Copy", "Type"))).startswith("Copy: *shared")
    assert _at(YAML, *position(root, ("Resources", "Shared", "Type"))).startswith("Type: AWS::SNS::Topic")
    # the third layer is the alias of the second: placed at `*second` (found in the text), not at the anchor
    third = ("Resources", "Fn", "Properties", "Layers", 2)
    assert _at(YAML, *position(root, third, YAML)) == "*second"
    assert position(root, third) == (12, len("        - &second arn:aws:lambda:us-east-1:1:layer:b:1") + 1)  # without the text: where the item before ends
    flow = "Resources:\n  R:\n    Type: T\n    Properties: {L: [&a x, *a], M: [*a]}\n"
    flow_root = decode_text(flow).root
    assert _at(flow, *position(flow_root, ("Resources", "R", "Properties", "L", 1), flow)).startswith("*a]")
    assert _at(flow, *position(flow_root, ("Resources", "R", "Properties", "M", 0), flow)).startswith("*a]}")


def test_a_path_the_text_does_not_have_is_placed_at_its_deepest_ancestor() -> None:
    root = decode_text(YAML).root
    assert _at(YAML, *position(root, ("Resources", "Fn", "Properties", "Timeout"))).startswith("Properties:")
    assert position(root, ()) == (1, 1)


def test_json_is_placed_like_yaml() -> None:
    text = '{\n  "Resources": {\n    "Fn": {"Type": "AWS::Lambda::Function",\n      "Properties": {"Runtime": "go1.x"}}}}\n'
    template = decode_text(text)
    assert template.format == "json"
    assert _at(text, *position(template.root, ("Resources", "Fn", "Properties", "Runtime"))).startswith('"Runtime": "go1.x"')


def test_a_path_of_the_transformed_model_is_taken_back_to_the_input_list_it_came_from() -> None:
    template = decode_text(YAML)
    log = EditLog(template.model)
    log.apply(Edit(("Resources", "Fn", "Properties", "Layers", 0), "remove", "r", "gone"))
    alignment = list_alignment(template.model, log.edits)
    after = ("Resources", "Fn", "Properties", "Layers", 0)  # the second input layer, first after the removal
    assert input_path(after, alignment) == ("Resources", "Fn", "Properties", "Layers", 1)
    assert _at(YAML, *position(template.root, input_path(after, alignment))).startswith("&second")
    log.apply(Edit(("Resources", "Fn", "Properties", "Layers", 0), "add", "r", "new", value="arn:aws-cn:x"))
    alignment = list_alignment(template.model, log.edits)
    assert input_path(("Resources", "Fn", "Properties", "Layers", 0), alignment) == ("Resources", "Fn", "Properties", "Layers")

"""YAML whose only changes are strings: each written at its node, found by its path, exactly as the diff writes it."""

from __future__ import annotations

from typing import Any

from hypothesis import event, given
from hypothesis import strategies as st

from panther_cn_transform import Edit, decode_text
from panther_cn_transform.model.edits import EditLog
from panther_cn_transform.render import _render, _render_yaml_strings, render
from panther_cn_transform.render.string_nodes import StringNodes, changed_nodes
from panther_cn_transform.testing import templates, yaml_texts

from ..corpus import china_transforms_replayed

TEMPLATE = """\
Resources:
  Role:
    Type: AWS::IAM::Role
    Properties:
      Policy: {Statement: [{Resource: 'arn:aws:s3:::b/*'}, {Resource: !Sub 'arn:aws:sns:${AWS::Region}::t'}]}
      Arn: !GetAtt Topic.Arn
      Name: !Join ['-', [a, !Ref Env]]
      Script: |
        aws s3 cp s3://b/x .
"""


def with_edits(text: str, edits: list[tuple[tuple[Any, ...], str]]) -> tuple[Any, EditLog]:
    template = decode_text(text)
    log = EditLog(template.model)
    log.strings()  # the index the log's order comes from
    for path, value in edits:
        log.apply(Edit(path, "replace", "test", "because", value=value))
    return template, log


def test_a_path_is_followed_through_flow_collections_and_short_form_intrinsics() -> None:
    root = decode_text(TEMPLATE).root
    nodes = StringNodes(root)
    statement = ("Resources", "Role", "Properties", "Policy", "Statement")
    found = nodes.find((*statement, 1, "Resource", "Fn::Sub"))
    assert found is not None and found[0].value == "arn:aws:sns:${AWS::Region}::t" and found[1] is True
    found = nodes.find(("Resources", "Role", "Properties", "Name", "Fn::Join", 1, 0))
    assert found is not None and found[0].value == "a" and found[1] is True
    found = nodes.find(("Resources", "Role", "Properties", "Script"))
    assert found is not None and found[0].style == "|" and found[1] is False
    found = nodes.find((*statement, 0, "Resource"))  # after a longer path: the walk starts again from where they part
    assert found is not None and found[0].value == "arn:aws:s3:::b/*"


def test_what_only_the_diff_can_write_is_not_found() -> None:
    nodes = StringNodes(decode_text(TEMPLATE).root)
    assert nodes.find(("Resources", "Role", "Properties", "Arn", "Fn::GetAtt", 0)) is None  # a scalar !GetAtt is a list in the model
    assert nodes.find(("Resources", "Role", "Properties", "Name")) is None  # a tagged node is a mapping in the model
    assert nodes.find(("Resources", "Role", "Properties", "Missing")) is None
    assert nodes.find(("Resources", "Role", "Properties", "Policy", "Statement", 9, "Resource")) is None
    assert nodes.find(("Resources", "Role", "Type", 0)) is None


def test_a_template_with_an_anchor_is_left_to_the_diff() -> None:
    text = "Resources:\n  A: &a {Type: T, Properties: {N: x}}\n  B: *a\n"
    template, log = with_edits(text, [(("Resources", "A", "Properties", "N"), "y")])
    assert _render_yaml_strings(template, log.string_changes() or [], None) is None


def test_a_wrong_list_of_string_changes_does_not_change_the_output() -> None:
    template, log = with_edits(TEMPLATE, [(("Resources", "Role", "Type"), "AWS::IAM::User")])
    wrong = [(("Resources", "Role", "Properties", "Arn", "Fn::GetAtt", 1), "Arn", "AWS::IAM::User", 0)]  # a path to another value
    out = render(template, log.model, log.substitutions(), {}, string_changes=wrong)
    assert decode_text(out).model == log.model
    assert out == _render(template, log.model, log.substitutions(), {}, template.limits)


@given(data=st.data())
def test_any_string_replacements_render_as_the_diff_renders_them(data: st.DataObject) -> None:
    text = data.draw(templates(max_resources=4).flatmap(yaml_texts))
    template = decode_text(text)
    log = EditLog(template.model)
    for path, value in data.draw(st.lists(st.sampled_from(log.strings()), max_size=5, unique=True)) if log.strings() else []:
        new = value.replace("aws", "aws-cn") if "aws" in value else value + " x,: y"  # flow-unsafe text too
        log.apply(Edit(path, "replace", "t", "test", value=new, fragments=(("aws", "aws-cn"),) if "aws" in value else ()))
    changes = log.string_changes()
    assert changes is not None
    fast = _render_yaml_strings(template, changes, log.substitutions())
    event("found at the nodes" if fast is not None else "left to the diff")
    if fast is not None:
        assert fast == _render(template, log.model, log.substitutions(), {}, template.limits)
    out = render(template, log.model, log.substitutions(), {}, string_changes=changes)
    assert decode_text(out).model == log.model


def test_yaml_corpus_transforms_write_what_the_diff_writes() -> None:
    """On every YAML template of the corpus whose edits are string replacements: the same bytes both ways."""
    compared = 0
    for path, result, log in china_transforms_replayed("yaml"):
        template = result.template
        changes = log.string_changes()
        fast = _render_yaml_strings(template, changes, log.substitutions()) if changes else None
        if fast is None:
            continue
        assert fast == _render(template, log.model, log.substitutions(), {}, template.limits), path
        assert fast == result.text, path
        compared += 1
    assert compared >= 50  # 63 when written


@given(data=st.data())
def test_the_decode_records_each_strings_node_and_flow_where_the_path_walk_finds_them(data: st.DataObject) -> None:
    """`Template.string_nodes[i]` is the node `StringNodes.find` reaches for the i-th string, in flow exactly when it is."""
    text = data.draw(templates(max_resources=4).flatmap(yaml_texts))
    template = decode_text(text)
    strings = EditLog(template.model).strings()
    recorded = template.string_nodes
    event("recorded" if recorded is not None else "not recorded (an alias)")
    if recorded is None:
        assert "*" in text
        return
    assert len(recorded.nodes) == len(strings)
    walker = StringNodes(template.root)
    for place, (path, value) in enumerate(strings):
        found = walker.find(path)
        if recorded.nodes[place] is None:  # a string of a scalar `!GetAtt A.b`: the walk finds no node of its own either
            assert found is None
            continue
        assert found is not None and found[0] is recorded.nodes[place] and found[0].value == value
        assert found[1] == (place in recorded.in_flow)


def test_a_change_whose_place_holds_another_string_is_found_by_its_path() -> None:
    template, log = with_edits(TEMPLATE, [(("Resources", "Role", "Properties", "Script"), "echo\n")])
    changes = log.string_changes()
    assert changes is not None and template.string_nodes is not None
    (path, old, new, place), = changes
    moved = [(path, old, new, place - 1)]  # the place of the string before it: not the script's node
    assert changed_nodes(template.root, moved, template.string_nodes) == changed_nodes(template.root, changes, None)
    assert render(template, log.model, log.substitutions(), {}, string_changes=moved) == render(template, log.model, log.substitutions(), {})

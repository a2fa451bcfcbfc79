"""Rendering: edits land in the source text, and nothing else moves."""

from __future__ import annotations

import difflib
from typing import Any

import jsonpatch
import pytest

from panther_cn_transform import Edit, decode_text
from panther_cn_transform.edits import EditLog, list_alignment
from panther_cn_transform.render import render


def rendered(text: str, *edits: Edit) -> str:
    template = decode_text(text)
    log = EditLog(template.model)
    for edit in edits:
        log.apply(edit)
    out = render(template, log.model, log.substitutions(), list_alignment(template.model, log.edits))
    # the patch from the edits explains the output exactly
    assert jsonpatch.apply_patch(template.model, log.patch()) == decode_text(out).model
    return out


def replace(path: tuple[Any, ...], value: Any, *fragments: tuple[str, str]) -> Edit:
    return Edit(path, "replace", "test", "because", value=value, fragments=tuple(fragments))


def remove(path: tuple[Any, ...]) -> Edit:
    return Edit(path, "remove", "test", "because")


def add(path: tuple[Any, ...], value: Any) -> Edit:
    return Edit(path, "add", "test", "because", value=value)


def changed_lines(before: str, after: str) -> list[str]:
    return [
        line
        for line in difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0)
        if line[:1] in "+-" and line[:3] not in ("---", "+++")
    ]


BASE = """\
# leading comment
Resources:  # trailing comment
  Plain:
    Type: T
    Properties:
      P: arn:aws:s3:::plain   # keep me
      S: 'arn:aws:s3:::single'
      D: "arn:aws:s3:::double"
      Flow: [arn:aws:s3:::flow, other]
      Tagged: !Sub 'arn:aws:s3:::${B}'
      Literal: |
        first arn:aws:s3:::x
        second
      Folded: >-
        a long arn:aws:s3:::folded
        text
  Other:
    Type: U
"""


@pytest.mark.parametrize(
    ("path", "old", "new", "line"),
    [
        (("P",), "arn:aws:s3:::plain", "arn:aws-cn:s3:::plain", "      P: arn:aws-cn:s3:::plain   # keep me"),
        (("S",), "arn:aws:s3:::single", "arn:aws-cn:s3:::single", "      S: 'arn:aws-cn:s3:::single'"),
        (("D",), "arn:aws:s3:::double", "arn:aws-cn:s3:::double", '      D: "arn:aws-cn:s3:::double"'),
        (("Flow", 0), "arn:aws:s3:::flow", "arn:aws-cn:s3:::flow", "      Flow: [arn:aws-cn:s3:::flow, other]"),
        (("Tagged", "Fn::Sub"), "arn:aws:s3:::${B}", "arn:aws-cn:s3:::${B}", "      Tagged: !Sub 'arn:aws-cn:s3:::${B}'"),
        (("Literal",), "first arn:aws:s3:::x\nsecond\n", "first arn:aws-cn:s3:::x\nsecond\n", "        first arn:aws-cn:s3:::x"),
        (("Folded",), "a long arn:aws:s3:::folded text", "a long arn:aws-cn:s3:::folded text", "        a long arn:aws-cn:s3:::folded"),
    ],
)
@pytest.mark.parametrize("use_fragments", [True, False])
def test_scalar_edits_keep_style_and_touch_one_line(
    path: tuple[Any, ...], old: str, new: str, line: str, use_fragments: bool
) -> None:
    fragments = [("arn:aws:", "arn:aws-cn:")] if use_fragments else []
    out = rendered(BASE, replace(("Resources", "Plain", "Properties", *path), new, *fragments))
    diff = changed_lines(BASE, out)
    assert len(diff) == 2 or (not use_fragments and path == ("Folded",))
    assert line in out.splitlines() or (not use_fragments and path == ("Folded",))


def test_untouched_template_is_byte_identical() -> None:
    template = decode_text(BASE)
    assert render(template, template.model) == BASE


def test_new_plain_scalar_is_quoted_only_when_yaml_needs_it() -> None:
    out = rendered(BASE, replace(("Resources", "Plain", "Properties", "P"), "yes"))
    assert "      P: 'yes'   # keep me" in out
    out = rendered(BASE, replace(("Resources", "Plain", "Properties", "P"), "simple-value"))
    assert "      P: simple-value   # keep me" in out
    out = rendered(BASE, replace(("Resources", "Plain", "Properties", "P"), "a: b"))
    assert "      P: 'a: b'   # keep me" in out


def test_remove_block_entries_first_middle_last() -> None:
    for key in ("P", "Flow", "Folded"):
        out = rendered(BASE, remove(("Resources", "Plain", "Properties", key)))
        assert all(line.startswith("-") for line in changed_lines(BASE, out))
        assert "# leading comment" in out and "# trailing comment" in out
    out = rendered(BASE, remove(("Resources", "Other")))
    assert out == BASE.replace("  Other:\n    Type: U\n", "")


def test_remove_and_add_in_flow_and_json() -> None:
    assert rendered(BASE, remove(("Resources", "Plain", "Properties", "Flow", 0))).count("Flow: [other]") == 1
    text = '{\n  "Resources": {\n    "A": {"Type": "T"},\n    "B": {"Type": "U"},\n    "C": {"Type": "V"}\n  }\n}\n'
    assert rendered(text, remove(("Resources", "B"))) == text.replace('    "B": {"Type": "U"},\n', "")
    assert rendered(text, remove(("Resources", "C"))) == text.replace(',\n    "C": {"Type": "V"}', "")
    out = rendered(text, add(("Resources", "D"), {"Type": "W", "Properties": {"X": [1]}}))
    assert out.startswith(text[: text.index('{"Type": "V"}') + len('{"Type": "V"}')] + ',\n    "D": {\n      "Type": "W"')


def test_add_block_entries_use_the_files_indentation_and_short_tags() -> None:
    out = rendered(BASE, add(("Resources", "New"), {"Type": "X", "Properties": {"Name": {"Ref": "Other"}}}))
    assert out.endswith("  Other:\n    Type: U\n  New:\n    Type: X\n    Properties:\n      Name: !Ref Other\n")


def test_scalar_becomes_intrinsic_inline() -> None:
    out = rendered(BASE, replace(("Resources", "Plain", "Properties", "P"), {"Fn::Sub": "arn:${AWS::Partition}:s3:::plain"}))
    assert "      P: !Sub 'arn:${AWS::Partition}:s3:::plain'   # keep me" in out


def test_remove_sequence_items_block() -> None:
    text = "Resources:\n  R:\n    Type: T\n    DependsOn:\n      - A  # a\n      - B\n      - C\n"
    assert rendered(text, remove(("Resources", "R", "DependsOn", 1))) == text.replace("      - B\n", "")
    assert rendered(text, remove(("Resources", "R", "DependsOn", 2))) == text.replace("      - C\n", "")


def test_remove_first_key_of_a_sequence_item_mapping() -> None:
    text = "Resources:\n  R:\n    Type: T\n    Properties:\n      L:\n        - Effect: Allow\n          Resource: x\n"
    out = rendered(text, remove(("Resources", "R", "Properties", "L", 0, "Effect")))
    assert "        - Resource: x\n" in out


def test_anchored_value_edited_through_both_aliases() -> None:
    text = "Resources:\n  A:\n    Type: T\n    Properties: &p {Arn: 'arn:aws:s3:::b'}\n  B:\n    Type: T\n    Properties: *p\n"
    new = "arn:aws-cn:s3:::b"
    out = rendered(
        text,
        replace(("Resources", "A", "Properties", "Arn"), new, ("arn:aws:", "arn:aws-cn:")),
        replace(("Resources", "B", "Properties", "Arn"), new, ("arn:aws:", "arn:aws-cn:")),
    )
    assert out == text.replace("arn:aws:", "arn:aws-cn:")


def test_crlf_and_bom_survive_edits() -> None:
    text = "\ufeffResources:\r\n  R:\r\n    Type: T\r\n    Properties:\r\n      A: arn:aws:x\r\n"
    template = decode_text(text)
    log = EditLog(template.model)
    log.apply(replace(("Resources", "R", "Properties", "A"), "arn:aws-cn:x", ("arn:aws:", "arn:aws-cn:")))
    log.apply(add(("Resources", "S"), {"Type": "U"}))
    assert render(template, log.model, log.substitutions()) == text.replace("arn:aws:", "arn:aws-cn:") + "  S:\r\n    Type: U\r\n"

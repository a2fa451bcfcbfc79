"""Rendering: edits land in the source text, and nothing else moves."""

from __future__ import annotations

import difflib
from typing import Any

import pytest
import yaml
from hypothesis import assume, given
from hypothesis import strategies as st

from panther_cn_transform import Edit, Limits, decode_text
from panther_cn_transform.errors import RenderError
from panther_cn_transform.model.edits import EditLog, list_alignment
from panther_cn_transform.render import render
from panther_cn_transform.testing import assert_patch_consistent, json_texts, templates, yaml_texts


def rendered(text: str, *edits: Edit, limits: Limits | None = None) -> str:
    template = decode_text(text, limits=limits)
    log = EditLog(template.model)
    for edit in edits:
        log.apply(edit)
    out = render(template, log.model, log.substitutions(), list_alignment(template.model, log.edits))
    # the patch from the edits explains the output exactly
    assert_patch_consistent(template.model, decode_text(out, limits=limits).model, log.patch())
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


# -- issue 12: aliases keep their source text -------------------------------------------------

ORPHAN = """\
Resources:
  Gone:
    Type: T
    Properties:
      Mode: &n {value}
  Kept:
    Type: U
    Properties:
      DisplayName: *n
      Again: *n
"""


@pytest.mark.parametrize("value", ["0777", "on", "1:20", "1.10", "012", "'quoted'", '"x\\ty"', "!Ref Kept"])
def test_orphaned_alias_keeps_the_anchored_text_and_later_aliases_point_at_it(value: str) -> None:
    text = ORPHAN.format(value=value)
    out = rendered(text, remove(("Resources", "Gone")))
    assert out == "Resources:\n  Kept:\n    Type: U\n    Properties:\n" f"      DisplayName: &n {value}\n      Again: *n\n"


def test_orphaned_block_anchor_is_copied_with_comments_and_reindented() -> None:
    text = """\
Resources:
  Gone:
    Type: T
    Properties:
      Tags: &tags
        - Key: mode   # octal on purpose
          Value: 0777
        - Key: script
          Value: |
            echo on
              indented
  Kept:
    Type: U
    Properties:
      Nested:
        - Tags: *tags  # shared
  Also:
    Type: U
    Properties:
      Tags: *tags
"""
    out = rendered(text, remove(("Resources", "Gone")))
    assert out == """\
Resources:
  Kept:
    Type: U
    Properties:
      Nested:
        - Tags: &tags  # shared
            - Key: mode   # octal on purpose
              Value: 0777
            - Key: script
              Value: |
                echo on
                  indented
  Also:
    Type: U
    Properties:
      Tags: *tags
"""


def test_orphaned_alias_inside_a_flow_collection_and_a_literal_block() -> None:
    text = """\
Resources:
  Gone:
    Type: T
    Metadata:
      Script: &script |
        #!/bin/sh
        exit 0
      Tag: &tag
        Key: on
        Value: 1:20
  Kept:
    Type: U
    Properties:
      UserData: *script   # the same script
      Tags: [*tag, {Key: b, Value: c}]
"""
    out = rendered(text, remove(("Resources", "Gone")))
    assert out == """\
Resources:
  Kept:
    Type: U
    Properties:
      UserData: &script |   # the same script
        #!/bin/sh
        exit 0
      Tags: [&tag {Key: on, Value: 1:20}, {Key: b, Value: c}]
"""


def test_nested_anchors_in_a_removed_resource_are_copied_once_each() -> None:
    # a small template whose aliases expand to ~400,000 values: copying the model blew up (past the default
    # max_alias_values, raised here: the renderer itself must stay linear)
    lines = ["Resources:", "  Gone:", "    Type: T", "    Metadata:", "      L0: &a0 [lol, lol, lol, lol, lol]"]
    lines += [f"      L{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 5) + "]" for i in range(1, 8)]
    lines += ["  Kept:", "    Type: U", "    Properties:", "      P: *a7", "      Q: *a3"]
    text = "\n".join(lines) + "\n"
    out = rendered(text, remove(("Resources", "Gone")), limits=Limits(max_alias_values=2_000_000))
    assert len(out) < len(text)
    assert out.count("&a") == 8 and "      Q: *a3\n" in out


def test_alias_copies_count_against_the_values_limit() -> None:
    from panther_cn_transform.errors import TemplateError
    from panther_cn_transform.limits import Limits

    text = ORPHAN.format(value="{A: 1, B: 2, C: [3, 4, 5]}").replace("      Again: *n\n", "")
    template = decode_text(text)
    log = EditLog(template.model)
    log.apply(remove(("Resources", "Gone")))
    assert "&n {A: 1" in render(template, log.model)
    with pytest.raises(TemplateError, match="repairing aliases would write more than 4 values .*limit max_nodes"):
        render(template, log.model, limits=Limits(max_nodes=4))


# -- issue 12: an anchor and its alias edited differently --------------------------------------

SHARED = """\
Resources:
  Role:
    Type: AWS::IAM::Role
    Metadata:
      Service: &svc ec2.amazonaws.com   # documented here
    Properties:
      AssumeRolePolicyDocument:
        Statement:
          - Effect: Allow
            Principal:
              Service: *svc
"""
PRINCIPAL = ("Resources", "Role", "Properties", "AssumeRolePolicyDocument", "Statement", 0, "Principal", "Service")


def test_alias_edited_alone_gets_its_own_text_and_the_anchor_stays() -> None:
    out = rendered(SHARED, replace(PRINCIPAL, "ec2.amazonaws.com.cn"))
    assert out == SHARED.replace("Service: *svc", "Service: ec2.amazonaws.com.cn")


def test_anchor_edited_alone_leaves_the_alias_a_copy_of_the_original() -> None:
    out = rendered(SHARED, replace(("Resources", "Role", "Metadata", "Service"), "ec2.amazonaws.com.cn"))
    assert out == SHARED.replace("&svc ec2.amazonaws.com   #", "ec2.amazonaws.com.cn   #").replace("*svc", "&svc ec2.amazonaws.com")


def test_anchor_and_alias_edited_differently_inside_an_anchored_mapping() -> None:
    text = """\
Resources:
  A:
    Type: T
    Properties: &p
      Arn: arn:aws:s3:::b
      Mode: 0777
  B:
    Type: T
    Properties: *p
"""
    out = rendered(
        text,
        replace(("Resources", "A", "Properties", "Arn"), "arn:aws-cn:s3:::b", ("arn:aws:", "arn:aws-cn:")),
        replace(("Resources", "B", "Properties", "Mode"), 8),
    )
    # no alias wants the input's value any more: the edited anchor keeps its name
    assert out == """\
Resources:
  A:
    Type: T
    Properties: &p
      Arn: arn:aws-cn:s3:::b
      Mode: 0777
  B:
    Type: T
    Properties:
      Arn: arn:aws:s3:::b
      Mode: 8
"""


def test_real_rules_edit_a_principal_reached_through_an_alias() -> None:
    from panther_cn_transform import load_rules, transform_text

    text = SHARED + "            Action: sts:AssumeRole\n"
    result = transform_text(text, load_rules("china"), region="cn-north-1", variables={"source_region": "us-west-1"})
    assert result.text == text.replace("Service: *svc", "Service: ec2.amazonaws.com.cn")


# -- issue 12: flow context from the tree, comments, line endings, plain scalars ---------------

MULTILINE_FLOW = """\
Resources:
  A:
    Type: T
    Properties: {
      X: a,  # about x
      Y: b,  # about y
      Z: c   # about z
    }
"""


def test_new_value_in_a_multiline_flow_mapping_is_quoted_for_flow() -> None:
    out = rendered(MULTILINE_FLOW, replace(("Resources", "A", "Properties", "Y"), "c, d"))
    assert "      Y: 'c, d',  # about y\n" in out


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("X", "      Y: b,  # about y\n      Z: c   # about z\n"),
        ("Y", "      X: a,  # about x\n      Z: c   # about z\n"),
        ("Z", "      X: a,  # about x\n      Y: b  # about y\n"),
    ],
)
def test_deleting_from_a_multiline_flow_mapping_keeps_each_comment_with_its_entry(key: str, expected: str) -> None:
    out = rendered(MULTILINE_FLOW, remove(("Resources", "A", "Properties", key)))
    assert out == MULTILINE_FLOW.replace("      X: a,  # about x\n      Y: b,  # about y\n      Z: c   # about z\n", expected)


def test_adding_to_a_multiline_flow_mapping_goes_after_the_last_comment() -> None:
    out = rendered(MULTILINE_FLOW, add(("Resources", "A", "Properties", "W"), "x, y"))
    assert out == MULTILINE_FLOW.replace("      Z: c   # about z\n", "      Z: c,   # about z\n      W: 'x, y'\n")


def test_new_lines_in_crlf_json_end_in_crlf() -> None:
    text = '{\r\n  "Resources": {\r\n    "A": {\r\n      "Type": "T"\r\n    }\r\n  }\r\n}\r\n'
    out = rendered(text, add(("Resources", "B"), {"Type": "U", "Properties": {"X": [1, 2]}}))
    assert "\n" not in out.replace("\r\n", "")
    assert out.startswith('{\r\n  "Resources": {\r\n    "A": {\r\n      "Type": "T"\r\n    },\r\n    "B": {\r\n      "Type": "U",\r\n')


def test_a_string_with_a_unicode_line_separator_is_never_written_plain() -> None:
    text = "Resources:\n  A:\n    Type: T\n    Properties:\n      X: a\n      L: [a]\n"
    out = rendered(text, replace(("Resources", "A", "Properties", "X"), "a\u2028b"), add(("Resources", "A", "Properties", "L", 1), "c\x85d"))
    assert '      X: "a\\u2028b"\n' in out and '      L: [a, "c\\u0085d"]\n' in out


def test_removing_every_entry_of_a_flow_collection_keeps_its_brackets() -> None:
    # found by the thorough profile: `"Resources": {...}` with every resource removed was
    # rewritten as `{}`, taking the untouched line of its closing bracket with it
    text = '{\r\n  "Resources": {\r\n    "R0": {\r\n      "Type": "T"\r\n    }\r\n  },\r\n  "L": [1, 2]\r\n}'
    out = rendered(text, remove(("Resources", "R0")), remove(("L", 1)), remove(("L", 0)))
    assert out == '{\r\n  "Resources": {\r\n  },\r\n  "L": []\r\n}'


def test_edited_alias_of_a_block_anchor_inside_a_flow_mapping_keeps_untouched_text() -> None:
    # found by the new generators: the copy was re-emitted from the model (0b1010 became 10)
    text = """\
Resources:
  Gone:
    Type: T
    Metadata:
      Shared: &a0
        Arn: 'arn:aws:s3:::shared-bucket/*'
        Count: 0b1010
  Kept: {
    Type: U,
    Properties: {
      Shared: *a0  # entry
    }
  }
"""
    out = rendered(
        text,
        remove(("Resources", "Gone")),
        replace(("Resources", "Kept", "Properties", "Shared", "Arn"), "arn:aws-cn:s3:::shared-bucket/*", ("arn:aws:", "arn:aws-cn:")),
    )
    assert "      Shared: &a0 {Arn: 'arn:aws-cn:s3:::shared-bucket/*', Count: 0b1010}  # entry\n" in out


def test_a_copied_block_keeps_the_blank_lines_a_kept_literal_ends_with() -> None:
    text = "Resources:\n  Gone:\n    Type: T\n    Metadata:\n      M: &m\n        A: 1\n        S: |+\n          keep\n\n" \
           "  Kept:\n    Type: U\n    Metadata:\n      X: *m   # c\n      Y: *m\n"
    out = rendered(text, remove(("Resources", "Gone")))
    assert out == "Resources:\n  Kept:\n    Type: U\n    Metadata:\n      X: &m   # c\n        A: 1\n        S: |+\n          keep\n\n      Y: *m\n"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{\n  "Resources": {},\n  "P": {\n    "X": 1,\n    "Y": 2\n  }\n}\n', '{\n  "Resources": {},\n  "P": {\n    "X": 1,\n    "Z": 3\n  }\n}\n'),
        ('{"Resources": {}, "P": {"X": 1, "Y": 2}}', '{"Resources": {}, "P": {"X": 1,"Z": 3}}'),
        ("Resources: {}\nP: {\n  X: 1,  # x\n  Y: 2   # y\n}\n", "Resources: {}\nP: {\n  X: 1,  # x\n  Z: 3\n}\n"),
        ("Resources: {}\nP: {\n  X: 1,\n  Y: 2,\n}\n", "Resources: {}\nP: {\n  X: 1,\n  Z: 3\n}\n"),
    ],
)
def test_a_key_renamed_at_the_end_of_a_flow_mapping_keeps_its_separator(text: str, expected: str) -> None:
    # found when main's rename rules met the new flow insertion: the `,` the deletion
    # removes was counted on to separate the new entry
    template = decode_text(text)
    log = EditLog(template.model)
    log.apply(remove(("P", "Y")))
    log.apply(add(("P", "Z"), 3))
    assert render(template, log.model, log.substitutions(), list_alignment(template.model, log.edits)) == expected


_SCAN_ALPHABET = st.sampled_from(["&", "a", " ", "\n", "[", ",", "!", "Ref", "Sub", "'", '"', "x", "\u2028", "{", "*", "_", "\t"])


@given(st.lists(_SCAN_ALPHABET, max_size=10).map("".join))
def test_the_fast_scans_for_anchors_and_short_tags_find_what_the_patterns_find(text: str) -> None:
    from panther_cn_transform.render import _ANCHOR, _has_anchor
    from panther_cn_transform.render.values import _SHORT_TAG_RE, _uses_short_tags

    assert _has_anchor(text) == bool(_ANCHOR.search(text))
    assert _uses_short_tags(text) == bool(_SHORT_TAG_RE.search(text))


@pytest.mark.parametrize("part, new, written", [
    (1, "Arn2", "!GetAtt R1.Arn2"),
    (1, "Arn x,: y", "!GetAtt [R1, 'Arn x,: y']"),  # not a plain scalar inside a flow mapping
    (0, "R1.x", "!GetAtt [R1.x, Arn]"),  # the dotted form would split after R1
    (0, "", "!GetAtt ['', Arn]"),  # `.Arn` is no GetAtt
])
def test_a_short_form_getatt_is_dotted_only_when_it_reads_back_as_its_two_parts(part: int, new: str, written: str) -> None:
    text = "Resources: {}\nOutputs:\n  O1: {Value: !GetAtt R1.Arn, Export: {Name: x}}\n"
    out = rendered(text, replace(("Outputs", "O1", "Value", "Fn::GetAtt", part), new))
    assert out == text.replace("!GetAtt R1.Arn", written)


@pytest.mark.parametrize("text, line", [
    ("Resources:\n  T:\n    Type: AWS::SNS::Topic\n    Properties: {TopicName: name}\n", 4),
    ('{\n  "Resources": {\n    "T": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": "name"}}\n  }\n}\n', 3),
])
def test_a_character_utf8_cannot_encode_is_an_error_at_its_line_not_an_output(text: str, line: int) -> None:
    template = decode_text(text)
    log = EditLog(template.model)
    log.apply(replace(("Resources", "T", "Properties", "TopicName"), "na\ud800me"))  # a lone surrogate: only a rule or a variable brings one
    with pytest.raises(RenderError, match="rendered text holds U\\+D800, which UTF-8 cannot encode") as caught:
        render(template, log.model, log.substitutions(), {}, string_changes=log.string_changes())
    assert caught.value.line == line


@pytest.mark.parametrize("value, path, written", [
    ("&a0 {Service: x}", "new", "{Service: x, new: ''}"),
    ("&a0 [x, y]", "-", "[x, y, '']"),
])
def test_an_entry_added_to_an_anchored_one_line_flow_collection_goes_inside_its_brackets(value: str, path: str, written: str) -> None:
    text = f"Resources:\n  R0:\n    Type: T\n    Properties: {{P: {value}, Q: *a0}}\n"
    out = rendered(text, add(("Resources", "R0", "Properties", "P", path), ""))
    assert out == text.replace(f"P: {value}, Q: *a0", f"P: {written}, Q: {value}")  # the alias keeps the old value, as a copy


def test_an_alias_copy_without_its_first_entry_keeps_every_line_at_one_indentation() -> None:
    text = ("Resources:\n  R0:\n    Type: T\n    Metadata:\n      Shared: &a0\n        Mode: &a1 511  # note\n"
            "        Enabled: &a2 true  # note\n        Label: '0777'  # note\n      Image: x\n"
            "  R2:\n    Type: T\n    Metadata:\n      Shared: *a0\n")
    out = rendered(text, remove(("Resources", "R2", "Metadata", "Shared", "Mode")))
    assert out == text.replace("      Shared: *a0\n", "      Shared:\n        Enabled: *a2  # note\n        Label: '0777'  # note\n")


def test_an_alias_of_a_block_mapping_replaced_by_a_one_item_list_gets_block_lines() -> None:
    text = ("Resources:\n  R0:\n    Type: T\n    Properties:\n      Shared: &a0\n        Mode: 511\n"
            "  R1:\n    Type: T\n    Properties:\n      Shared: *a0\n")
    out = rendered(text, replace(("Resources", "R1", "Properties", "Shared"), ["x"]))
    assert out == text.replace("      Shared: *a0\n", "      Shared:\n        - x\n")


_ODD_SCALARS = st.sampled_from(["", "x,: y", "a: b", "- x", "#c", "x #c", "'q'", '"d"', "multi\nline", "trail\n", "é", "\t", "yes",
                                "0777", "1.10", "null", "&a", "*a", "!Ref x", "{a}", "[b]", "%x", "a\u2028b", "  lead", "x\r\ny"])
_NEW_VALUES = st.recursive(_ODD_SCALARS | st.integers(-2, 2) | st.booleans() | st.none(),
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(["a", "b: c", "k #", "1", "- x"]), inner, max_size=3),
                           max_leaves=6)


def _plain_containers(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[tuple[Any, ...], Any]]:
    """The mappings and lists under resources' Properties and Metadata that are not intrinsics (edits there keep a template)."""
    found = []
    intrinsic = isinstance(value, dict) and any(key.startswith("Fn::") or key in ("Ref", "Condition") for key in value)
    if isinstance(value, (dict, list)) and len(path) >= 3 and path[0] == "Resources" and path[2] in ("Properties", "Metadata") and not intrinsic:
        found.append((path, value))
    if isinstance(value, dict) and not any(isinstance(k, str) and (k.startswith("Fn::") or k == "Ref") for k in value):
        for key, child in value.items():
            found += _plain_containers(child, (*path, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found += _plain_containers(child, (*path, index))
    return found


def _dumped(template: dict[str, Any]) -> st.SearchStrategy[str]:
    """`template` as PyYAML writes it in its styles: canonical (`!!map`, `? key`), quoted, literal, folded at 20 columns, indentless lists."""
    styles = st.fixed_dictionaries({
        "default_flow_style": st.sampled_from([False, True, None]), "default_style": st.sampled_from([None, '"', "'", "|", ">"]),
        "width": st.sampled_from([20, 80]), "indent": st.sampled_from([2, 4]), "canonical": st.booleans(),
        "line_break": st.sampled_from(["\n", "\r\n"]),
    })
    return styles.map(lambda style: yaml.safe_dump(template, sort_keys=False, **style))


@given(data=st.data())
def test_any_edits_of_plain_values_render_to_the_planned_model(data: st.DataObject) -> None:
    """Replace, remove and add anything inside resources, in any layout (anchors, flow, comments, CRLF, PyYAML's styles): the text says the model.

    Run with thousands of examples, this test found six ways the renderer failed its own check (a RenderError each:
    the tests above about anchored flow collections, alias copies, standard tags, explicit keys and lists at their
    key's column); a strings-only version found the !GetAtt ones.
    """
    template = decode_text(data.draw(templates(max_resources=3).flatmap(lambda t: st.one_of(yaml_texts(t), json_texts(t), _dumped(t)))))
    log = EditLog(template.model)
    for _ in range(data.draw(st.integers(1, 3))):
        places = _plain_containers(log.model)
        if not places:
            break
        path, node = data.draw(st.sampled_from(places))
        keys = list(node) if isinstance(node, dict) else list(range(len(node)))
        op = data.draw(st.sampled_from(["replace", "remove", "add"]))
        if op == "replace" and (value := data.draw(_NEW_VALUES)) != node:
            log.apply(replace(path, value))
        elif op == "remove" and keys:
            log.apply(remove((*path, data.draw(st.sampled_from(keys)))))
        elif op == "add":
            key = data.draw(st.sampled_from(["new", "a b", "x: y", "- k"])) if isinstance(node, dict) else "-"
            if key not in keys:
                log.apply(add((*path, key), data.draw(_NEW_VALUES)))
    out = render(template, log.model, log.substitutions(), list_alignment(template.model, log.edits), string_changes=log.string_changes())
    assert decode_text(out).model == log.model


@pytest.mark.parametrize("value, new, written", [
    ("!!int 5", "x", "x"),  # the tag would misread the new text
    ("!!str 0777", "0778", "!!str 0778"),  # it still fits: kept
    ("!!map {A: x}", "", "''"),
])
def test_an_explicit_standard_tag_is_kept_only_when_the_new_value_is_of_its_kind(value: str, new: str, written: str) -> None:
    text = f"Resources:\n  R:\n    Type: T\n    Properties:\n      P: {value}\n"
    assert rendered(text, replace(("Resources", "R", "Properties", "P"), new)) == text.replace(value, written)


@pytest.mark.parametrize("text, path, expected", [
    ("Resources:\n  R:\n    Type: T\n    Properties: {\n      ? A\n      : x,\n      ? B\n      : y\n    }\n", "A",
     "Resources:\n  R:\n    Type: T\n    Properties: {\n      ? B\n      : y\n    }\n"),
    ("Resources:\n  R:\n    Type: T\n    Properties:\n      ? A\n      : x\n      B: y\n", "A",
     "Resources:\n  R:\n    Type: T\n    Properties:\n      B: y\n"),
])
def test_an_entry_written_with_an_explicit_key_is_deleted_with_its_question_mark(text: str, path: str, expected: str) -> None:
    assert rendered(text, remove(("Resources", "R", "Properties", path))) == expected


@given(text=st.text(" \t?\n\r{[,ab", max_size=12) | st.builds(lambda before, mark, space, key: before + mark + space + key, st.text("\n\r{[, a", max_size=3),
                                                                 st.sampled_from(["?", "", "a"]), st.text(" \t", max_size=3), st.text("ab", max_size=2)),
       data=st.data())
def test_an_entry_starts_at_its_question_mark_exactly_when_spaces_on_its_line_follow_one(text: str, data: st.DataObject) -> None:
    """`Layout._explicit_key_start` (sliced from the line's start) answers as stepping back over spaces and tabs one by one."""
    from panther_cn_transform.render.placement import Layout

    key_start = data.draw(st.integers(0, len(text)))
    position = key_start
    while position > 0 and text[position - 1] in " \t":
        position -= 1
    before = text[position - 2] if position >= 2 else "\n"
    explicit = position > 0 and text[position - 1] == "?" and position < key_start and before in " \t\r\n{[,"
    assert Layout(text, "\n", "t.yaml", {})._explicit_key_start(key_start) == (position - 1 if explicit else key_start)


@pytest.mark.parametrize("new, written", [("", "  ''"), ({"A": "x"}, "  A: x"), (["y"], "- y")])
def test_a_list_written_at_its_keys_column_is_replaced_by_a_value_that_reads_as_that_keys(new: Any, written: str) -> None:
    text = "Resources:\n  R:\n    Type: T\n    Properties:\n      P:\n      - x\n      Q: z\n"
    out = rendered(text, replace(("Resources", "R", "Properties", "P"), new))
    assert out == text.replace("      - x\n", f"      {written}\n")


def _substitute_by_counting(source: str, value: str, new: str, steps: tuple[tuple[str, str], ...], style: str) -> str | None:
    """`render.values._substitute` as first written: each step's occurrences counted in both texts."""
    for before, after in steps:
        if not style and ("{" in after or "}" in after):
            return None
        if source.count(before) != value.count(before):
            return None
        source, value = source.replace(before, after), value.replace(before, after)
    return source if value == new else None


plain_fragments = st.text("ab:-.{}$", min_size=1, max_size=4)


@given(value=st.text("ab: -.\n'\"{}$", max_size=30), extra=st.text("ab: -.\n'\"#|", max_size=8),
       steps=st.lists(st.tuples(plain_fragments, st.text("ab:-.{}$", max_size=5)), min_size=1, max_size=3),
       style=st.sampled_from(["", "'", '"', "|"]), spoil=st.booleans())
def test_a_substitution_is_made_on_the_source_exactly_when_counting_allows_it(
        value: str, extra: str, steps: list[tuple[str, str]], style: str, spoil: bool) -> None:
    """Lengths decide a step that changes the length, counts one that does not: the same answers as counting both texts."""
    from panther_cn_transform.render.values import _substitute

    source = extra + value + extra[::-1]  # a source text that holds the value and more (quotes, indentation, escapes)
    new = value
    for before, after in steps:
        new = new.replace(before, after)
    if spoil:
        new += "x"  # steps that do not explain the change
    assert _substitute(source, value, new, tuple(steps), style) == _substitute_by_counting(source, value, new, tuple(steps), style)


@given(word=st.from_regex(r"[A-Za-z0-9_/][A-Za-z0-9_./-]*", fullmatch=True) | st.text("aZ09_./-:#?,[]{}&*!|>'\"%@` \té\n", max_size=6))
def test_a_word_is_analysed_as_the_emitter_analyses_it(word: str) -> None:
    """The words whose analysis is known without the emitter get exactly the emitter's answer."""
    from panther_cn_transform.render.emit import _WORD, _analysis, _emitter_analysis

    assume(_WORD.fullmatch(word) is not None)
    fields = ("empty", "multiline", "allow_flow_plain", "allow_block_plain", "allow_single_quoted", "allow_double_quoted", "allow_block")
    assert [getattr(_analysis(word), name) for name in fields] == [getattr(_emitter_analysis(word), name) for name in fields]


@pytest.mark.parametrize("text", ["-a", ".a", "--- a", "...", "a b", "a:b", "a#", "", "é"])
def test_what_is_not_a_word_is_left_to_the_emitter(text: str) -> None:
    from panther_cn_transform.render.emit import _WORD

    assert not _WORD.fullmatch(text)

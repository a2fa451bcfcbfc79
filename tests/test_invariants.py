"""Each public invariant catches a real violation (and accepts the real thing)."""

from __future__ import annotations

import pytest

from panther_cn_transform import Edit, decode_text, load_rules, transform_text
from panther_cn_transform.testing import (
    assert_layout_preserved,
    assert_no_dangling_references,
    assert_patch_consistent,
    assert_region_ready,
    assert_values_preserved,
)

TEXT = """\
# keep me
Resources:
  Pool:
    Type: AWS::Cognito::UserPool
  Topic:
    Type: AWS::SNS::Topic
    DependsOn: Pool
    Properties:
      KmsMasterKeyId: arn:aws:kms:cn-north-1:123456789012:key/k
Outputs:
  Url:
    Value: https://sqs.us-west-1.amazonaws.com/1/q
"""
RESULT = transform_text(TEXT, load_rules("china"), region="cn-north-1", variables={"source_region": "us-west-1"})


def test_the_real_transform_passes_every_invariant() -> None:
    assert_no_dangling_references(RESULT.model)
    assert_region_ready(RESULT.model, "cn-north-1")
    assert_patch_consistent(decode_text(TEXT).model, RESULT.model, RESULT.patch)
    assert_layout_preserved(TEXT, RESULT.text, RESULT.edits)
    assert_values_preserved(TEXT, RESULT.text, RESULT.edits)


def test_dangling_reference_is_caught() -> None:
    broken = decode_text(TEXT).model
    del broken["Resources"]["Pool"]
    with pytest.raises(AssertionError, match="/Resources/Topic/DependsOn: DependsOn to 'Pool', which does not exist"):
        assert_no_dangling_references(broken)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda m: m["Resources"].update(Pool={"Type": "AWS::Cognito::UserPool"}), "/Resources/Pool: AWS::Cognito::UserPool does not exist in cn-north-1"),
        (lambda m: m["Resources"]["Topic"]["Properties"].update(KmsMasterKeyId="arn:aws:kms:x"), "global-partition ARN"),
        (lambda m: m["Outputs"]["Url"].update(Value="https://sqs.us-west-1.amazonaws.com/1/q"), "endpoint of another partition"),
    ],
)
def test_region_readiness_violations_are_caught(mutate: object, message: str) -> None:
    broken = decode_text(RESULT.text).model
    mutate(broken)  # type: ignore[operator]
    with pytest.raises(AssertionError, match=message):
        assert_region_ready(broken, "cn-north-1")


def test_inconsistent_patch_is_caught() -> None:
    output = decode_text(RESULT.text).model
    output["Resources"]["Topic"]["Properties"]["KmsMasterKeyId"] = "tampered"
    with pytest.raises(AssertionError, match="first difference at /Resources/Topic/Properties/KmsMasterKeyId"):
        assert_patch_consistent(decode_text(TEXT).model, output, RESULT.patch)


def test_an_untouched_line_that_changed_is_caught() -> None:
    with pytest.raises(AssertionError, match="line 1 changed or moved but no edit touches it: '# keep me'"):
        assert_layout_preserved(TEXT, RESULT.text.replace("# keep me", "# reformatted"), RESULT.edits)
    only_value_edit = [e for e in RESULT.edits if e.path[-1] == "KmsMasterKeyId"]
    with pytest.raises(AssertionError, match="line 3 changed"):
        assert_layout_preserved(TEXT, RESULT.text, only_value_edit)  # the removal's lines are not covered


def test_layout_maps_paths_after_list_removals_back_to_the_input() -> None:
    text = "Resources:\n  A:\n    Type: T\n    Properties:\n      L: [x, arn:aws:s3:::y]\n"
    edits = [Edit(("Resources", "A", "Properties", "L", 0), "remove", "t", "r"),
             Edit(("Resources", "A", "Properties", "L", 0), "replace", "t", "r", value="arn:aws-cn:s3:::y")]
    assert_layout_preserved(text, text.replace("[x, arn:aws:s3:::y]", "[arn:aws-cn:s3:::y]"), edits)


def test_an_inserted_line_that_no_edit_explains_is_caught() -> None:
    # the old check only asked that untouched lines survive in order, so both passed
    lines = RESULT.text.splitlines(keepends=True)
    assert lines[6:8] == ["Outputs:\n", "  Url:\n"]
    inside_untouched = "".join(lines[:7] + ["  # a note no edit wrote\n"] + lines[7:])
    with pytest.raises(AssertionError, match="output line 8 was inserted where no edit explains it: '  # a note no edit wrote'"):
        assert_layout_preserved(TEXT, inside_untouched, RESULT.edits)
    # lines 2-7 are touched, but only by removals, which take text away and add none
    where_removals_were = "".join(lines[:1] + ["Description: not from any edit\n"] + lines[1:])
    with pytest.raises(AssertionError, match="output line 2 was inserted where no edit explains it: 'Description: not from any edit'"):
        assert_layout_preserved(TEXT, where_removals_were, RESULT.edits)


def test_a_new_line_ending_in_lf_in_a_crlf_template_is_caught() -> None:
    crlf = TEXT.replace("\n", "\r\n")
    result = transform_text(crlf, load_rules("china"), region="cn-north-1", variables={"source_region": "us-west-1"})
    assert_layout_preserved(crlf, result.text, result.edits)
    mixed = result.text.replace("\r\n", "\n", 1)
    with pytest.raises(AssertionError, match="output line 1 ends in LF, but the template's lines end in CRLF"):
        assert_layout_preserved(crlf, mixed, result.edits)


def test_an_untouched_value_that_changed_form_is_caught() -> None:
    text = "Resources:\n  Gone:\n    Type: T\n    Properties: {Mode: &m 0777}\n  Kept:\n    Type: U\n    Properties: {Mode: *m, On: on}\n"
    edits = [Edit(("Resources", "Gone"), "remove", "t", "r")]
    good = "Resources:\n  Kept:\n    Type: U\n    Properties: {Mode: &m 0777, On: on}\n"
    assert_values_preserved(text, good, edits)
    with pytest.raises(AssertionError, match=r"/Resources/Kept/Properties/Mode: untouched value written '0777' is now '511'"):
        assert_values_preserved(text, good.replace("&m 0777", "511"), edits)
    with pytest.raises(AssertionError, match=r"/Resources/Kept/Properties/On: untouched value written 'on' is now 'true'"):
        assert_values_preserved(text, good.replace("On: on", "On: true"), edits)
    with pytest.raises(AssertionError, match="/Resources/Kept/Properties/On: an untouched value is missing"):
        assert_values_preserved(text, good.replace(", On: on", ""), edits)

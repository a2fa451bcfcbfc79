"""Property tests: generated templates through the transform, checked by the public invariants."""

from __future__ import annotations

import re
from typing import Any

from hypothesis import event, example, given
from hypothesis import strategies as st

from panther_cn_transform import decode_text, load_rules, transform_text
from panther_cn_transform.testing import (
    assert_layout_preserved,
    assert_no_dangling_references,
    assert_patch_consistent,
    assert_region_ready,
    assert_values_preserved,
    json_texts,
    templates,
    yaml_texts,
)

PANTHER = load_rules("panther")
REGIONS = st.sampled_from(["cn-north-1", "cn-northwest-1"])
VARIABLES = {"bucket": "cn-bucket", "source_region": "us-west-1"}


def texts() -> st.SearchStrategy[str]:
    return templates().flatmap(lambda t: st.one_of(yaml_texts(t), json_texts(t)))


@given(text=texts(), region=REGIONS)
def test_removal_leaves_nothing_dangling_and_reports_every_removal(text: str, region: str) -> None:
    result = transform_text(text, PANTHER, region=region, variables=VARIABLES)
    assert_no_dangling_references(result.model)
    source_ids = set(decode_text(text).model["Resources"])
    removed = source_ids - set(result.model.get("Resources") or {})
    reported = {e.path[1]: e.reason for e in result.edits if e.op == "remove" and len(e.path) == 2 and e.path[0] == "Resources"}
    assert set(reported) == removed
    assert all(reason.startswith(f"{rid} removed: ") for rid, reason in reported.items())


@given(text=texts(), region=REGIONS)
def test_output_is_region_ready_and_the_patch_explains_it(text: str, region: str) -> None:
    result = transform_text(text, PANTHER, region=region, variables=VARIABLES)
    assert_patch_consistent(decode_text(text).model, decode_text(result.text).model, result.patch)
    model = dict(result.model)
    if model.get("Resources"):
        # vendor-bucket is not a Panther bucket: its assets and hosts stay, each with a warning
        assert_region_ready(model, region, asset_buckets=["panther-enterprise-us-west-1"], warned=[w.pointer for w in result.warnings])


@given(text=texts(), region=REGIONS)
def test_transforming_twice_changes_nothing_more(text: str, region: str) -> None:
    once = transform_text(text, PANTHER, region=region, variables=VARIABLES)
    twice = transform_text(once.text, PANTHER, region=region, variables=VARIABLES)
    assert twice.text == once.text and not twice.edits


# Found by hypothesis: an edit after a list removal addresses the shortened list, and
# repeated identical lines made a diff-based check misalign.
REMOVAL_THEN_REWRITE = (
    "Resources:\r\n  R0:\r\n    Type: AWS::AIOps::InvestigationGroup\r\n  R3:\r\n    Type: AWS::ACMPCA::Certificate\r\n"
    "  R4:\r\n    Type: AWS::ACMPCA::Certificate\r\n    Properties:\r\n      P3:\r\n        Statement:\r\n"
    "          - Effect: Allow\r\n            Action: s3:GetObject\r\n            Resource:\r\n"
    "              - \"Fn::Join\":\r\n                  - ''\r\n                  - - 'arn:aws:s3:::'\r\n"
    "                    - Ref: R3\r\n              - Ref: R0\r\n              - arn:aws:s3:::fixed/*\r\n"
)
EVERYTHING_REMOVED_AFTER_BLOCK_SCALAR = (
    "Resources: \r\n  R0: \r\n    Type: AWS::AIOps::InvestigationGroup\r\n    Properties: \r\n"
    "      P1: |\r\n        multi\r\n        line\r\nOutputs: {\"O0\": {\"Value\": {\"Ref\": \"R0\"}}}\r\n\r\n"
)
# Issue 12: an anchor inside a removed resource, aliased by kept ones (YAML 1.1 forms that
# a re-emission would change), and an anchor shared by Metadata and a principal.
ALIASES_OF_A_REMOVED_RESOURCE = (
    "Resources:\n  Gone:\n    Type: AWS::AIOps::InvestigationGroup\n    Metadata:\n      Mode: &m 0777\n"
    "      Tags: &t\n        - {Key: on, Value: 1:20}   # kept\n        - Key: ratio\n          Value: 1.10\n"
    "  Kept:\n    Type: AWS::SNS::Topic\n    Metadata: {Mode: *m, Tags: *t}\n"
    "  Also:\n    Type: AWS::SNS::Topic\n    Metadata:\n      Tags: *t\n      Mode: *m\n"
)
PRINCIPAL_AND_METADATA_SHARE_AN_ANCHOR = (
    "Resources:\r\n  Role:\r\n    Type: AWS::IAM::Role\r\n    Metadata:\r\n      Trusted: &svc {Service: ec2.amazonaws.com}\r\n"
    "    Properties:\r\n      AssumeRolePolicyDocument:\r\n        Statement:\r\n          - {Effect: Allow, Principal: *svc,\r\n"
    "             Action: sts:AssumeRole}  # trust\r\n"
)
EVERY_RESOURCE_REMOVED_FROM_CRLF_JSON = (  # found by the thorough profile
    '{\r\n  "Resources": {\r\n    "R0": {\r\n      "Type": "AWS::AIOps::InvestigationGroup",\r\n'
    '      "Condition": "IsProd"\r\n    }\r\n  },\r\n  "Conditions": {"IsProd": {"Fn::Equals": [1, 1]}}\r\n}'
)
REPEATED_LINES = "Resources:\n" + "".join(f"  R{i}:\n    Type: AWS::AIOps::InvestigationGroup\n    Condition: C\n" for i in range(3)) + "Conditions:\n  C: !Equals [a, a]\n"


@given(text=texts())
@example(text=REMOVAL_THEN_REWRITE)
@example(text=REPEATED_LINES)
@example(text=EVERYTHING_REMOVED_AFTER_BLOCK_SCALAR)  # found by the thorough profile
@example(text=ALIASES_OF_A_REMOVED_RESOURCE)
@example(text=PRINCIPAL_AND_METADATA_SHARE_AN_ANCHOR)
@example(text=EVERY_RESOURCE_REMOVED_FROM_CRLF_JSON)
def test_only_edited_lines_change_and_untouched_values_keep_their_text(text: str) -> None:
    result = transform_text(text, PANTHER, region="cn-north-1", variables=VARIABLES)
    for layout in _layouts(text, result.text):
        event(layout)  # how often each layout of issue 12 is drawn (--hypothesis-show-statistics)
    assert_layout_preserved(text, result.text, result.edits)
    assert_values_preserved(text, result.text, result.edits)


_YAML11_FORM = re.compile(r"(?<![\w'\"])(0[0-7]+|0x[0-9a-f]+|0b[01]+|[1-9][0-9]*:[0-5][0-9]|[0-9]+\.[0-9]*0|on|On|ON|off|OFF|yes|Yes|no|No)(?![\w'\"])")


def _layouts(text: str, output: str) -> list[str]:
    layouts = ["JSON" if text.lstrip().startswith("{") else "YAML"]
    if "\r\n" in text:
        layouts.append(f"{layouts[0]} with CRLF")
    if re.search(r"[\[{][ \t]*\r?\n", text) and layouts[0] != "JSON":
        layouts.append("YAML flow collection over several lines" + (" with comments" if re.search(r",[ \t]*#", text) else ""))
    if _YAML11_FORM.search(text) and layouts[0] == "YAML":
        layouts.append("YAML 1.1 scalar written unlike its value (0777, 8:31, 1.10, on)")
    aliases = set(re.findall(r"\*(a[0-9]+)\b", text))
    if aliases:
        layouts.append("aliases")
        lines = set(text.splitlines())
        moved = [name for name in aliases if any(f"&{name}" in line and line not in lines for line in output.splitlines())]
        if moved:
            layouts.append("an alias given a copy of its anchored text")
    return layouts


@given(template=templates())
def test_yaml_and_json_renderings_give_the_same_result(template: dict[str, Any]) -> None:
    import json

    import yaml

    as_yaml = transform_text(yaml.safe_dump(template, sort_keys=False), PANTHER, region="cn-north-1", variables=VARIABLES)
    as_json = transform_text(json.dumps(template, indent=2), PANTHER, region="cn-north-1", variables=VARIABLES)
    assert as_yaml.model == as_json.model
    assert [e.to_patch_op() for e in as_yaml.edits] == [e.to_patch_op() for e in as_json.edits]
    assert [e.reason for e in as_yaml.edits] == [e.reason for e in as_json.edits]

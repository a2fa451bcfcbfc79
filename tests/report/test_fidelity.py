"""Fidelity to the hand ports: the reviewed expectations drive the pairs test.

For each corpus pair the China pack's port is compared with the authors' own
(`panther_cn_transform.report.fidelity`); the outcome must match `bench/fidelity_expectations.yml`
exactly: every miss is a known, explained one, every change the tool makes that the
authors did not is judged, no resource of a type the region has is removed that the
authors kept, and no entry of the expectations is stale.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from panther_cn_transform import load_rules, read_template, transform
from panther_cn_transform.model.edits import Edit
from panther_cn_transform.model.walk import REGION_PATTERN, iter_strings
from panther_cn_transform.report.fidelity import (
    ABSENT,
    Change,
    PairExpectations,
    Sides,
    author_changes,
    china_conditions,
    classify,
    compare,
    is_china_relevant,
    load_expectations,
    matches,
    normalize,
    run_pair,
)

from ..corpus import CORPUS

EXPECTATIONS_FILE = Path(__file__).resolve().parents[2] / "bench" / "fidelity_expectations.yml"
EXPECTATIONS = load_expectations(EXPECTATIONS_FILE)
PAIRS = sorted(p for p in (CORPUS / "pairs").iterdir() if p.is_dir())
CHINA = load_rules("china")
FOREIGN_REGION_ARN = re.compile(rf"arn:aws:[a-z0-9-]+:(?!cn-){REGION_PATTERN}:")


def test_the_corpus_holds_the_29_pairs_and_the_expectations_name_only_those() -> None:
    assert len(PAIRS) == 29
    assert set(EXPECTATIONS) <= {p.name for p in PAIRS}


def test_no_judgement_of_the_expectations_calls_a_change_wrong() -> None:
    judgements = {rule["judgement"] for pair in EXPECTATIONS.values() for rule in pair.extras}
    assert judgements <= {"needed"}


@pytest.mark.parametrize("pair", PAIRS, ids=lambda p: p.name)
def test_the_port_matches_the_reviewed_expectations(pair: Path) -> None:
    expected = EXPECTATIONS.get(pair.name, PairExpectations())
    report = run_pair(pair, CHINA, expected)
    missed = {pointer for pointer, outcome in report.outcomes.items() if outcome == "missed"}
    assert missed - set(expected.known_misses) == set(), "author changes neither reproduced nor warned"
    assert set(expected.known_misses) - missed == set(), "known misses that are no longer missed: remove them"
    unjudged = [f"[{e.rule}] {e.pointer}" for e in report.extras if e.pointer not in report.judged_extras]
    assert unjudged == [], "tool changes the authors did not make, not yet judged in the expectations"
    stale_rules = [rule for rule in expected.extras if not any(matches(rule, e) for e in report.extras)]
    assert stale_rules == [], "extras judgements that match no change any more"
    flagged = {change.pointer for change in author_changes(*_models(pair))}
    for section in (expected.not_china, expected.china, expected.mixed):
        assert set(section) - flagged == set(), "expectations naming no author change"
    assert report.removed_but_kept == [], "resources removed that the authors kept, of types the region has"
    wrong = [pointer for pointer, (judgement, _) in report.judged_extras.items() if judgement != "needed"]
    assert wrong == [], "tool changes judged wrong: a wrong rewrite is worse than a miss (issue 10)"


@pytest.mark.parametrize("pair", PAIRS, ids=lambda p: p.name)
def test_no_global_partition_arn_is_left(pair: Path) -> None:
    region = EXPECTATIONS.get(pair.name, PairExpectations()).region
    ours = transform(read_template(next(pair.glob("global.*"))), CHINA, region=region).model
    # an ARN naming a region outside China stays whole (warned outside prose): it is never half-rewritten
    left = [path for path, value in iter_strings(ours) if "arn:aws:" in FOREIGN_REGION_ARN.sub("", value)]
    assert left == []


def _models(pair: Path) -> tuple[dict[str, object], dict[str, object]]:
    return read_template(next(pair.glob("global.*"))).model, read_template(next(pair.glob("china.*"))).model


# -- the classifier itself ----------------------------------------------------------------


def test_partition_tokens_and_pseudo_parameters_are_equivalent() -> None:
    assert normalize({"Fn::Sub": "arn:${AWS::Partition}:s3:::b"}) == normalize("arn:aws-cn:s3:::b")
    assert normalize({"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":s3:::b"]]}) == "arn:aws-cn:s3:::b"
    assert normalize("ec2.${AWS::URLSuffix}") == normalize("ec2.amazonaws.com.cn")
    assert normalize("s3.cn-northwest-1.amazonaws.com.cn") == normalize("s3.${AWS::Region}.amazonaws.com.cn")
    assert normalize("arn:aws:s3:::b") != normalize("arn:aws-cn:s3:::b")


def test_a_china_condition_picks_its_branch() -> None:
    model = {
        "Conditions": {
            "IsChina": {"Fn::Equals": [{"Ref": "AWS::Partition"}, "aws-cn"]},
            "NotChina": {"Fn::Not": [{"Condition": "IsChina"}]},
            "Unknown": {"Fn::Equals": [{"Ref": "Param"}, "x"]},
        }
    }
    truth = china_conditions(model, "cn-north-1")
    assert truth == {"IsChina": True, "NotChina": False}
    assert normalize({"Fn::If": ["IsChina", "REGIONAL", "EDGE"]}, truth) == "REGIONAL"
    assert normalize({"P": {"Fn::If": ["NotChina", "x", {"Ref": "AWS::NoValue"}]}}, truth) == {}
    assert normalize({"Fn::If": ["Unknown", "a", "b"]}, truth) == {"Fn::If": ["Unknown", "a", "b"]}
    assert normalize({"Ref": "AWS::NoValue"}) == ABSENT


def test_relevance_follows_china_and_global_markers() -> None:
    assert is_china_relevant(Change("/a", "value", "arn:aws:s3:::b", "arn:${AWS::Partition}:s3:::b"))
    assert is_china_relevant(Change("/a", "value", "aws-quickstart", "aws-cn-quickstart"))
    assert is_china_relevant(Change("/a", "value", "us-east-1", "cn-north-1"))
    assert not is_china_relevant(Change("/a", "value", "db.r4.large", "db.r5.large"))
    assert not is_china_relevant(Change("/a", "removed", {"Default": "10.0.3.0/24"}, None))


def test_changed_lines_of_a_script_are_separate_changes() -> None:
    before = {"Code": "line one\nregion = 'us-east-1'\nline three\nurl = 'x.amazonaws.com'\n"}
    after = {"Code": "line one\nregion = 'cn-north-1'\nline three\nurl = 'x.amazonaws.com.cn'\n"}
    changes = author_changes(before, after)
    assert [c.pointer for c in changes] == ["/Code#L2", "/Code#L4"]


def test_reproduced_warned_and_missed() -> None:
    change = Change("/Resources/R/Properties/Arn", "value", "arn:aws:sns:::t", "arn:aws-cn:sns:::t")
    theirs = {"Resources": {"R": {"Properties": {"Arn": "arn:aws-cn:sns:::t"}}}}
    same = {"Resources": {"R": {"Properties": {"Arn": {"Fn::Sub": "arn:${AWS::Partition}:sns:::t"}}}}}
    other = {"Resources": {"R": {"Properties": {"Arn": "arn:aws:sns:::t"}}}}
    assert classify(change, Sides(same, theirs), []) == "reproduced"
    assert classify(change, Sides(other, theirs), ["/Resources/R"]) == "warned"
    assert classify(change, Sides(other, theirs), ["/Resources/S"]) == "missed"


def test_extras_are_the_tools_changes_where_the_authors_changed_nothing() -> None:
    global_model = {"Resources": {"R": {"Type": "AWS::SNS::Topic", "Properties": {"A": "arn:aws:x", "B": "arn:aws:y"}}}}
    china_model = {"Resources": {"R": {"Type": "AWS::SNS::Topic", "Properties": {"A": "arn:aws-cn:x", "B": "arn:aws:y"}}}}
    ours = {"Resources": {"R": {"Type": "AWS::SNS::Topic", "Properties": {"A": "arn:aws-cn:x", "B": "arn:aws-cn:y"}}}}
    edits = [
        Edit(("Resources", "R", "Properties", "A"), "replace", "partition", "r", "arn:aws-cn:x", "arn:aws:x"),
        Edit(("Resources", "R", "Properties", "B"), "replace", "partition", "r", "arn:aws-cn:y", "arn:aws:y"),
    ]
    judged = PairExpectations(extras=({"rule": "partition", "judgement": "needed", "reason": "forgot"},))
    report = compare("p", global_model, china_model, ours, edits, [], judged)
    assert report.outcomes == {"/Resources/R/Properties/A": "reproduced"}
    assert [e.pointer for e in report.extras] == ["/Resources/R/Properties/B"]
    assert report.judged_extras == {"/Resources/R/Properties/B": ("needed", "forgot")}


def test_a_removed_resource_the_authors_kept_is_counted_only_when_the_region_has_its_type() -> None:
    global_model = {"Resources": {"F": {"Type": "AWS::Lambda::Function"}, "P": {"Type": "AWS::Cognito::UserPool"}}}
    ours: dict[str, object] = {"Resources": {}}
    report = compare("p", global_model, global_model, ours, [], [], PairExpectations(),
                     lacks=lambda kind: kind == "AWS::Cognito::UserPool")
    assert report.removed_but_kept == ["F"]

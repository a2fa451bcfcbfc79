"""Shared indexes of the model that rules query: they answer exactly what a fresh walk would."""

from __future__ import annotations

import dataclasses
import re
from typing import Any

import pytest
import regex
from hypothesis import given
from hypothesis import strategies as st

from panther_cn_transform import load_rules
from panther_cn_transform.model.edits import Edit, EditLog
from panther_cn_transform.model.graph import build_graph
from panther_cn_transform.model.walk import iter_strings, strings_and_mappings
from panther_cn_transform.partitions.s3urls import OBJECT_KEYS, find_references, object_references
from panther_cn_transform.ruleset.asset_flow import asset_values, indexed_asset_values
from panther_cn_transform.ruleset.patterns import required_text

from ..corpus import decodable_corpus_templates

ALPHABET = "ab:/s3\x00-"
texts = st.text(alphabet=ALPHABET, max_size=8)
models = st.recursive(
    texts | st.integers(0, 3),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(["Ref", "k", "Fn::Sub", "x"]), inner, max_size=3),
    max_leaves=25,
).map(lambda body: {"Resources": {"R": {"Type": "AWS::SNS::Topic", "Properties": {"P": body}}}})


@given(model=models, needles=st.lists(st.text(alphabet=ALPHABET, max_size=3), min_size=1, max_size=3))
def test_strings_containing_is_the_filter_of_all_strings(model: dict[str, Any], needles: list[str]) -> None:
    log = EditLog(model)
    expected = [(path, value) for path, value in iter_strings(model) if any(needle in value for needle in needles)]
    assert log.strings_containing(*needles) == expected


@given(values=st.lists(st.text(alphabet="ab\x00", max_size=30), min_size=1, max_size=12), data=st.data())
def test_strings_containing_short_and_long_needles_is_the_filter_of_all_strings(values: list[str], data: st.DataObject) -> None:
    """Needles under eight characters are found by a pattern, longer ones by `str.find`: the same strings either way."""
    def needle() -> str:  # mostly a piece of a value, so that long needles are found too
        value = data.draw(st.sampled_from(values).filter(lambda v: len(v.replace("\x00", "")) > 0) | st.just("abab"))
        start = data.draw(st.integers(0, len(value) - 1))
        piece = data.draw(st.text(alphabet="ab", min_size=1, max_size=11)) if "\x00" in value[start:] else value[start:start + data.draw(st.integers(1, 11))]
        return piece.replace("\x00", "") or "a"

    needles = [needle() for _ in range(data.draw(st.integers(1, 3)))]
    model = {"Resources": {"R": {"Type": "AWS::SNS::Topic", "Properties": {"P": values}}}}
    expected = [(path, value) for path, value in iter_strings(model) if any(needle in value for needle in needles)]
    assert EditLog(model).strings_containing(*needles) == expected


def test_a_long_needle_is_found_only_where_it_is_whole() -> None:
    values = ["arn:aws:iam::1:role/x", "rn:aws:iam::1:role/x", "arn:aws:iam", "s3", "3s", "xs3"]
    model = {"Resources": {"R": {"Type": "AWS::SNS::Topic", "Properties": {"P": values}}}}
    found = EditLog(model).strings_containing("arn:aws:iam::", "s3")  # one needle for `find`, one for the pattern
    assert [value for _, value in found] == ["arn:aws:iam::1:role/x", "s3", "xs3"]


@given(model=models, data=st.data())
def test_the_string_index_follows_edits_as_a_fresh_walk_would(model: dict[str, Any], data: st.DataObject) -> None:
    log = EditLog(model)
    for _ in range(data.draw(st.integers(1, 6))):
        strings = log.strings()
        held = list(strings)
        if not strings:
            break
        path, value = data.draw(st.sampled_from(strings))
        kind = data.draw(st.sampled_from(["string", "string", "mapping", "remove"]))
        new: Any = value + data.draw(st.text(alphabet="xy", min_size=1, max_size=2)) if kind == "string" else {"Ref": "X"}
        log.apply(Edit(path, "remove" if kind == "remove" else "replace", "t", "test", value=new))
        assert held == strings, "a list handed out never changes under its holder"
        assert log.strings() == list(iter_strings(log.model))
        assert log.strings_containing("a", "x") == [(p, v) for p, v in iter_strings(log.model) if "a" in v or "x" in v]
        # longer needles are looked for among the strings of a shorter one found before (and a needle beside one it holds adds nothing)
        assert log.strings_containing("ab") == [(p, v) for p, v in iter_strings(log.model) if "ab" in v]
        assert log.strings_containing("s3:", "s3") == [(p, v) for p, v in iter_strings(log.model) if "s3" in v]
        mappings = strings_and_mappings(log.model)[1]
        for keys in (["k"], ["k", "Ref"], ["Ref", "x", "Fn::Sub"]):  # one, two and more keys are looked up differently
            assert log.mappings_with(*keys) == [(p, m) for p, m in mappings if any(key in m for key in keys)]


def test_an_edit_is_a_frozen_record_with_every_field_set() -> None:
    edit = Edit(("Resources", "R"), "replace", "rule", "why", value="x", fragments=(("a", "b"),))
    assert dataclasses.astuple(edit) == (("Resources", "R"), "replace", "rule", "why", "x", None, (("a", "b"),))
    assert edit == Edit(("Resources", "R"), "replace", "rule", "why", "x", None, (("a", "b"),)) and hash(edit) == hash(dataclasses.replace(edit))
    with pytest.raises(dataclasses.FrozenInstanceError):
        edit.value = "y"  # type: ignore[misc]


def test_the_log_records_the_value_it_replaced_whatever_old_value_the_rule_passed() -> None:
    log = EditLog({"Resources": {"R": {"Type": "T", "Properties": {"A": "a"}}}})
    path = ("Resources", "R", "Properties", "A")
    passed = log.apply(Edit(path, "replace", "t", "test", value="b", old=log.get(path)))
    assert passed.old == "a"
    wrong = log.apply(Edit(path, "replace", "t", "test", value="c", old="not what is there"))
    assert wrong.old == "b" and log.edits[-1] is wrong


def test_an_edit_after_items_moved_lands_where_its_path_now_points() -> None:
    """Edits after one that moved list items (or replaced a container) land where their path now points; the input is never changed."""
    items = [{"Name": "a"}, {"Name": "b"}, {"Name": "c"}]
    model = {"Resources": {"R": {"Type": "T", "Properties": {"Items": items}}}}
    log = EditLog(model)
    at = ("Resources", "R", "Properties", "Items")
    log.apply(Edit((*at, 1, "Name"), "replace", "t", "test", value="b2"))
    log.apply(Edit((*at, 0), "remove", "t", "test"))
    log.apply(Edit((*at, 1, "Name"), "replace", "t", "test", value="c2"))  # the item that was at 2
    log.apply(Edit((*at, 0), "replace", "t", "test", value={"Name": "new"}))
    log.apply(Edit((*at, 0, "Name"), "replace", "t", "test", value="new2"))
    assert log.model["Resources"]["R"]["Properties"]["Items"] == [{"Name": "new2"}, {"Name": "c2"}]
    assert items == [{"Name": "a"}, {"Name": "b"}, {"Name": "c"}]  # the input is never changed


# patterns that may run on over the separator (`[^:]*`, `.*`) and lookarounds at a string's edges
SEARCHED = [r"a[^:]*b", r"s3.*:", r"(?<![a-z])ab(?![a-z])", r"b\x00?a", r":(?!a)[ab]+/", r"x"]


@given(model=models, pattern=st.sampled_from(SEARCHED), data=st.data())
def test_strings_matching_is_the_filter_of_all_strings_also_after_edits(model: dict[str, Any], pattern: str, data: st.DataObject) -> None:
    compiled = re.compile(pattern)
    log = EditLog(model)
    for _ in range(data.draw(st.integers(0, 4))):  # string edits leave some joined-text entries stale
        assert log.strings_matching(compiled) == [(p, v) for p, v in iter_strings(log.model) if compiled.search(v)]
        strings = log.strings()
        if not strings:
            break
        path, value = data.draw(st.sampled_from(strings))
        log.apply(Edit(path, "replace", "t", "test", value=value + data.draw(st.text(alphabet="ab:x\x00", min_size=1, max_size=3))))
    assert log.strings_matching(compiled) == [(p, v) for p, v in iter_strings(log.model) if compiled.search(v)]


@given(model=models, keys=st.lists(st.sampled_from(["Ref", "k", "Fn::Sub", "x", "P"]), min_size=1, max_size=2), data=st.data())
def test_strings_under_keys_are_those_whose_path_has_a_key_also_after_edits(model: dict[str, Any], keys: list[str], data: st.DataObject) -> None:
    log = EditLog(model)
    for _ in range(data.draw(st.integers(0, 3))):
        assert log.strings_under(*keys) == [(p, v) for p, v in iter_strings(log.model) if set(keys) & set(p)]
        strings = log.strings()
        if not strings:
            break
        path, value = data.draw(st.sampled_from(strings))
        log.apply(Edit(path, "replace", "t", "test", value=value + "x"))
    assert log.strings_under(*keys) == [(p, v) for p, v in iter_strings(log.model) if set(keys) & set(p)]


def test_the_foreign_arn_search_finds_every_string_warn_arns_reports_on_the_corpus() -> None:
    """The prefilter of warn_arns misses no string with an ARN outside the partition's regions."""
    from panther_cn_transform.model.walk import is_region
    from panther_cn_transform.ruleset.actions.warn_arns import _ARN, _foreign_arn

    regions = ("cn-north-1", "cn-northwest-1")
    checked = 0
    for path, template in decodable_corpus_templates():
        model = template.model
        wanted = [(p, v) for p, v in iter_strings(model)
                  if any(is_region(m.group("region")) and m.group("region") not in regions for m in _ARN.finditer(v))]
        found = EditLog(model).strings_matching(_foreign_arn(regions))
        assert [entry for entry in found if entry in wanted] == wanted, path
        checked += len(wanted)
    assert checked > 20  # 35 such strings in the corpus


@given(model=models, data=st.data())
def test_the_shared_graph_is_the_graph_of_the_current_model(model: dict[str, Any], data: st.DataObject) -> None:
    log = EditLog(model)
    assert log.graph() is log.graph()
    strings = log.strings()
    if strings:
        path, value = data.draw(st.sampled_from(strings))
        log.apply(Edit(path, "replace", "t", "test", value=value + "x"))
    assert log.names_used() == build_graph(log.model).names_used()


PIECES = ["a", "b", "ab", r"\.", ".", "[ab]", "(?:a|b)", "(a)", "b?", "a*", "a+", "x{2}", "(?i)", "(?i:ab)", "|", "^", "$",
          r"\b", "{e<=1}", r"\{", "(?:ab){e<=1}", r"\d", "[^a]", "(?=a)", "(?<!b)"]


@given(pieces=st.lists(st.sampled_from(PIECES), min_size=1, max_size=6), subject=st.text(alphabet="abxAB.{}1 ", max_size=12))
def test_every_match_of_a_pattern_contains_its_needle(pieces: list[str], subject: str) -> None:
    pattern = "".join(pieces)
    try:
        compiled = regex.compile(pattern)
    except (regex.error, ValueError):
        return
    needle = required_text(pattern)
    if needle is None:
        return
    for match in compiled.finditer(subject, overlapped=True):
        assert needle in match.group(0), (pattern, subject, needle)


ASSET_PROPERTIES = {tuple(str(p).split(".", 1)) for p in next(
    r for r in load_rules("china").rules if r.action == "rewrite_s3_assets").params["asset_properties"]}


def indexed_assets(model: dict[str, Any]) -> list[tuple[Any, Any, bool]]:
    """What rewrite_s3_assets follows: the assets found from the index, without a walk."""
    log = EditLog(model)
    return indexed_asset_values(model, ASSET_PROPERTIES, [path for path, _ in log.strings_containing("s3")],
                                [path for path, _ in log.mappings_with(*OBJECT_KEYS)])


def test_the_index_finds_the_assets_and_object_references_a_walk_finds_on_the_corpus() -> None:
    compared = 0
    for path, template in decodable_corpus_templates():
        model = template.model
        assert indexed_assets(model) == asset_values(model, ASSET_PROPERTIES), path
        objects = [r for r in find_references(model) if r.form == "object"]
        assert object_references(model, EditLog(model).mappings_with(*OBJECT_KEYS)) == objects, path  # the same order
        compared += 1
    assert compared > 100


bucket_values = st.sampled_from([{"Ref": "B"}, {"Fn::Sub": "s3-${AWS::Region}"}, 5, ["x"], "plain-bucket", {"Fn::If": ["C", "a", "b"]}])
asset_trees = st.recursive(
    st.sampled_from(["s3://b/k", "x", "https://b.s3.amazonaws.com/k", 7]) | st.builds(lambda v: {"Ref": v}, st.sampled_from(["P", "s3p"])),
    lambda inner: st.lists(inner, max_size=3)
    | st.dictionaries(st.sampled_from(["Fn::Sub", "Fn::Join", "Key", "S3Key", "Code", "x", "Ref"]), inner, min_size=1, max_size=3)
    | st.fixed_dictionaries({"S3Bucket": bucket_values, "S3Key": inner})
    | st.fixed_dictionaries({"Bucket": bucket_values, "Key": inner, "Version": inner}),
    max_leaves=12,
)
resource_types = st.sampled_from(["AWS::Lambda::Function", "AWS::EC2::Instance", "AWS::CloudFormation::Stack"]) | st.builds(
    lambda v: {"Ref": v}, st.just("TypeParameter"))


@given(st.lists(st.tuples(resource_types,
                          st.dictionaries(st.sampled_from(["Code", "TemplateURL", "UserData", "Bucket", "Other"]), asset_trees, max_size=3),
                          asset_trees | st.none()), max_size=4))
def test_assets_found_through_the_index_are_those_a_walk_finds_in_its_order(resources: list[tuple[Any, Any, Any]]) -> None:
    model: dict[str, Any] = {"Resources": {}}
    for index, (kind, properties, metadata) in enumerate(resources):
        resource: dict[str, Any] = {"Type": kind, "Properties": properties}
        if metadata is not None:
            resource["Metadata"] = metadata
        model["Resources"][f"R{index}"] = resource
    assert indexed_assets(model) == asset_values(model, ASSET_PROPERTIES)
    objects = [r for r in find_references(model) if r.form == "object"]
    assert object_references(model, EditLog(model).mappings_with(*OBJECT_KEYS)) == objects


path_parts = st.sampled_from(["Fn::Sub", "Fn::Join", "Fn::If", "Description", "Metadata", "Value", "Resources"]) | st.integers(0, 2)


@given(st.lists(path_parts, max_size=8))
def test_the_last_meaning_of_a_path_is_the_last_step_of_its_semantic_path(path: list[Any]) -> None:
    from panther_cn_transform.model.walk import last_meaning, semantic_path

    meaning = semantic_path(tuple(path))
    assert last_meaning(tuple(path)) == (meaning[-1] if meaning else None)


principal_parts = path_parts | st.sampled_from(["Principal", "Service", "AWSServiceName", "iam:PassedToService"])


@given(st.lists(principal_parts, max_size=8))
def test_the_keys_read_from_a_paths_end_are_those_of_its_semantic_path(path: list[Any]) -> None:
    """`meaning_keys` and `is_service_principal` skip building the semantic path, and answer as it does."""
    from panther_cn_transform.model.walk import (
        _PRINCIPAL_CONDITION_KEYS,
        is_service_principal,
        meaning_keys,
        semantic_path,
    )

    keys = [part for part in semantic_path(tuple(path)) if isinstance(part, str)]
    assert meaning_keys(tuple(path)) == keys
    principal = bool(keys) and (keys[-1] in ("Principal", "AWSServiceName", "ServicePrincipal")
                                or keys[-1] in _PRINCIPAL_CONDITION_KEYS or keys[-2:] == ["Principal", "Service"])
    assert is_service_principal(tuple(path)) == principal


@given(st.lists(st.text(alphabet="a/~01") | st.integers(0, 12), max_size=6))
def test_a_json_pointer_is_the_one_jsonpointer_builds(path: list[Any]) -> None:
    """`to_pointer`'s one-join shortcut escapes as RFC 6901 says (jsonpointer, the library, is the oracle)."""
    import jsonpointer

    from panther_cn_transform.model.paths import to_pointer

    assert to_pointer(tuple(path)) == jsonpointer.JsonPointer.from_parts([str(part) for part in path]).path


@given(st.lists(path_parts, max_size=8), st.integers(0, 5))
def test_the_leading_meaning_of_a_path_is_the_start_of_its_semantic_path(path: list[Any], length: int) -> None:
    from panther_cn_transform.model.walk import leading_meaning, semantic_path

    assert leading_meaning(tuple(path), length) == semantic_path(tuple(path))[:length]


asset_path_parts = st.sampled_from(["Resources", "Properties", "Code", "Fn::If", "Fn::Sub", "Location", "Fn::Transform", "B"]) | st.integers(0, 1)


@given(st.sampled_from([[], ["Resources"], ["Resources", "B", "Properties"], ["Resources", "Fn::If", "Properties"]]),
       st.lists(asset_path_parts, max_size=5), st.sampled_from(["AWS::Lambda::Function", "Fn::If"]))
def test_an_asset_property_is_told_by_the_semantic_path_of_a_string(start: list[Any], rest: list[Any], kind: str) -> None:
    """The asset rule's shortcut (a property's first four steps are their own meaning) answers as the semantic path does."""
    from panther_cn_transform.model.walk import semantic_path
    from panther_cn_transform.ruleset.actions.rewrite_s3_assets import RewriteS3Assets

    path = start + rest
    model = {"Resources": {name: {"Type": kind} for name in ("B", "Properties", "Code")}}
    properties = {("AWS::Lambda::Function", "Code"), ("AWS::Lambda::Function", "B")}
    meaning = semantic_path(tuple(path))
    if len(meaning) >= 4 and meaning[0] == "Resources" and meaning[2] == "Properties":
        resource = model["Resources"].get(meaning[1])
        expected = (resource.get("Type") if resource else None, str(meaning[3])) in properties
    else:
        expected = "Location" in meaning and "Fn::Transform" in path
    assert RewriteS3Assets._in_asset_property(model, tuple(path), properties) == expected


def test_the_walk_takes_subclasses_of_strings_and_containers_as_the_plain_types() -> None:
    """A model built by a caller may hold an OrderedDict or a str subclass; the walk's exact-type shortcut must not skip them."""
    from collections import OrderedDict

    class Text(str):
        pass

    model = {"Resources": OrderedDict(R={"Type": Text("AWS::SNS::Topic"), "Properties": {"P": [Text("arn:aws:sns:::t"), 1, None]}})}
    strings, mappings = strings_and_mappings(model)
    assert strings == list(iter_strings(model)) == [(("Resources", "R", "Type"), "AWS::SNS::Topic"), (("Resources", "R", "Properties", "P", 0), "arn:aws:sns:::t")]
    assert [path for path, _ in mappings] == [(), ("Resources",), ("Resources", "R"), ("Resources", "R", "Properties")]

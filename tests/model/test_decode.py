"""Decoding: short and long forms are one model; every node knows where it is."""

from __future__ import annotations

import copy
import sys
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from panther_cn_transform import TemplateError, decode_bytes, decode_text
from panther_cn_transform.model.intrinsics import SHORT_TAGS
from panther_cn_transform.testing import templates, yaml_texts

SHORT = """\
Resources:
  R:
    Type: AWS::SNS::Topic
    Properties:
      A: !Ref X
      B: !GetAtt Res.Attr.Deep
      C: !GetAtt [Res, Attr]
      D: !Sub "x-${AWS::Region}"
      E: !Join ["", [a, !Ref Y]]
      F: !If [Cond, !Base64 v, !Ref AWS::NoValue]
      G: !Select [0, !GetAZs ""]
      H: !FindInMap [M, !Ref AWS::Region, k]
"""
LONG = """\
Resources:
  R:
    Type: AWS::SNS::Topic
    Properties:
      A: {Ref: X}
      B: {"Fn::GetAtt": [Res, Attr.Deep]}
      C: {"Fn::GetAtt": [Res, Attr]}
      D: {"Fn::Sub": "x-${AWS::Region}"}
      E: {"Fn::Join": ["", [a, {Ref: Y}]]}
      F: {"Fn::If": [Cond, {"Fn::Base64": v}, {Ref: AWS::NoValue}]}
      G: {"Fn::Select": [0, {"Fn::GetAZs": ""}]}
      H: {"Fn::FindInMap": [M, {Ref: AWS::Region}, k]}
"""


def test_short_and_long_forms_give_the_same_model() -> None:
    assert decode_text(SHORT).model == decode_text(LONG).model


@pytest.mark.parametrize("tag", sorted(SHORT_TAGS))
def test_every_short_tag_becomes_its_long_form(tag: str) -> None:
    template = decode_text(f"Resources:\n  R:\n    Type: T\n    Properties:\n      P: {tag} [a, b]\n")
    assert template.model["Resources"]["R"]["Properties"]["P"] == {SHORT_TAGS[tag]: ["a", "b"]}


def test_json_and_yaml_of_the_same_template_are_equal() -> None:
    json_text = '{"Resources": {"R": {"Type": "T", "Properties": {"A": {"Ref": "X"}, "N": 1}}}}'
    yaml_text = "Resources:\n  R:\n    Type: T\n    Properties:\n      A: !Ref X\n      N: 1\n"
    assert decode_text(json_text).format == "json"
    assert decode_text(yaml_text).format == "yaml"
    assert decode_text(json_text).model == decode_text(yaml_text).model


def test_anchors_aliases_block_scalars_crlf_and_bom() -> None:
    text = (
        "\ufeffResources:\r\n  A:\r\n    Type: T\r\n    Properties: &props\r\n      Code: |\r\n        line 1\r\n"
        "        line 2\r\n  B:\r\n    Type: T\r\n    Properties: *props\r\n"
    )
    template = decode_bytes(text.encode("utf-8"))
    assert template.bom and template.newline == "\r\n"
    resources = template.model["Resources"]
    assert resources["A"]["Properties"] == resources["B"]["Properties"] == {"Code": "line 1\nline 2\n"}


def test_dates_and_yaml11_words_stay_as_written() -> None:
    template = decode_text("AWSTemplateFormatVersion: 2010-09-09\nResources:\n  R:\n    Type: T\n    Properties: {A: yes}\n")
    assert template.model["AWSTemplateFormatVersion"] == "2010-09-09"
    assert template.model["Resources"]["R"]["Properties"]["A"] is True  # YAML 1.1, as CloudFormation reads it


def test_namespaced_tool_tags_load_opaquely() -> None:
    template = decode_text("Resources:\n  R:\n    Type: T\n    Properties:\n      Code: !Rain::Embed f.py\n")
    assert template.model["Resources"]["R"]["Properties"]["Code"] == {"!Rain::Embed": "f.py"}


@pytest.mark.parametrize(
    ("text", "message", "line"),
    [
        ("Resources:\n  R:\n    Type: T\n  R:\n    Type: U\n", "duplicate key 'R' (first at line 2)", 4),
        ('{"Resources": {"R": {"Type": "T"}, "R": {"Type": "U"}}}', "duplicate key 'R'", 1),
        ("Resources:\n  R: [unclosed\n", "malformed YAML", 3),
        ('{"Resources": {"R": }', "invalid JSON", 1),
        ("Description: nothing\n", "no Resources section", 1),
        ("- a\n- b\n", "the document is a list", 1),
        ("Resources: [a]\n", "Resources must be a mapping", 1),
        ("Resources:\n  R:\n    Properties: {}\n", "resource 'R' has no Type", None),
        ("Resources:\n  R:\n    Type: T\n    Properties: {A: !Foo x}\n", "unknown tag !Foo", 4),
        ("Resources:\n  R:\n    Type: T\n    Properties: {A: !GetAtt nodot}\n", "!GetAtt needs Resource.Attribute", 4),
        ("", "empty file", None),
        ("Resources:\n  R:\n    Type: T\n    Metadata: !!set {a, b}\n", "unsupported YAML tag 'tag:yaml.org,2002:set'", 4),
        ("Resources:\n  R:\n    Type: T\n    Metadata: !!python/object/apply:os.system [x]\n", "unsupported YAML tag", 4),
        ("Resources:\n  R:\n    Type: T\n    Metadata:\n      A: !!omap [{a: 1}]\n", "unsupported YAML tag", 5),
    ],
)
def test_bad_templates_are_one_line_errors_with_a_line(text: str, message: str, line: int | None) -> None:
    with pytest.raises(TemplateError) as caught:
        decode_text(text, source="t.yaml")
    assert message in caught.value.message
    assert caught.value.line == line
    assert "\n" not in str(caught.value) and str(caught.value).startswith("t.yaml")


def test_non_utf8_and_binary_bytes_are_refused() -> None:
    with pytest.raises(TemplateError, match="not UTF-8"):
        decode_bytes(b"Resources:\n  R: \xff\xfe\n", source="t")
    with pytest.raises(TemplateError, match="binary"):
        decode_bytes(b"PK\x03\x04\x00\x00", source="t")


@given(st.lists(st.integers(-10**30, 10**30).map(str) | st.from_regex(r"\A[-+]?[0-9_]{1,8}\Z") | st.sampled_from(
    ["0", "-0", "+0", "00", "0777", "0x1f", "0b11", "1:30", "1_000", "٣", "12abc"]), min_size=1, max_size=10))
def test_every_yaml11_number_spelling_decodes_as_pyyaml_reads_it(spellings: list[str]) -> None:
    text = "Resources: {}\nValues:\n" + "".join(f"  - {s}\n" for s in spellings)
    try:
        expected = yaml.load(text, Loader=yaml.CSafeLoader)["Values"]
    except (yaml.YAMLError, ValueError):
        return
    assert decode_text(text).model["Values"] == expected
    assert [type(v) for v in decode_text(text).model["Values"]] == [type(v) for v in expected]


def _depth(value: object) -> int:
    """The depth of the deepest value (the root is at depth 1), recursively."""
    children = list(value.values()) if isinstance(value, dict) else value if isinstance(value, list) else []
    return 1 + max((_depth(child) for child in children), default=0)


json_values = st.recursive(st.none() | st.integers() | st.text(max_size=2),
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=2), inner, max_size=3),
                           max_leaves=20)


@given(value=json_values, max_depth=st.integers(0, 8))
def test_the_json_depth_check_refuses_exactly_what_is_deeper_than_the_limit(value: object, max_depth: int) -> None:
    from panther_cn_transform.model.json_load import _check_depth

    if _depth(value) > max_depth:
        with pytest.raises(TemplateError, match="nesting deeper than"):
            _check_depth(value, "t.json", max_depth)
    else:
        _check_depth(value, "t.json", max_depth)


@pytest.mark.parametrize("max_depth, refused", [(6000, False), (4000, True)])
def test_the_json_depth_check_holds_beyond_the_depth_python_recursion_allows(max_depth: int, refused: bool) -> None:
    from panther_cn_transform.model.json_load import _check_depth

    value: list[object] = []
    for _ in range(4999):  # 5,000 levels, with an empty list at the bottom
        value = [value]
    assert sys.getrecursionlimit() < 5000
    if refused:
        with pytest.raises(TemplateError, match="nesting deeper than 4000"):
            _check_depth(value, "t.json", max_depth)
    else:
        _check_depth(value, "t.json", max_depth)


def _values_in(value: object) -> int:
    """The values a model holds, itself included: what `Limits.max_nodes` counts (after aliases are expanded)."""
    if isinstance(value, dict):
        return 1 + sum(_values_in(child) for child in value.values())
    if isinstance(value, list):
        return 1 + sum(_values_in(child) for child in value)
    return 1


_plain_values = st.recursive(
    st.text("abc", min_size=1, max_size=3) | st.integers(0, 9) | st.none(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text("xyz", min_size=1, max_size=2), inner, max_size=3),
    max_leaves=12,
)


@given(resources=st.dictionaries(st.text("RST", min_size=1, max_size=2), _plain_values, min_size=1, max_size=3),
       flow=st.booleans(), shared=st.booleans())
def test_the_node_limit_counts_every_value_once_per_place_it_appears(resources: dict[str, object], flow: bool, shared: bool) -> None:
    """A template of exactly `max_nodes` values decodes; one value fewer allowed is refused, an alias counted where it is used."""
    from panther_cn_transform.limits import Limits

    model = {"Resources": {name: {"Type": "T", "Properties": {"P": value}} for name, value in resources.items()}}
    text = yaml.safe_dump(model, default_flow_style=flow, sort_keys=False)
    if shared:  # the first resource's properties anchored and used again by an extra resource
        model["Resources"]["Alias"] = {"Type": "T", "Properties": next(iter(model["Resources"].values()))["Properties"]}
        text = yaml.safe_dump(model, default_flow_style=flow, sort_keys=False)  # PyYAML writes the shared value as an anchor and an alias
    needed = _values_in(model)
    assert decode_text(text, limits=Limits(max_nodes=needed)).model == model
    with pytest.raises(TemplateError, match="expands to more than"):
        decode_text(text, limits=Limits(max_nodes=needed - 1))


@pytest.mark.parametrize("space", ["", " \n", "\r\n  \n"])
def test_leading_whitespace_is_skipped_before_json_is_told_from_yaml(space: str) -> None:
    assert decode_text(space + '{"Resources": {"R": {"Type": "T"}}}').format == "json"
    assert decode_text(space + "Resources: {R: {Type: T}}\n").format == "yaml"


@pytest.mark.parametrize("space", [" ", "\n\t\r\x0b\x0c", "\u3000\u2028\u2003", "\x1c\x85\xa0"])
def test_whitespace_alone_is_an_empty_file_whatever_whitespace_it_is(space: str) -> None:
    """Every character `str.strip` removes counts as whitespace here too."""
    with pytest.raises(TemplateError, match="empty file"):
        decode_text(space * 3)


def _changed_somewhere(model: Any, choice: int) -> Any:
    """A copy of `model` with one value changed (a string, a number's kind, a key, an item), chosen by `choice`."""
    places: list[tuple[Any, Any]] = []

    def collect(value: Any) -> None:
        for key, child in (value.items() if isinstance(value, dict) else enumerate(value)):
            places.append((value, key))
            if isinstance(child, (dict, list)):
                collect(child)

    changed = copy.deepcopy(model)
    collect(changed)
    container, key = places[choice % len(places)]
    value = container[key]
    if isinstance(value, bool):
        container[key] = int(value)  # equal to `==`: only a full decode tells the kinds apart (and so does `==`)
    elif isinstance(value, (int, float)):
        container[key] = str(value)
    elif isinstance(value, str):
        container[key] = value + "x"
    elif isinstance(value, dict):
        container[key] = dict(reversed(list(value.items()))) if len(value) > 1 else {**value, "Extra": "x"}
    elif isinstance(value, list):
        container[key] = value[:-1] if value else ["x"]
    else:
        container[key] = "x"
    return changed


@given(template=templates(), data=st.data())
def test_a_yaml_text_is_shown_to_decode_to_a_model_only_when_it_does(template: dict[str, Any], data: st.DataObject) -> None:
    """`yaml_decodes_to` says yes to the model the text decodes to, and to another model never unless it is equal."""
    from panther_cn_transform.model.render_check import yaml_decodes_to

    text = data.draw(yaml_texts(template))
    model = decode_text(text).model
    assert yaml_decodes_to(text, model)
    other = _changed_somewhere(model, data.draw(st.integers(0, 10_000)))
    assert not yaml_decodes_to(text, other) or model == other


@pytest.mark.parametrize(("text", "model"), [
    ("Resources: {A: 1, A: 2}\n", {"Resources": {"A": 2}}),  # a duplicate key: the decode refuses it
    ("Resources: {A: {Type: T}, A: {Type: T}}\n", {"Resources": {"A": {"Type": "T"}, "B": {"Type": "T"}}}),  # as many keys, one twice
    ("Resources: {R: {Type: T, Properties: {L: [a, b]}}}\n", {"Resources": {"R": {"Type": "T", "Properties": {"L": ["a", "c"]}}}}),
    ("Resources: {R: {Type: T, Properties: {L: [a, [b]]}}}\n", {"Resources": {"R": {"Type": "T", "Properties": {"L": ["a", ["c"]]}}}}),
    ("Resources: {R: {Type: T, Properties: {M: {k: a}}}}\n", {"Resources": {"R": {"Type": "T", "Properties": {"M": {"k": "b"}}}}}),
    ("Resources: {B: 1, A: 2}\n", {"Resources": {"A": 2, "B": 1}}),  # equal, keys in another order: no verdict
    ('{"Resources": {}}', {"Resources": {}}),  # decoded as JSON first: no verdict
    ("Outputs: {}\n", {"Outputs": {}}),  # not a template
    ("Resources: &a [*a]\n", {"Resources": []}),  # an alias of the node it is in
    ("Resources: {R: !GetAtt A.b}\n", {"Resources": {"R": {"Fn::GetAtt": ["A", "c"]}}}),
    ("Resources: {R: 0777}\n", {"Resources": {"R": 777}}),  # YAML 1.1 octal: 511
])
def test_a_yaml_text_that_does_not_decode_to_the_model_is_never_shown_to(text: str, model: dict[str, Any]) -> None:
    from panther_cn_transform.model.render_check import yaml_decodes_to

    assert not yaml_decodes_to(text, model)


def test_the_node_and_depth_limits_hold_for_a_text_shown_to_decode_to_a_model() -> None:
    """At the smallest limits the decode allows the text is shown to decode to its model; one less, never."""
    for text in ("Resources: {R: {Type: T, Properties: {P: &x [a, b, [c, {d: e}]], Q: *x}}}\n",
                 "Resources: {R: {Type: T, Properties: {P: [a, [{}]], Q: {k: []}}}}\n",  # empty collections deepest
                 "Resources: {R: {Type: T, Properties: {S: !Sub '${x}', T: !If [C, [d], e]}}}\n"):
        _assert_limits_hold_as_the_decode_says(text)


def _assert_limits_hold_as_the_decode_says(text: str) -> None:
    from panther_cn_transform.limits import Limits
    from panther_cn_transform.model.render_check import yaml_decodes_to

    model = decode_text(text).model

    def decodes(limits: Limits) -> bool:
        try:
            decode_text(text, limits=limits)
        except TemplateError:
            return False
        return True

    nodes = next(n for n in range(1, 100) if decodes(Limits(max_nodes=n)))
    depth = next(n for n in range(1, 100) if decodes(Limits(max_depth=n)))
    assert yaml_decodes_to(text, model, limits=Limits(max_nodes=nodes))
    assert not yaml_decodes_to(text, model, limits=Limits(max_nodes=nodes - 1))
    assert yaml_decodes_to(text, model, limits=Limits(max_depth=depth))
    assert not yaml_decodes_to(text, model, limits=Limits(max_depth=depth - 1))


@given(text=st.text(alphabet="[]{}a\né\ud800", max_size=3000))
def test_the_cheap_bracket_bound_is_above_the_depth_and_at_most_a_chunk_above(text: str) -> None:
    """`_bracket_bound` never misses depth (guard_nesting relies on it) and stays close enough to be useful."""
    from panther_cn_transform.model.yaml_compose import _CHUNK, _bracket_bound

    depth = deepest = 0
    for char in text:
        if char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth = max(0, depth - 1)
    assert deepest <= _bracket_bound(text) <= deepest + _CHUNK
    import panther_cn_transform.model.yaml_compose as compose_module

    slice_size, compose_module._SLICE = compose_module._SLICE, 7  # many slices, brackets and é at their edges
    try:
        assert deepest <= _bracket_bound(text) <= deepest + _CHUNK
    finally:
        compose_module._SLICE = slice_size

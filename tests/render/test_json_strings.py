"""JSON whose only changes are strings: written without a node tree, exactly as the general renderer writes it."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from panther_cn_transform import Edit, decode_text
from panther_cn_transform.model.edits import EditLog, list_alignment
from panther_cn_transform.render import _render, render
from panther_cn_transform.render.json_strings import changed_strings, escaped_alike, render_strings

from ..corpus import china_transforms_replayed


def general(text: str, edits: list[Edit]) -> tuple[str, str]:
    """(what `render` writes, what the general renderer writes) for `edits` of the JSON `text`."""
    template = decode_text(text)
    log = EditLog(template.model)
    for edit in edits:
        log.apply(edit)
    alignment = list_alignment(template.model, log.edits)
    return (render(template, log.model, log.substitutions(), alignment),
            _render(template, log.model, log.substitutions(), alignment, template.limits))


def replace(path: tuple[Any, ...], value: Any, *fragments: tuple[str, str]) -> Edit:
    return Edit(path, "replace", "test", "because", value=value, fragments=tuple(fragments))


TEMPLATE = """{
  "Resources": {
    "Topic": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": "arn:aws:sns:::t"}},
    "Queue": {
      "Type": "AWS::SQS::Queue",
      "Properties": {"QueueName": "arn:aws:sns:::t", "Tags": [{"Key": "arn:aws:sns:::t", "Value": "x\\u00e9"}]}
    }
  }
}
"""


def test_only_string_changes_are_found_in_document_order_and_anything_else_is_not_taken() -> None:
    model = json.loads(TEMPLATE)
    changed = json.loads(TEMPLATE)
    changed["Resources"]["Queue"]["Properties"]["QueueName"] = "b"
    changed["Resources"]["Topic"]["Properties"]["TopicName"] = "a"
    assert changed_strings(model, changed) == [("arn:aws:sns:::t", "a"), ("arn:aws:sns:::t", "b")]
    resized = json.loads(TEMPLATE)
    resized["Resources"]["Queue"]["Properties"]["Tags"].append("x")
    assert changed_strings(model, resized) is None
    retyped = json.loads(TEMPLATE)
    retyped["Resources"]["Topic"]["Properties"]["TopicName"] = {"Fn::Sub": "x"}
    assert changed_strings(model, retyped) is None
    rekeyed = json.loads(TEMPLATE)
    del rekeyed["Resources"]["Topic"]["Properties"]["TopicName"]
    assert changed_strings(model, rekeyed) is None


def test_an_equal_unchanged_string_before_the_changed_one_is_not_the_one_replaced() -> None:
    # the second "arn:aws:sns:::t" changes; the first (unchanged) is found first by the search
    out, expected = general(TEMPLATE, [replace(("Resources", "Queue", "Properties", "QueueName"), "arn:aws-cn:sns:::t", ("arn:aws:", "arn:aws-cn:"))])
    assert out == expected
    assert json.loads(out)["Resources"]["Topic"]["Properties"]["TopicName"] == "arn:aws:sns:::t"
    assert json.loads(out)["Resources"]["Queue"]["Properties"]["QueueName"] == "arn:aws-cn:sns:::t"


def test_a_key_with_the_text_of_the_changed_string_is_skipped() -> None:
    text = '{"Resources": {"x": {"Type": "T", "Properties": {"x": "x"}}}}'
    template = decode_text(text)
    assert render_strings(text, [("T", "U"), ("x", "y")], ensure_ascii=False) == '{"Resources": {"x": {"Type": "U", "Properties": {"x": "y"}}}}'
    assert render(template, {"Resources": {"x": {"Type": "T", "Properties": {"x": "y"}}}}) == text.replace('"x"}', '"y"}')


def test_a_long_changed_string_is_not_taken_for_an_earlier_one_that_begins_the_same() -> None:
    first, second = "arn:aws:s3:::" + "p" * 80 + "/unchanged", "arn:aws:s3:::" + "p" * 80 + "/changed"
    text = json.dumps({"Resources": {"R": {"Type": "T", "Properties": {"A": first, "B": second}}}}, indent=2)
    new = second.replace("arn:aws:", "arn:aws-cn:")
    out, expected = general(text, [replace(("Resources", "R", "Properties", "B"), new, ("arn:aws:", "arn:aws-cn:"))])
    assert out == expected == text.replace(json.dumps(second), json.dumps(new))
    assert render_strings(text, [(second, new)], ensure_ascii=False) == out


def test_a_long_token_is_found_by_its_ends_only_when_the_fragments_explain_the_change() -> None:
    old = "arn:aws:s3:::" + "p" * 140 + '"q"\n'  # escapes outside the replaced text
    text = json.dumps({"Resources": {"R": {"Type": "T", "Properties": {"A": old}}}}, indent=2)
    new = old.replace("arn:aws:", "arn:aws-cn:")
    fragments = (("arn:aws:", "arn:aws-cn:"),)
    assert render_strings(text, [(old, new)], ensure_ascii=False, substitutions={(old, new): fragments}) == text.replace(json.dumps(old), json.dumps(new))
    # fragments that do not explain the change (a new line more) give a wrong length: the token is not found, the general renderer runs
    wrong = new + "\n"
    assert render_strings(text, [(old, wrong)], ensure_ascii=False, substitutions={(old, wrong): fragments}) is None
    template = decode_text(text)
    planned = json.loads(text)
    planned["Resources"]["R"]["Properties"]["A"] = wrong
    out = render(template, planned, {(old, wrong): fragments}, string_changes=[(("Resources", "R", "Properties", "A"), old, wrong, 2)])
    assert json.loads(out) == planned and out == _render(template, planned, {(old, wrong): fragments}, {}, template.limits)


def test_whether_the_file_escapes_non_ascii_matters_only_for_strings_written_differently_so() -> None:
    assert escaped_alike([("arn:aws:s3:::b", "arn:aws-cn:s3:::b"), ("a\"b\n", "c")])
    assert not escaped_alike([("x", "é")])
    assert not escaped_alike([("\x7f", "x")])  # DEL: \u007f only with ensure_ascii
    text = json.dumps({"Resources": {"R": {"Type": "T", "Properties": {"A": "x", "B": "é"}}}})  # é written \u00e9
    out, expected = general(text, [replace(("Resources", "R", "Properties", "A"), "xé")])
    assert out == expected and '"x\\u00e9"' in out


def test_a_string_written_with_other_escapes_is_left_to_the_general_renderer() -> None:
    text = '{"Resources": {"R": {"Type": "T", "Properties": {"Url": "https:\\/\\/example.com\\/a"}}}}'
    assert render_strings(text, [("https://example.com/a", "https://example.cn/a")], ensure_ascii=False) is None
    out, expected = general(text, [replace(("Resources", "R", "Properties", "Url"), "https://example.cn/a")])
    assert out == expected
    assert json.loads(out)["Resources"]["R"]["Properties"]["Url"] == "https://example.cn/a"


def test_substitutions_keep_the_escapes_of_the_source_token() -> None:
    out, expected = general(TEMPLATE, [replace(("Resources", "Queue", "Properties", "Tags", 0, "Value"), "y\u00e9", ("x", "y"))])
    assert out == expected
    assert '"y\\u00e9"' in out


def test_json_corpus_transforms_write_what_the_general_renderer_writes() -> None:
    """On every JSON template of the corpus whose edits are string replacements: the same bytes both ways."""
    compared = 0
    for path, result, log in china_transforms_replayed("json"):
        template = result.template
        if not result.edits or changed_strings(template.model, result.model) is None:
            continue
        expected = _render(template, log.model, log.substitutions(), list_alignment(template.model, log.edits), template.limits)
        assert result.text == expected, path
        compared += 1
    assert compared > 20


LONG = "arn:aws:s3:::" + "p" * 140  # longer than both ends of a token compared apart (json_strings._NEEDLE)
strings = st.sampled_from(["arn:aws:s3:::b", "x", "arn:aws:sns:::t", "é", "a\"b", "T", "\x7f", LONG + "/a", LONG + "/b", LONG + "\n\"a\""])
json_models = st.recursive(
    strings | st.integers(0, 3) | st.booleans(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(strings, inner, max_size=3),
    max_leaves=12,
)


@given(body=json_models, indent=st.sampled_from([None, 2]), ensure_ascii=st.booleans(), data=st.data())
def test_any_string_replacements_render_as_the_general_renderer_does(body: Any, indent: int | None, ensure_ascii: bool, data: st.DataObject) -> None:
    text = json.dumps({"Resources": {"R": {"Type": "T", "Properties": {"P": body}}}}, indent=indent, ensure_ascii=ensure_ascii)
    template = decode_text(text)
    log = EditLog(template.model)
    for path, value in data.draw(st.lists(st.sampled_from(log.strings()), max_size=4, unique=True)) if log.strings() else []:
        log.apply(Edit(path, "replace", "t", "test", value=value.replace("aws", "aws-cn") if "aws" in value else value + "!",
                       fragments=(("aws", "aws-cn"),) if "aws" in value else ()))
    alignment = list_alignment(template.model, log.edits)
    changes = log.string_changes()
    assert changes is not None
    assert [(old, new) for _, old, new, _ in changes] == changed_strings(template.model, log.model)
    assert all(log.get(path) == new for path, _, new, _ in changes)
    assert all(log.strings()[place][0] == path for path, _, _, place in changes)
    out = render(template, log.model, log.substitutions(), alignment, string_changes=log.string_changes())
    assert out == _render(template, log.model, log.substitutions(), alignment, template.limits)
    assert json.loads(out) == log.model


def test_the_log_lists_changed_strings_once_from_input_to_final_value_and_nothing_changed_back() -> None:
    log = EditLog(decode_text(TEMPLATE).model)
    log.strings()  # a query builds the index the order comes from
    queue, topic = ("Resources", "Queue", "Properties"), ("Resources", "Topic", "Properties", "TopicName")
    log.apply(replace((*queue, "Tags", 0, "Key"), "k1"))
    log.apply(replace(topic, "t1"))
    log.apply(replace(topic, "t2"))
    log.apply(replace((*queue, "QueueName"), "q"))
    log.apply(replace((*queue, "QueueName"), "arn:aws:sns:::t"))  # back to what it was
    strings = [path for path, _ in log.strings()]
    assert log.string_changes() == [(topic, "arn:aws:sns:::t", "t2", strings.index(topic)),
                                    ((*queue, "Tags", 0, "Key"), "arn:aws:sns:::t", "k1", strings.index((*queue, "Tags", 0, "Key")))]
    log.apply(Edit((*queue, "Tags", 0, "Value"), "remove", "test", "because"))
    assert log.string_changes() is None


def test_a_wrong_list_of_string_changes_does_not_change_the_output() -> None:
    template = decode_text(TEMPLATE)
    log = EditLog(template.model)
    log.apply(replace(("Resources", "Queue", "Properties", "QueueName"), "arn:aws-cn:sns:::t", ("arn:aws:", "arn:aws-cn:")))
    wrong = [(("Resources", "Queue", "Properties", "QueueName"), "arn:aws:sns:::t", "arn:aws-cn:sns:::t", 0)]  # found first at the Topic
    out = render(template, log.model, log.substitutions(), {}, string_changes=wrong)
    assert json.loads(out) == log.model
    assert out == _render(template, log.model, log.substitutions(), {}, template.limits)

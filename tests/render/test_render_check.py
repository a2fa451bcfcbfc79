"""The render check compares type and value: `1`, `1.0` and `true` never pass for one another (issue 27, class 10).

Each test breaks the renderer on purpose (the emitted text of one value, or of the strings-only
fast paths) and shows that the check catches it: a `RenderError`, or the general renderer's
correct text instead of the broken fast path's.  With `==` every one of them passed.
"""

from __future__ import annotations

from typing import Any

import pytest

from panther_cn_transform import Edit, decode_text
from panther_cn_transform import render as render_package
from panther_cn_transform.errors import RenderError
from panther_cn_transform.model.edits import EditLog, list_alignment
from panther_cn_transform.model.render_check import yaml_decodes_to
from panther_cn_transform.model.walk import first_difference, same_value
from panther_cn_transform.render import render
from panther_cn_transform.render.values import ValueWriter

YAML = "Resources:\n  Q:\n    Type: AWS::SQS::Queue\n    Properties:\n      Delay: 5\n      Name: old\n"
JSON = '{\n  "Resources": {\n    "Q": {\n      "Type": "AWS::SQS::Queue",\n      "Properties": {"Delay": 5, "Name": "old"}\n    }\n  }\n}\n'


def _render(text: str, *edits: Edit) -> str:
    template = decode_text(text)
    log = EditLog(template.model)
    log.strings_containing("old")  # the model index, with which the log lists the strings the edits change
    for edit in edits:
        log.apply(edit)
    return render(template, log.model, log.substitutions(), list_alignment(template.model, log.edits),
                  string_changes=log.string_changes())


def _set_delay(value: Any) -> Edit:
    return Edit(("Resources", "Q", "Properties", "Delay"), "replace", "test", "because", value=value)


@pytest.mark.parametrize("text", [YAML, JSON], ids=["yaml", "json"])
@pytest.mark.parametrize(("planned", "written"), [(1, "1.0"), (True, "1"), (1, "true"), (0, "false"), (2.0, "2")])
def test_a_value_written_as_another_type_is_a_render_error(monkeypatch: pytest.MonkeyPatch, text: str, planned: Any, written: str) -> None:
    original = ValueWriter.scalar

    def broken(self: ValueWriter, node: Any, source: str, new: Any, *, flow: bool) -> str:
        if type(new) is type(planned) and new == planned:
            return written  # the renderer bug: the right number, the wrong type
        return original(self, node, source, new, flow=flow)

    assert _render(text, _set_delay(planned))  # the real renderer writes it right
    monkeypatch.setattr(ValueWriter, "scalar", broken)
    with pytest.raises(RenderError, match="Delay"):
        _render(text, _set_delay(planned))


def test_the_json_strings_fast_path_is_checked_by_type(monkeypatch: pytest.MonkeyPatch) -> None:
    original = render_package.render_strings

    def broken(text: str, *args: Any, **kwargs: Any) -> str | None:
        out = original(text, *args, **kwargs)
        return None if out is None else out.replace('"Delay": 5', '"Delay": 5.0')

    monkeypatch.setattr(render_package, "render_strings", broken)
    out = _render(JSON, Edit(("Resources", "Q", "Properties", "Name"), "replace", "test", "because", value="new"))
    assert '"Delay": 5,' in out and '"Name": "new"' in out  # the general renderer's text, not the broken one


def test_the_yaml_strings_fast_path_is_checked_by_type(monkeypatch: pytest.MonkeyPatch) -> None:
    original = render_package._render_yaml_strings

    def broken(*args: Any, **kwargs: Any) -> str | None:
        out = original(*args, **kwargs)
        return None if out is None else out.replace("Delay: 5", "Delay: 5.0")

    monkeypatch.setattr(render_package, "_render_yaml_strings", broken)
    out = _render(YAML, Edit(("Resources", "Q", "Properties", "Name"), "replace", "test", "because", value="new"))
    assert "Delay: 5\n" in out and "Name: new" in out


@pytest.mark.parametrize(("text", "model_value"), [("1.0", 1), ("1", True), ("true", 1), ("!If [C, 1, 2]", {"Fn::If": ["C", 1.0, 2]})])
def test_yaml_decodes_to_compares_types(text: str, model_value: Any) -> None:
    model = {"Resources": {"Q": {"Type": "AWS::SQS::Queue", "Properties": {"Delay": model_value}}}}
    assert not yaml_decodes_to(f"Resources:\n  Q:\n    Type: AWS::SQS::Queue\n    Properties:\n      Delay: {text}\n", model)
    assert yaml_decodes_to("Resources:\n  Q:\n    Type: AWS::SQS::Queue\n    Properties:\n      Delay: 7\n",
                           {"Resources": {"Q": {"Type": "AWS::SQS::Queue", "Properties": {"Delay": 7}}}})


@pytest.mark.parametrize(("got", "want", "same"), [
    (1, 1, True), (1, 1.0, False), (True, 1, False), (0, False, False), (None, None, True), ("1", 1, False),
    ({"a": [1, {"b": True}]}, {"a": [1, {"b": 1}]}, False), ({"a": [1, {"b": True}]}, {"a": [1, {"b": True}]}, True),
    ([["x", 2.5]], [["x", 2.5]], True), ([["x", 2]], [["x", 2.0]], False),
])
def test_same_value(got: Any, want: Any, same: bool) -> None:
    assert same_value(got, want) is same
    assert same_value(want, got) is same


def test_first_difference_finds_a_type_difference_under_equal_values() -> None:
    assert first_difference({"A": {"B": [1, True]}}, {"A": {"B": [1, 1]}}) == "/A/B/1"

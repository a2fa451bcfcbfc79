"""Shared indexes of the model that rules query: they answer exactly what a fresh walk would."""

from __future__ import annotations

from typing import Any

import regex
from hypothesis import given
from hypothesis import strategies as st

from panther_cn_transform.edits import Edit, EditLog
from panther_cn_transform.graph import build_graph
from panther_cn_transform.patterns import required_text
from panther_cn_transform.walk import iter_strings

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

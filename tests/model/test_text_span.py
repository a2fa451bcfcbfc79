"""The smallest change between two strings: what the rules edit inside a string and the report shows."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from panther_cn_transform.model.text_span import changed_span

# few letters, so that long shared beginnings and endings (and overlaps of the two) are common
texts = st.text("ab$", max_size=40) | st.builds(lambda repeated, middle: repeated * 30 + middle + repeated * 30, st.sampled_from(["x", "arn:aws:"]), st.text("ab", max_size=3))


@given(old=texts, new=texts)
def test_the_span_turns_old_into_new_and_keeps_every_character_both_share_at_either_end(old: str, new: str) -> None:
    start, end, replacement = changed_span(old, new)
    assert old[:start] + replacement + old[end:] == new
    assert 0 <= start <= end <= len(old)
    # it cannot start later: the next characters differ (or one string ends)
    assert start == min(len(old), len(new)) or old[start] != new[start]
    # nor end earlier: the characters before the shared ending differ (or reach the shared beginning)
    suffix = len(old) - end
    assert start + suffix == min(len(old), len(new)) or old[end - 1] != new[len(new) - suffix - 1]


def test_a_long_string_with_one_change_in_the_middle() -> None:
    old = "x" * 5000 + "arn:aws:states" + "y" * 5000
    assert changed_span(old, old.replace("arn:aws:", "arn:aws-cn:")) == (5007, 5007, "-cn")

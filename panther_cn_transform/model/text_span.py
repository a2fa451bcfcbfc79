"""The smallest change between two strings, shared by the rules that edit inside a string and the report.

Why one function: a rule that rewrites one host or principal inside a longer string edits
only the characters that differ (so the rest of the string, with its own `${...}` parts,
stays as written), and the report shows the same span of a long one-line value.
`PartEditor` does those edits for the rules, also inside one literal part of an
`Fn::Join` read whole (`walk.join_view`).
"""

from __future__ import annotations

from collections.abc import Callable


def changed_span(old: str, new: str) -> tuple[int, int, str]:
    """The smallest `(start, end, replacement)` of `old` that turns it into `new`.

    >>> changed_span("sqs.${AWS::Region}.amazonaws.com", "sqs.${AWS::Region}.amazonaws.com.cn")
    (32, 32, '.cn')
    """
    shorter = min(len(old), len(new))
    prefix = _common_length(old, new, shorter, lambda text, start, end: text[start:end])
    suffix = _common_length(old, new, shorter - prefix, lambda text, start, end: text[len(text) - end : len(text) - start])
    return prefix, len(old) - suffix, new[prefix : len(new) - suffix]


def _common_length(old: str, new: str, limit: int, piece: Callable[[str, int, int], str]) -> int:
    """How many characters (at most `limit`) the two strings share, counted as `piece` reads them (from the start or from the end).

    Found by halving with slice comparisons in C: a character-by-character loop took
    most of a rule's time on the long strings of a state machine's definition.
    """
    low, high = 0, limit  # the first `low` characters are shared; more than `high` are not
    while low < high:
        middle = (low + high + 1) // 2
        if piece(old, low, middle) == piece(new, low, middle):
            low = middle
        else:
            high = middle - 1
    return low


class PartEditor:
    """Edits inside `text[start:end]`: one string, or one literal part of an `Fn::Join` seen whole.

    Why: the endpoint and principal rules find a host in the whole text (a Join's parts
    put together) but may change only the part they edit; each replacement changes only
    the characters that differ, and records the substitution (`fragments`) the renderer
    applies to the source.

    >>> part = PartEditor("sqs.${AWS::Region}.amazonaws.com", 18, 32)  # the Join's last part
    >>> part.replace(0, "sqs.${AWS::Region}.amazonaws.com", "sqs.${AWS::Region}.amazonaws.com.cn"), part.value, part.fragments
    (True, '.amazonaws.com.cn', [('.amazonaws.com', '.amazonaws.com.cn')])
    >>> part.replace(0, "sqs", "sqs-fips")  # in an earlier part
    False
    """

    def __init__(self, text: str, start: int, end: int) -> None:
        self.text, self.start, self.end = text, start, end
        self.value = text[start:end]  # the part as edited so far
        self.fragments: list[tuple[str, str]] = []
        self._shift = 0  # how much the edits so far moved the part's later characters

    def replace(self, at: int, old: str, new: str) -> bool:
        """`old`, found at `at` in the whole text, becomes `new`; False (nothing changed) when the characters that differ are not all in this part."""
        start, end, replacement = changed_span(old, new)
        start += at - self.start
        end += at - self.start
        if start < 0 or end > self.end - self.start:
            return False
        self.value = self.value[: start + self._shift] + replacement + self.value[end + self._shift :]
        self._shift += len(replacement) - (end - start)
        anchor = self.text[max(at, self.start) : min(at + len(old), self.end)]
        offset = start - max(0, at - self.start)
        piece = (anchor, anchor[:offset] + replacement + anchor[offset + end - start :])
        if piece not in self.fragments:
            self.fragments.append(piece)
        return True

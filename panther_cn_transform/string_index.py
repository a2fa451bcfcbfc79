"""Every string of a model, once, with a fast "which strings contain X" query.

Why: most rules look only at strings that contain some fixed text (`arn:aws:`,
`amazonaws.com`, `s3`), yet each used to loop over every string of the template in
Python (about 16,000 in 1 MB) and try its test on each.  Here the strings are joined
once into one text, and a query finds the occurrences of its needles in that text with
C-speed searches, then maps each occurrence back to its string.  A needle never
contains the separator, so an occurrence never spans two strings: the answer is exact,
the strings that contain a needle, in document order.

The index also follows edits instead of being rebuilt: a string replaced by a string
(most edits of a transform) is updated in place; any other edit drops the index and the
next query walks the model again (`EditLog`).
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Iterable
from typing import Any

from .edits import JsonPath
from .walk import iter_strings

_SEPARATOR = "\x00"


class StringIndex:
    """The strings of one model state with their paths, in document order."""

    def __init__(self, model: Any) -> None:
        self.entries: list[tuple[JsonPath, str]] = list(iter_strings(model))
        self._position = {path: index for index, (path, _) in enumerate(self.entries)}
        self._joined: str | None = None
        self._starts: list[int] = []
        self._shared = False  # the entries list was handed out: copy before changing it

    def strings(self) -> list[tuple[JsonPath, str]]:
        """Every string with its path (the caller must not change the list)."""
        self._shared = True
        return self.entries

    def replace(self, path: JsonPath, value: str) -> bool:
        """Follow an edit that replaced the string at `path` with the string `value`; False when `path` holds none."""
        index = self._position.get(path)
        if index is None:
            return False
        if self._shared:
            self.entries = list(self.entries)
            self._shared = False
        self.entries[index] = (path, value)
        self._joined = None
        return True

    def containing(self, needles: Iterable[str]) -> list[tuple[JsonPath, str]]:
        """The strings that contain at least one of `needles`, in document order."""
        wanted = [needle for needle in dict.fromkeys(needles)]
        if not wanted or any(not needle or _SEPARATOR in needle for needle in wanted):
            return [entry for entry in self.entries if any(needle in entry[1] for needle in wanted)]
        joined, starts = self._text()
        hits: set[int] = set()
        for needle in wanted:
            position = joined.find(needle)
            while position >= 0:
                index = bisect.bisect_right(starts, position) - 1
                hits.add(index)
                position = joined.find(needle, starts[index + 1] if index + 1 < len(starts) else len(joined))
        return [self.entries[index] for index in sorted(hits)]

    def _text(self) -> tuple[str, list[int]]:
        if self._joined is None:
            values = [value for _, value in self.entries]
            self._joined = _SEPARATOR.join(values)
            self._starts = list(itertools.accumulate((len(value) + 1 for value in values[:-1]), initial=0)) if values else []
        return self._joined, self._starts

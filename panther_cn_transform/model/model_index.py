"""One walk of a model that every rule queries: its strings and its mappings, with their paths.

Why: most rules look only at strings that contain some fixed text (`arn:aws:`,
`amazonaws.com`, `s3`) or at mappings with some key (`S3Bucket`), yet each used to walk
the whole template in Python (about 5,000 strings and 6,000 mappings in 1 MB) and try
its test everywhere.  Here the model is walked once; the strings are joined into one
text, and a query finds the occurrences of its needles in that text with C-speed
searches and maps each back to its string.  A needle never contains the separator, so
an occurrence never spans two strings: the answer is exact, the strings that contain a
needle, in document order.

The index follows edits instead of being rebuilt: a string replaced by a string (most
edits of a transform) is updated in place; any other edit drops the index and the next
query walks the model again (`EditLog`).  The joined text is not rebuilt for each
replaced string: until an eighth of the strings changed, a query searches the old text
and checks the replaced strings one by one; the strings a needle was found in are
remembered for as long.  A string-for-string edit changes no mapping's
keys, but it may replace a mapping on its path with a copy: mappings are therefore
matched by their keys here and read from the working model by the caller
(`EditLog.mappings_with`).
"""

from __future__ import annotations

import bisect
import functools
import itertools
import re
from collections.abc import Callable, Iterable
from typing import Any

from .paths import JsonPath
from .walk import strings_and_mappings

_SEPARATOR = "\x00"
#: Needles shorter than this are found in the joined text by a compiled pattern: `str.find`
#: takes three times as long for two characters (`s3`: 0.78 against 0.36 ms in 1 MB), and
#: the two are even from about eight characters, above which `find` gains on long needles.
_SHORT_NEEDLE = 8


class ModelIndex:
    """The strings and mappings of one model state with their paths, in document order."""

    def __init__(self, model: Any) -> None:
        self.entries, self.mappings = strings_and_mappings(model)
        self._position: dict[JsonPath, int] | None = None
        self._answered: dict[JsonPath, int] = {}  # the position of every string a query returned (most edits replace one)
        self._joined: str | None = None
        self._joined_values: list[str] = []  # the strings as the joined text holds them
        self._needle_hits: dict[str, set[int]] = {}  # needle -> `_strings_with(needle)`, for this joined text
        self._starts: list[int] = []
        self._mapping_queries: dict[frozenset[str], list[JsonPath]] = {}
        self._key_queries: dict[frozenset[str], list[int]] = {}
        self._stale: set[int] = set()  # strings replaced since the joined text was built: checked one by one
        self._shared = False  # the entries list was handed out: copy before changing it

    def strings(self) -> list[tuple[JsonPath, str]]:
        """Every string with its path (the caller must not change the list)."""
        self._shared = True
        return self.entries

    def replace(self, path: JsonPath, value: str) -> bool:
        """Follow an edit that replaced the string at `path` with the string `value`; False when `path` holds none."""
        index = self.position(path)
        if index is None:
            return False
        if self._shared:
            self.entries = list(self.entries)
            self._shared = False
        self.entries[index] = (path, value)
        if self._joined is not None:
            self._stale.add(index)
            if len(self._stale) * 8 > len(self.entries):  # a query would check too many strings one by one
                self._joined = None
        return True

    def position(self, path: JsonPath) -> int | None:
        """Where the string at `path` is among `strings()` (its place in document order); None when `path` holds none."""
        index = self._answered.get(path)
        if index is None:
            if self._position is None:  # hashing every path: only for a string no query returned
                self._position = {entry[0]: index for index, entry in enumerate(self.entries)}
            index = self._position.get(path)
        return index

    def containing(self, needles: Iterable[str]) -> list[tuple[JsonPath, str]]:
        """The strings that contain at least one of `needles`, in document order."""
        wanted = list(dict.fromkeys(needles))
        if not wanted or any(not needle or _SEPARATOR in needle for needle in wanted):
            return [entry for entry in self.entries if any(needle in entry[1] for needle in wanted)]
        hits: set[int] = set()
        for needle in wanted:
            if not any(other in needle for other in wanted if other != needle):  # else its strings hold the other too
                hits |= self._strings_with(needle)
        return self._answer(self._with_stale(hits, lambda value: any(needle in value for needle in wanted)))

    def _strings_with(self, needle: str) -> set[int]:
        """Indexes of the strings whose value in the joined text holds `needle` (a needle holds no separator).

        Remembered until the joined text is rebuilt: rules ask for the same needles
        (`amazonaws.com`) and for longer ones (`amazonaws.com.cn`), found among the strings
        of a shorter one they hold instead of in the whole text again.
        """
        joined, _ = self._text()  # first: rebuilding it forgets what was found in the old one
        found = self._needle_hits.get(needle)
        if found is None:
            shorter = next((hits for known, hits in self._needle_hits.items() if known in needle), None)
            if shorter is not None:
                found = {index for index in shorter if needle in self._joined_values[index]}
            else:
                found = self._hits(_finder(joined, needle))
            self._needle_hits[needle] = found
        return found

    def searching(self, pattern: re.Pattern[str]) -> list[tuple[JsonPath, str]]:
        """The strings in which `pattern.search` finds a match, in document order.

        One search of the joined text per string with a match, in C, instead of one call
        per string.  A match found in the joined text may run on into the next string
        (the separator is an ordinary character to the pattern), so each string it starts
        in is searched again on its own, and the search goes on from the next string's
        start: the answer is exactly the strings a per-string search would give, for a
        pattern that behaves alike at a string's edges and before a separator (no `^`,
        `$`, `\\A`, `\\Z`; lookarounds that treat the separator as they treat "nothing").
        """
        joined, _ = self._text()

        def next_match(position: int) -> int:
            match = pattern.search(joined, position)
            return match.start() if match else -1

        def holds(value: str) -> bool:
            return pattern.search(value) is not None

        return self._answer(self._with_stale(self._hits(next_match, holds, skip=self._stale), holds))

    def _hits(self, next_hit: Callable[[int], int], holds: Callable[[str], bool] | None = None, skip: set[int] | frozenset[int] = frozenset()) -> set[int]:
        """Indexes of the strings in which the joined text has a hit (`next_hit(from)`: where the next one starts, or -1).

        Each string is counted once: the search goes on from the next string's start.  A
        hit is checked in its string alone with `holds`, when given, unless it is in `skip`
        (left out: strings replaced since the joined text was built are checked apart).
        """
        if not self.entries:
            return set()
        _, starts = self._text()
        hits: set[int] = set()
        position = next_hit(0)
        while position >= 0:
            index = bisect.bisect_right(starts, position) - 1
            if index not in skip and (holds is None or holds(self._joined_values[index])):
                hits.add(index)
            if index + 1 >= len(starts):
                break
            position = next_hit(starts[index + 1])
        return hits

    def _with_stale(self, hits: set[int], holds: Callable[[str], bool]) -> list[int]:
        """`hits` in the joined text, corrected for the strings replaced since it was built (it holds their old values): those that `holds` now, in order."""
        stale = self._stale
        return sorted((hits - stale if stale else hits) | {index for index in stale if holds(self.entries[index][1])})

    def strings_under(self, keys: Iterable[str]) -> list[tuple[JsonPath, str]]:
        """The strings whose path goes through at least one of the mapping keys `keys`, in document order."""
        wanted = frozenset(keys)
        found = self._key_queries.get(wanted)
        if found is None:  # kept across string replacements, which change no path
            found = self._key_queries[wanted] = [index for index, (path, _) in enumerate(self.entries) if not wanted.isdisjoint(path)]
        return self._answer(found)

    def _answer(self, indexes: list[int]) -> list[tuple[JsonPath, str]]:
        """The entries at `indexes`, their positions remembered for `replace`."""
        answer = [self.entries[index] for index in indexes]
        self._answered.update(zip([path for path, _ in answer], indexes))
        return answer

    def paths_of_mappings_with(self, keys: Iterable[str]) -> list[JsonPath]:
        """Paths of the mappings that have at least one of `keys`, in document order."""
        wanted = frozenset(keys)
        found = self._mapping_queries.get(wanted)
        if found is None:  # kept across string replacements, which change no mapping's keys
            if len(wanted) == 1:  # most queries: a hash lookup per mapping, a third of the time of `isdisjoint`
                (key,) = wanted
                found = [path for path, mapping in self.mappings if key in mapping]
            elif len(wanted) == 2:  # (`S3Bucket`, `Bucket`): two lookups, half the time of `isdisjoint`
                first, second = wanted
                found = [path for path, mapping in self.mappings if first in mapping or second in mapping]
            else:
                found = [path for path, mapping in self.mappings if not wanted.isdisjoint(mapping)]
            self._mapping_queries[wanted] = found
        return found

    def _text(self) -> tuple[str, list[int]]:
        if self._joined is None:
            self._stale, self._needle_hits = set(), {}
            values = self._joined_values = [value for _, value in self.entries]
            self._joined = _SEPARATOR.join(values)
            self._starts = list(itertools.accumulate((len(value) + 1 for value in values[:-1]), initial=0)) if values else []
        return self._joined, self._starts


def _finder(joined: str, needle: str) -> Callable[[int], int]:
    """`joined.find(needle, start)` as a function of `start`, by the faster search for the needle's length."""
    if len(needle) >= _SHORT_NEEDLE:
        return functools.partial(joined.find, needle)
    search = re.compile(re.escape(needle)).search

    def next_start(start: int) -> int:
        match = search(joined, start)
        return match.start() if match else -1

    return next_start

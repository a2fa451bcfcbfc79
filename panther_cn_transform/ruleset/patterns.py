"""Regular expressions from rule files: compiled and tested once, run under a time budget.

Why the `regex` module and not `re`: a rule file is input, and `re` cannot stop a
pattern that backtracks catastrophically (`(a|aa)+$` on forty `a`s runs for hours).
`regex` takes a `timeout=` on every search, is a drop-in for `re`'s syntax, and scopes
an inline flag such as `(?i)` to where it stands instead of refusing it.

What "tested" means, so that `rules check` finds everything `transform` would hit:

* the pattern compiles;
* the replacement expands against the pattern's own groups (`\\2` with one group,
  `\\g<name>` with no such group, or a bad escape fail here, not in the middle of a
  template);
* the pattern finishes quickly on probe strings made of runs of each character it
  names (plus a few common ones): a pattern that needs longer than `PROBE_SECONDS` on
  a 40-character probe backtracks catastrophically and is refused.

At transform time every search still runs under a deadline (`RULE_SECONDS` per rule and
template), so a pattern the probes missed ends in a clean error naming the rule, the
template and the string, never in a hang.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TypeVar

import regex

PROBE_SECONDS = 0.1
RULE_SECONDS = 10.0
_PROBE_LENGTH = 40
_COMMON = "a0 ./-_:"
_T = TypeVar("_T")


class PatternError(ValueError):
    """A pattern or replacement of a rule file that cannot be used; `message` says why."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class PatternTimeout(Exception):
    """A search ran out of its time budget."""

    def __init__(self, pattern: str, seconds: float, pointer: str | None = None) -> None:
        super().__init__(f"pattern {pattern!r} ran longer than {seconds:g} s")
        self.pattern = pattern
        self.seconds = seconds
        self.pointer = pointer

    def at(self, pointer: str) -> PatternTimeout:
        """The same timeout, knowing the JSON Pointer of the string it was searching."""
        return PatternTimeout(self.pattern, self.seconds, pointer)


class Deadline:
    """A time budget shared by every search of one rule over one template."""

    def __init__(self, seconds: float | None = None) -> None:
        self.seconds = RULE_SECONDS if seconds is None else seconds
        self.end = time.monotonic() + self.seconds

    def remaining(self, pattern: str) -> float:
        left = self.end - time.monotonic()
        if left <= 0:
            raise PatternTimeout(pattern, self.seconds)
        return left


@dataclass(frozen=True)
class Replacement:
    """A compiled `{pattern, replace}` pair whose searches stop at a deadline.

    `needle`: text that every match contains (the longest run of plain characters the
    pattern requires), or None when the pattern requires none that can be told; a string
    without it cannot match, so callers may skip it unsearched (`EditLog.strings_containing`).
    """

    pattern: regex.Pattern[str]
    replace: str
    needle: str | None = None

    def search(self, text: str, deadline: Deadline) -> bool:
        """Whether the pattern occurs in `text`."""
        return self._run(deadline, lambda timeout: self.pattern.search(text, timeout=timeout) is not None)

    def fragments(self, text: str, deadline: Deadline) -> Iterator[tuple[str, str]]:
        """Each match of `text` and what it is replaced with."""
        matches = self._run(deadline, lambda timeout: list(self.pattern.finditer(text, timeout=timeout)))
        for match in matches:
            yield match.group(0), match.expand(self.replace)

    def sub(self, text: str, deadline: Deadline) -> str:
        """`text` with every match replaced."""
        return self._run(deadline, lambda timeout: self.pattern.sub(self.replace, text, timeout=timeout))

    def _run(self, deadline: Deadline, call: Callable[[float], _T]) -> _T:
        try:
            return call(deadline.remaining(self.pattern.pattern))
        except TimeoutError:
            raise PatternTimeout(self.pattern.pattern, deadline.seconds) from None


@functools.lru_cache(maxsize=1024)
def compile_replacement(pattern: str, replace: str) -> Replacement:
    """Compile and test one `{pattern, replace}` pair; a `PatternError` says what is wrong."""
    try:
        compiled = regex.compile(pattern)
    except (regex.error, ValueError, OverflowError) as exc:
        raise PatternError(f"invalid regular expression {pattern!r}: {exc}") from None
    _check_replacement(pattern, compiled, replace)
    _check_backtracking(compiled)
    return Replacement(compiled, replace, None if compiled.flags & regex.IGNORECASE else required_text(pattern))


_ESCAPES_AND_COUNTS = regex.compile(r"\\.|\{[0-9]*(?:,[0-9]*)?\}", regex.DOTALL)


def required_text(pattern: str) -> str | None:
    """The longest text that every match of `pattern` contains, read from its top-level sequence.

    Only plain characters in a row at the top level count (`https://` and
    `console.aws.amazon.com` in `https://(?:[a-z0-9-]+\\.)?console\\.aws\\.amazon\\.com`; the
    last character of a run a quantifier applies to is not one).  None when the pattern
    is an alternation, ignores case, or uses syntax that `re`'s parser does not read the
    way `regex` does (it then fails to parse): no guess is ever made.  A `{` that is not
    a repeat count also gives None: `regex` reads `{e<=1}` as fuzzy matching, `re` as text.
    """
    if "{" in _ESCAPES_AND_COUNTS.sub("", pattern):
        return None
    try:
        from re import _parser  # type: ignore[attr-defined]  # the stdlib's own regular-expression parser

        parsed = _parser.parse(pattern)
    except Exception:  # noqa: BLE001 - any pattern `re` cannot read: no needle
        return None
    if parsed.state.flags & (_parser.SRE_FLAG_IGNORECASE | _parser.SRE_FLAG_LOCALE):
        return None
    runs, current = [], []
    for op, argument in parsed.data:
        if op is _parser.LITERAL:
            current.append(chr(argument))
            continue
        runs.append("".join(current))
        current = []
    runs.append("".join(current))
    longest = max(runs, key=len)
    return longest or None


def _check_replacement(pattern: str, compiled: regex.Pattern[str], replace: str) -> None:
    # The same groups plus an empty alternative: always matches "", so expand() checks every reference.
    # The newline ends a trailing (?x) comment; outside verbose mode it only lengthens the first branch.
    try:
        probe = regex.compile(pattern + "\n|")
        match = probe.match("")
    except (regex.error, ValueError):  # pragma: no cover - the pattern itself compiled
        return
    if match is None or probe.groups != compiled.groups or dict(probe.groupindex) != dict(compiled.groupindex):
        return  # pragma: no cover - cannot happen for a pattern that compiled
    try:
        match.expand(replace)
    except (IndexError, regex.error, ValueError) as exc:
        groups = f"{compiled.groups} group(s)" + (f": {', '.join(compiled.groupindex)}" if compiled.groupindex else "")
        raise PatternError(f"replacement {replace!r} does not fit pattern {pattern!r} ({exc}; the pattern has {groups})") from None


def _check_backtracking(compiled: regex.Pattern[str]) -> None:
    characters = dict.fromkeys(c for c in compiled.pattern + _COMMON if c.isprintable())
    for character in list(characters)[:64]:
        for end in ("!", "\x00"):
            probe = character * _PROBE_LENGTH + end
            try:
                compiled.search(probe, timeout=PROBE_SECONDS)
            except TimeoutError:
                raise PatternError(
                    f"pattern {compiled.pattern!r} backtracks catastrophically (over {PROBE_SECONDS:g} s on "
                    f"{_PROBE_LENGTH} x {character!r}); rewrite it without nested or overlapping repetition"
                ) from None

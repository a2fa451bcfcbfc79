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
* before it is compiled, the pattern's size once its counted repeats are unrolled
  (`a{1000}` is a thousand copies of `a`; `(?:a{100}){100}` ten thousand) is at most
  `MAX_UNROLLED`: `regex` compiles a repeat's minimum count as that many copies, so the
  100-byte `a{1000000000}` took 4 GB at compile time, before any search could time out;
* the pattern finishes quickly on probe strings made of runs of each character it
  names (plus a few common ones), and of the strings its own repeated parts match,
  pumped (`abab...ab!` for `^(ab|a|b)*$`, whose branches overlap on `ab`): a pattern
  that needs longer than `PROBE_SECONDS` of CPU time on a 40-character probe
  backtracks catastrophically and is refused.  The same probes run when `rules check`
  reads the file and when `transform` loads it.

At transform time every search still runs under a deadline (`RULE_SECONDS` per rule and
template), so a pattern the probes missed ends in a clean error naming the rule, the
template and the string, never in a hang.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

import regex

PROBE_SECONDS = 0.1
RULE_SECONDS = 10.0
#: largest pattern size with its counted repeats unrolled (about 300 bytes of compiled pattern each)
MAX_UNROLLED = 10_000
_PROBE_LENGTH = 40
_PUMPS = 16  # at most this many pumped strings per pattern
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
    size = unrolled_size(pattern)
    if size > MAX_UNROLLED:
        raise PatternError(
            f"pattern {_shorten(pattern)!r} is too large once its counted repeats are unrolled ({size:,} copies, at most "
            f"{MAX_UNROLLED:,}); use an open repeat such as + or {{1,}}, or smaller counts"
        )
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
    probes = [("", character) for character in list(characters)[:64]] + pumped_strings(compiled.pattern)
    for prefix, pump in probes:
        for end in ("!", "\x00"):
            count = -(-_PROBE_LENGTH // len(pump))
            if _too_slow(compiled, prefix + pump * count + end):
                shown = (f"{prefix!r} + " if prefix else "") + f"{count} x {pump!r}"
                raise PatternError(
                    f"pattern {compiled.pattern!r} backtracks catastrophically (over {PROBE_SECONDS:g} s on "
                    f"{shown}); rewrite it without nested or overlapping repetition"
                )


def _too_slow(compiled: regex.Pattern[str], probe: str) -> bool:
    """Whether searching `probe` takes more than `PROBE_SECONDS` of this thread's CPU time.

    The search's own timeout is wall-clock time: on a loaded machine a quick search can
    be descheduled past it.  So a timeout is confirmed by a second search, timed in CPU
    time, stopped at ten times the bound.
    """
    try:
        compiled.search(probe, timeout=PROBE_SECONDS)
        return False
    except TimeoutError:
        pass
    start = time.thread_time()
    try:
        compiled.search(probe, timeout=10 * PROBE_SECONDS)
    except TimeoutError:
        return True
    return time.thread_time() - start > PROBE_SECONDS


def _shorten(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


_COUNT = regex.compile(r"\{(\d*)(?:,(\d*))?\}")
_BRACED_ESCAPES = "pPNxuUg"  # escapes that may take a {...} argument: not a count


def unrolled_size(pattern: str) -> int:
    """The pattern's size with every counted repeat written out (`(?:ab){3}c` is 7): what compiling it costs.

    Read from the text, without `regex`'s parser (which is what unrolls): escapes,
    character classes and groups are told apart; alternatives are added, not compared,
    and a repeat counts its minimum (what `regex` writes out; `{0,n}` costs no copies).
    An over-estimate at worst: a `{` that is no count is one character.
    """
    frames: list[list[int]] = [[]]  # per open group: the sizes of its items so far
    index, length = 0, len(pattern)
    while index < length:
        char = pattern[index]
        items = frames[-1]
        if char == "\\":
            nxt = pattern[index + 1 : index + 2]
            index += 2
            if nxt in _BRACED_ESCAPES and pattern[index : index + 1] == "{":
                close = pattern.find("}", index)
                index = length if close < 0 else close + 1
            items.append(1)
            continue
        if char == "[":
            index += 1
            if pattern[index : index + 1] == "^":
                index += 1
            if pattern[index : index + 1] == "]":
                index += 1
            while index < length and pattern[index] != "]":
                index += 2 if pattern[index] == "\\" else 1
            index += 1
            items.append(1)
            continue
        if char == "(":
            if pattern.startswith("(?#", index):
                close = pattern.find(")", index)
                index = length if close < 0 else close + 1
                continue
            frames.append([])
            index = _group_body(pattern, index + 1)
            continue
        if char == ")" and len(frames) > 1:
            inner = frames.pop()
            frames[-1].append(sum(inner))
            index += 1
            continue
        if char == "{":
            match = _COUNT.match(pattern, index)
            if match is not None and (match.group(1) or match.group(2)) and items:
                items[-1] *= max(int(match.group(1) or 0), 1)
                index = match.end()
                continue
        if char not in "|*+?":
            items.append(1)
        index += 1
    while len(frames) > 1:
        inner = frames.pop()
        frames[-1].append(sum(inner))
    return sum(frames[0])


_GROUP_START = regex.compile(r"\?(?:P?<[^>]*>|P=[^)]*|[<]?[=!]|[a-zA-Z^-]*:?|[>|])")


def _group_body(pattern: str, index: int) -> int:
    """Where a group's body starts, after its `?:`, `?P<name>`, `?<=`, `?i:` ... (not items of it)."""
    match = _GROUP_START.match(pattern, index) if pattern[index : index + 1] == "?" else None
    return index if match is None else match.end()


def pumped_strings(pattern: str) -> list[tuple[str, str]]:
    """(prefix, pump) pairs: strings each repeated part of `pattern` matches, after what comes before it.

    Why: catastrophic backtracking needs a string that a repeated part can match in
    more than one way, over and over (`ab` is `ab` or `a` then `b` in `^(ab|a|b)*$`);
    runs of one character do not find it when the overlapping branches are longer.
    Each repeat's body gives a few short strings it matches, alone and in pairs.  Read
    with `re`'s parser: a pattern it cannot read (`regex`-only syntax) gets none.
    """
    try:
        from re import _parser  # type: ignore[attr-defined]  # the stdlib's own regular-expression parser

        parsed = _parser.parse(pattern)
    except Exception:  # noqa: BLE001 - any pattern `re` cannot read: only the character runs
        return []
    found: dict[tuple[str, str], None] = {}
    _pumps_in(_parser, list(parsed), "", found)
    return list(found)[:_PUMPS]


def _pumps_in(parser: Any, items: list[Any], prefix: str, found: dict[tuple[str, str], None]) -> None:
    for op, argument in items:
        if op in (parser.MAX_REPEAT, parser.MIN_REPEAT, getattr(parser, "POSSESSIVE_REPEAT", None)):
            _low, high, body = argument
            if high is parser.MAXREPEAT or high > 1:
                examples = [e for e in _examples(parser, list(body)) if e][:4]
                for first in examples:
                    found.setdefault((prefix, first), None)
                    for second in examples:
                        found.setdefault((prefix, first + second), None)
            _pumps_in(parser, list(body), prefix, found)
        elif op is parser.SUBPATTERN:
            _pumps_in(parser, list(argument[-1]), prefix, found)
        elif op is parser.BRANCH:
            for branch in argument[1]:
                _pumps_in(parser, list(branch), prefix, found)
        options = _item_examples(parser, op, argument)
        prefix += options[0] if options else ""


def _examples(parser: Any, items: list[Any]) -> list[str]:
    """A few short strings the sequence `items` matches (or may, where unsure)."""
    results = [""]
    for op, argument in items:
        options = _item_examples(parser, op, argument)
        if options is None:
            return results
        results = list(dict.fromkeys(r + o for r in results for o in options))[:4]
    return results


def _item_examples(parser: Any, op: Any, argument: Any) -> list[str] | None:
    if op is parser.LITERAL:
        return [chr(argument)]
    if op is parser.NOT_LITERAL:
        return ["a" if argument != ord("a") else "b"]
    if op is parser.ANY:
        return ["a"]
    if op is parser.IN:
        for kind, value in argument:
            if kind is parser.LITERAL:
                return [chr(value)]
            if kind is parser.RANGE:
                return [chr(value[0])]
            if kind is parser.CATEGORY:
                return [_CATEGORY_EXAMPLES.get(str(value), "a")]
            if kind is parser.NEGATE:
                return ["!"]
        return None
    if op is parser.CATEGORY:
        return [_CATEGORY_EXAMPLES.get(str(argument), "a")]
    if op is parser.BRANCH:
        return list(dict.fromkeys(e for branch in argument[1] for e in _examples(parser, list(branch))))[:4]
    if op is parser.SUBPATTERN:
        return _examples(parser, list(argument[-1]))
    if op in (parser.MAX_REPEAT, parser.MIN_REPEAT, getattr(parser, "POSSESSIVE_REPEAT", None)):
        low, _high, body = argument
        inner = _examples(parser, list(body))
        return list(dict.fromkeys([e * max(low, 1) for e in inner] + ([""] if low == 0 else [])))[:4]
    if op in (parser.AT, parser.ASSERT, parser.ASSERT_NOT, parser.GROUPREF):
        return [""]
    return None


_CATEGORY_EXAMPLES = {
    "CATEGORY_DIGIT": "0", "CATEGORY_NOT_DIGIT": "a", "CATEGORY_SPACE": " ", "CATEGORY_NOT_SPACE": "a",
    "CATEGORY_WORD": "a", "CATEGORY_NOT_WORD": " ",
}

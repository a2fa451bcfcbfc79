"""JSON whose only changes are strings replaced by strings: rendered without a node tree.

Why: the general renderer walks a node tree with character positions, and `json` gives
none, so a JSON template is composed a second time with libyaml for them: about six
times the cost of `json.loads` (bench/bench_transform.py --floor), for a transform whose
edits are nearly always string replacements (ARN partitions, hosts, principals).  When
every difference between the input and the planned model is a string replaced by a
string, the output is the input with those string tokens replaced: each is found by
searching for its JSON encoding from where the previous one ended, in document order
(the order of `json.loads`' dicts and lists, which is the text's).  A long string whose
change the edits' fragments explain (plain text replaced by plain text) is found by the
two ends of its encoding and its length, without encoding it whole.

The search can land on another token with the same text (an unchanged equal string
before the changed one, or one with the same ends and length); the replacement then
differs from the plan, the renderer's check (the output parsed and compared with the
planned model) sees it, and the general renderer runs instead.  A string written with
escapes `json.dumps` would not write is not found, and the general renderer runs too.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from json.encoder import encode_basestring, encode_basestring_ascii  # what json.dumps calls for a str
from typing import Any

from .values import plain_steps

_KEY_END = re.compile(r"[ \t\r\n]*:")  # what follows a token that is a mapping key
_NEEDLE = 64  # characters of a token searched for before comparing the whole token


def changed_strings(old: Any, new: Any) -> list[tuple[str, str]] | None:
    """`(old, new)` of every string that differs, in document order; None when anything else differs.

    Anything else: a key added, removed or moved, a list resized, a value of another type.
    Parts both models share (`old is new`, as copy-on-write leaves most of them) are not
    looked into.
    """
    changes: list[tuple[str, str]] = []
    stack: list[tuple[Any, Any]] = [(old, new)]
    while stack:
        before, after = stack.pop()
        if before is after:
            continue
        if type(before) is not type(after):
            return None
        if isinstance(before, str):
            if before != after:
                changes.append((before, after))
        elif isinstance(before, dict):
            if before.keys() != after.keys():  # their order may differ: the text keeps its own, as the general renderer does
                return None
            stack.extend(pair for key in reversed(before) if (pair := (before[key], after[key]))[0] is not pair[1])
        elif isinstance(before, list):
            if len(before) != len(after):
                return None
            stack.extend(zip(reversed(before), reversed(after)))
        elif before != after:
            return None
    return changes


def escaped_alike(changes: list[tuple[str, str]]) -> bool:
    """Every string of `changes` is written the same with and without `ensure_ascii` (ASCII, no DEL).

    Why: then whether the file escapes non-ASCII characters need not be found out, a
    search of the whole text (`ValueWriter.escapes_non_ascii`) that took a tenth of
    rendering a 1 MB template.
    """
    return all(old.isascii() and new.isascii() and "\x7f" not in old and "\x7f" not in new for old, new in changes)


def render_strings(text: str, changes: list[tuple[str, str]], *, ensure_ascii: bool,
                   substitutions: Mapping[tuple[str, str], tuple[tuple[str, str], ...]] | None = None) -> str | None:
    """`text` with each changed string's token replaced, in order; None when a token is not found.

    `ensure_ascii`: the file writes non-ASCII characters as `\\u` escapes (`ValueWriter`).
    The new token is the new string encoded as the old one was found: what the general
    renderer writes there too.  It writes the old token with the edit's substitutions
    applied when that is safe, and a substitution fragment holds only characters JSON
    writes as themselves, so on a token that is exactly `json.dumps(old)` the result is
    `json.dumps(new)`; else it writes `json.dumps(new)` itself.

    `substitutions` (`EditLog.substitutions`) say which changes only replaced plain text:
    the old token of a long one is then found without encoding it whole (`_plain_change`).
    """
    encode = encode_basestring_ascii if ensure_ascii else encode_basestring  # json.dumps(value, ensure_ascii=...)
    pieces: list[str] = []
    position = 0
    for old, new in changes:
        new_token = encode(new)
        if len(old) > 2 * _NEEDLE and _plain_change(substitutions, old, new):
            # escapes outside the replaced text are the same in both tokens: the old one is as much longer than its string
            length = len(old) + len(new_token) - len(new)
            at = _value_token(text, encode(old[:_NEEDLE])[:-1], encode(old[-_NEEDLE:])[1:], length, position)
        else:
            token = encode(old)
            length = len(token)
            at = _value_token(text, token, token, length, position)
        if at < 0:
            return None
        pieces += [text[position:at], new_token]
        position = at + length
    pieces.append(text[position:])
    return "".join(pieces)


def _plain_change(substitutions: Mapping[tuple[str, str], tuple[tuple[str, str], ...]] | None, old: str, new: str) -> bool:
    """`new` is `old` with some substrings replaced, all of characters JSON writes as themselves (the edits' fragments say so: `values.plain_steps`).

    A wrong claim only makes the old token's length wrong: the text then fails the
    renderer's check, and the general renderer runs.
    """
    steps = substitutions.get((old, new)) if substitutions else None
    if not steps:
        return False
    return plain_steps(steps)


def _value_token(text: str, head: str, tail: str, length: int, start: int) -> int:
    """Where a token of `length` characters that begins with `head` and ends with `tail` next stands as a value
    (not a key: no `:` follows it) at or after `start`; -1 if nowhere.

    The search looks for the token's first characters and then compares the rest: finding
    a token of thousands of characters (a state machine's definition) at once is slower.
    `head` and `tail` are the whole token when it was encoded whole.
    """
    needle = head[:_NEEDLE]
    at = text.find(needle, start)
    while at >= 0:
        end = at + length
        if end - len(tail) >= at and text.startswith(head, at) and text.startswith(tail, end - len(tail)) and not _KEY_END.match(text, end):
            return at
        at = text.find(needle, at + 1)
    return -1

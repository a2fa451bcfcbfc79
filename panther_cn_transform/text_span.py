"""The smallest change between two strings, shared by the rules that edit inside a string and the report.

Why one function: a rule that rewrites one host or principal inside a longer string edits
only the characters that differ (so the rest of the string, with its own `${...}` parts,
stays as written), and the report shows the same span of a long one-line value.
"""

from __future__ import annotations


def changed_span(old: str, new: str) -> tuple[int, int, str]:
    """The smallest `(start, end, replacement)` of `old` that turns it into `new`.

    >>> changed_span("sqs.${AWS::Region}.amazonaws.com", "sqs.${AWS::Region}.amazonaws.com.cn")
    (32, 32, '.cn')
    """
    prefix = 0
    while prefix < min(len(old), len(new)) and old[prefix] == new[prefix]:
        prefix += 1
    suffix = 0
    while suffix < min(len(old), len(new)) - prefix and old[-1 - suffix] == new[-1 - suffix]:
        suffix += 1
    return prefix, len(old) - suffix, new[prefix : len(new) - suffix]

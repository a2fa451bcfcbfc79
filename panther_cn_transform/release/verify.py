"""Verify a transformed template with cfn-lint: errors for the target region that the input did not have.

Both the input and the output are linted for the *target* region, so an error the global
template already had there (a deprecated runtime, a resource type the region lacks that the
transform then removed) is not blamed on the transform; only what is new counts.  Errors
are compared by rule and message, counted (three new copies of an old message are three
new errors); line numbers are not compared, since edits move lines.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass


@dataclass(frozen=True)
class LintError:
    """One cfn-lint error: rule id, message and the 1-based line in the linted text."""

    rule: str
    message: str
    line: int

    def to_json(self) -> dict[str, object]:
        return {"rule": self.rule, "message": self.message, "line": self.line}


def lint_errors(text: str, region: str) -> list[LintError]:
    """cfn-lint's errors (E rules; warnings and informational matches left out) for `region`."""
    from cfnlint import api

    matches = api.lint(text, config=api.ManualArgs(regions=[region]))
    found = [LintError(m.rule.id, str(m.message), int(m.linenumber)) for m in matches if m.rule.id.startswith("E")]
    return sorted(found, key=lambda e: (e.line, e.rule, e.message))


def new_errors(before: list[LintError], after: list[LintError]) -> list[LintError]:
    """The errors of `after` beyond those `before` already had (by rule and message, counted)."""
    budget = Counter((e.rule, e.message) for e in before)
    new = []
    for error in after:
        key = (error.rule, error.message)
        if budget[key] > 0:
            budget[key] -= 1
        else:
            new.append(error)
    return new


def verify_template(source_text: str, output_text: str, region: str) -> list[LintError]:
    """New cfn-lint errors of `output_text` against `source_text`, both linted for `region`."""
    return new_errors(lint_errors(source_text, region), lint_errors(output_text, region))

"""Findings: what a transform saw but could not (or chose not to) translate.

Every finding is reported at the place that sets the value, with the rule that saw it,
so that nothing is missed silently (the brief's third promise).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..model.paths import JsonPath, to_pointer


@dataclass(frozen=True)
class Finding:
    """Something the transform saw but could not (or chose not to) translate.

    Reported as a warning: on stderr by the command line, under `warnings` in the report.
    """

    path: JsonPath
    message: str
    rule: str
    about: str | None = None
    """What the finding is about (`bucket NAME`), when another rule may see the same thing at the
    same place: the transform keeps the first of such findings, so a place warns once per problem."""

    @property
    def pointer(self) -> str:
        """Where, as an RFC 6901 JSON Pointer."""
        return to_pointer(self.path)

"""The probe families, in the order the suite runs them."""

from __future__ import annotations

from . import bridges, mirrors, outputs, rule_files, s3, templates
from .runner import Family

FAMILIES = [
    Family("templates", templates.probes),
    Family("rules", rule_files.probes),
    Family("mirrors", mirrors.probes),
    Family("outputs", outputs.probes),
    Family("s3", s3.probes, s3.server),
    Family("connect", bridges.probes, bridges.servers),
]

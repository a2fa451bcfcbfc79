"""Reports of what a transform changed: JSON (for tools), markdown and text (for people).

Every entry comes from an `Edit`, a `Warning` or a blocker (`blockers.py`, and cfn-lint
errors from `verify.py`); nothing is summarised away.  The JSON shape is in docs/api.md;
the text for people is rendered by `report_text.py`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date
from typing import Any, Literal

from ..transform import TransformResult
from .blockers import find_blockers, mark_shared, source_blockers

ReportFormat = Literal["text", "markdown", "json"]
REPORT_VERSION = 1


def template_entry(result: TransformResult, output: str | None, *, bucket: str | None = None,
                   today: date | None = None, source_region: str | None = None,
                   source_bucket: str | None = None) -> dict[str, Any]:
    """One template's part of the JSON report; `bucket` is the China bucket assets should be in.

    `source_region` and `source_bucket` say where the input comes from (release mode: the
    source bucket and its region): each blocker the input has there too is marked `shared`
    (blockers.py says how).
    """
    today = today or date.today()
    blockers = find_blockers(result.model, region=result.region, bucket=bucket, today=today)
    if blockers:  # most templates have none: the input is checked only when there is something to match
        source = source_blockers(result.template.model, region=source_region, bucket=source_bucket, today=today)
        blockers = mark_shared(blockers, source)
    return {
        "source": result.template.source,
        "output": output,
        "format": result.template.format,
        "changed": result.changed,
        "changes": [
            {"rule": e.rule, "op": e.op, "path": e.pointer, "old": e.old, "new": e.value, "reason": e.reason}
            for e in result.edits
        ],
        "patch": result.patch.patch,
        "warnings": [{"rule": w.rule, "path": w.pointer, "message": w.message} for w in result.warnings],
        "blockers": [b.to_json() for b in blockers],
    }


def build_report(results: Iterable[tuple[TransformResult, str | None]], *, region: str, bucket: str | None = None) -> dict[str, Any]:
    """The whole JSON report (shape documented in docs/api.md)."""
    return assemble_report([template_entry(result, output, bucket=bucket) for result, output in results], region=region)


def assemble_report(templates: list[dict[str, Any]], *, region: str, **extra: Any) -> dict[str, Any]:
    """The report from per-template entries (`template_entry`), plus any extra top-level keys."""
    ops: dict[str, int] = {}
    for entry in templates:
        for change in entry["changes"]:
            ops[change["op"]] = ops.get(change["op"], 0) + 1
    summary = {
        "templates": len(templates),
        "changed": sum(1 for t in templates if t["changed"]),
        "changes": sum(len(t["changes"]) for t in templates),
        "warnings": sum(len(t["warnings"]) for t in templates),
        "by_op": ops,
    }
    blockers = [
        {"template": entry["source"], **({"place": entry["place"]} if "place" in entry else {}), **blocker}
        for entry in templates
        for blocker in [
            *({"kind": "lint", "path": f"line {e['line']}", "message": f"{e['rule']} {e['message']}", "shared": False}
              for e in entry.get("lint", [])),
            *entry.get("blockers", []),
        ]
    ]
    summary["blockers"] = len(blockers)
    summary["shared_blockers"] = sum(1 for blocker in blockers if blocker["shared"])
    return {"version": REPORT_VERSION, "region": region, **extra, "templates": templates, "summary": summary,
            "blockers": blockers}


def format_report(report: dict[str, Any], fmt: ReportFormat) -> str:
    """The report as `json`, or for people as `markdown` or plain `text` (see `report_text`)."""
    if fmt == "json":
        return json.dumps(report, indent=2, ensure_ascii=False) + "\n"
    from .text_report import render

    return render(report, markdown=fmt == "markdown")

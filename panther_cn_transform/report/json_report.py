"""Reports of what a transform changed: JSON (for tools), SARIF (for code scanning), markdown and text (for people).

Every entry comes from an `Edit`, a `Warning` or a blocker (`blockers.py`, and cfn-lint
errors from `verify.py`); nothing is summarised away.  The JSON shape is in docs/api.md;
the text for people is rendered by `report_text.py`, the SARIF log by `sarif.py`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date
from typing import TYPE_CHECKING, Any, Literal

from ..model.edits import list_alignment
from ..model.paths import JsonPath
from ..model.positions import input_path, position
from ..transform import TransformResult
from .blockers import find_blockers, mark_shared, source_blockers

if TYPE_CHECKING:
    from ..ruleset.rule_files import RuleSet

ReportFormat = Literal["text", "markdown", "json", "sarif"]
REPORT_VERSION = 1


def template_entry(result: TransformResult, output: str | None, *, bucket: str | None = None,
                   today: date | None = None, source_region: str | None = None,
                   source_bucket: str | None = None, positions: bool = False) -> dict[str, Any]:
    """One template's part of the JSON report; `bucket` is the China bucket assets should be in.

    `source_region` and `source_bucket` say where the input comes from (release mode: the
    source bucket and its region): each blocker the input has there too is marked `shared`
    (blockers.py says how).

    `positions`: give each warning and blocker the `line` and `column` of its place in the
    input text (`model/positions.py`).  Off unless asked for (SARIF needs them): for JSON it
    composes the template's node tree, seconds for a template of megabytes.
    """
    today = today or date.today()
    blockers = find_blockers(result.model, region=result.region, bucket=bucket, today=today)
    if blockers:  # most templates have none: the input is checked only when there is something to match
        source = source_blockers(result.template.model, region=source_region, bucket=source_bucket, today=today)
        blockers = mark_shared(blockers, source)
    entry: dict[str, Any] = {
        "source": result.template.source,
        "output": output,
        "format": result.template.format,
        "changed": result.changed,
        "changes": [
            {"rule": e.rule, "op": e.op, "path": e.pointer, "old": e.old, "new": e.value, "reason": e.reason}
            for e in result.edits
        ],
        "patch": result.patch_operations,
        "warnings": [{"rule": w.rule, "path": w.pointer, "message": w.message} for w in result.warnings],
        "blockers": [b.to_json() for b in blockers],
    }
    if positions and (result.warnings or blockers):
        alignment = list_alignment(result.template.model, result.edits)
        root, text = result.template.root, result.template.text

        def place(path: JsonPath) -> dict[str, int]:
            line, column = position(root, input_path(path, alignment), text)
            return {"line": line, "column": column}

        for warning, finding in zip(entry["warnings"], result.warnings):
            warning.update(place(finding.path))
        for found, blocker in zip(entry["blockers"], blockers):
            found.update(place(blocker.path))
    return entry


def build_report(results: Iterable[tuple[TransformResult, str | None]], *, region: str, bucket: str | None = None,
                 positions: bool = False) -> dict[str, Any]:
    """The whole JSON report (shape documented in docs/api.md); `positions` as in `template_entry`."""
    return assemble_report([template_entry(result, output, bucket=bucket, positions=positions) for result, output in results],
                           region=region)


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


def format_report(report: dict[str, Any], fmt: ReportFormat, *, rules: RuleSet | None = None) -> str:
    """The report as `json`, as a SARIF 2.1.0 log (`sarif`), or for people as `markdown` or plain `text` (see `report_text`).

    `rules`: the rules that ran, described in a SARIF log's `tool.driver.rules` (the other
    formats do not use them).  A SARIF log places each result at its line and column when
    the report was built with `positions=True`.
    """
    if fmt == "json":
        return json.dumps(report, indent=2, ensure_ascii=False) + "\n"
    if fmt == "sarif":
        from .sarif import render_sarif

        return render_sarif(report, rules)
    from .text_report import render

    return render(report, markdown=fmt == "markdown")

"""Reports of what a transform changed: JSON (for tools), markdown and text (for people).

Every entry comes from an `Edit` or a `Warning`; nothing is summarised away.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any, Literal

from .transform import TransformResult

ReportFormat = Literal["text", "markdown", "json"]
REPORT_VERSION = 1


def template_entry(result: TransformResult, output: str | None) -> dict[str, Any]:
    """One template's part of the JSON report."""
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
    }


def build_report(results: Iterable[tuple[TransformResult, str | None]], *, region: str) -> dict[str, Any]:
    """The whole JSON report (shape documented in docs/api.md)."""
    return assemble_report([template_entry(result, output) for result, output in results], region=region)


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
    return {"version": REPORT_VERSION, "region": region, **extra, "templates": templates, "summary": summary}


def format_report(report: dict[str, Any], fmt: ReportFormat) -> str:
    """The report as `json`, `markdown` or plain `text`."""
    if fmt == "json":
        return json.dumps(report, indent=2, ensure_ascii=False) + "\n"
    markdown = fmt == "markdown"
    lines: list[str] = []
    summary = report["summary"]
    title = f"China transform report ({report['region']})"
    lines += [f"# {title}", ""] if markdown else [title, "=" * len(title)]
    lines.append(
        f"{summary['templates']} template(s), {summary['changed']} changed, "
        f"{summary['changes']} change(s), {summary['warnings']} warning(s)"
    )
    for template in report["templates"]:
        lines.append("")
        heading = f"{template['source']}" + (f" -> {template['output']}" if template["output"] else "")
        lines += [f"## {heading}", ""] if markdown else [heading]
        # removals first: they are what a reviewer must see
        changes = sorted(template["changes"], key=lambda c: c["op"] != "remove")
        if not changes and not template["warnings"]:
            lines.append("No changes.")
        for change in changes:
            lines.append(_change_line(change, markdown))
        if template["warnings"]:
            lines += ["", "### Warnings", ""] if markdown else ["Warnings:"]
            for warning in template["warnings"]:
                prefix = "- " if markdown else "  ! "
                lines.append(f"{prefix}{_code(warning['path'], markdown)} [{warning['rule']}] {warning['message']}")
    if report.get("left_behind"):
        heading = "Objects left behind (every reference to them was removed)"
        lines += ["", f"## {heading}", ""] if markdown else ["", heading]
        for item in report["left_behind"]:
            lines.append(f"{'- ' if markdown else '  '}{_code(item['key'], markdown)} ({item['kind']}): {item['reason']}")
    return "\n".join(lines) + "\n"


def _change_line(change: dict[str, Any], markdown: bool) -> str:
    prefix = "- " if markdown else "  "
    what = f"{change['op']} {_code(change['path'], markdown)} [{change['rule']}] {change['reason']}"
    if change["op"] == "replace":
        what += f": {_code(_short(change['old']), markdown)} -> {_code(_short(change['new']), markdown)}"
    elif change["op"] == "add":
        what += f": {_code(_short(change['new']), markdown)}"
    return prefix + what


def _short(value: Any, limit: int = 160) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    text = text.replace("\n", "\\n")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _code(text: str, markdown: bool) -> str:
    return f"`{text}`" if markdown and "`" not in text else text

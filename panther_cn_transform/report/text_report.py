"""The report for people (markdown or plain text), in the order an operator acts on it.

1. what blocks a deployment: new cfn-lint errors, runtimes that can no longer be created,
   resources in other regions, assets left in global buckets (one line per distinct
   problem, with every place it occurs);
2. the root's parameters to supply, and where each value comes from;
3. the changes, template by template, each named by its place in the release
   (`root`, `Core -> 09c9...`); changes with the same rule and reason are one group;
   a value is shown whole when short, else as the changed line(s) with a little context,
   never cut to a prefix;
4. the next steps, as commands to paste.

Only the JSON report (`report.py`) is for tools; this text is free to change for readers.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable
from typing import Any

from ..model.text_span import changed_span
from ..partitions.endpoint_data import partition_for
from .guide import value_source

_SHORT = 120
_CONTEXT = 24
_TOKEN = 160
_DELIMITERS = frozenset(" \t\"',;()[]{}<>")
_BLOCKER_TITLES = {
    "lint": "New cfn-lint errors (the input did not have them)",
    "runtime": "Lambda runtimes that can no longer be created",
    "foreign-template": "Nested templates read from outside the release bucket",
    "foreign-asset": "Assets read from outside the release bucket",
    "foreign-region": "Resources in other regions",
    "global-bucket": "Assets and data left in buckets of another partition",
    "user-pool": "What needs a Cognito user pool",
}


def render(report: dict[str, Any], *, markdown: bool) -> str:
    """The whole report as markdown or plain text."""
    out = _Writer(markdown)
    summary = report["summary"]
    if "release" in report:
        out.title(_titled(_kind(report), f"release report: {report['release']} for {report['region']}"))
        where = f"s3://{report['source_bucket']} -> s3://{report['bucket']}"
        state = "uploaded" if report.get("uploaded") else "not uploaded"
        out.line(f"{where} ({state}). Root: {out.code(report['root'])}.")
    else:
        out.title(_titled(_kind(report), f"transform report ({report['region']})"))
    out.line(f"{summary['templates']} template(s), {summary['changed']} changed, "
             f"{summary['changes']} change(s), {summary['warnings']} warning(s)")
    _blockers(out, report.get("blockers", []))
    if "release" in report:
        _parameters(out, report.get("parameters", []), report.get("half"))
    _changes(out, report["templates"])
    if report.get("left_behind"):
        _left_behind(out, report["left_behind"])
    if report.get("next_steps"):
        _next_steps(out, report["next_steps"])
    return out.text()


# -- sections -------------------------------------------------------------------------------


def _blockers(out: _Writer, blockers: list[dict[str, Any]]) -> None:
    shared = [b for b in blockers if b.get("shared")]
    own = [b for b in blockers if not b.get("shared")]
    out.heading(2, f"What blocks a deployment ({len(blockers)}, {len(shared)} shared with the global release)")
    if not blockers:
        out.line("Nothing found that blocks a deployment.")
        return
    if own:
        out.line(f"{len(own)} the global release does not have: `release --upload` stops on these (`--accept-blockers` "
                 "uploads anyway).")
    else:
        out.line("The global release has every one of them too: they stop no upload.")
    _blocker_list(out, own, 3)
    if shared:
        out.heading(3, f"Shared with the global release ({len(shared)}): its source has them too, they stop no upload")
        _blocker_list(out, shared, 4)


def _blocker_list(out: _Writer, blockers: list[dict[str, Any]], level: int) -> None:
    for kind, title in _BLOCKER_TITLES.items():
        found = [b for b in blockers if b["kind"] == kind]
        if not found:
            continue
        out.heading(level, title)
        for message, places in _grouped(found, key=lambda b: b["message"]):
            if len(places) == 1:
                out.bullet(f"{message}: {_place(places[0])} {out.code(places[0]['path'])}")
                continue
            out.bullet(f"{message} ({len(places)} places):")
            for place, here in _grouped(places, key=_place):
                out.bullet(f"{place}: {', '.join(out.code(b['path']) for b in here)}", indent=1)


def _kind(report: dict[str, Any]) -> str:
    """`China`, `Web half`, or `` for a report of another partition: "China" names the China half alone."""
    if report.get("half") == "web":
        return "Web half"
    return "China" if partition_for(str(report["region"])) == "aws-cn" else ""


def _titled(kind: str, rest: str) -> str:
    text = f"{kind} {rest}" if kind else rest
    return text[:1].upper() + text[1:]


def _parameters(out: _Writer, parameters: list[dict[str, Any]], half: str | None) -> None:
    out.heading(2, "Parameters of the root stack to supply")
    if not parameters:
        out.line("None: every parameter has a default.")
        return
    for parameter in parameters:
        status = "added by the transform" if parameter["status"] == "gained" else "no default"
        out.bullet(f"{out.code(parameter['name'])} ({status}): {value_source(parameter, half)}")


def _changes(out: _Writer, templates: list[dict[str, Any]]) -> None:
    out.heading(2, "Changes")
    for template in templates:
        out.heading(3, _template_name(template))
        # removals first: they are what a reviewer must see
        changes = sorted(template["changes"], key=lambda c: c["op"] != "remove")
        if not changes and not template["warnings"]:
            out.line("No changes.")
        for (op, rule, reason), group in _grouped(changes, key=lambda c: (c["op"], c["rule"], c["reason"])):
            if len(group) == 1:
                _change(out, group[0], f"{op} {out.code(group[0]['path'])} [{rule}] {reason}", indent=0)
            else:
                out.bullet(f"{op} x{len(group)} [{rule}] {reason}:")
                for change in group:
                    _change(out, change, out.code(change["path"]), indent=1)
        if template["warnings"]:
            out.heading(4, "Warnings")
            for (rule, message), group in _grouped(template["warnings"], key=lambda w: (w["rule"], w["message"])):
                paths = ", ".join(out.code(w["path"]) for w in group)
                out.bullet(f"{paths} [{rule}] {message}")


def _left_behind(out: _Writer, items: list[dict[str, Any]]) -> None:
    out.heading(2, "Objects left behind (every reference to them was removed)")
    for item in items:
        out.bullet(f"{out.code(item['key'])} ({item['kind']}): {item['reason']}")


def _next_steps(out: _Writer, steps: list[dict[str, Any]]) -> None:
    out.heading(2, "Next steps")
    for number, step in enumerate(steps, 1):
        when = f" ({step['when']} only)" if step.get("when") else ""
        out.heading(3, f"{number}. {step['title']}{when}")
        out.line(step["text"])
        for item in step.get("items", []):
            out.bullet(item)
        if step["commands"]:
            out.block("\n".join(step["commands"]), "sh", level=0)


# -- one change -----------------------------------------------------------------------------


def _change(out: _Writer, change: dict[str, Any], head: str, *, indent: int) -> None:
    op = change["op"]
    if op == "remove":
        out.bullet(head + _kind_of(change["old"], out), indent=indent)
        return
    new = change["new"]
    if op == "add":
        shown = _kind_of(new, out) or (f": {out.code(_inline(new))}" if _is_short(new) else "")
        out.bullet(head + shown, indent=indent)
        if not shown:
            out.block(_text(new), "json" if not isinstance(new, str) else "", level=indent + 1)
        return
    old = change["old"]
    if _is_short(old) and _is_short(new):
        out.bullet(f"{head}: {out.code(_inline(old))} -> {out.code(_inline(new))}", indent=indent)
        return
    out.bullet(head + ":", indent=indent)
    out.block("\n".join(changed_lines(_text(old), _text(new))), "diff", level=indent + 1)


def changed_lines(old: str, new: str) -> list[str]:
    """The lines that differ between `old` and `new` (`-`/`+`), with a line of context.

    A single long line is cut around the change (`…` marks the cuts): the changed part is
    always shown whole, widened to the whole word it is in (an ARN, a host, a URL), plus a
    little context, whatever comes before it.
    """
    if "\n" not in old and "\n" not in new:
        start, old_end, replacement = changed_span(old, new)
        left, right = _token_bounds(old, start, old_end)
        new_end = start + len(replacement) + (right - old_end)
        return [f"- {_window(old, left, right)}", f"+ {_window(new, left, new_end)}"]
    old_lines, new_lines = old.splitlines(), new.splitlines()
    if len(old_lines) == len(new_lines) == 1 and old_lines != new_lines:
        return ["@@ -1 +1 @@", f"- {old_lines[0]}", f"+ {new_lines[0]}"]  # difflib's hunk for one line (a Join part)
    diff = difflib.unified_diff(old_lines, new_lines, n=1, lineterm="")
    return [line[0] + " " + line[1:] if line[:1] in "+- " else line for line in list(diff)[2:]]


def _token_bounds(text: str, start: int, end: int) -> tuple[int, int]:
    """`start:end` widened to the whole word (ARN, host, URL) it falls in, so a value is named whole."""
    left, right = start, end
    while left > 0 and start - left < _TOKEN and text[left - 1] not in _DELIMITERS:
        left -= 1
    while right < len(text) and right - end < _TOKEN and text[right] not in _DELIMITERS:
        right += 1
    return left, right


def _window(text: str, start: int, end: int) -> str:
    left = max(0, start - _CONTEXT)
    right = min(len(text), end + _CONTEXT)
    return ("…" if left else "") + text[left:right] + ("…" if right < len(text) else "")


def _kind_of(value: Any, out: _Writer) -> str:
    """`: AWS::SNS::Topic` for a resource, else ''."""
    if isinstance(value, dict) and isinstance(value.get("Type"), str):
        return f": {out.code(value['Type'])}"
    return ""


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, indent=2)


def _inline(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _is_short(value: Any) -> bool:
    text = _inline(value)
    return len(text) <= _SHORT and "\n" not in text


# -- helpers --------------------------------------------------------------------------------


def _grouped(items: Iterable[dict[str, Any]], *, key: Any) -> list[tuple[Any, list[dict[str, Any]]]]:
    """Items grouped by `key(item)`, groups in the order of their first item."""
    groups: dict[Any, list[dict[str, Any]]] = {}
    for item in items:
        groups.setdefault(key(item), []).append(item)
    return list(groups.items())


def _place(blocker: dict[str, Any]) -> str:
    place = blocker.get("place")
    return f"{place} -> {blocker['template']}" if place else str(blocker.get("template", ""))


def _template_name(template: dict[str, Any]) -> str:
    place = template.get("place")
    name = f"{place} -> {template['source']}" if place else template["source"]
    if template.get("output") and template["output"] != template["source"]:
        name += f" (written to {template['output']})"
    if template.get("key") and template["key"] != template["source"]:  # a nested template under its content key
        name += f" (published as {template['key']})"
    return name


class _Writer:
    """Markdown or plain text, one shape of document."""

    def __init__(self, markdown: bool) -> None:
        self.markdown = markdown
        self.lines: list[str] = []

    def text(self) -> str:
        kept: list[str] = []
        for line in self.lines:
            if line or (kept and kept[-1]):  # never two blank lines in a row
                kept.append(line)
        return "\n".join(kept).rstrip("\n") + "\n"

    def title(self, text: str) -> None:
        self.lines += [f"# {text}", ""] if self.markdown else [text, "=" * len(text)]

    def heading(self, level: int, text: str) -> None:
        if self.markdown:
            self.lines += ["", f"{'#' * level} {text}", ""]
        else:
            underline = {2: "=", 3: "-"}.get(level)
            self.lines += ["", text] + ([underline * len(text)] if underline else [])

    def line(self, text: str) -> None:
        self.lines.append(text)

    def bullet(self, text: str, *, indent: int = 0) -> None:
        self.lines.append(f"{'  ' * indent}- {text}")

    def block(self, text: str, language: str, *, level: int) -> None:
        """A code block; `level` 1 and up sits inside a list item of that depth."""
        pad = "  " * level
        if self.markdown:
            self.lines += ["", f"{pad}```{language}", *(f"{pad}{line}" for line in text.splitlines()), f"{pad}```", ""]
        else:
            self.lines += [f"{pad}    {line}" for line in text.splitlines()]

    def code(self, text: str) -> str:
        return f"`{text}`" if self.markdown and "`" not in text else text

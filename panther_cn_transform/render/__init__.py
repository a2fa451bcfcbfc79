"""Render a changed model back into the template's own text, and prove the text says it.

Why not dump the model: a dump rewrites every line (quoting, key order, comments,
folding), so a reviewer's diff would show noise instead of changes.  Instead the renderer
walks the original libyaml node tree beside the old and new models and turns each
difference into a replacement of a character range of the source.  Everything not edited
stays byte for byte.  The work is split by responsibility:

* `diff.py` - the walk that turns model differences into text edits;
* `placement.py` - positions in the source and the collected range replacements;
* `aliases.py` - anchors and aliases: which alias still points at the right value, and
  copies of an anchored node's text for those that do not;
* `values.py` and `emit.py` - the text of new values, in the style of what they replace;
* `json_strings.py` - JSON whose only changes are strings replaced by strings, written
  without the node tree (which JSON would otherwise compose with libyaml only for this);
* `string_nodes.py` - YAML whose only changes are strings replaced by strings: each
  changed scalar found at its node by its path, instead of the diff walk.

After rendering, the result is parsed and compared with the planned model; a string
edit that used substring substitutions and failed that check is rendered again with
whole-scalar replacement before giving up with `RenderError`.  When the edit log says
that all that changed is strings replaced by strings, JSON is first written without the
node tree (`json_strings.py`) and YAML without the diff walk (`string_nodes.py`); when
that text fails the same check, the general renderer runs.  A text UTF-8 cannot encode
(a lone surrogate from a rule or a variable) is a `RenderError` at once.
"""

from __future__ import annotations

import json
import re
from typing import Any

from ..errors import RenderError, TemplateError
from ..limits import Limits
from ..model.decode import Template, decode_text
from ..model.paths import JsonPath
from ..model.render_check import yaml_decodes_to
from ..model.walk import first_difference, same_value
from .aliases import AliasIndex, AliasRepair
from .diff import Alignment, Differ, Place
from .json_strings import changed_strings, escaped_alike, render_strings
from .placement import Layer, Layout, Source
from .string_nodes import changed_nodes
from .values import Substitutions, ValueWriter

__all__ = ["render"]

# An anchor property: `&name` at the start of a line or after a space or flow indicator.
_ANCHOR = re.compile(r"(?:^|[\s\[{,])&[^\s\[\]{},]", re.MULTILINE)


def render(
    template: Template,
    new_model: dict[str, Any],
    substitutions: Substitutions | None = None,
    alignment: Alignment | None = None,
    *,
    limits: Limits | None = None,
    string_changes: list[tuple[JsonPath, str, str, int]] | None = None,
) -> str:
    """The text of `template` changed to `new_model`, touching only what differs.

    **Parameters:**

    * **substitutions** - from `EditLog.substitutions`: lets a string edit change only
      the substituted characters.
    * **alignment** - from `edits.list_alignment`: which input item each item of a
      resized list is.
    * **limits** - bounds for the copies made for aliases and for the verification
      parse (default: the template's own).
    * **string_changes** - from `EditLog.string_changes`: when all that changed is
      strings replaced by strings, which ones and where (path and place among the
      model's strings), in document order (the text is then written without comparing
      the two models to find them).  A wrong list cannot change the output: the text it
      gives fails the check, and the general renderer runs.

    A `RenderError` when no text says `new_model`, or when the text holds a character
    UTF-8 cannot encode (a lone surrogate: only a rule's text or a variable can bring one).
    """
    if new_model is template.model:
        return _with_bom(template, template.text)
    limits = limits or template.limits
    if template.format == "json":
        strings_only = _render_json_strings(template, new_model, string_changes, substitutions)
        if strings_only is not None and _loads_as(template, strings_only, new_model):
            return _with_bom(template, strings_only)
    elif string_changes is not None:
        strings_only = _render_yaml_strings(template, string_changes, substitutions)
        if strings_only is not None and _reparsed_problem(template, strings_only, new_model, limits) is None:
            return _with_bom(template, strings_only)
    problem: str | None = ""
    for use_substitutions in (True, False):
        text = _render(template, new_model, substitutions if use_substitutions else None, alignment or {}, limits)
        problem = _reparsed_problem(template, text, new_model, limits)
        if problem is None:
            return _with_bom(template, text)
        if not substitutions:
            break
    raise RenderError(problem or "", file=template.source)


def _check_encodable(template: Template, text: str) -> None:
    """A `RenderError` unless the text can be written as UTF-8 (and so be parsed back).

    The input was UTF-8, so only a rule's text or a variable can bring in a character that
    is not (a lone surrogate); every rendering of the planned model holds it, so no retry
    helps.  `isascii` answers for most templates, in C.
    """
    if text.isascii():
        return
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        line = text.count("\n", 0, exc.start) + 1
        raise RenderError(f"rendered text holds U+{ord(text[exc.start]):04X}, which UTF-8 cannot encode "
                          "(a lone surrogate, from a rule's text or a variable)", file=template.source, line=line) from None


def _reparsed_problem(template: Template, text: str, new_model: dict[str, Any], limits: Limits) -> str | None:
    """None when `text` parses to exactly `new_model`; else what is wrong with it."""
    _check_encodable(template, text)
    if template.format == "yaml" and yaml_decodes_to(text, new_model, source=template.source, limits=limits):
        return None
    try:
        reparsed = decode_text(text, source=template.source, limits=limits, trusted=True).model
    except TemplateError as exc:
        return f"rendered text does not parse ({exc.message}, line {exc.line})"
    if same_value(reparsed, new_model):  # type and value: `1` is not `1.0` nor `true`
        return None
    return f"rendered text differs from the planned model at {first_difference(reparsed, new_model)}"


def _loads_as(template: Template, text: str, new_model: dict[str, Any]) -> bool:
    """The check of a strings-only JSON render: `json.loads(text)` is `new_model`, type and value (`walk.same_value`).

    That is the whole re-parse here: the planned model has the input's keys and nesting
    (only strings differ), so a text that loads equal to it has no duplicate key (the
    input had none, and a duplicate would load as one key fewer) and no deeper nesting.
    """
    _check_encodable(template, text)
    try:
        return same_value(json.loads(text), new_model)
    except (ValueError, RecursionError):
        return False


def _render_json_strings(template: Template, new_model: dict[str, Any], string_changes: list[tuple[JsonPath, str, str, int]] | None,
                         substitutions: Substitutions | None) -> str | None:
    """The JSON text with its changed strings replaced (json_strings.py), or None when other changes need the general renderer."""
    changes = [(old, new) for _, old, new, _ in string_changes] if string_changes is not None else changed_strings(template.model, new_model)
    if changes is None:
        return None
    ensure_ascii = not escaped_alike(changes) and ValueWriter.escapes_non_ascii(template.text)
    return render_strings(template.text, changes, ensure_ascii=ensure_ascii, substitutions=substitutions)


def _render_yaml_strings(template: Template, changes: list[tuple[JsonPath, str, str, int]], substitutions: Substitutions | None) -> str | None:
    """The YAML text with each changed scalar replaced at its node (string_nodes.py), as the diff replaces it; None when the diff must run."""
    text = template.text
    if "*" in text and _has_anchor(text):
        return None  # an alias shares its anchor's node: only the diff and aliases.py tell them apart
    found = changed_nodes(template.root, changes, template.string_nodes)
    if found is None:
        return None
    layout = Layout(text, template.newline, template.source, {})
    document = Layer(layout, 0, len(text))
    differ = Differ(document, ValueWriter(text, is_json=False, newline=template.newline, substitutions=substitutions), {})
    for node, flow, new in found:
        differ.replace(node, new, Place(flow=flow, indent=0), keep_tag=True)  # a string for a string: the indent is not used
    return document.stitch()


def _render(template: Template, new_model: dict[str, Any], substitutions: Substitutions | None, alignment: Alignment, limits: Limits) -> str:
    text, is_json = template.text, template.format == "json"
    index = None
    if not is_json and "*" in text and _has_anchor(text):
        index = AliasIndex.build(template.root, Source(text, template.newline, template.source))
    layout = Layout(text, template.newline, template.source, index.spans if index else {})
    writer = ValueWriter(text, is_json=is_json, newline=template.newline, substitutions=substitutions)
    document = Layer(layout, 0, len(text))
    differ = Differ(document, writer, alignment, frozenset(index.anchors) if index else frozenset())
    differ.diff(template.root, False, template.model, new_model, Place(flow=False, indent=0), ())
    if index is not None and index.by_slot:
        AliasRepair(index, layout, writer, alignment, limits).run(document, differ)
    return document.stitch()


def _has_anchor(text: str) -> bool:
    """`_ANCHOR.search(text)`, found from the `&`s (few in most templates) instead of trying every position."""
    position = text.find("&")
    while position >= 0:
        if _ANCHOR.match(text, position - 1 if position else 0):
            return True
        position = text.find("&", position + 1)
    return False


def _with_bom(template: Template, text: str) -> str:
    return ("\ufeff" + text) if template.bom else text

"""Emission: new values written as YAML or JSON text, free of any place in the template.

Only values an edit created pass through here; everything else keeps its source text.
Which styles a string may take is decided by PyYAML's own emitter analysis
(`yaml.emitter.Emitter.analyze_scalar`, the code PyYAML trusts for its own output) and
its resolver (a plain `yes` or `0777` would read back as a bool or an int), not by a
hand-written character list.  `values.py` picks among these forms to fit the value a new
one replaces.
"""

from __future__ import annotations

import io
import json
import re
from functools import lru_cache
from typing import Any

import yaml
import yaml.emitter

from ..model.intrinsics import LONG_TO_SHORT, intrinsic_name

_RESOLVER = yaml.resolver.Resolver()
_STR_TAG = "tag:yaml.org,2002:str"
# Characters a YAML double-quoted scalar may not hold raw: C0/C1 controls, DEL, the
# Unicode line and paragraph separators (line breaks in YAML 1.1) and the BOM.
_NEEDS_ESCAPE = re.compile("[\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff]")


#: A word of letters, digits and `_./-` that starts with none of `.-` (so neither `---` nor
#: `...`, nor `- `): the emitter's analysis allows it in every style (tests/render/test_render.py
#: checks that against the emitter).  Most values an edit writes are such words (`String`,
#: `Type`, logical ids), and the emitter's analysis is a Python loop over each character.
_WORD = re.compile(r"[A-Za-z0-9_/][A-Za-z0-9_./-]*")
_WORD_ANALYSIS = yaml.emitter.ScalarAnalysis(
    scalar=None, empty=False, multiline=False, allow_flow_plain=True, allow_block_plain=True,
    allow_single_quoted=True, allow_double_quoted=True, allow_block=True,
)


def _analysis(value: str) -> yaml.emitter.ScalarAnalysis:
    """PyYAML's emitter analysis of `value` (which styles may hold it); a word's is known without it."""
    return _WORD_ANALYSIS if _WORD.fullmatch(value) else _emitter_analysis(value)


@lru_cache(maxsize=4096)
def _emitter_analysis(value: str) -> yaml.emitter.ScalarAnalysis:
    emitter = yaml.emitter.Emitter(io.StringIO())
    emitter.allow_unicode = True  # we write UTF-8: non-ASCII letters need no quoting
    return emitter.analyze_scalar(value)


def plain_ok(value: str, *, flow: bool = False) -> bool:
    """True when `value` can be written as a YAML plain scalar and still read back as it.

    The emitter's analysis decides; inside a flow collection it also refuses every `:`,
    which the reader accepts unless a space or flow indicator follows (`[arn:aws:s3:::b]`),
    so there the reader has the last word on what the analysis allows in a block.
    """
    analysis = _analysis(value)
    if analysis.empty or analysis.multiline or not analysis.allow_block_plain:
        return False
    # YAML 1.1 would read it as something other than a string (`yes`, `0777`, `1e3`...).
    resolved: str = _RESOLVER.resolve(yaml.ScalarNode, value, (True, False))  # type: ignore[no-untyped-call]
    if resolved != _STR_TAG:
        return False
    return not flow or analysis.allow_flow_plain or _reads_back_in_flow(value)


def _reads_back_in_flow(value: str) -> bool:
    item = flow_item(value)
    return item is not None and item.tag == _STR_TAG and item.value == value


@lru_cache(maxsize=4096)
def flow_item(text: str) -> yaml.ScalarNode | None:
    """The scalar libyaml reads from `text` as the single item of a flow sequence `[text]`, or None.

    Whether a scalar's characters may stand inside `[...]` or `{...}` as they are is
    libyaml's question to answer, not a hand list of indicators.
    """
    try:
        node = yaml.compose("[" + text + "]", Loader=yaml.CSafeLoader)
    except yaml.YAMLError:
        return None
    if isinstance(node, yaml.SequenceNode) and len(node.value) == 1 and isinstance(node.value[0], yaml.ScalarNode):
        return node.value[0]
    return None


def single_quoted(value: str) -> str | None:
    """`'...'` with `''` escapes, or None when the value needs escapes or line folding."""
    analysis = _analysis(value)
    if not analysis.allow_single_quoted or analysis.multiline or "\t" in value:
        return None
    return "'" + value.replace("'", "''") + "'"


def double_quoted(value: str) -> str:
    """A YAML double-quoted scalar; JSON's escapes are a subset of YAML's."""
    text = json.dumps(value, ensure_ascii=False)
    return _NEEDS_ESCAPE.sub(lambda match: f"\\u{ord(match.group(0)):04x}", text)


def literal_ok(value: str) -> bool:
    """True when `value` can be a `|` block scalar written line by line (no escapes needed)."""
    analysis = _analysis(value)
    if not analysis.allow_block or "\r" in value or "\t" in value:
        return False
    return bool(value) and "\n" in value and not value[0].isspace() and not re.search("[\x85\u2028\u2029]", value)


def yaml_scalar(value: Any, *, style: str = "", flow: bool = False) -> str:
    """A YAML scalar for `value`, in `style` ('' plain, "'" or '"') when that style fits."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return json.dumps(value)
    text = str(value)
    if style == '"':
        return double_quoted(text)
    if style == "'" or not plain_ok(text, flow=flow):
        return single_quoted(text) or double_quoted(text)
    return text


def yaml_flow(value: Any, *, short_tags: bool) -> str:
    """`value` on one line: a flow collection, or a short-form tag when the file uses them."""
    name = intrinsic_name(value)
    if name and short_tags and name in LONG_TO_SHORT:
        inner = value[name]
        if name == "Fn::GetAtt" and isinstance(inner, list) and len(inner) == 2 and all(isinstance(p, str) for p in inner):
            dotted = f"{inner[0]}.{inner[1]}"
            if inner[0] and inner[1] and "." not in inner[0] and plain_ok(dotted, flow=True):  # read back as the same two parts
                return f"!GetAtt {dotted}"
        if not isinstance(inner, dict) or intrinsic_name(inner) is None:
            return f"{LONG_TO_SHORT[name]} {yaml_flow(inner, short_tags=short_tags)}"
    if isinstance(value, dict):
        items = ", ".join(
            f"{yaml_scalar(k, flow=True)}: {yaml_flow(v, short_tags=short_tags)}" for k, v in value.items()
        )
        return "{" + items + "}"
    if isinstance(value, list):
        return "[" + ", ".join(yaml_flow(v, short_tags=short_tags) for v in value) + "]"
    return yaml_scalar(value, flow=True)


def yaml_block_lines(value: Any, indent: int, *, short_tags: bool, step: int = 2) -> list[str]:
    """`value` as the lines of a block mapping or sequence at column `indent`."""
    pad = " " * indent
    lines: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            lines.extend(_block_entry(f"{pad}{yaml_scalar(key)}:", item, indent, short_tags, step))
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, dict) and item and intrinsic_name(item) is None:
                sub = yaml_block_lines(item, indent + 2, short_tags=short_tags, step=step)
                lines.append(f"{pad}- {sub[0].lstrip()}")
                lines.extend(sub[1:])
            else:
                lines.extend(_block_entry(f"{pad}-", item, indent, short_tags, step))
    else:
        lines.append(pad + yaml_scalar(value))
    return lines


def _block_entry(head: str, item: Any, indent: int, short_tags: bool, step: int) -> list[str]:
    if _is_block_collection(item):
        return [head] + yaml_block_lines(item, indent + step, short_tags=short_tags, step=step)
    if isinstance(item, str) and literal_ok(item):
        return [head + " " + literal_header(item)] + [
            (" " * (indent + step) + line) if line else "" for line in item.split("\n")[: -1 if item.endswith("\n") else None]
        ]
    return [f"{head} {yaml_flow(item, short_tags=short_tags)}"]


def literal_header(text: str) -> str:
    """`|`, `|-` or `|+`: the chomping that gives back `text`'s trailing line breaks."""
    if text.endswith("\n\n"):
        return "|+"
    if text.endswith("\n"):
        return "|"
    return "|-"


def _is_block_collection(item: Any) -> bool:
    if isinstance(item, dict):
        return bool(item) and (intrinsic_name(item) is None or not _is_simple(item))
    if isinstance(item, list):
        return bool(item) and not _is_simple(item)
    return False


def _is_simple(value: Any, budget: int = 6) -> bool:
    """Small enough to read well on one line (an intrinsic over a few scalars)."""
    if isinstance(value, dict):
        return len(value) <= 1 and all(_is_simple(v, budget - 1) for v in value.values()) and budget > 0
    if isinstance(value, list):
        return len(value) <= 4 and all(_is_simple(v, budget - 1) for v in value) and budget > 0
    return not (isinstance(value, str) and ("\n" in value or len(value) > 60))


def json_text(value: Any, *, indent: int | str | None, base: str, ensure_ascii: bool, newline: str = "\n") -> str:
    """`value` as JSON whose continuation lines start with `base` and end with `newline`."""
    if indent is None:
        return json.dumps(value, ensure_ascii=ensure_ascii, separators=(", ", ": "))
    return json.dumps(value, indent=indent, ensure_ascii=ensure_ascii).replace("\n", newline + base)

"""Write new values as YAML or JSON text that fits the surrounding template.

Only values an edit created pass through here; everything else keeps its source text.
A new string keeps the quoting style of the string it replaces when that style can hold
it, and is quoted only when YAML needs it.
"""

from __future__ import annotations

import json
import re
from typing import Any

import yaml

from .intrinsics import LONG_TO_SHORT, intrinsic_name

_RESOLVER = yaml.resolver.Resolver()
_STR_TAG = "tag:yaml.org,2002:str"
# Characters that may not start a plain scalar, and sequences that may not appear in one.
_PLAIN_BAD_START = set("-?:,[]{}#&*!|>'\"%@`")
_PLAIN_BAD_INSIDE = re.compile(r": |:$| #|[\t\n\r\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufeff]")
_FLOW_INDICATORS = re.compile(r"[,\[\]{}]")


def plain_ok(value: str, *, flow: bool = False) -> bool:
    """True when `value` can be written as a YAML plain scalar and still read back as it."""
    if not value or value != value.strip(" "):
        return False
    first = value[0]
    if first in "-?:":
        if len(value) == 1 or value[1] in " \t" or (flow and first != "-"):
            return False
    elif first in _PLAIN_BAD_START:
        return False
    if _PLAIN_BAD_INSIDE.search(value) or (flow and _FLOW_INDICATORS.search(value)):
        return False
    # YAML 1.1 would read it as something other than a string (`yes`, `0777`, `1e3`...).
    resolved: str = _RESOLVER.resolve(yaml.ScalarNode, value, (True, False))  # type: ignore[no-untyped-call]
    return resolved == _STR_TAG


def single_quoted(value: str) -> str | None:
    """`'...'` with `''` escapes, or None when the value needs escapes (newlines, controls)."""
    if re.search(r"[\n\r\t\x00-\x1f\x7f]", value):
        return None
    return "'" + value.replace("'", "''") + "'"


def double_quoted(value: str) -> str:
    """A YAML double-quoted scalar; JSON's escapes are a subset of YAML's."""
    return json.dumps(value, ensure_ascii=False)


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
            return f"!GetAtt {inner[0]}.{inner[1]}"
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
    if isinstance(item, str) and "\n" in item and not re.search(r"[\r\t\x00-\x08\x0b-\x1f]", item):
        return [head + " " + _literal_header(item)] + [
            (" " * (indent + step) + line) if line else "" for line in item.split("\n")[: -1 if item.endswith("\n") else None]
        ]
    return [f"{head} {yaml_flow(item, short_tags=short_tags)}"]


def _literal_header(text: str) -> str:
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


def json_text(value: Any, *, indent: int | None, base: int, ensure_ascii: bool) -> str:
    """`value` as JSON whose continuation lines start at column `base`."""
    if indent is None:
        return json.dumps(value, ensure_ascii=ensure_ascii, separators=(", ", ": "))
    return json.dumps(value, indent=indent, ensure_ascii=ensure_ascii).replace("\n", "\n" + " " * base)

"""JSON text to the exact long-form model, with the checks and errors of the decode.

Why: JSON is loaded by the `json` module (exact JSON number semantics, and faster than
composing it), which knows nothing of duplicate keys, the limits or CloudFormation; this
adds them.  A duplicate key is composed with libyaml only to name both its lines; a
number Python refuses and nesting deeper than the limit are `TemplateError`s; the model
must be a template.  Text that is not JSON but may be YAML flow (`{a: b}`) is left to the
YAML decode.
"""

from __future__ import annotations

import json
import re
from typing import Any

import yaml

from ..errors import TemplateError
from ..limits import Limits
from .builder import ModelBuilder, check_is_template, number_problem
from .template import Template
from .yaml_compose import compose


def decode_json(text: str, source: str, limits: Limits) -> Template | None:
    """Load JSON exactly; None when the text is not JSON but may still be YAML flow."""

    def no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        result = dict(pairs)
        if len(result) != len(pairs):
            raise _DuplicateKey()
        return result

    try:
        model = json.loads(text, object_pairs_hook=no_duplicates)
    except _DuplicateKey:
        # Compose with libyaml to name both lines of the duplicate key.
        ModelBuilder(source, limits).build(compose(text, source))
        raise TemplateError("duplicate key", file=source) from None  # pragma: no cover
    except json.JSONDecodeError as exc:
        try:
            yaml.compose(text, Loader=yaml.CSafeLoader)
        except (yaml.YAMLError, RecursionError):
            raise TemplateError(f"invalid JSON: {exc.msg}", file=source, line=exc.lineno, column=exc.colno) from None
        return None
    except RecursionError:
        raise TemplateError(f"nesting deeper than {limits.max_depth} levels (raise the limit with --max-depth N)", file=source) from None
    except ValueError as exc:  # not a syntax error: a number Python refuses (over 4,300 digits)
        digits = _LONG_NUMBER.search(text)
        line, column = (_line_column(text, digits.start()) if digits else (None, None))
        raise TemplateError(f"number not supported: {number_problem(exc)}", file=source, line=line, column=column) from None
    _check_depth(model, source, limits.max_depth)
    check_is_template(model, source, None)
    return Template(source, text, "json", model, limits=limits)


class _DuplicateKey(Exception):
    pass


_LONG_NUMBER = re.compile(r"\d{4301,}")


def _line_column(text: str, index: int) -> tuple[int, int]:
    line_start = text.rfind("\n", 0, index) + 1
    return text.count("\n", 0, index) + 1, index - line_start + 1


def _check_depth(value: Any, source: str, max_depth: int) -> None:
    """No value of a loaded JSON model deeper than `max_depth` (the root is at depth 1).

    A container at the limit with any child is too deep, whatever the child (most values
    are strings, and this walk runs on every JSON decode): only containers are visited.
    Recursive, a third of the time of a walk with a stack; a limit deeper than Python's
    recursion allows falls back to the stack.
    """
    try:
        if type(value) is dict or type(value) is list:
            _check_depth_below(value, 1, source, max_depth)
            return
    except RecursionError:
        pass
    _check_depth_with_stack(value, source, max_depth)  # and a scalar, at depth 1


def _check_depth_below(node: Any, depth: int, source: str, max_depth: int) -> None:
    """`_check_depth`'s recursive walk (a module function: a closure calling itself is a reference cycle)."""
    if depth >= max_depth and (node or depth > max_depth):
        raise TemplateError(f"nesting deeper than {max_depth} levels (raise the limit with --max-depth N)", file=source)
    for child in node.values() if type(node) is dict else node:
        if type(child) is dict or type(child) is list:  # json.loads makes no subclasses
            _check_depth_below(child, depth + 1, source, max_depth)


def _check_depth_with_stack(value: Any, source: str, max_depth: int) -> None:
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else ()
        if depth >= max_depth and (depth > max_depth or children):
            raise TemplateError(f"nesting deeper than {max_depth} levels (raise the limit with --max-depth N)", file=source)
        stack.extend([(child, depth + 1) for child in children if isinstance(child, (dict, list))])

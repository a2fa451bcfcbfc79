"""Whether a YAML text decodes to a given model, compared node by node without building a second model.

Why its own module: it is the render check's question, not the decode's (the renderer
asks it of every template it writes), answered with the decode's own parts, the
composer and the model builder, so that a True means what a full decode would mean.
"""

from __future__ import annotations

from typing import Any

from .._gc import collector_paused
from ..errors import TemplateError
from ..limits import Limits
from .builder import ModelBuilder, check_is_template
from .yaml_compose import JSON_STARTS, compose, first_character


def yaml_decodes_to(text: str, model: dict[str, Any], *, source: str = "<input>", limits: Limits | None = None) -> bool:
    """True when YAML `text` is shown to decode to exactly `model`, without building its model.

    Why: the render check re-parses every rendered template whole.  Building a second
    model only to compare it with the planned one, and freeing it, took about 2.5 ms more
    of a 1 MB transform (benchmark ratio 2.07 against 2.01 with this): the comparison
    walked both models in memory the decode had left cold.  Here the node tree is
    compared with `model` in place.

    True means what `walk.same_value(decode_text(text, trusted=True).model, model)` means:
    the text parses, passes the same limits and template checks, and loads equal, type and
    value (`1`, `1.0` and `true` are three values).  False is no verdict: text that would be decoded as JSON, and any mapping whose keys are not in
    `model`'s order, are left to a full decode, which also says what differs.
    """
    limits = limits or Limits()
    if text.startswith("\ufeff") or first_character(text) in JSON_STARTS:
        return False
    with collector_paused():
        try:
            root = compose(text, source)
        except TemplateError:
            return False
        builder = ModelBuilder(source, limits)
        try:
            if not builder.matches(root, model, 1):
                return False
            check_is_template(model, source, root)
        except (TemplateError, RecursionError):
            return False
        finally:
            builder.constructor.dispose()
    return True

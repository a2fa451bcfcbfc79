"""Reachability: what the transformed release still reaches, and what it leaves behind and why.

A rule that removes a resource may remove the last reference to an object (a removed nested stack's
template and its assets): that object is not copied, and the report names the rule whose removal
left it behind.  An object unreached for any other reason (a rule rewrote the reference, a key
changed) is an error, so that a release never misses an object silently.  Apart from the transforms
because it reads only their outcomes and the discovered tree, after all of them ran.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

from ..errors import ReleaseError
from .discovery import _heights, _Tree
from .scheduling import _Outcome


@dataclass(frozen=True)
class LeftBehind:
    """An object of the source release that is not copied, because rules removed every reference to it."""

    key: str
    kind: str  # "template" or "asset"
    reason: str
    referenced_by: tuple[tuple[str, str], ...]  # (template key, JSON Pointer) in the source release


def _reachable(root: str, outcomes: Mapping[str, _Outcome], tree: _Tree) -> dict[str, set[tuple[str, str]]]:
    """Every key the transformed root still reaches, with who references it."""
    reached: dict[str, set[tuple[str, str]]] = {root: set()}
    pending = [root]
    while pending:
        key = pending.pop()
        for child, pointer, is_template in outcomes[key].references:
            first = child not in reached
            reached.setdefault(child, set()).add((key, pointer))
            if first and is_template:
                if child not in outcomes:
                    raise ReleaseError(f"template {child!r} referenced by {key}:{pointer} was not part of the release tree", file=key)
                pending.append(child)
            elif first and child not in outcomes and child not in tree.kinds:
                raise ReleaseError(f"object {child!r} referenced by {key}:{pointer} is not an object of the release", file=key)
    return reached


def _left_behind(
    root: str, tree: _Tree, outcomes: Mapping[str, _Outcome], reachable: Mapping[str, set[tuple[str, str]]]
) -> list[LeftBehind]:
    """Objects of the source release that the transformed release no longer reaches, with why.

    An object may be left behind only when every reference to it was removed by a rule,
    directly (the referencing resource or property was removed) or because the template
    holding the reference was itself left behind.  Anything else (a rule rewrote the
    reference to another bucket, a key changed) is an error: the release would silently
    miss an object.
    """
    heights = _heights(tree, root)
    # parents before children: templates by decreasing height, then assets
    unreached = sorted((key for key in tree.referrers if key not in reachable),
                       key=lambda k: (-heights.get(k, -1), k))
    left: dict[str, LeftBehind] = {}
    for key in unreached:
        reasons = []
        for template, pointer in sorted(tree.referrers[key]):
            reason = _why_unreferenced(template, pointer, outcomes, reachable, left)
            if reason is None:
                changed = _change_at(outcomes[template], pointer) if template in outcomes else None
                how = f" (rule {changed['rule']!r} changed it to {_short(changed['new'])})" if changed else ""
                raise ReleaseError(
                    f"object {key!r} referenced by {template}:{pointer} is no longer reached by the transformed release, "
                    f"but no rule removed that reference{how}; the release would miss it",
                    file=f"{template}:{pointer}",
                )
            reasons.append(reason)
        left[key] = LeftBehind(key, tree.kinds.get(key, "asset"), "; ".join(dict.fromkeys(reasons)),
                               tuple(sorted(tree.referrers[key])))
    return [left[key] for key in sorted(left)]


def _why_unreferenced(
    template: str, pointer: str, outcomes: Mapping[str, _Outcome],
    reachable: Mapping[str, set[tuple[str, str]]], left: Mapping[str, LeftBehind],
) -> str | None:
    if template in left:
        return f"its template {template} was left behind"
    if template not in reachable or template not in outcomes:
        return None
    for change in outcomes[template].entry["changes"]:
        path = change["path"]
        if change["op"] == "remove" and (pointer == path or pointer.startswith(path + "/")):
            return f"rule {change['rule']!r} removed {template}:{path}: {change['reason']}"
    return None


def _change_at(outcome: _Outcome, pointer: str) -> dict[str, Any] | None:
    """The last change at or above `pointer`: what the value finally became."""
    for change in reversed(outcome.entry["changes"]):
        path = change["path"]
        if pointer == path or pointer.startswith(path + "/"):
            return cast(dict[str, Any], change)
    return None


def _short(value: Any, limit: int = 120) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return repr(text if len(text) <= limit else text[: limit - 1] + "…")

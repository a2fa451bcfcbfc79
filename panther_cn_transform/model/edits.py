"""Edits: the single source of truth for what a transform changes.

A rule never mutates a template.  It returns `Edit` records (a path, an operation, the
new value, its rule id and a reason).  The `EditLog` applies them one after another to a
working copy of the model, copying only the containers on each edited path, so that a
later rule sees what earlier rules did.  The log, in order, *is* an RFC 6902 patch, and
the report and the rendered text are derived from the same records.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import jsonpatch

from ..errors import EditConflict
from .paths import JsonPath, to_pointer

__all__ = ["Edit", "EditLog", "JsonPath", "Op", "list_alignment", "original_paths", "to_pointer"]

if TYPE_CHECKING:
    from .graph import ReferenceGraph
    from .model_index import ModelIndex

Op = Literal["add", "remove", "replace"]


@dataclass(frozen=True, init=False)
class Edit:
    """One change to a template model.

    **Parameters:**

    * **path** - where, as a tuple of keys and list indexes in the long-form model, in
      the coordinates of the model *as it is when this edit is applied*.
    * **op** - `add`, `remove` or `replace` (the RFC 6902 operations we use).
    * **value** - the new value for `add` and `replace`.
    * **rule** - the id of the rule that made the edit.
    * **reason** - one sentence a reviewer can read.
    * **old** - the value before the edit (filled in by `EditLog.apply`; a rule that read
      it may pass it, which saves the log a copy of the edit).
    * **fragments** - for a string replaced by a string: the `(old, new)` substring
      substitutions that turn one into the other, in order.  The renderer uses them to
      change only those characters in the source (keeping folding, quoting and escapes).
    """

    path: JsonPath
    op: Op
    rule: str
    reason: str
    value: Any = None
    old: Any = None
    fragments: tuple[tuple[str, str], ...] = ()

    def __init__(self, path: JsonPath, op: Op, rule: str, reason: str, value: Any = None, old: Any = None,
                 fragments: tuple[tuple[str, str], ...] = ()) -> None:
        # What the generated __init__ does, without its `object.__setattr__` per field: 0.8 µs an
        # edit, and a transform of 1 MB makes about a thousand.  Instances stay frozen.
        self.__dict__.update(path=path, op=op, rule=rule, reason=reason, value=value, old=old, fragments=fragments)

    @property
    def pointer(self) -> str:
        return to_pointer(self.path)

    def to_patch_op(self) -> dict[str, Any]:
        """This edit as an RFC 6902 operation."""
        if self.op == "remove":
            return {"op": "remove", "path": self.pointer}
        return {"op": self.op, "path": self.pointer, "value": self.value}


@dataclass
class EditLog:
    """Applies edits in order to a copy-on-write working model and remembers them."""

    original: dict[str, Any]
    model: dict[str, Any] = field(init=False)
    edits: list[Edit] = field(default_factory=list)
    # containers this log has copied (and may mutate), by id; held so ids stay unique
    _owned: dict[int, Any] = field(default_factory=dict, repr=False)
    # string produced by an edit -> (the string the source had, substitutions from it)
    _origins: dict[str, tuple[str, tuple[tuple[str, str], ...]]] = field(default_factory=dict, repr=False)
    _index: ModelIndex | None = field(default=None, repr=False)
    _graph: ReferenceGraph | None = field(default=None, repr=False)
    _types: dict[str, list[str]] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.model = self.original

    def strings(self) -> list[tuple[JsonPath, str]]:
        """Every string of the working model with its path, in document order (do not change the list).

        Rules share one walk of the template, which follows string-for-string edits
        instead of walking again (model_index.py).
        """
        return self._model_index().strings()

    def strings_containing(self, *needles: str) -> list[tuple[JsonPath, str]]:
        """The strings (with paths, in document order) that contain at least one of `needles`.

        The same as filtering `strings()` with `needle in value`, found with searches in C.
        """
        return self._model_index().containing(needles)

    def strings_matching(self, pattern: re.Pattern[str]) -> list[tuple[JsonPath, str]]:
        """The strings (with paths, in document order) in which `pattern.search` finds a match.

        The same as filtering `strings()` with `pattern.search(value)`, with one search in C
        per hit instead of one call per string (`ModelIndex.searching` says which patterns).
        """
        return self._model_index().searching(pattern)

    def strings_under(self, *keys: str) -> list[tuple[JsonPath, str]]:
        """The strings (with paths, in document order) held under at least one of the mapping keys `keys`."""
        return self._model_index().strings_under(keys)

    def mappings_with(self, *keys: str) -> list[tuple[JsonPath, dict[str, Any]]]:
        """Every mapping of the working model that has at least one of `keys`, with its path, in document order."""
        return [(path, self.get(path)) for path in self._model_index().paths_of_mappings_with(keys)]

    def _model_index(self) -> ModelIndex:
        if self._index is None:
            from .model_index import ModelIndex

            self._index = ModelIndex(self.model)
        return self._index

    def graph(self) -> ReferenceGraph:
        """The reference graph of the working model (cached until the next edit).

        Why: several rules ask who refers to what (removal planning, the names a rule
        leaves unused); a walk of a 1 MB template costs tens of milliseconds, so rules
        between two edits share one.
        """
        if self._graph is None:
            from .graph import build_graph

            self._graph = build_graph(self.model)
        return self._graph

    def names_used(self) -> set[str]:
        """Logical ids, parameters and conditions the working model refers to (a fresh set)."""
        return self.graph().names_used()

    def resources_by_type(self) -> dict[str, list[str]]:
        """Logical ids of the working model's resources by their (string) `Type`, in document order (do not change it).

        Why: many rules (22 `edit_property` rules in the China pack) act on a few
        resource types; each asked every resource whether it matched.  Cached until an
        edit that can change a resource's type (one at most three steps deep in Resources).
        """
        if self._types is None:
            types: dict[str, list[str]] = {}
            resources = self.model.get("Resources")
            for logical_id, resource in resources.items() if isinstance(resources, dict) else ():
                kind = resource.get("Type") if isinstance(resource, dict) else None
                if isinstance(kind, str):
                    types.setdefault(kind, []).append(logical_id)
            self._types = types
        return self._types

    def get(self, path: JsonPath) -> Any:
        """The current value at `path`; KeyError/IndexError if it does not exist."""
        node: Any = self.model
        for part in path:
            node = node[part]
        return node

    def exists(self, path: JsonPath) -> bool:
        try:
            self.get(path)
        except (KeyError, IndexError, TypeError):
            return False
        return True

    def apply(self, edit: Edit) -> Edit:
        """Apply `edit` to the working model, record it (with `old`) and return it."""
        if not edit.path:
            raise EditConflict(f"rule {edit.rule} tried to {edit.op} the whole template")
        self._graph = None
        if len(edit.path) <= 3 and edit.path[0] == "Resources":
            self._types = None
        parent = self._owned_parent(edit)
        key = edit.path[-1]
        old = None
        if edit.op == "add":
            if isinstance(parent, list):
                index = len(parent) if key == "-" else int(key)
                parent.insert(index, edit.value)
            else:
                if key in parent:
                    raise EditConflict(f"rule {edit.rule}: {edit.pointer} already exists")
                parent[key] = edit.value
        else:
            try:
                old = parent[key]
            except (KeyError, IndexError, TypeError):
                raise EditConflict(f"rule {edit.rule}: {edit.pointer} does not exist (changed by an earlier rule?)") from None
            if edit.op == "remove":
                del parent[key]
            else:
                if old == edit.value:
                    raise EditConflict(f"rule {edit.rule}: replacing {edit.pointer} with an equal value")
                parent[key] = edit.value
                if isinstance(old, str) and isinstance(edit.value, str):
                    if edit.fragments:
                        source, steps = self._origins.get(old, (old, ()))
                        self._origins[edit.value] = (source, steps + edit.fragments)
                    if self._index is not None and not self._index.replace(edit.path, edit.value):
                        self._index = None
                else:
                    self._index = None
        if edit.op != "replace":
            self._index = None
        recorded = edit if edit.old is old else _with_old(edit, old)  # a rule that read the old value may pass it: no copy
        self.edits.append(recorded)
        return recorded

    def string_changes(self) -> list[tuple[JsonPath, str, str, int]] | None:
        """`(path, input string, final string, place)` of every string the edits changed, in document order.

        `place` is the string's place among all the strings of the model, in document order
        (`strings()`; `Template.string_nodes` holds the node of each place).

        None when an edit did anything but replace a string with a string, or when no query
        built the model index (which gives the order without a walk).  Why: the renderer
        needs just these when that is all that changed (render/json_strings.py,
        render/string_nodes.py); finding them by comparing the two models walks every
        container an edit copied.
        """
        if self._index is None:
            return None
        originals: dict[JsonPath, str] = {}  # the string each path held before its first edit
        for edit in self.edits:
            if edit.op != "replace" or not isinstance(edit.old, str) or not isinstance(edit.value, str):
                return None
            originals.setdefault(edit.path, edit.old)
        index, places = self._index, []
        for path, original in originals.items():
            place = index.position(path)
            if place is None:
                return None
            places.append((place, original))
        places.sort()
        entries = index.entries
        return [(entries[place][0], original, final, place) for place, original in places if (final := entries[place][1]) != original]

    def substitutions(self) -> dict[tuple[str, str], tuple[tuple[str, str], ...]]:
        """`(source string, final string) -> substitution steps`, for the renderer."""
        return {(source, final): steps for final, (source, steps) in self._origins.items()}

    def patch(self) -> jsonpatch.JsonPatch:
        """The RFC 6902 patch that turns the original model into the working model."""
        return jsonpatch.JsonPatch([edit.to_patch_op() for edit in self.edits])

    def _owned_parent(self, edit: Edit) -> Any:
        """The container holding `edit.path[-1]`, copied (once) along the whole path."""
        owned = self._owned
        if id(self.model) not in owned:
            self.model = _shallow_copy(self.model)
            owned[id(self.model)] = self.model
        node: Any = self.model
        for part in edit.path[:-1]:
            try:
                child = node[part]
            except (KeyError, IndexError, TypeError):
                raise EditConflict(f"rule {edit.rule}: {edit.pointer} has no parent in the template") from None
            if id(child) not in owned:
                if not isinstance(child, (dict, list)):
                    raise EditConflict(f"rule {edit.rule}: {edit.pointer} goes through a scalar")
                child = _shallow_copy(child)
                node[part] = child
                owned[id(child)] = child
            node = child
        if not isinstance(node, (dict, list)):
            raise EditConflict(f"rule {edit.rule}: {edit.pointer} goes through a scalar")
        return node


def _with_old(edit: Edit, old: Any) -> Edit:
    """`dataclasses.replace(edit, old=old)` without its per-field detour (one per edit of a transform)."""
    recorded: Edit = object.__new__(Edit)
    recorded.__dict__.update(edit.__dict__, old=old)
    return recorded


def _shallow_copy(value: Any) -> Any:
    return dict(value) if isinstance(value, dict) else list(value)


def original_paths(model: Any, edits: Sequence[Edit]) -> list[tuple[Any, ...]]:
    """Edit paths mapped back to the input's coordinates (see `list_alignment`).

    Edits are applied in order, so an index after a list removal counts the list as it
    is then; this replays the list removals and insertions to find the input index.  A
    path into an element that an edit added is cut where the added element starts.
    """
    present: dict[tuple[Any, ...], list[int | None]] = {}
    result: list[tuple[Any, ...]] = []
    _replay(model, edits, present, result)
    return result


def list_alignment(model: Any, edits: Sequence[Edit]) -> dict[tuple[Any, ...], list[int | None]]:
    """For every list an edit resized: its final elements as input indexes (None: added).

    Keyed by the list's path in the input.  The renderer uses it to line up list items
    without guessing.
    """
    if not any(edit.op != "replace" and (isinstance(edit.path[-1], int) or edit.path[-1] == "-") for edit in edits):
        return {}  # no list was resized: every list lines up item for item, as the renderer assumes without an entry
    present: dict[tuple[Any, ...], list[int | None]] = {}
    _replay(model, edits, present, [])
    return present


def _replay(model: Any, edits: Sequence[Edit], present: dict[tuple[Any, ...], list[int | None]], result: list[tuple[Any, ...]]) -> None:
    for edit in edits:
        original: list[Any] = []
        node: Any = model
        for depth, part in enumerate(edit.path):
            if isinstance(part, int) or (part == "-" and depth == len(edit.path) - 1):
                key = tuple(original)
                if key not in present:
                    present[key] = list(range(len(node))) if isinstance(node, list) else []
                indexes = present[key]
                last = depth == len(edit.path) - 1
                if last and edit.op == "add":
                    indexes.insert(len(indexes) if part == "-" else int(part), None)
                    break
                mapped = indexes[part] if isinstance(part, int) and part < len(indexes) else None
                if last and edit.op == "remove" and isinstance(part, int) and part < len(indexes):
                    del indexes[part]
                if mapped is None:
                    break  # inside an element an edit added: no input lines
                original.append(mapped)
                node = node[mapped] if isinstance(node, list) and mapped < len(node) else None
            else:
                original.append(part)
                node = node.get(part) if isinstance(node, dict) else None
        result.append(tuple(original))

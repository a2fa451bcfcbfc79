"""Discovery: which objects a release is, found by following the references from its root template.

Why apart: every later step (the transforms, reachability, writing) works on the tree this returns,
not on the source, so what can be wrong with the source (a missing or unsafe key, a misnamed mirror,
a release the source does not hold) is found and named here, before any transform runs.  The root is
`<release>/panther.yml`; a reference into the source bucket from a nested-stack property
(`TemplateURL`, `Location`) names a template, read and followed in turn, and any other (an asset,
an `AWS::Include` snippet) names an object fetched alongside and only checked to exist.  Every
location is followed through the intrinsics that spell it, every `Fn::If` branch included
(`locations.py`); one that cannot be reduced to keys of the bucket stops the run at its place.  The tree's shape is read here
too: each template's height (the transforms run children first) and its place as the stack logical
ids leading to it (the report names templates by place).

The underscored names are the release package's own, shared with its sibling modules; not API.
"""

from __future__ import annotations

import stat
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ReleaseError
from ..files import kind_of, read_limited
from ..limits import Limits
from ..model.decode import decode_bytes
from ..model.paths import to_pointer
from ..model.positions import position
from ..model.template import Template
from ..partitions.s3urls import find_references
from .locations import Unresolved, object_locations
from .source import LocalMirror, ReleaseSource


def _as_source(source: str | Path | ReleaseSource) -> ReleaseSource:
    if not isinstance(source, (str, Path)):
        return source
    folder = Path(source)
    expected = "SOURCE is s3://BUCKET or a local mirror of it: a folder named after the bucket"
    if not folder.exists():
        raise ReleaseError(f"no such folder ({expected})", file=str(source))
    if not folder.is_dir():
        raise ReleaseError(f"not a folder ({expected})", file=str(source))
    return LocalMirror(folder.resolve(), str(source))


def _shown(origin: ReleaseSource) -> str:
    """The source as the caller named it: `s3://BUCKET`, or the mirror's folder as typed."""
    if isinstance(origin, LocalMirror):
        return origin.given or str(origin.path)
    return f"s3://{origin.bucket}"


@dataclass
class _Node:
    key: str
    data: bytes
    children: dict[str, tuple[str, ...]] = field(default_factory=dict)  # stack logical id -> child keys (an Fn::If: several)

    def add_child(self, logical_id: str, child: str) -> None:
        if child not in self.children.get(logical_id, ()):
            self.children[logical_id] = (*self.children.get(logical_id, ()), child)

    def child_keys(self) -> list[str]:
        """Every template this one nests, sorted."""
        return sorted({child for keys in self.children.values() for child in keys})


@dataclass
class _Tree:
    templates: dict[str, _Node] = field(default_factory=dict)
    referrers: dict[str, set[tuple[str, str]]] = field(default_factory=dict)
    kinds: dict[str, str] = field(default_factory=dict)


def _discover(origin: ReleaseSource, source_region: str, root: str, limits: Limits,
              asset_properties: Collection[tuple[str, str]] = ()) -> _Tree:
    """Follow the root's references; templates are read as they arrive, assets fetched alongside.

    Every location is followed through the intrinsics that spell it (`locations.py`); one that
    cannot be reduced to keys of the source bucket stops the run at its template, line and property.
    """
    source, bucket = origin.folder, origin.bucket
    tree = _Tree()
    assets: dict[str, tuple[str, str]] = {}
    pending = [(root, (root, ""))]
    while pending:
        key, referrer = pending.pop()
        if key in tree.templates:
            continue
        origin.fetch(key, _where(referrer), wait=True)
        path = _existing(source, key, referrer, _shown(origin))
        where = _where(referrer)
        data = read_limited(path, limits.max_input_bytes, error=ReleaseError, name=key if key == root else where,
                            what=f"template (object {key!r})")
        template = decode_bytes(data, source=key, limits=limits)
        node = _Node(key, data)
        tree.templates[key] = node
        found = object_locations(template.model, bucket, source_region, asset_properties)
        if found.unresolved:
            _stop_at(template, key, found.unresolved[0])
        if key == root and not found.located and isinstance(origin, LocalMirror):
            _check_named_after_bucket(origin, template.model, root)
        for location in found.located:
            child = location.key
            pointer = to_pointer(location.path)
            tree.referrers.setdefault(child, set()).add((key, pointer))
            if location.is_template:
                _safe_path(source, child, (key, pointer))  # checked before a request is made for it
                tree.kinds[child] = "template"
                if location.logical_id is not None:
                    node.add_child(location.logical_id, child)
                pending.append((child, (key, pointer)))
            elif child not in assets:
                tree.kinds.setdefault(child, "asset")
                assets[child] = (key, pointer)
                _safe_path(source, child, (key, pointer))
                origin.fetch(child, _where((key, pointer)), wait=False)
    origin.finish()
    for child, referrer in sorted(assets.items()):
        if tree.kinds[child] == "asset":
            _existing(source, child, referrer, _shown(origin))
    return tree


def _stop_at(template: Template, key: str, unresolved: Unresolved) -> None:
    """The run stops at a location it cannot follow: copying the rest would publish a release that misses an object."""
    line, column = position(template.root, unresolved.path, template.text)
    raise ReleaseError(
        f"{to_pointer(unresolved.path)}: the location {_short(unresolved.text)!r} cannot be followed to objects of the "
        f"release bucket: {unresolved.why}; nothing was written (give it a default, or a literal S3 URL of the bucket)",
        file=key, line=line, column=column,
    )


def _short(text: str, limit: int = 120) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _check_named_after_bucket(mirror: LocalMirror, model: Any, root: str) -> None:
    """A root that reads its objects from another bucket, which this folder holds: the folder is misnamed.

    Release mode knows a mirror's bucket (and the source region) only from the folder's
    name, so a mirror copied to `./mirror` finds none of its objects; say so, not later
    that a template "was not part of the release tree".
    """
    for reference in find_references(model):
        if "${" in reference.bucket or not reference.key or reference.form == "arn":
            continue
        if reference.bucket != mirror.bucket and (mirror.path / reference.key).is_file():
            raise ReleaseError(
                f"the source mirror is named {mirror.bucket!r}, but {root} reads its objects from bucket "
                f"{reference.bucket!r} ({to_pointer(reference.path)}: {reference.key}), which this folder holds: "
                f"name the folder after the bucket it mirrors ({reference.bucket}); its name is the bucket's name "
                "and tells the source region",
                file=_shown(mirror),
            )


def _where(referrer: tuple[str, str]) -> str:
    return f"{referrer[0]}{referrer[1] and ':' + referrer[1]}"


def _safe_path(base: Path, key: str, referrer: tuple[str, str]) -> Path:
    where = _where(referrer)
    if not key or key.startswith(("/", "\\")) or "\\" in key or any(part in ("", ".", "..") for part in key.split("/")):
        raise ReleaseError(f"unsafe object key {key!r} (needed by {where}): it would leave the bucket folder", file=where)
    path = base / key
    try:
        resolved = path.resolve()
    except (OSError, RuntimeError) as exc:  # RuntimeError: a symlink loop (Python 3.11)
        raise ReleaseError(f"object {key!r} (needed by {where}) cannot be resolved: {exc}", file=where) from None
    if not resolved.is_relative_to(base):
        raise ReleaseError(f"object {key!r} (needed by {where}) is a link pointing outside the source mirror", file=where)
    return path


def _existing(base: Path, key: str, referrer: tuple[str, str], shown: str) -> Path:
    """The path of object `key` in the mirror; an error naming the referrer when it is missing or not a file."""
    path = _safe_path(base, key, referrer)
    where = _where(referrer)
    try:
        info = path.stat()
    except FileNotFoundError:
        if referrer == (key, ""):
            raise ReleaseError(f"release not found: no root template {key} in the source mirror {shown}; "
                               f"{releases_held(base)}", file=key) from None
        raise ReleaseError(f"object {key!r} needed by {where} is missing from the source mirror {shown}", file=where) from None
    except OSError as exc:
        raise ReleaseError(f"object {key!r} needed by {where} cannot be read: {exc.strerror or exc}", file=where) from None
    if not stat.S_ISREG(info.st_mode):
        raise ReleaseError(f"object {key!r} needed by {where} is {kind_of(info.st_mode)} in the source mirror, not a file", file=where)
    return path


def releases_held(folder: Path) -> str:
    """What a mirror holds instead, for the error about a release it lacks: `it holds v1.0.0, v1.1.0 (...)`."""
    try:
        found = sorted(p.parent.name for p in folder.glob("*/panther.yml") if p.is_file())
    except OSError:
        found = []
    if not found:
        return "it holds no release (no <release>/panther.yml); is it a mirror of the release bucket?"
    return f"it holds {', '.join(found)} (choose one with --release)"


# -- the tree's shape ----------------------------------------------------------------------


def _places(tree: _Tree, root: str, *more_roots: str, named_roots: bool = False) -> dict[str, str]:
    """Each template's place: `root`, or the stack logical ids leading to it (`Core/Api`).

    With `named_roots` (a project, which may have several roots), a root's place is its key and
    its children's places start there (`main.yaml/Workload/Glue`).
    """
    roots = (root, *more_roots)
    places = {key: key if named_roots else "root" for key in roots}
    pending = list(roots)
    while pending:
        key = pending.pop()
        for logical_id, children in sorted(tree.templates[key].children.items()):
            for child in children:
                if child not in places:
                    places[child] = logical_id if places[key] == "root" else f"{places[key]}/{logical_id}"
                    pending.append(child)
    return places


def _heights(tree: _Tree, root: str, *more_roots: str) -> dict[str, int]:
    """Height of every template reached from the roots (leaves 0); a nesting cycle is an error.

    Iterative: a chain of thousands of nested stacks must not hit Python's recursion limit.
    """
    heights: dict[str, int] = {}
    for start in (root, *more_roots):
        if start not in heights:
            _measure_heights(tree, start, heights)
    return heights


def _measure_heights(tree: _Tree, root: str, heights: dict[str, int]) -> None:
    """Add the heights of `root` and what it nests to `heights` (those already there are not walked again)."""
    on_path: set[str] = {root}
    stack: list[tuple[str, list[str]]] = [(root, tree.templates[root].child_keys())]
    while stack:
        key, children = stack[-1]
        if children:
            child = children.pop()
            if child in heights:
                continue
            if child in on_path:
                raise ReleaseError(f"nested stacks form a cycle through {child}", file=child)
            on_path.add(child)
            stack.append((child, tree.templates[child].child_keys()))
            continue
        stack.pop()
        on_path.discard(key)
        heights[key] = 1 + max((heights[c] for c in tree.templates[key].child_keys()), default=-1)

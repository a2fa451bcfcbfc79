"""The output bucket's objects and `manifest.json`, which lists them: written, hashed, checked.

The manifest's entries (`ReleaseObject`: key, kind, SHA-256, size, who references it) are what the
later steps go by instead of the files (the upload's order, and its skip when the bucket already
holds the same hash; `check_manifest` after a copy).  So the keys are checked before anything is
written (each must be a file of one folder, none may be `manifest.json`), each object is hashed as
it is written into the out-dir's staging folder (assets copied in chunks, never held whole), and
`check_manifest` compares a folder with its manifest.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from ..errors import ReleaseError
from ..files import Digest, copy_file, hash_file, write_new
from .discovery import _safe_path, _where
from .scheduling import _Outcome

MANIFEST = "manifest.json"


@dataclass(frozen=True)
class ReleaseObject:
    """One object of the output bucket."""

    key: str
    kind: str  # "template" or "asset"
    sha256: str
    size: int
    referenced_by: tuple[tuple[str, str], ...]  # (template key, JSON Pointer)
    source: str = ""  # the key in the source bucket (a nested template is published under its content key)


def _check_keys(reachable: Mapping[str, set[tuple[str, str]]], root: str) -> None:
    """Keys that cannot all be files of one folder: `manifest.json`, or a key that is another key's folder."""
    for key in sorted(reachable):
        referrers = sorted(reachable[key]) or [(root, "")]
        where = _where(referrers[0])
        if key == MANIFEST:
            raise ReleaseError(f"object key {key!r} (needed by {where}) collides with the release manifest", file=where)
        parts = key.split("/")
        for end in range(1, len(parts)):
            folder = "/".join(parts[:end])
            if folder in reachable:
                raise ReleaseError(
                    f"object key {key!r} (needed by {where}) needs {folder!r} to be a folder, but it is an object too", file=where
                )


def _objects(
    source: Path, root: str, reachable: Mapping[str, set[tuple[str, str]]], outcomes: Mapping[str, _Outcome],
    staging: Path | None, packaged: Mapping[str, bytes],
) -> list[ReleaseObject]:
    """The objects of the output bucket; written into `staging` when given (assets copied in chunks).

    A template is written under the key it is published under (`_Outcome.published`: a nested
    template's content key), and its referrers are named by theirs; two templates transformed to
    the same bytes are one object.
    """
    def published(key: str) -> str:
        return outcomes[key].published or key if key in outcomes else key

    objects: dict[str, ReleaseObject] = {}
    for key in sorted(reachable):
        referrers = tuple(sorted(reachable[key]))
        where = _where(referrers[0] if referrers else (root, ""))
        out_key = published(key)
        named = tuple(sorted({(published(template), pointer) for template, pointer in referrers}))
        if out_key in objects:
            if key not in outcomes or objects[out_key].kind != "template":
                raise ReleaseError(f"template {key!r} (needed by {where}) is published under {out_key!r}, the key of "
                                   "another object of the release", file=where)
            objects[out_key] = replace(objects[out_key], referenced_by=tuple(sorted({*objects[out_key].referenced_by, *named})))
            continue
        if out_key != key and out_key in reachable:
            raise ReleaseError(f"template {key!r} (needed by {where}) is published under {out_key!r}, the key of "
                               "another object of the release", file=where)
        path = None if staging is None else _safe_path(staging, out_key, ("<output>", out_key))
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        if key in outcomes or key in packaged:
            data = outcomes[key].text.encode("utf-8") if key in outcomes else packaged[key]
            if path is not None:
                write_new(path, data)
            digest = Digest(hashlib.sha256(data).hexdigest(), len(data))
            kind = "template" if key in outcomes else "asset"
        else:
            digest = copy_file(source / key, path, error=ReleaseError, name=where)
            kind = "asset"
        objects[out_key] = ReleaseObject(out_key, kind, digest.sha256, digest.size, named, key)
    return [objects[key] for key in sorted(objects)]


def _manifest(objects: list[ReleaseObject], release: str, region: str, bucket: str, source_bucket: str, root: str) -> bytes:
    data = {
        "version": 1,
        "release": release,
        "root": root,
        "region": region,
        "bucket": bucket,
        "source_bucket": source_bucket,
        "objects": [
            {"key": o.key, **({"source_key": o.source} if o.source and o.source != o.key else {}),
             "kind": o.kind, "sha256": o.sha256, "size": o.size,
             "referenced_by": [{"template": t, "path": p} for t, p in o.referenced_by]}
            for o in objects
        ],
    }
    return (json.dumps(data, indent=2) + "\n").encode("utf-8")


def check_manifest(out_dir: str | Path) -> list[str]:
    """Differences between `manifest.json` and the files of `out_dir` (empty when they match)."""
    folder = Path(out_dir)
    manifest = json.loads((folder / "manifest.json").read_text("utf-8"))
    problems = []
    listed = set()
    for entry in manifest["objects"]:
        listed.add(entry["key"])
        path = folder / entry["key"]
        if not path.is_file() or path.is_symlink():
            problems.append(f"{entry['key']}: missing")
            continue
        digest = hash_file(path, error=ReleaseError, name=str(path))
        if digest.sha256 != entry["sha256"] or digest.size != entry["size"]:
            problems.append(f"{entry['key']}: hash or size differs")
    for path in folder.rglob("*"):
        key = path.relative_to(folder).as_posix()
        if path.is_file() and key != MANIFEST and key not in listed:
            problems.append(f"{key}: not in the manifest")
    return problems

"""Release mode: turn a whole release in a global bucket mirror into a China bucket layout.

A release is a tree: the root template (`<release>/panther.yml`) names nested templates
(`TemplateURL`) and assets (`CodeUri`, layer `Content`, `DefinitionS3Location`, ...) by
key in the source bucket.  Release mode

1. follows every reference from the root through all nested templates (a missing or
   unsafe key is an error naming the template and property that needs it);
2. transforms the templates children first, so that a parent knows which of a child's
   Outputs were removed (and repairs its `Fn::GetAtt Child.Outputs.X` like any other
   reference to something removed); templates of one depth run in parallel;
3. keeps only what the transformed root still reaches (a removed nested stack's
   template and assets are not copied);
4. writes everything, with `manifest.json`, into a temporary folder beside `out_dir` and
   moves it into place only when all of it succeeded.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Mapping
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from .decode import decode_bytes
from .errors import ReleaseError, VerificationError
from .guide import attach_next_steps, root_parameters
from .limits import Limits
from .packaged import asset_zip
from .report import assemble_report, template_entry
from .ruleset import RuleSet
from .s3urls import find_references
from .source import LocalMirror, ReleaseSource
from .transform import transform
from .walk import REGION_PATTERN, semantic_path

_REGION_SUFFIX = re.compile(f"-(?P<region>{REGION_PATTERN})$")
_TEMPLATE_PROPERTIES = {
    ("AWS::CloudFormation::Stack", "TemplateURL"),
    ("AWS::Serverless::Application", "Location"),
}
Progress = Callable[[int, int, str], None]


@dataclass(frozen=True)
class ReleaseObject:
    """One object of the output bucket."""

    key: str
    kind: str  # "template" or "asset"
    sha256: str
    size: int
    referenced_by: tuple[tuple[str, str], ...]  # (template key, JSON Pointer)


@dataclass
class ReleaseResult:
    """What a release run produced (or, with `check`, would produce)."""

    out_dir: Path | None
    objects: list[ReleaseObject]
    report: dict[str, Any]
    summary: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class _Job:
    key: str
    data: bytes
    rules: RuleSet
    region: str
    variables: Mapping[str, str]
    is_root: bool
    removed_outputs: Mapping[str, Mapping[str, str]]
    target_bucket: str
    limits: Limits
    today: date = field(default_factory=date.today)


@dataclass(frozen=True)
class _Outcome:
    key: str
    text: str
    entry: dict[str, Any]
    removed_outputs: dict[str, str]
    references: list[tuple[str, str, bool]]  # (key, pointer, is template) into the target bucket
    removals: int
    rewrites: int
    warnings: int


def transform_release(
    source_dir: str | Path | ReleaseSource,
    *,
    release: str,
    region: str,
    bucket: str,
    rules: RuleSet,
    out_dir: str | Path,
    variables: Mapping[str, str] | None = None,
    jobs: int | None = None,
    force: bool = False,
    check: bool = False,
    progress: Progress | None = None,
    limits: Limits | None = None,
    verify: bool = False,
) -> ReleaseResult:
    """Transform the release `release` of the bucket mirror `source_dir` for `region`.

    **Parameters:**

    * **source_dir** - a local mirror of the source bucket; its folder name is the
      bucket name (`panther-enterprise-us-west-1`), from which the source region is read.
      Or any `source.ReleaseSource`, e.g. `s3source.S3Source` to read the bucket itself.
    * **release** - the release folder, e.g. `v1.16.0` (the root is `<release>/panther.yml`);
      also the rule variable `${release}` (the China bridge's API key name carries it, so
      an upgrade rotates the key).
    * **region / bucket** - the target region and the customer's bucket there.  Objects
      the rule packs ship (`assets:`, e.g. the web proxy's code) are written beside the
      release's own assets.
    * **out_dir** - where the new bucket layout is written; refused when it exists and is
      not empty, unless `force` (then it is replaced whole, never merged).
    * **jobs** - worker processes (default: CPU count; 1 runs in this process).
    * **check** - do everything but write.
    * **limits** - bounds for decoding each template (docs/limits.md).
    * **verify** - lint every output template with cfn-lint for `region`; an error the
      input did not have raises `VerificationError` (carrying the result and its report)
      before anything is written.
    """
    origin = _as_source(source_dir)
    source = origin.folder
    target_dir = Path(out_dir)
    if not check and target_dir.exists() and any(target_dir.iterdir()) and not force:
        raise ReleaseError("output folder exists and is not empty (use --force to replace it)", file=str(out_dir))
    if not check and target_dir.exists() and not target_dir.is_dir():
        raise ReleaseError("output path exists and is not a folder", file=str(out_dir))
    source_bucket = origin.bucket
    match = _REGION_SUFFIX.search(source_bucket)
    values = {
        "bucket": bucket, "release": release.strip("/"),
        **({"source_region": match.group("region")} if match else {}), **(variables or {}),
    }
    root = f"{release.strip('/')}/panther.yml"

    limits = limits or Limits()
    tree = _discover(origin, values.get("source_region", ""), root, limits)
    packaged = {key: asset_zip(name) for key, name in rules.assets.items()}  # objects the rule packs ship
    for key in packaged:
        tree.kinds.setdefault(key, "asset")
    outcomes = _transform_tree(tree, root, rules, region, values, bucket, jobs, progress, limits)
    reachable = _reachable(root, outcomes, tree)

    objects: list[ReleaseObject] = []
    payloads: dict[str, bytes] = {}
    for key in sorted(reachable):
        referrers = tuple(sorted(reachable[key]))
        if key in outcomes:
            data = outcomes[key].text.encode("utf-8")
            kind = "template"
        else:
            data = packaged[key] if key in packaged else _read(source, key, referrers[0] if referrers else (root, ""))
            kind = "asset"
        payloads[key] = data
        objects.append(ReleaseObject(key, kind, hashlib.sha256(data).hexdigest(), len(data), referrers))

    places = _places(tree, root)
    lint = _verify(tree, outcomes, reachable, region, jobs) if verify else {}
    kept = sorted((key for key in outcomes if key in reachable), key=lambda k: (k != root, places.get(k, k)))
    entries = [{**outcomes[key].entry, "place": places.get(key, key), **({"lint": lint[key]} if verify else {})} for key in kept]
    summary = {
        "templates": len(entries),
        "objects_copied": sum(1 for o in objects if o.kind == "asset"),
        "removals": sum(outcomes[k].removals for k in outcomes if k in reachable),
        "rewrites": sum(outcomes[k].rewrites for k in outcomes if k in reachable),
        "warnings": sum(outcomes[k].warnings for k in outcomes if k in reachable),
    }
    report = assemble_report(entries, region=region, release=release, source_bucket=source_bucket, bucket=bucket, root=root)
    report["summary"].update(summary)
    root_entry = next(entry for entry in entries if entry["source"] == root)
    report["parameters"] = root_entry.pop("root_parameters", [])
    report["outputs"] = root_entry.pop("root_outputs", [])
    report["uploaded"] = False
    attach_next_steps(report)
    result = ReleaseResult(None if check else target_dir, objects, report, summary)
    new_errors = sum(len(entry.get("lint", [])) for entry in entries)
    if new_errors:
        raise VerificationError(
            f"{new_errors} cfn-lint error(s) the input did not have; nothing written (the report lists them)",
            file=root, result=result,
        )
    if not check:
        _write(target_dir, payloads, _manifest(objects, release, region, bucket, source_bucket, root), force)
    return result


# -- discovery ------------------------------------------------------------------------------


def _as_source(source: str | Path | ReleaseSource) -> ReleaseSource:
    if not isinstance(source, (str, Path)):
        return source
    folder = Path(source)
    if not folder.is_dir():
        raise ReleaseError("source mirror is not a folder", file=str(source))
    return LocalMirror(folder.resolve())


@dataclass
class _Node:
    key: str
    data: bytes
    children: dict[str, str] = field(default_factory=dict)  # stack logical id -> child key


@dataclass
class _Tree:
    templates: dict[str, _Node] = field(default_factory=dict)
    referrers: dict[str, set[tuple[str, str]]] = field(default_factory=dict)
    kinds: dict[str, str] = field(default_factory=dict)


def _discover(origin: ReleaseSource, source_region: str, root: str, limits: Limits) -> _Tree:
    """Follow the root's references; templates are read as they arrive, assets fetched alongside."""
    source, bucket = origin.folder, origin.bucket
    tree = _Tree()
    assets: dict[str, tuple[str, str]] = {}
    pending = [(root, (root, ""))]
    while pending:
        key, referrer = pending.pop()
        if key in tree.templates:
            continue
        _safe_path(source, key, referrer)
        origin.fetch(key, _where(referrer), wait=True)
        data = _read(source, key, referrer)
        template = decode_bytes(data, source=key, limits=limits)
        node = _Node(key, data)
        tree.templates[key] = node
        for reference, is_template in _asset_references(template.model, bucket, source_region):
            child = reference.key
            pointer = "".join(f"/{p}" for p in reference.path)
            tree.referrers.setdefault(child, set()).add((key, pointer))
            if is_template:
                tree.kinds[child] = "template"
                if len(reference.path) >= 2 and reference.path[0] == "Resources":
                    node.children[str(reference.path[1])] = child
                pending.append((child, (key, pointer)))
            elif child not in assets:
                tree.kinds.setdefault(child, "asset")
                assets[child] = (key, pointer)
                _safe_path(source, child, (key, pointer))
                origin.fetch(child, _where((key, pointer)), wait=False)
    origin.finish()
    for child, referrer in sorted(assets.items()):
        if tree.kinds[child] == "asset":
            _read(source, child, referrer, check_only=True)
    return tree


def _asset_references(model: Any, bucket: str, source_region: str) -> list[tuple[Any, bool]]:
    found = []
    for reference in find_references(model):
        name = reference.bucket.replace("${AWS::Region}", source_region)
        if name != bucket or not reference.key or reference.form == "arn":
            continue
        found.append((reference, _is_template_reference(model, reference.path)))
    return found


def _is_template_reference(model: Any, path: tuple[Any, ...]) -> bool:
    meaning = semantic_path(path)
    if "Fn::Transform" in path and "Location" in meaning:
        return True  # AWS::Include
    if len(meaning) >= 4 and meaning[0] == "Resources" and meaning[2] == "Properties":
        resource = model["Resources"].get(meaning[1])
        return isinstance(resource, dict) and (resource.get("Type"), meaning[3]) in _TEMPLATE_PROPERTIES
    return False


def _where(referrer: tuple[str, str]) -> str:
    return f"{referrer[0]}{referrer[1] and ':' + referrer[1]}"


def _safe_path(base: Path, key: str, referrer: tuple[str, str]) -> Path:
    where = _where(referrer)
    if not key or key.startswith(("/", "\\")) or "\\" in key or any(part in ("", ".", "..") for part in key.split("/")):
        raise ReleaseError(f"unsafe object key {key!r} (needed by {where}): it would leave the bucket folder", file=where)
    path = base / key
    resolved = path.resolve()
    if not resolved.is_relative_to(base):
        raise ReleaseError(f"object {key!r} (needed by {where}) is a link pointing outside the source mirror", file=where)
    return path


def _read(base: Path, key: str, referrer: tuple[str, str], *, check_only: bool = False) -> bytes:
    path = _safe_path(base, key, referrer)
    where = _where(referrer)
    if not path.is_file() and referrer == (key, ""):
        raise ReleaseError(f"release not found: no root template {key} in the source mirror {base}", file=key)
    if not path.is_file():
        raise ReleaseError(f"object {key!r} needed by {where} is missing from the source mirror {base}", file=where)
    return b"" if check_only else path.read_bytes()


# -- transforming ---------------------------------------------------------------------------


def _places(tree: _Tree, root: str) -> dict[str, str]:
    """Each template's place in the release: `root`, or the stack logical ids leading to it (`Core/Api`)."""
    places = {root: "root"}
    pending = [root]
    while pending:
        key = pending.pop()
        for logical_id, child in sorted(tree.templates[key].children.items()):
            if child not in places:
                places[child] = logical_id if key == root else f"{places[key]}/{logical_id}"
                pending.append(child)
    return places


def _transform_one(job: _Job) -> _Outcome:
    template = decode_bytes(job.data, source=job.key, limits=job.limits)
    result = transform(template, job.rules, region=job.region, variables=job.variables,
                       is_root=job.is_root, removed_outputs=job.removed_outputs)
    entry = template_entry(result, job.key, bucket=job.target_bucket, today=job.today)
    if job.is_root:
        entry["root_parameters"] = root_parameters(template.model, result.model, result.edits)
        entry["root_outputs"] = list(result.model.get("Outputs") or {})
    removed: dict[str, str] = {}
    source_outputs = template.model.get("Outputs") or {}
    output_outputs = result.model.get("Outputs") or {}
    reasons = {edit.path: edit.reason for edit in result.edits if edit.op == "remove"}
    for name in source_outputs:
        if name not in output_outputs:
            removed[name] = reasons.get(("Outputs", name)) or reasons.get(("Outputs",), "removed by the transform")
    references = [
        (ref.key, "".join(f"/{p}" for p in ref.path), is_template)
        for ref, is_template in _asset_references(result.model, job.target_bucket, job.region)
    ]
    removals = sum(1 for e in result.edits if e.op == "remove" and len(e.path) == 2 and e.path[0] == "Resources")
    return _Outcome(
        job.key, result.text, entry, removed, references,
        removals, sum(1 for e in result.edits if e.op == "replace"), len(result.warnings),
    )


def _transform_tree(
    tree: _Tree, root: str, rules: RuleSet, region: str, variables: Mapping[str, str], bucket: str,
    jobs: int | None, progress: Progress | None, limits: Limits,
) -> dict[str, _Outcome]:
    heights = _heights(tree, root)
    outcomes: dict[str, _Outcome] = {}
    total, done = len(heights), 0
    workers = jobs or os.cpu_count() or 1
    pool = ProcessPoolExecutor(max_workers=workers) if workers > 1 and total > 1 else None
    try:
        for height in sorted(set(heights.values())):
            level = sorted(key for key, h in heights.items() if h == height)
            batch = []
            for key in level:
                node = tree.templates[key]
                removed = {stack: outcomes[child].removed_outputs for stack, child in node.children.items()
                           if child in outcomes and outcomes[child].removed_outputs}
                batch.append(_Job(key, node.data, rules, region, variables, key == root, removed, bucket, limits))
            results = pool.map(_transform_one, batch) if pool else map(_transform_one, batch)
            for outcome in results:
                outcomes[outcome.key] = outcome
                done += 1
                if progress:
                    progress(done, total, outcome.key)
    finally:
        if pool:
            pool.shutdown(cancel_futures=True)
    return outcomes


def _verify(tree: _Tree, outcomes: Mapping[str, _Outcome], reachable: Mapping[str, object], region: str,
            jobs: int | None) -> dict[str, list[dict[str, Any]]]:
    """New cfn-lint errors of every template the release keeps; an unchanged template has none by definition."""
    from .verify import verify_template

    keys = sorted(key for key in outcomes if key in reachable)
    changed = [key for key in keys if outcomes[key].text.encode("utf-8") != tree.templates[key].data]
    texts = [tree.templates[key].data.decode("utf-8-sig", errors="replace") for key in changed]
    outputs = [outcomes[key].text for key in changed]
    workers = min(jobs or os.cpu_count() or 1, len(changed))
    if workers > 1:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            found = list(pool.map(verify_template, texts, outputs, [region] * len(changed)))
    else:
        found = [verify_template(text, output, region) for text, output in zip(texts, outputs)]
    new = {key: [error.to_json() for error in errors] for key, errors in zip(changed, found)}
    return {key: new.get(key, []) for key in keys}


def _heights(tree: _Tree, root: str) -> dict[str, int]:
    """Height of every template (leaves 0); a nesting cycle is an error."""
    heights: dict[str, int] = {}
    visiting: set[str] = set()

    def visit(key: str) -> int:
        if key in heights:
            return heights[key]
        if key in visiting:
            raise ReleaseError(f"nested stacks form a cycle through {key}", file=key)
        visiting.add(key)
        children = tree.templates[key].children.values()
        heights[key] = 1 + max((visit(child) for child in children), default=-1)
        visiting.discard(key)
        return heights[key]

    visit(root)
    return heights


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


# -- writing --------------------------------------------------------------------------------


def _manifest(objects: list[ReleaseObject], release: str, region: str, bucket: str, source_bucket: str, root: str) -> bytes:
    data = {
        "version": 1,
        "release": release,
        "root": root,
        "region": region,
        "bucket": bucket,
        "source_bucket": source_bucket,
        "objects": [
            {"key": o.key, "kind": o.kind, "sha256": o.sha256, "size": o.size,
             "referenced_by": [{"template": t, "path": p} for t, p in o.referenced_by]}
            for o in objects
        ],
    }
    return (json.dumps(data, indent=2) + "\n").encode("utf-8")


def _write(out_dir: Path, payloads: Mapping[str, bytes], manifest: bytes, force: bool) -> None:
    """Write into a temporary sibling folder, then swap it into place whole."""
    parent = out_dir.resolve().parent
    parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.partial-", dir=parent))
    try:
        for key, data in payloads.items():
            path = _safe_path(staging, key, ("<output>", key))
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        (staging / "manifest.json").write_bytes(manifest)
        if out_dir.exists():
            if not force and any(out_dir.iterdir()):
                raise ReleaseError("output folder became non-empty while the release ran", file=str(out_dir))
            old = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.old-", dir=parent))
            os.replace(out_dir, old / "previous")
            os.replace(staging, out_dir)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(staging, out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def check_manifest(out_dir: str | Path) -> list[str]:
    """Differences between `manifest.json` and the files of `out_dir` (empty when they match)."""
    folder = Path(out_dir)
    manifest = json.loads((folder / "manifest.json").read_text("utf-8"))
    problems = []
    listed = set()
    for entry in manifest["objects"]:
        listed.add(entry["key"])
        path = folder / entry["key"]
        if not path.is_file():
            problems.append(f"{entry['key']}: missing")
            continue
        data = path.read_bytes()
        if hashlib.sha256(data).hexdigest() != entry["sha256"] or len(data) != entry["size"]:
            problems.append(f"{entry['key']}: hash or size differs")
    for path in folder.rglob("*"):
        key = path.relative_to(folder).as_posix()
        if path.is_file() and key != "manifest.json" and key not in listed:
            problems.append(f"{key}: not in the manifest")
    return problems



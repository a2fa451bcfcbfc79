"""Release mode: turn a whole release in a global bucket mirror into a China bucket layout.

A release is a tree: the root template (`<release>/panther.yml`) names nested templates
(`TemplateURL`) and assets (`CodeUri`, layer `Content`, `DefinitionS3Location`, ...) by
key in the source bucket.  Release mode

1. follows every reference from the root through all nested templates (a missing or
   unsafe key is an error naming the template and property that needs it);
2. transforms the templates children first, so that a parent knows which of a child's
   Outputs were removed (and repairs its `Fn::GetAtt Child.Outputs.X` like any other
   reference to something removed); templates of one depth run in parallel;
3. keeps only what the transformed root still reaches: an object whose every reference
   a rule removed (a removed nested stack's template and assets) is left behind and
   listed in the report with the reason; one that is unreached for any other reason is
   an error, so nothing is dropped silently;
4. writes everything, with `manifest.json`, into a staging folder beside `out_dir`
   (assets copied and hashed in chunks, never held whole) and swaps it into place only
   when all of it succeeded (outdir.py: locking, stale staging, the atomic swap).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import stat
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, cast

from ..errors import OutputError, ReleaseError, VerificationError
from ..files import Digest, copy_file, hash_file, kind_of, read_limited, write_new
from ..limits import Limits
from ..model.decode import decode_bytes
from ..model.paths import to_pointer
from ..model.walk import semantic_path
from ..partitions.bucket_names import bucket_name_problem, region_of_bucket_name
from ..partitions.region_data import load_region_data
from ..partitions.s3urls import find_references
from ..report.guide import attach_next_steps, root_parameters
from ..report.json_report import assemble_report, template_entry
from ..ruleset.packaged import asset_zip
from ..ruleset.rule_files import RuleSet
from ..transform import transform
from .outdir import Notice, OutDir, check_replaceable, resolve_out_dir
from .source import LocalMirror, ReleaseSource
from .workers import worker_pool

_TEMPLATE_PROPERTIES = {
    ("AWS::CloudFormation::Stack", "TemplateURL"),
    ("AWS::Serverless::Application", "Location"),
}
Progress = Callable[[int, int, str], None]
MANIFEST = "manifest.json"


@dataclass(frozen=True)
class ReleaseObject:
    """One object of the output bucket."""

    key: str
    kind: str  # "template" or "asset"
    sha256: str
    size: int
    referenced_by: tuple[tuple[str, str], ...]  # (template key, JSON Pointer)


@dataclass(frozen=True)
class LeftBehind:
    """An object of the source release that is not copied, because rules removed every reference to it."""

    key: str
    kind: str  # "template" or "asset"
    reason: str
    referenced_by: tuple[tuple[str, str], ...]  # (template key, JSON Pointer) in the source release


@dataclass
class ReleaseResult:
    """What a release run produced (or, with `check`, would produce)."""

    out_dir: Path | None
    objects: list[ReleaseObject]
    report: dict[str, Any]
    summary: dict[str, int] = field(default_factory=dict)
    left_behind: list[LeftBehind] = field(default_factory=list)


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
    notice: Notice | None = None,
    source_label: str | None = None,
) -> ReleaseResult:
    """Transform the release `release` of the bucket mirror `source_dir` for `region`.

    **Parameters:**

    * **source_dir** - a local mirror of the source bucket; its folder name is the
      bucket name (`panther-enterprise-us-west-1`), from which the source region is read.
      Or any `source.ReleaseSource`, e.g. `s3source.S3Source` to read the bucket itself.
    * **release** - the release folder, e.g. `v1.16.0` (the root is `<release>/panther.yml`);
      also the rule variable `${release}` (the China bridge's API key name carries it, so
      an upgrade rotates the key).
    * **region / bucket** - the target region and the customer's bucket there (checked
      against the S3 bucket naming rules).  Objects the rule packs ship (`assets:`, e.g.
      the web proxy's code) are written beside the release's own assets.
    * **out_dir** - where the new bucket layout is written; refused when it exists and is
      not empty, unless `force` (then it is replaced whole, never merged), and always
      refused when it is, contains or is inside the source (outdir.py).
    * **jobs** - worker processes for the transforms (1 runs them in this process) and for the
      verification.  Default: the transforms run in this process unless one depth holds several
      templates of 512 KB or more and CPUs are idle (`default_workers`); the verification (cfn-lint,
      seconds per template) uses every CPU.
    * **check** - do everything but write.
    * **limits** - bounds for reading and decoding each template (docs/limits.md).
    * **verify** - lint every output template with cfn-lint for `region`; an error the
      input did not have raises `VerificationError` (carrying the result and its report)
      before anything is published.
    * **notice** - called with one line when stale staging folders of interrupted runs
      are removed.
    * **source_label** - the source as the user named it (a folder, `s3://bucket`): the
      report's next steps repeat it; by default they name the source bucket itself.

    Every object the source release reaches is copied unless a rule removed its last
    reference; those are listed in the report's `left_behind` with the reason.  An object
    that is no longer reached for any other reason is an error.
    """
    problem = bucket_name_problem(bucket)
    if problem:
        raise ReleaseError(f"bucket {bucket!r} is not a valid S3 bucket name: it {problem}", file="<command line>")
    origin = _as_source(source_dir)
    source = origin.folder
    target = resolve_out_dir(out_dir, source)
    if check:
        check_replaceable(target, force, str(out_dir))
    source_bucket = origin.bucket
    source_region = region_of_bucket_name(source_bucket)
    values = {
        "bucket": bucket, "release": release.strip("/"),
        **({"source_region": source_region} if source_region else {}), **(variables or {}),
    }
    root = f"{release.strip('/')}/panther.yml"
    limits = limits or Limits()

    with contextlib.nullcontext() if check else OutDir(target, force=force, given=str(out_dir), notice=notice) as held:
        tree = _discover(origin, values.get("source_region", ""), root, limits)
        packaged = {key: asset_zip(name) for key, name in rules.assets.items()}  # objects the rule packs ship
        for key in packaged:
            tree.kinds.setdefault(key, "asset")
        outcomes = _transform_tree(tree, root, rules, region, values, bucket, jobs, progress, limits)
        reachable = _reachable(root, outcomes, tree)
        left_behind = _left_behind(root, tree, outcomes, reachable)
        _check_keys(reachable, root)
        staging = held.staging if isinstance(held, OutDir) else None
        try:
            objects = _objects(source, root, reachable, outcomes, staging, packaged)
        except OutputError as exc:  # name the out-dir, not the staging folder the user never sees
            key = Path(exc.file or "").relative_to(staging).as_posix() if staging and exc.file else "?"
            raise OutputError(f"cannot write object {key!r}: {exc.message.removeprefix('cannot write: ')}", file=str(out_dir)) from None
        result = _result(tree, root, outcomes, reachable, objects, left_behind, None if check else target,
                         region=region, release=release, bucket=bucket, source_bucket=source_bucket, verify=verify, jobs=jobs,
                         source_label=source_label)
        new_errors = sum(len(entry.get("lint", [])) for entry in result.report["templates"])
        if new_errors:  # raised inside the out-dir: the staging folder is removed, nothing is published
            raise VerificationError(
                f"{new_errors} cfn-lint error(s) the input did not have; nothing written (the report lists them)",
                file=root, result=result,
            )
        if isinstance(held, OutDir) and staging is not None:
            write_new(staging / MANIFEST, _manifest(objects, release, region, bucket, source_bucket, root))
            held.publish()
    return result


def _result(
    tree: _Tree, root: str, outcomes: Mapping[str, _Outcome], reachable: Mapping[str, set[tuple[str, str]]],
    objects: list[ReleaseObject], left_behind: list[LeftBehind], target: Path | None, *,
    region: str, release: str, bucket: str, source_bucket: str, verify: bool, jobs: int | None, source_label: str | None,
) -> ReleaseResult:
    """The report of a release: templates by place, lint findings, objects left behind, parameters, next steps."""
    places = _places(tree, root)
    lint = _verify(tree, outcomes, reachable, region, jobs) if verify else {}
    kept = sorted((key for key in outcomes if key in reachable), key=lambda k: (k != root, places.get(k, k)))
    entries = [{**outcomes[key].entry, "place": places.get(key, key), **({"lint": lint[key]} if verify else {})} for key in kept]
    summary = {
        "templates": len(entries),
        "objects_copied": sum(1 for o in objects if o.kind == "asset"),
        "objects_left_behind": len(left_behind),
        "removals": sum(outcomes[k].removals for k in outcomes if k in reachable),
        "rewrites": sum(outcomes[k].rewrites for k in outcomes if k in reachable),
        "warnings": sum(outcomes[k].warnings for k in outcomes if k in reachable),
    }
    report = assemble_report(entries, region=region, release=release, source_bucket=source_bucket, bucket=bucket, root=root)
    report["left_behind"] = [
        {"key": o.key, "kind": o.kind, "reason": o.reason, "referenced_by": [{"template": t, "path": p} for t, p in o.referenced_by]}
        for o in left_behind
    ]
    report["summary"].update(summary)
    root_entry = next(entry for entry in entries if entry["source"] == root)
    report["parameters"] = root_entry.pop("root_parameters", [])
    report["outputs"] = root_entry.pop("root_outputs", [])
    report["uploaded"] = False
    if source_label is not None:
        report["source"] = source_label  # the next steps repeat it (guide.next_steps)
    attach_next_steps(report)
    return ReleaseResult(target, objects, report, summary, left_behind)


# -- discovery ------------------------------------------------------------------------------


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
        origin.fetch(key, _where(referrer), wait=True)
        path = _existing(source, key, referrer, _shown(origin))
        where = _where(referrer)
        data = read_limited(path, limits.max_input_bytes, error=ReleaseError, name=key if key == root else where,
                            what=f"template (object {key!r})")
        template = decode_bytes(data, source=key, limits=limits)
        node = _Node(key, data)
        tree.templates[key] = node
        references = _asset_references(template.model, bucket, source_region)
        if key == root and not references and isinstance(origin, LocalMirror):
            _check_named_after_bucket(origin, template.model, root)
        for reference, is_template in references:
            child = reference.key
            pointer = to_pointer(reference.path)
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
            _existing(source, child, referrer, _shown(origin))
    return tree


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


def _to_supply(parameters: list[dict[str, Any]], model: dict[str, Any]) -> list[dict[str, Any]]:
    """The root's parameters an operator supplies: not those a pack added with a default.

    A pack's own parameter with a default (the web half's `SecretID`, the bridge's key slots
    `BridgeKeyInUse`, `BridgeKeyA`, `BridgeKeyB`, which `deploy` manages) needs nothing from the
    operator; listing it asked for a value nobody has to choose.
    """
    declared = model.get("Parameters") or {}
    return [p for p in parameters
            if not (p["status"] == "gained" and isinstance(declared.get(p["name"]), dict) and "Default" in declared[p["name"]])]


def _transform_one(job: _Job) -> _Outcome:
    template = decode_bytes(job.data, source=job.key, limits=job.limits)
    result = transform(template, job.rules, region=job.region, variables=job.variables,
                       is_root=job.is_root, removed_outputs=job.removed_outputs)
    entry = template_entry(result, job.key, bucket=job.target_bucket, today=job.today)
    if job.is_root:
        entry["root_parameters"] = _to_supply(root_parameters(template.model, result.model, result.edits), result.model)
        entry["root_outputs"] = list(result.model.get("Outputs") or {})
    removed: dict[str, str] = {}
    source_outputs = template.model.get("Outputs") or {}
    output_outputs = result.model.get("Outputs") or {}
    reasons = {edit.path: edit.reason for edit in result.edits if edit.op == "remove"}
    for name in source_outputs:
        if name not in output_outputs:
            removed[name] = reasons.get(("Outputs", name)) or reasons.get(("Outputs",), "removed by the transform")
    references = [
        (ref.key, to_pointer(ref.path), is_template)
        for ref, is_template in _asset_references(result.model, job.target_bucket, job.region)
    ]
    removals = sum(1 for e in result.edits if e.op == "remove" and len(e.path) == 2 and e.path[0] == "Resources")
    return _Outcome(
        job.key, result.text, entry, removed, references,
        removals, sum(1 for e in result.edits if e.op == "replace"), len(result.warnings),
    )


#: A template at least this large takes about 0.4 s to transform (about 0.8 s for 1.1 MB in the command on
#: the shared machine); below it a worker's fixed cost (about 0.1 s of CPU per run: fork, pickling the rules
#: and the results; bench/bench_release.py) eats much of what running in parallel saves.
LARGE_TEMPLATE_BYTES = 512 * 1024


def available_cpus() -> int:
    """CPUs this process may run on (its affinity, not the machine's count: containers and `taskset`)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def _load_average(cpus: int) -> float:
    """The 1-minute load average; unknown counts as busy (then the transforms run in this process)."""
    try:
        return os.getloadavg()[0]
    except (AttributeError, OSError):  # pragma: no cover - no load average on this platform
        return float(cpus)


def default_workers(sizes_by_depth: Iterable[Sequence[int]], *, cpus: int, load: float) -> int:
    """Worker processes for the transforms when the caller does not say (`--jobs`); 1 means in this process.

    Workers only help when one depth holds several large templates (templates of one depth run in
    parallel; a parent waits for its children) and there are idle CPUs to run them: on the Panther
    v1.16.0 release (13 templates, none over 64 KB) two workers were 3-15% slower than one process in
    four of five runs, and on a busy machine even two 1.1 MB templates gained nothing
    (docs/performance.md, "A whole release").  So: as many
    workers as the largest count of templates of at least `LARGE_TEMPLATE_BYTES` at one depth, at most
    the idle CPUs (`cpus` less the load average, rounded), and none unless that is two or more.
    """
    large = max((sum(1 for size in sizes if size >= LARGE_TEMPLATE_BYTES) for sizes in sizes_by_depth), default=0)
    workers = min(large, cpus, round(cpus - load))
    return workers if workers >= 2 else 1


def _transform_tree(
    tree: _Tree, root: str, rules: RuleSet, region: str, variables: Mapping[str, str], bucket: str,
    jobs: int | None, progress: Progress | None, limits: Limits,
) -> dict[str, _Outcome]:
    heights = _heights(tree, root)
    outcomes: dict[str, _Outcome] = {}
    total, done = len(heights), 0
    if jobs is None:
        depths: dict[int, list[int]] = {}
        for key, height in heights.items():
            depths.setdefault(height, []).append(len(tree.templates[key].data))
        cpus = available_cpus()
        workers = default_workers(depths.values(), cpus=cpus, load=_load_average(cpus))
    else:
        workers = jobs
    if workers > 1 and total > 1:
        _warm_caches(rules, region)
    with worker_pool(workers if total > 1 else 1) as pool:  # killed at once on an error, Ctrl-C or SIGTERM
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
    return outcomes


def _warm_caches(rules: RuleSet, region: str) -> None:
    """Build, before the workers fork, the data every transform reads (partitions, region types).

    The workers inherit it instead of each building it again (about 60 ms a worker).
    """
    rules.partitions(region)
    load_region_data(region)


def _verify(tree: _Tree, outcomes: Mapping[str, _Outcome], reachable: Mapping[str, object], region: str,
            jobs: int | None) -> dict[str, list[dict[str, Any]]]:
    """New cfn-lint errors of every template the release keeps; an unchanged template has none by definition."""
    from .verify import verify_template

    keys = sorted(key for key in outcomes if key in reachable)
    changed = [key for key in keys if outcomes[key].text.encode("utf-8") != tree.templates[key].data]
    texts = [tree.templates[key].data.decode("utf-8-sig", errors="replace") for key in changed]
    outputs = [outcomes[key].text for key in changed]
    with worker_pool(min(jobs or available_cpus(), len(changed))) as pool:  # workers that die with this process
        found = list((pool.map if pool else map)(verify_template, texts, outputs, [region] * len(changed)))
    new = {key: [error.to_json() for error in errors] for key, errors in zip(changed, found)}
    return {key: new.get(key, []) for key in keys}


def _heights(tree: _Tree, root: str) -> dict[str, int]:
    """Height of every template (leaves 0); a nesting cycle is an error.

    Iterative: a chain of thousands of nested stacks must not hit Python's recursion limit.
    """
    heights: dict[str, int] = {}
    on_path: set[str] = {root}
    stack: list[tuple[str, list[str]]] = [(root, sorted(tree.templates[root].children.values()))]
    while stack:
        key, children = stack[-1]
        if children:
            child = children.pop()
            if child in heights:
                continue
            if child in on_path:
                raise ReleaseError(f"nested stacks form a cycle through {child}", file=child)
            on_path.add(child)
            stack.append((child, sorted(tree.templates[child].children.values())))
            continue
        stack.pop()
        on_path.discard(key)
        heights[key] = 1 + max((heights[c] for c in tree.templates[key].children.values()), default=-1)
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


# -- writing --------------------------------------------------------------------------------


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
    """The objects of the output bucket; written into `staging` when given (assets copied in chunks)."""
    objects: list[ReleaseObject] = []
    for key in sorted(reachable):
        referrers = tuple(sorted(reachable[key]))
        where = _where(referrers[0] if referrers else (root, ""))
        path = None if staging is None else _safe_path(staging, key, ("<output>", key))
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
        objects.append(ReleaseObject(key, kind, digest.sha256, digest.size, referrers))
    return objects


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



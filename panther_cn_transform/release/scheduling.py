"""Scheduling: the transforms of a release tree, children first, in worker processes or in this one.

Children first because a parent's transform needs to know which of each child's Outputs were removed
(it repairs its `Fn::GetAtt Child.Outputs.X` like any other reference to something removed); the
templates of one height do not depend on each other, so they may run in parallel.  Whether they do is
the load guard's call (`default_workers`): a worker costs about 0.1 s of CPU, which pays only for
large templates and idle CPUs (docs/performance.md, "A whole release").  `_transform_one` is what a
worker runs: one template in, plain data out (its text, report entry, removed Outputs and the
references it still makes), which is all that is pickled back to the parent.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from ..errors import ReleaseError
from ..limits import Limits
from ..model.decode import decode_bytes
from ..model.paths import JsonPath, to_pointer
from ..model.positions import position
from ..model.template import Template
from ..partitions.region_data import load_region_data
from ..report.guide import root_parameters
from ..report.json_report import template_entry
from ..ruleset.rule_files import RuleSet
from ..transform import RELEASE_KEYS_RULE, transform
from .discovery import _heights, _Tree
from .locations import Foreign, Locations, asset_properties, object_locations
from .workers import worker_pool

Progress = Callable[[int, int, str], None]


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
    positions: bool = False
    source_bucket: str | None = None
    today: date = field(default_factory=date.today)
    #: release mode: the nested templates this one references -> the keys they are published under
    object_keys: Mapping[str, str] = field(default_factory=dict)
    #: release mode: publish this template under its content's SHA-256 (every template but the root)
    content_key: bool = False
    #: release mode: the nested templates this one references that stay under their source keys
    #: (a reference to them could not be pointed at a content key: `_transform_tree`)
    pinned: frozenset[str] = frozenset()


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
    published: str = ""  # the key the template is published under (its own key unless `_Job.content_key`)
    #: the nested templates a reference still names by their source key, though they are published under a content key
    stuck: tuple[str, ...] = ()


def content_key(data: bytes) -> str:
    """The key a transformed nested template is published under: the SHA-256 of its bytes, in hex.

    Why: a key that names its content is never given other bytes, so publishing a release
    again (other rules, another pack version) never changes an object that the live root
    reads; only the root, written last, changes (docs/release.md, "Keys").
    """
    return hashlib.sha256(data).hexdigest()


def _transform_one(job: _Job) -> _Outcome:
    template = decode_bytes(job.data, source=job.key, limits=job.limits)
    result = transform(template, job.rules, region=job.region, variables=job.variables,
                       is_root=job.is_root, removed_outputs=job.removed_outputs, object_keys=job.object_keys)
    entry = template_entry(result, job.key, bucket=job.target_bucket, today=job.today, positions=job.positions,
                           source_region=job.variables.get("source_region"), source_bucket=job.source_bucket)
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
    found = object_locations(result.model, job.target_bucket, job.region, asset_properties(job.rules))
    references, stuck = _source_references(job, found)
    if job.source_bucket is not None:  # release mode (a project's nested templates are its files, not a bucket's)
        _location_findings(entry, found, template if job.positions else None)
        _pinned_notes(entry, job, found, template if job.positions else None)
    removals = sum(1 for e in result.edits if e.op == "remove" and len(e.path) == 2 and e.path[0] == "Resources")
    published = content_key(result.text.encode("utf-8")) if job.content_key else job.key
    if published != job.key:
        entry["key"] = published
    return _Outcome(
        job.key, result.text, entry, removed, references,
        removals, sum(1 for e in result.edits if e.op == "replace" and e.rule != RELEASE_KEYS_RULE), len(entry["warnings"]),
        published, stuck,
    )


def _removed_by_any(outcomes: Mapping[str, _Outcome], children: Iterable[str]) -> dict[str, str]:
    """The outputs any of a stack's possible templates (its `Fn::If` branches) removed: the parent repairs each."""
    removed: dict[str, str] = {}
    for child in children:
        if child in outcomes:
            for name, reason in outcomes[child].removed_outputs.items():
                removed.setdefault(name, reason)
    return removed


def _location_findings(entry: dict[str, Any], found: Locations, template: Template | None) -> None:
    """A nested template or asset read from outside the release bucket is a blocker; an included snippet is copied unported (a warning).

    With `template` (positions asked for), each gets the line and column of its property in the input
    (a property's path is the same in the input: only list items move, and these are mapping keys).
    """
    def place(path: JsonPath) -> dict[str, int]:
        if template is None:
            return {}
        line, column = position(template.root, path, template.text)
        return {"line": line, "column": column}

    taken = {blocker["path"] for blocker in entry["blockers"]}
    places: dict[str, list[Foreign]] = {}  # one blocker per place, naming every spelling (an Fn::If's branches)
    for foreign in found.foreign:
        pointer = to_pointer(foreign.path)
        if not any(path == pointer or path.startswith(pointer + "/") for path in taken):  # a blocker inside it already
            places.setdefault(pointer, []).append(foreign)
    for pointer, spellings in places.items():
        first = spellings[0]
        what = "nested template" if first.is_template else "asset"
        named = " or ".join(repr(text) for text in dict.fromkeys(f.text for f in spellings))
        entry["blockers"].append({
            "kind": f"foreign-{'template' if first.is_template else 'asset'}", "path": pointer, "shared": False,
            "message": f"{what} {named} is read from outside the release bucket: the release neither copies nor ports it; "
                       f"move it into the release, or {'port it and ' if first.is_template else ''}copy it to the China "
                       "bucket yourself",
            **place(first.path),
        })
    for location in found.located:
        if location.include:
            entry["warnings"].append({
                "rule": "release-include", "path": to_pointer(location.path),
                "message": f"the AWS::Include snippet {location.key} is copied as it is: rules port templates, not snippets; "
                           "check it for global ARNs, hosts and buckets",
                **place(location.path),
            })


def _source_references(job: _Job, found: Locations) -> tuple[list[tuple[str, str, bool]], tuple[str, ...]]:
    """The references of the transformed template into the target bucket, each named by the source key it stands for,
    and the nested templates a reference still names by their source key though they are published under a content key.

    A reference to a published key stands for every nested template published under it (two
    templates may transform to the same bytes).  A reference that still names the source key of a
    template published under another key is one `transform`'s `object_keys` could not reach (a key
    spelled through `Fn::Join`, a parameter default, a mapping entry ...): `_transform_tree` keeps
    that template under its source key and transforms its parents again.
    """
    sources: dict[str, list[str]] = {}
    for key, published in job.object_keys.items():
        sources.setdefault(published, []).append(key)
    references: list[tuple[str, str, bool]] = []
    stuck: dict[str, None] = {}
    for location in found.located:
        pointer = to_pointer(location.path)
        if location.key in job.object_keys and job.object_keys[location.key] != location.key:
            stuck[location.key] = None
            references.append((location.key, pointer, location.is_template))
        else:
            references += [(key, pointer, location.is_template) for key in sources.get(location.key, [location.key])]
    return references, tuple(stuck)


def _pinned_notes(entry: dict[str, Any], job: _Job, found: Locations, template: Template | None) -> None:
    """A warning at each reference to a nested template kept under its source key: a re-publish replaces what it reads."""
    seen: set[tuple[str, str]] = set()
    for location in found.located:
        pointer = to_pointer(location.path)
        if not (location.is_template and location.key in job.pinned) or (pointer, location.key) in seen:
            continue
        seen.add((pointer, location.key))
        place: dict[str, int] = {}
        if template is not None:
            line, column = position(template.root, location.path, template.text)
            place = {"line": line, "column": column}
        entry["warnings"].append({
            "rule": RELEASE_KEYS_RULE, "path": pointer,
            "message": f"nested template {location.key} is published under its source key, not its content's SHA-256: "
                       "a reference to it (this one, or another naming the same template) spells the key through "
                       "intrinsics where the content key cannot be written, so the template is not protected against a "
                       "re-publish (publishing other bytes again would replace the object this live stack reads: --upload "
                       "refuses that unless --replace-live-children); write each location as one literal URL to protect it",
            **place,
        })


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
    tree: _Tree, roots: Sequence[str], rules: RuleSet, region: str, variables: Mapping[str, str], bucket: str,
    jobs: int | None, progress: Progress | None, limits: Limits, positions: bool = False,
    source_bucket: str | None = None, content_keys: bool = False,
) -> dict[str, _Outcome]:
    """Every template reached from `roots` transformed, children first (a project may have several roots).

    With `content_keys` (release mode), every template but the roots is published under its
    content's SHA-256 (`content_key`), and its parents name that key.
    """
    heights = _heights(tree, *roots)
    nested: dict[str, set[str]] = {}  # template -> the templates it references
    for child, referrers in tree.referrers.items():
        if tree.kinds.get(child) == "template":
            for parent, _pointer in referrers:
                nested.setdefault(parent, set()).add(child)
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
    pinned: set[str] = set()  # nested templates kept under their source keys (`_Outcome.stuck`)
    done_jobs: dict[Any, _Outcome] = {}  # a job run again with the same inputs has the same outcome
    with worker_pool(workers if total > 1 else 1) as pool:  # killed at once on an error, Ctrl-C or SIGTERM
        while True:
            outcomes = {}
            for height in sorted(set(heights.values())):
                level = sorted(key for key, h in heights.items() if h == height)
                batch = []
                for key in level:
                    node = tree.templates[key]
                    removed = {stack: merged for stack, children in node.children.items()
                               if (merged := _removed_by_any(outcomes, children))}
                    keys = _published_children(key, nested.get(key, set()), outcomes) if content_keys else {}
                    mine = frozenset(pinned & nested.get(key, set()))
                    memo = (key, tuple(sorted(keys.items())), key in pinned, mine)
                    if memo in done_jobs:
                        outcomes[key] = done_jobs[memo]
                        continue
                    batch.append(_Job(key, node.data, rules, region, variables, key in roots, removed, bucket, limits,
                                      positions, source_bucket, object_keys=keys,
                                      content_key=content_keys and key not in roots and key not in pinned, pinned=mine))
                results = pool.map(_transform_one, batch) if pool else map(_transform_one, batch)
                for job, outcome in zip(batch, results):
                    outcomes[outcome.key] = outcome
                    done_jobs[(job.key, tuple(sorted(job.object_keys.items())), job.key in pinned, job.pinned)] = outcome
                    done += 1
                    if progress:
                        progress(min(done, total), total, outcome.key)
            stuck = {child for outcome in outcomes.values() for child in outcome.stuck} - pinned
            if not stuck:
                break
            # a reference the transform could not point at a content key (a key spelled through Fn::Join, a
            # parameter default, a mapping entry ...): that template stays under its source key, as before content
            # keys, and the templates above it are transformed again (the outcomes that do not change are kept)
            pinned |= stuck
    return outcomes


def _published_children(key: str, children: set[str], outcomes: Mapping[str, _Outcome]) -> dict[str, str]:
    """The templates `key` references -> the keys they are published under; each must be transformed already."""
    for child in sorted(children - outcomes.keys()):
        raise ReleaseError(f"{key} references template {child!r} where it is not a nested stack, so it cannot be "
                           "transformed first and published under its content key", file=key)
    return {child: outcomes[child].published for child in sorted(children)}


def _warm_caches(rules: RuleSet, region: str) -> None:
    """Build, before the workers fork, the data every transform reads (partitions, region types).

    The workers inherit it instead of each building it again (about 60 ms a worker).
    """
    rules.partitions(region)
    load_region_data(region)

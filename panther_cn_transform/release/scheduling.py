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

import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from ..limits import Limits
from ..model.decode import decode_bytes
from ..model.paths import JsonPath, to_pointer
from ..model.positions import position
from ..model.template import Template
from ..partitions.region_data import load_region_data
from ..report.guide import root_parameters
from ..report.json_report import template_entry
from ..ruleset.rule_files import RuleSet
from ..transform import transform
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


def _transform_one(job: _Job) -> _Outcome:
    template = decode_bytes(job.data, source=job.key, limits=job.limits)
    result = transform(template, job.rules, region=job.region, variables=job.variables,
                       is_root=job.is_root, removed_outputs=job.removed_outputs)
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
    references = [(location.key, to_pointer(location.path), location.is_template) for location in found.located]
    if job.source_bucket is not None:  # release mode (a project's nested templates are its files, not a bucket's)
        _location_findings(entry, found, template if job.positions else None)
    removals = sum(1 for e in result.edits if e.op == "remove" and len(e.path) == 2 and e.path[0] == "Resources")
    return _Outcome(
        job.key, result.text, entry, removed, references,
        removals, sum(1 for e in result.edits if e.op == "replace"), len(entry["warnings"]),
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
    source_bucket: str | None = None,
) -> dict[str, _Outcome]:
    """Every template reached from `roots` transformed, children first (a project may have several roots)."""
    heights = _heights(tree, *roots)
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
                removed = {stack: merged for stack, children in node.children.items()
                           if (merged := _removed_by_any(outcomes, children))}
                batch.append(_Job(key, node.data, rules, region, variables, key in roots, removed, bucket, limits, positions,
                                  source_bucket))
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

"""Release mode: turn a whole release in a global bucket mirror into a China bucket layout.

A release is a tree: the root template (`<release>/panther.yml`) names nested templates
(`TemplateURL`) and assets (`CodeUri`, layer `Content`, `DefinitionS3Location`, ...) by
key in the source bucket.  Release mode

1. follows every reference from the root through all nested templates (a missing or
   unsafe key is an error naming the template and property that needs it; discovery.py);
2. transforms the templates children first, so that a parent knows which of a child's
   Outputs were removed (and repairs its `Fn::GetAtt Child.Outputs.X` like any other
   reference to something removed); templates of one depth run in parallel (scheduling.py);
3. keeps only what the transformed root still reaches: an object whose every reference
   a rule removed (a removed nested stack's template and assets) is left behind and
   listed in the report with the reason; one that is unreached for any other reason is
   an error, so nothing is dropped silently (reachability.py);
4. writes everything, with `manifest.json`, into a staging folder beside `out_dir`
   (assets copied and hashed in chunks, never held whole; manifest.py) and swaps it into
   place only when all of it succeeded (outdir.py: locking, stale staging, the atomic swap).

This module is the order of those steps and what a run returns (`transform_release`,
`ReleaseResult`, its report); each step is a module of its own, so that each can be read (and
changed) without the others.  The names callers imported from here before the steps moved out
(`check_manifest`, `ReleaseObject`, `default_workers`, ...) are still offered (`__all__`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import BlockedError, OutputError, ReleaseError, VerificationError
from ..files import write_new
from ..limits import Limits
from ..partitions.bucket_names import bucket_name_problem, region_of_bucket_name
from ..report.guide import attach_next_steps, split_half
from ..report.json_report import assemble_report
from ..ruleset.packaged import asset_zip
from ..ruleset.rule_files import RuleSet
from .discovery import _as_source, _discover, _places, _Tree
from .locations import asset_properties
from .manifest import MANIFEST, ReleaseObject, _check_keys, _manifest, _objects, check_manifest
from .outdir import Notice, OutDir, check_replaceable, resolve_out_dir
from .reachability import LeftBehind, _left_behind, _reachable
from .scheduling import LARGE_TEMPLATE_BYTES, Progress, _Outcome, _transform_tree, available_cpus, default_workers
from .source import ReleaseSource
from .workers import worker_pool

__all__ = [
    "LARGE_TEMPLATE_BYTES", "LeftBehind", "ReleaseObject", "ReleaseResult", "check_manifest", "default_workers",
    "transform_release",
]


@dataclass
class ReleaseResult:
    """What a release run produced (or, with `check`, would produce)."""

    out_dir: Path | None
    objects: list[ReleaseObject]
    report: dict[str, Any]
    summary: dict[str, int] = field(default_factory=dict)
    left_behind: list[LeftBehind] = field(default_factory=list)


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
    positions: bool = False,
    stop_on_blockers: bool = False,
    before_publish: Callable[[ReleaseResult], None] | None = None,
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
    * **positions** - give the report's warnings and blockers the line and column of their
      place in the source template (for a SARIF log, `format_report(..., "sarif")`).
    * **stop_on_blockers** - raise `BlockedError` (carrying the result and its report) when
      the release has blockers its source does not have (`report/blockers.py`: a foreign-region
      ARN, an asset still in a global bucket, a new cfn-lint error), before anything is
      written; `release --upload` sets it unless `--accept-blockers`.  Blockers the global
      release has too (v1.16's `go1.x` runtimes) stop nothing.  After a failed `verify`,
      which raises first, whatever this says.
    * **before_publish** - called with the result when everything is written into the
      out-dir's staging, just before it is swapped in (never with `check`): the caller
      writes its own outputs (the report) there, so that one it cannot write stops the run
      while nothing is published yet.

    Every object the source release reaches is copied unless a rule removed its last
    reference; those are listed in the report's `left_behind` with the reason.  An object
    that is no longer reached for any other reason is an error.
    """
    problem = bucket_name_problem(bucket)
    if problem:
        raise ReleaseError(f"bucket {bucket!r} is not a valid S3 bucket name: it {problem}", file="<command line>")
    rules.partitions(region)  # a region the rules do not port to: a RegionError before anything is read
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
        tree = _discover(origin, values.get("source_region", ""), root, limits, asset_properties(rules))
        packaged = {key: asset_zip(name) for key, name in rules.assets.items()}  # objects the rule packs ship
        for key in packaged:
            tree.kinds.setdefault(key, "asset")
        outcomes = _transform_tree(tree, (root,), rules, region, values, bucket, jobs, progress, limits, positions,
                                   source_bucket, content_keys=True)
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
                         source_label=source_label, rules=rules)
        new_errors = sum(len(entry.get("lint", [])) for entry in result.report["templates"])
        if new_errors:  # raised inside the out-dir: the staging folder is removed, nothing is published
            raise VerificationError(
                f"{new_errors} cfn-lint error(s) the input did not have; nothing written (the report lists them)",
                file=root, result=result,
            )
        own = [blocker for blocker in result.report["blockers"] if not blocker["shared"]]
        if stop_on_blockers and own:  # like a failed verification: nothing is published
            raise BlockedError(
                f"{len(own)} blocker(s) the global release does not have ({blocker_places(own)}); nothing written or "
                "uploaded (the report lists them under \"What blocks a deployment\")",
                file=root, result=result,
            )
        if isinstance(held, OutDir) and staging is not None:
            write_new(staging / MANIFEST, _manifest(objects, release, region, bucket, source_bucket, root))
            if before_publish is not None:
                before_publish(result)
            held.publish()
    return result


def blocker_places(blockers: Iterable[Mapping[str, Any]]) -> str:
    """`foreign-region in BootstrapGateway, Core; runtime in root`: each kind of blocker and the templates it is in."""
    places: dict[str, dict[str, None]] = {}
    for blocker in blockers:
        places.setdefault(str(blocker["kind"]), {})[str(blocker.get("place") or blocker["template"])] = None
    return "; ".join(f"{kind} in {', '.join(sorted(where))}" for kind, where in sorted(places.items()))


def _result(
    tree: _Tree, root: str, outcomes: Mapping[str, _Outcome], reachable: Mapping[str, set[tuple[str, str]]],
    objects: list[ReleaseObject], left_behind: list[LeftBehind], target: Path | None, *,
    region: str, release: str, bucket: str, source_bucket: str, verify: bool, jobs: int | None, source_label: str | None,
    rules: RuleSet,
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
    summary["blockers"], summary["shared_blockers"] = report["summary"]["blockers"], report["summary"]["shared_blockers"]
    root_entry = next(entry for entry in entries if entry["source"] == root)
    report["parameters"] = root_entry.pop("root_parameters", [])
    report["outputs"] = root_entry.pop("root_outputs", [])
    report["uploaded"] = False
    if source_label is not None:
        report["source"] = source_label  # the next steps repeat it (guide.next_steps)
    report["rules"] = list(rules.specs)  # and the packs, in every command of this tool
    report["half"] = split_half(rules.files)  # which half of Panther's China split, if any
    partition = rules.partitions(region)[1]
    report["template_url"] = (partition.object_url(bucket, region, root)  # the partition's host for the region
                              or f"https://s3.{region}.{partition.dns_suffix}/{bucket}/{root}")
    attach_next_steps(report)
    return ReleaseResult(target, objects, report, summary, left_behind)


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

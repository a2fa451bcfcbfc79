"""Project mode: a repository's templates ported together, nested stacks children first, into one out-dir.

Why: every hand port this project is measured against came from a repository of several
templates with nested stacks between them (Quick Start layouts, `aws cloudformation package`
layouts, SAM applications).  Ported one file at a time, a parent keeps reading an output its
child no longer has, and each file gets its own report.  Project mode takes files, folders and
globs, finds which template nests which (`partitions/nested_locations.py`: relative paths,
literal S3 URLs, Quick Start `Fn::Sub` URLs through parameter defaults), and runs release
mode's machinery on that tree: children first with the cross-stack repairs
(`scheduling._transform_tree`), one report with a section per template, and the out-dir
written all or nothing (`outdir.OutDir`).

What nested locations become (docs/projects.md):

* a relative path (`package` layout) stays as it is: `aws cloudformation package` uploads
  the child and writes its URL;
* an S3 URL whose key ends in a file of the set (`…/templates/workload.yaml`), with
  `bucket` given: its bucket becomes `bucket`, keys unchanged, wherever the bucket is set
  (the URL, a `QSS3BucketName` default, a Sub); the report says where to upload the out-dir
  (the key's prefix) and which other objects of those buckets the templates read (to copy);
* without `bucket`: unchanged, and warned by the pack's asset rule as any global bucket is.
"""

from __future__ import annotations

import glob
import os
import posixpath
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..errors import InputError, OutputError, TemplateError
from ..files import read_limited, write_new
from ..limits import Limits
from ..model.decode import decode_bytes, looks_like_template
from ..model.paths import JsonPath
from ..partitions.bucket_names import bucket_name_problem
from ..partitions.nested_locations import NestedLocation, nested_locations
from ..report.json_report import assemble_report
from ..ruleset.rule_files import Rule, RuleSet
from .discovery import _heights, _Node, _places, _Tree
from .outdir import Notice, OutDir, check_replaceable, resolve_out_dir
from .scheduling import Progress, _Outcome, _transform_tree

#: Files a folder or glob contributes (a named file is read whatever its name)
TEMPLATE_SUFFIXES = (".yaml", ".yml", ".json", ".template")
_ASSET_ACTION = "rewrite_s3_assets"
PROJECT_RULE = "project-templates"


@dataclass(frozen=True)
class ProjectFile:
    """One file of the set: its key (path relative to the set's base folder, `/`-separated) and where it is."""

    key: str
    path: Path


@dataclass
class ProjectResult:
    """What a project run produced (or, with `check`, would produce)."""

    out_dir: Path | None
    texts: dict[str, str]  # key -> transformed text
    changed: list[str]  # keys whose text changed
    report: dict[str, Any]
    skipped: list[str] = field(default_factory=list)  # files that are not CloudFormation templates


def expand_inputs(inputs: Sequence[str | Path]) -> tuple[Path, list[ProjectFile]]:
    """The files the user named (files, folders searched for templates, globs), and the folder their keys are relative to.

    A glob is expanded only when the name the user gave has no file of that exact name; an
    input that matches nothing is an error naming it.
    """
    found: dict[Path, None] = {}
    for given in inputs:
        text = str(given)
        path = Path(text)
        if path.is_dir():
            found.update(dict.fromkeys(_templates_in(path)))
        elif path.exists() or not glob.has_magic(text):
            if not path.is_file():
                raise InputError("no such file or folder", file=text)
            found[path] = None
        else:
            matches = sorted(Path(m) for m in glob.glob(text, recursive=True))
            files = [m for m in matches if m.is_file()]
            for match in matches:
                if match.is_dir():
                    files += _templates_in(match)
            if not files:
                raise InputError("the pattern matches no file", file=text)
            found.update(dict.fromkeys(files))
    if not found:
        raise InputError("no template found in the inputs", file=", ".join(map(str, inputs)))
    resolved = [p.resolve() for p in found]
    base = Path(os.path.commonpath([p.parent for p in resolved]))
    return base, [ProjectFile(p.relative_to(base).as_posix(), given) for p, given in zip(resolved, found)]


def _templates_in(folder: Path) -> list[Path]:
    """The files of `folder` (and below) that may be templates, by their suffix; hidden folders and files left out."""
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix in TEMPLATE_SUFFIXES
                  and not any(part.startswith(".") for part in p.relative_to(folder).parts))


@dataclass
class _Set:
    """The templates of a project, with what nests what."""

    tree: _Tree
    roots: list[str]
    buckets: set[str]  # buckets the parents read nested templates of the set from
    prefixes: dict[str, set[str]]  # bucket -> key prefixes before the set's keys (where to upload the out-dir)
    unmatched: list[tuple[str, NestedLocation]]  # nested locations that name no file of the set
    skipped: list[str]


def read_project(files: Sequence[ProjectFile], limits: Limits) -> _Set:
    """Decode the set, find its nesting, and its roots (templates no other template of the set nests)."""
    tree = _Tree()
    skipped: list[str] = []
    models: dict[str, Any] = {}
    for file in files:
        data = read_limited(file.path, limits.max_input_bytes, error=InputError, name=str(file.path), what="template")
        try:
            template = decode_bytes(data, source=str(file.path), limits=limits)
        except TemplateError as exc:  # a README.yml, a Helm chart: skipped; a template with a syntax error: an error
            if exc.message.startswith("not a CloudFormation template") or not looks_like_template(data):
                skipped.append(str(file.path))
                continue
            raise
        tree.templates[file.key] = _Node(file.key, data)
        models[file.key] = template.model
    keys = set(tree.templates)
    buckets: set[str] = set()
    prefixes: dict[str, set[str]] = {}
    unmatched: list[tuple[str, NestedLocation]] = []
    matched: set[tuple[str, JsonPath]] = set()  # (template, property) with a spelling that names a file of the set
    for key, model in models.items():
        for location in nested_locations(model):
            child = _child_of(key, location, keys)
            if child is None:
                if location.form != "other" or not location.text.startswith("${"):
                    unmatched.append((key, location))
                continue
            matched.add((key, location.path))
            if location.logical_id is not None:
                tree.templates[key].add_child(location.logical_id, child)
            tree.referrers.setdefault(child, set()).add((key, "/" + "/".join(map(str, location.path))))
            tree.kinds[child] = "template"
            if location.form == "s3" and location.bucket:
                buckets.add(location.bucket)
                prefixes.setdefault(location.bucket, set()).add(location.key[: len(location.key) - len(child)])
    nested = {child for node in tree.templates.values() for child in node.child_keys()}
    roots = sorted(key for key in tree.templates if key not in nested)
    heights = _heights(tree, *roots) if roots else {}
    for key in sorted(tree.templates):  # a cycle no root reaches (with no root at all, the first template)
        if key not in heights:
            raise InputError(f"nested stacks form a cycle through {key}", file=key)
    # a spelling that names no file is reported only when no other spelling of the same property did (Fn::If branches)
    unmatched = [(key, location) for key, location in unmatched if (key, location.path) not in matched]
    return _Set(tree, roots, buckets, prefixes, unmatched, skipped)


def _child_of(parent: str, location: NestedLocation, keys: set[str]) -> str | None:
    """The file of the set a nested location names, or None.

    A relative path is resolved against the parent's folder; an S3 key names the file whose key
    is the longest `/`-separated suffix of it (`moodle/latest/templates/01-newvpc.yaml` names
    `templates/01-newvpc.yaml`, or `01-newvpc.yaml` in a set made of the templates folder).
    """
    if location.form == "relative":
        key = posixpath.normpath(posixpath.join(posixpath.dirname(parent), location.key.removeprefix("./")))
        return key if key in keys else None
    if location.form != "s3" or not location.key:
        return None
    text = location.key.rsplit("}", 1)[-1]  # after the last placeholder: what the URL says for sure
    candidates = [key for key in keys if text == key or text.endswith("/" + key)
                  or ("}" in location.key and key.endswith(text.lstrip("/")) and text.lstrip("/"))]
    return max(candidates, key=len) if candidates else None


def project_rules(rules: RuleSet, buckets: set[str], bucket: str) -> RuleSet:
    """The rules with one more, first: the buckets serving the project's nested templates move to `bucket`.

    A rule like the pack's own asset rule (`rewrite_s3_assets`), with the same asset
    properties, so that the buckets are rewritten where they are set (a parameter default, a
    Sub) as every asset bucket is; the pack's rule then sees them in `bucket` already.
    """
    asset_rules = [rule for rule in rules.rules if rule.action == _ASSET_ACTION]
    properties = sorted({str(p) for rule in asset_rules for p in rule.params.get("asset_properties", [])})
    rule = Rule(
        PROJECT_RULE,
        "The nested templates of the project are read from the bucket given with --bucket, under the same keys; "
        "so are the other objects of the buckets they were read from (the report lists them to copy).",
        _ASSET_ACTION,
        {"source_buckets": sorted(buckets), "target_bucket": bucket, "asset_properties": properties, "region_defaults": True},
        "<project>",
    )
    # the pack's own asset rules then meet `bucket` where a bucket is set: it is where the assets are, not a
    # global bucket to warn about
    known = [replace(r, params={**r.params, "bucket_map": {**(r.params.get("bucket_map") or {}), bucket: bucket}})
             if r.action == _ASSET_ACTION else r for r in rules.rules]
    return replace(rules, rules=(rule, *known))


def transform_project(
    inputs: Sequence[str | Path],
    *,
    rules: RuleSet,
    region: str,
    bucket: str | None = None,
    out_dir: str | Path | None = None,
    variables: Mapping[str, str] | None = None,
    jobs: int | None = None,
    force: bool = False,
    check: bool = False,
    limits: Limits | None = None,
    progress: Progress | None = None,
    notice: Notice | None = None,
    before_publish: Callable[[ProjectResult], None] | None = None,
) -> ProjectResult:
    """Transform the templates named by `inputs` (files, folders, globs) as one project for `region`.

    Children first (a parent's references to outputs its child lost are repaired), one report
    (`report["templates"]`, one entry per template, `place` naming the nesting), and the outputs
    written under `out_dir` at the same relative paths, all or nothing.  With `check`, nothing is
    written.  Files that are not CloudFormation templates are skipped (listed in `skipped`).
    `before_publish` is called with the result just before the out-dir is swapped in: the
    caller stages its own outputs (report, patch) then, so one it cannot write publishes nothing.
    """
    limits = limits or Limits()
    if bucket is not None and (problem := bucket_name_problem(bucket)):
        raise InputError(f"bucket {bucket!r} is not a valid S3 bucket name: it {problem}", file="<command line>")
    base, files = expand_inputs(inputs)
    target = None
    if out_dir is not None and not check:
        target = resolve_out_dir(out_dir, base)
    elif out_dir is not None:
        check_replaceable(resolve_out_dir(out_dir, base), force, str(out_dir))
    project = read_project(files, limits)
    used = project_rules(rules, project.buckets, bucket) if bucket and project.buckets else rules
    values = {**({"bucket": bucket} if bucket else {}), **(variables or {})}
    outcomes = _transform_tree(project.tree, project.roots, used, region, values, bucket or "", jobs, progress, limits)
    by_key = {file.key: file for file in files}
    changed = [key for key, outcome in sorted(outcomes.items())
               if outcome.text.encode("utf-8") != project.tree.templates[key].data]
    report = _report(project, outcomes, by_key, base, region=region, bucket=bucket, out_dir=out_dir)
    texts = {key: outcome.text for key, outcome in outcomes.items()}
    if target is None:
        return ProjectResult(None, texts, changed, report, project.skipped)
    with OutDir(target, force=force, given=str(out_dir), notice=notice) as held:
        staging = held.staging
        if staging is None:  # pragma: no cover - an OutDir entered has its staging folder
            raise OutputError("no staging folder", file=str(out_dir))
        for key in sorted(texts):
            try:
                destination = staging / key
                destination.parent.mkdir(parents=True, exist_ok=True)
                write_new(destination, texts[key].encode("utf-8"))
            except OSError as exc:
                raise OutputError(f"cannot write {key!r}: {exc.strerror or exc}", file=str(out_dir)) from None
        result = ProjectResult(target, texts, changed, report, project.skipped)
        if before_publish is not None:
            before_publish(result)
        held.publish()
    return result


def _report(project: _Set, outcomes: Mapping[str, _Outcome], files: Mapping[str, ProjectFile], base: Path, *,
            region: str, bucket: str | None, out_dir: str | Path | None) -> dict[str, Any]:
    """One report for the set: an entry per template (children first is not the order: roots first, by place)."""
    places: dict[str, str] = _places(project.tree, *project.roots, named_roots=True) if project.roots else {}

    def order(key: str) -> tuple[int, str]:
        place = places.get(key) or key
        return place.count("/"), place

    keys = sorted(outcomes, key=order)
    entries = []
    for key in keys:
        entry = dict(outcomes[key].entry)
        entry["source"] = str(files[key].path)
        entry["output"] = None if out_dir is None else str(Path(out_dir) / key)
        entry["place"] = places.get(key, key)
        entry.pop("root_parameters", None)
        entry.pop("root_outputs", None)
        entry["warnings"] = entry["warnings"] + [
            {"rule": "nested-template-not-in-project", "path": "/" + "/".join(map(str, location.path)),
             "message": f"nested template {location.text!r} is none of the project's files: it is not transformed here"
                        " (add it to the inputs, or port it yourself)"}
            for parent, location in project.unmatched if parent == key
        ]
        entries.append(entry)
    prefixes = sorted({prefix for name in project.buckets for prefix in project.prefixes.get(name, ())})
    copies = sorted({ref_key for outcome in outcomes.values() for ref_key, _pointer, is_template in outcome.references
                     if not is_template}) if bucket else []  # assets the templates read from `bucket`
    return assemble_report(entries, region=region, project={
        "base": str(base), "roots": project.roots, "bucket": bucket,
        "upload_prefixes": prefixes if bucket else [],
        "source_buckets": sorted(project.buckets), "objects_to_copy": copies, "skipped": project.skipped,
    })


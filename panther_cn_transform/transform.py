"""Plan, then apply: run bound rules over one template and render the result."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonpatch

from ._gc import collector_paused
from .errors import RuleFileError
from .limits import Limits
from .model.decode import Template, decode_text, read_template
from .model.edits import Edit, EditLog, list_alignment
from .partitions.s3urls import BUCKET_KEYS, OBJECT_KEYS, with_keys
from .render import render
from .ruleset.actions import ACTIONS
from .ruleset.findings import Finding
from .ruleset.nested import unchecked_nested_outputs
from .ruleset.patterns import PatternTimeout
from .ruleset.removal import plan_removal
from .ruleset.rule_api import RuleContext
from .ruleset.rule_files import RuleSet


@dataclass(frozen=True)
class TransformResult:
    """What one template became, and every change and warning that explains why."""

    template: Template
    text: str
    model: dict[str, Any]
    edits: tuple[Edit, ...]
    warnings: tuple[Finding, ...]
    region: str

    @property
    def changed(self) -> bool:
        """True when the output differs from the input."""
        return bool(self.edits)

    @functools.cached_property
    def patch_operations(self) -> list[dict[str, Any]]:
        """The RFC 6902 operations from the parsed input to the parsed output, as JSON data.

        What the command line writes and the report holds, built once and without
        jsonpatch's parse of every pointer (a few microseconds an edit, on scripts of a
        hundred thousand lines).
        """
        return [edit.to_patch_op() for edit in self.edits]

    @property
    def patch(self) -> jsonpatch.JsonPatch:
        """RFC 6902 patch from the parsed input to the parsed output (`patch_operations`, as jsonpatch's object)."""
        return jsonpatch.JsonPatch(self.patch_operations)


def transform(
    template: Template,
    rules: RuleSet,
    *,
    region: str,
    variables: Mapping[str, str] | None = None,
    is_root: bool = True,
    removed_outputs: Mapping[str, Mapping[str, str]] | None = None,
    object_keys: Mapping[str, str] | None = None,
) -> TransformResult:
    """Run `rules` over `template` for the target `region`.

    **Parameters:**

    * **template** - a decoded template (`decode_text`, `read_template`).
    * **rules** - the rule set (`load_rules`).
    * **region** - the target region, e.g. `cn-north-1`; also the variable `${region}`.
    * **variables** - values for the rules' other `${variables}` (`bucket`, ...).
    * **is_root** - False for a nested template of a release (rules such as the bridge
      fragment apply to the root only).
    * **removed_outputs** - nested stack logical id -> its Outputs that the transform of
      the child removed (name -> reason); references to them are repaired or removed
      like references to a removed resource, under the rule id `nested-stack-outputs`.
      Release mode always passes it (empty when nothing was removed); without it, the
      template is transformed alone, and references to its nested stacks' outputs, which
      cannot be checked then, are one warning that names release mode.
    * **object_keys** - objects of the `${bucket}` bucket published under another key than
      the source's (source key -> published key; release mode publishes a nested template
      under its content's SHA-256, docs/release.md "Keys"): after the rules, every S3
      reference to such an object in that bucket names the published key, under the rule
      id `release-keys`.
    """
    with collector_paused():
        return _transform(template, rules, region, variables, is_root, removed_outputs, object_keys)


def _transform(
    template: Template,
    rules: RuleSet,
    region: str,
    variables: Mapping[str, str] | None,
    is_root: bool,
    removed_outputs: Mapping[str, Mapping[str, str]] | None,
    object_keys: Mapping[str, str] | None = None,
) -> TransformResult:
    source_partition, partition = rules.partitions(region)  # a RegionError before any rule runs
    values = {**partition.variables(), **(variables or {}), "region": region}
    context = RuleContext(region=region, partition=partition, source_partition=source_partition, variables=values,
                          source=template.source, is_root=is_root)
    log = EditLog(template.model)
    warnings: list[Finding] = []
    for rule in rules.bind(values):
        try:
            warnings.extend(ACTIONS[rule.action]().apply(log, rule, context))
        except PatternTimeout as exc:
            raise RuleFileError(
                f"rule {rule.id!r}: pattern {exc.pattern!r} ran longer than {exc.seconds:g} s on "
                f"{template.source}:{exc.pointer}; rewrite it without nested or overlapping repetition",
                file=rule.file, line=rule.line,
            ) from None
    if removed_outputs:  # after the rules: what they removed needs no repair
        gone = {
            (stack, f"Outputs.{name}"): f"output {name} of nested stack {stack} was removed: {reason}"
            for stack, outputs in removed_outputs.items()
            for name, reason in outputs.items()
        }
        for edit in plan_removal(log.model, {}, rule="nested-stack-outputs", removed_attributes=gone, warnings=warnings,
                                 graph=log.graph()):
            log.apply(edit)
    if removed_outputs is None:
        warnings.extend(unchecked_nested_outputs(log.model, log.graph))
    if object_keys and values.get("bucket"):  # last: the rules moved the references into the bucket first
        for edit in _published_keys(log, values["bucket"], object_keys, region):
            log.apply(edit)
    # with no edits the working model is the input's own object, and render returns the text as is
    text = render(template, log.model, log.substitutions(), list_alignment(template.model, log.edits),
                  string_changes=log.string_changes())
    return TransformResult(template, text, log.model, tuple(log.edits), once_per_problem(warnings), region)


#: the rule id of the edits that point references at the keys objects are published under (`object_keys`)
RELEASE_KEYS_RULE = "release-keys"


def _published_keys(log: EditLog, bucket: str, keys: Mapping[str, str], region: str) -> list[Edit]:
    """Edits pointing every reference to an object of `bucket` named in `keys` at its published key."""
    reason = (f"nested template published in {bucket} under its content's SHA-256, so that publishing again never "
              "changes an object a live root reads")
    edits = []
    for path, value in log.strings_containing(bucket):
        new = with_keys(value, bucket, keys, region=region)
        if new != value:
            edits.append(Edit(path, "replace", RELEASE_KEYS_RULE, reason, value=new))
    for path, mapping in log.mappings_with(*OBJECT_KEYS):
        for bucket_key, key_key in BUCKET_KEYS:
            key = mapping.get(key_key)
            if mapping.get(bucket_key) == bucket and isinstance(key, str) and keys.get(key, key) != key:
                edits.append(Edit((*path, key_key), "replace", RELEASE_KEYS_RULE, reason, value=keys[key]))
    return edits


def once_per_problem(findings: list[Finding]) -> tuple[Finding, ...]:
    """The findings, without a later one at the same place about the same thing (`Finding.about`).

    Why: two rules may see one problem from two sides (an unmapped asset bucket is both an
    asset the asset rule cannot move and a host the endpoint rule cannot move); the reader
    needs one warning per place and problem, the first rule's.
    """
    seen: set[tuple[object, str]] = set()
    kept = []
    for finding in findings:
        if finding.about is not None:
            key = (finding.path, finding.about)
            if key in seen:
                continue
            seen.add(key)
        kept.append(finding)
    return tuple(kept)


def transform_text(
    text: str,
    rules: RuleSet,
    *,
    region: str,
    variables: Mapping[str, str] | None = None,
    source: str = "<input>",
    limits: Limits | None = None,
) -> TransformResult:
    """Decode `text` (YAML or JSON) and transform it; see `transform`.

    The collector stays paused from the decode to the end of the transform: enabled in
    between, it would scan the whole decoded template once before the rules run.
    """
    with collector_paused():
        return transform(decode_text(text, source=source, limits=limits), rules, region=region, variables=variables)


def transform_file(
    path: str | Path,
    rules: RuleSet,
    *,
    region: str,
    variables: Mapping[str, str] | None = None,
    limits: Limits | None = None,
) -> TransformResult:
    """Read the template at `path` and transform it; see `transform` (the collector paused throughout, as `transform_text`)."""
    with collector_paused():
        return transform(read_template(path, limits=limits), rules, region=region, variables=variables)

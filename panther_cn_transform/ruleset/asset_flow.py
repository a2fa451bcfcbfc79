"""Asset buckets and regions that are set away from the asset: rewrite or warn where they are set.

Why: an asset property (a nested TemplateURL, a script's `source`, Lambda code) often reads
its bucket from a Parameter default, a Mapping, an Fn::If branch or a Sub variable
(`flow.expansions`).  Rewriting the asset string cannot reach those; warning at the asset
tells the reader nothing about what to change.  So, for each bucket that one string sets
exactly (a Parameter default `aws-quickstart`, a branch `!Sub aws-quickstart-${AWS::Region}`):

* a bucket the rule maps (`bucket_map`, or one of its `source_buckets` -> `target_bucket`)
  is rewritten *there*, and so is a Condition that compares the same Parameter with the old
  name (`UsingDefaultBucket: !Equals [!Ref QSS3BucketName, aws-quickstart]`), so the
  template keeps choosing the same branch;
* any other bucket is warned about *there*, naming every asset it feeds.

A Parameter default that sets the region of an asset URL to a global region is rewritten
to the target region when the rule says `region_defaults: true`, else warned about there.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..model.edits import Edit, JsonPath, to_pointer
from ..model.flow import Expansion, Piece, expansions, pieces_at, text_of
from ..model.walk import LastChildFirst, is_region, mentions

_PLACEHOLDER = r"\$\{[A-Za-z0-9:._-]+\}"
_BUCKET = rf"(?:[a-z0-9.-]|{_PLACEHOLDER})+?"
_REGION = rf"(?:[a-z0-9-]+|{_PLACEHOLDER})"
_HOST = rf"(?:amazonaws\.com(?:\.cn)?|{re.escape('${AWS::URLSuffix}')})"
#: asset locations in a spelled-out value; groups `bucket` and (where the URL has one) `region`
_LOCATIONS = (
    re.compile(rf"https?://(?P<bucket>{_BUCKET})\.s3(?:[.-](?P<region>{_REGION}))?\.{_HOST}/"),
    re.compile(rf"https?://s3(?:[.-](?P<region>{_REGION}))?\.{_HOST}/(?P<bucket>{_BUCKET})/"),
    re.compile(rf"s3://(?P<bucket>{_BUCKET})(?:/|$)"),
)
_BUCKET_KEYS = ("S3Bucket", "Bucket")


@dataclass
class FlowFindings:
    """What following the asset values found: edits to make and warnings, by the place that sets them."""

    edits: dict[JsonPath, Edit] = field(default_factory=dict)
    warnings: dict[JsonPath, tuple[str, list[str]]] = field(default_factory=dict)  # place -> (what, assets fed)
    followed: set[JsonPath] = field(default_factory=set)  # assets whose bucket was found where it is set

    def warn(self, place: JsonPath, what: str, asset: JsonPath) -> None:
        entry = self.warnings.setdefault(place, (what, []))
        if to_pointer(asset) not in entry[1]:
            entry[1].append(to_pointer(asset))

    def messages(self) -> list[tuple[JsonPath, str]]:
        """One message per place, naming the assets it feeds."""
        return [(place, f"{what}; it feeds {', '.join(assets)}") for place, (what, assets) in self.warnings.items()]


def follow_assets(
    model: Mapping[str, Any],
    assets: Iterable[tuple[JsonPath, Any, bool]],
    *,
    rule: str,
    mapped: Callable[[str], str | None],
    region: str,
    region_defaults: bool,
) -> FlowFindings:
    """Plan edits and warnings for the buckets and regions that `assets` read from elsewhere.

    **Parameters:**

    * **assets** - (path, value, is_bucket) of each asset value; `is_bucket` when the
      value is a bucket name (`S3Bucket` of a `{S3Bucket, S3Key}` object), else a location.
    * **mapped** - the China bucket for a global bucket name, or None when the rule does
      not map it.
    * **region** - the target region; **region_defaults** - rewrite global region defaults.
    """
    findings = FlowFindings()
    for asset_path, value, is_bucket in assets:
        if isinstance(value, dict) and not is_bucket:
            for key in _BUCKET_KEYS:  # {S3Bucket, S3Key} / {Bucket, Key}: follow the bucket
                if key in value and len(value) > 1:
                    value, is_bucket, asset_path = value[key], True, asset_path + (key,)
                    break
        if isinstance(value, str):
            continue  # a plain string is the asset rule's own business
        for expansion in expansions(model, value, asset_path):
            for bucket_span, region_span in _buckets_and_regions(text_of(expansion), is_bucket):
                _bucket(model, findings, expansion, bucket_span, asset_path, rule, mapped)
                if region_span is not None:
                    _region(model, findings, expansion, region_span, asset_path, rule, region, region_defaults)
    return findings


def _buckets_and_regions(text: str, is_bucket: bool) -> list[tuple[tuple[int, int], tuple[int, int] | None]]:
    if is_bucket:
        return [((0, len(text)), None)] if text else []
    found = []
    for pattern in _LOCATIONS:
        for match in pattern.finditer(text):
            region = match.span("region") if "region" in pattern.groupindex and match.group("region") else None
            found.append((match.span("bucket"), region))
    return found


def _single_setter(model: Mapping[str, Any], expansion: Expansion, start: int, end: int) -> tuple[Piece, str] | None:
    """The one string that sets exactly `[start, end)` (pseudo parameters inside it allowed)."""
    parts = list(pieces_at(expansion, start, end))
    origins = {piece.origin for piece, _, _ in parts if piece.kind != "pseudo"}
    if len(origins) != 1 or None in origins:
        return None
    setter = next(piece for piece, _, _ in parts if piece.kind != "pseudo")
    whole = _value_at(model, setter.origin or ())
    spelled = "".join(piece.text[a:b] for piece, a, b in parts)
    if not isinstance(whole, (str, int, float)) or str(whole) != spelled:
        return None  # the string sets more than this (a whole URL): the asset rule rewrites it
    return setter, spelled


def _bucket(model: Mapping[str, Any], findings: FlowFindings, expansion: Expansion, span: tuple[int, int],
            asset: JsonPath, rule: str, mapped: Callable[[str], str | None]) -> None:
    found = _single_setter(model, expansion, *span)
    if found is None:
        return
    setter, bucket = found
    findings.followed.add(asset)
    place = setter.origin or ()
    china = mapped(bucket)
    if china is not None:
        if china != bucket:
            reason = f"asset bucket {bucket} set here moved to the China bucket {china} (it feeds {to_pointer(asset)})"
            findings.edits[place] = Edit(place, "replace", rule, reason, value=china)
            if setter.kind == "default":
                for where in _conditions_comparing(model, str(place[1]), bucket):
                    findings.edits[where] = Edit(where, "replace", rule, f"condition keeps comparing {place[1]} with its default: {china}", value=china)
        return
    conditions = [to_pointer(c) for c in _conditions_comparing(model, str(place[1]), bucket)] if setter.kind == "default" else []
    also = f" ({', '.join(conditions)} compares it)" if conditions else ""
    findings.warn(place, f"{_describe(setter)} sets the asset bucket {bucket!r}, which the rules do not map{also}: "
                         f"copy the assets to a bucket in China and set it here", asset)


def _region(model: Mapping[str, Any], findings: FlowFindings, expansion: Expansion, span: tuple[int, int],
            asset: JsonPath, rule: str, region: str, region_defaults: bool) -> None:
    found = _single_setter(model, expansion, *span)
    if found is None:
        return
    setter, value = found
    if setter.kind != "default" or not is_region(value) or value.split("-")[0] == region.split("-")[0]:
        return
    place = setter.origin or ()
    if region_defaults:
        reason = f"asset bucket region {value} set here is {region} in China (it feeds {to_pointer(asset)})"
        findings.edits[place] = Edit(place, "replace", rule, reason, value=region)
    else:
        findings.warn(place, f"{_describe(setter)} sets the asset bucket's region {value!r}: set the region of your China bucket", asset)


def _conditions_comparing(model: Mapping[str, Any], parameter: str, literal: str) -> list[JsonPath]:
    """Paths of the literals that Conditions compare `!Ref parameter` with (`Fn::Equals`)."""
    found: list[JsonPath] = []
    conditions = model.get("Conditions")
    if not isinstance(conditions, dict):
        return found
    stack: list[tuple[JsonPath, Any]] = [(("Conditions", name), body) for name, body in conditions.items()]
    while stack:
        path, node = stack.pop()
        if isinstance(node, dict):
            arguments = node.get("Fn::Equals")
            if isinstance(arguments, list) and len(arguments) == 2 and {"Ref": parameter} in arguments:
                for index, side in enumerate(arguments):
                    if side == literal:
                        found.append(path + ("Fn::Equals", index))
            stack.extend((path + (key,), child) for key, child in node.items())
        elif isinstance(node, list):
            stack.extend((path + (index,), child) for index, child in enumerate(node))
    return sorted(found)


def _describe(setter: Piece) -> str:
    place = setter.origin or ()
    if setter.kind == "default":
        return f"the default of parameter {place[1]}"
    if setter.kind == "mapping":
        return f"mapping {'/'.join(str(p) for p in place[1:])}"
    return "this value"


def _value_at(model: Mapping[str, Any], path: JsonPath) -> Any:
    node: Any = model
    for part in path:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            return None
    return node


def asset_values(model: Mapping[str, Any], properties: set[tuple[str, ...]]) -> list[tuple[JsonPath, Any, bool]]:
    """The values to follow: every computed value of a resource that spells an S3 location.

    That is the rule's asset properties, `{S3Bucket, S3Key}`-style objects, and any other
    intrinsic (UserData, cfn-init sources and commands, lifecycle scripts) whose strings
    mention S3 (`s3://`, an S3 host); plain strings are the asset rule's own business.
    """
    found: list[tuple[JsonPath, Any, bool]] = []
    entries = model.get("Resources")
    if not isinstance(entries, dict):
        return found
    for logical_id, resource in entries.items():
        if not isinstance(resource, dict):
            continue
        kind = resource.get("Type") if isinstance(resource.get("Type"), str) else None
        for section in ("Properties", "Metadata"):
            stack: list[tuple[JsonPath, Any]] = [(("Resources", logical_id, section), resource.get(section))]
            while stack:
                path, node = stack.pop()
                if isinstance(node, dict) and len(node) == 1 and (next(iter(node)).startswith("Fn::") or "Ref" in node):
                    asset = section == "Properties" and len(path) == 4 and (kind, path[3]) in properties
                    if asset or mentions(node, "s3"):
                        found.append((path, node, False))
                elif isinstance(node, dict):
                    for key in _BUCKET_KEYS:
                        if key in node and not isinstance(node[key], str) and len(node) > 1:
                            found.append((path + (key,), node[key], True))
                    stack.extend((path + (key,), child) for key, child in node.items() if key not in _BUCKET_KEYS)
                elif isinstance(node, list):
                    stack.extend((path + (index,), child) for index, child in enumerate(node))
    return found


def indexed_asset_values(
    model: Mapping[str, Any], properties: set[tuple[str, ...]],
    s3_paths: Iterable[JsonPath], bucket_paths: Iterable[JsonPath],
) -> list[tuple[JsonPath, Any, bool]]:
    """`asset_values(model, properties)`, in the same order, from a model index instead of a walk.

    Every value `asset_values` finds is an asset property (by its resource's type), the
    outermost intrinsic above a string that mentions `s3`, or the bucket of a mapping
    with an `S3Bucket` or `Bucket` key.  Given the paths of those strings and mappings
    (`EditLog.strings_containing("s3")`, `EditLog.mappings_with(...)`), each candidate is
    checked along its own path, and the findings are put in the walk's order (resources
    in order, Properties before Metadata, then last child first, as its stack visits them).
    tests/model/test_model_index.py compares both on the corpus and on generated templates.
    """
    resources = model.get("Resources")
    if not isinstance(resources, dict):
        return []
    found: dict[tuple[JsonPath, bool], Any] = {}
    for path in s3_paths:
        reached = _reach(resources, path)
        if reached is not None and reached[2]:
            found[(reached[0], False)] = reached[1]
    for logical_id, resource in resources.items():
        kind = resource.get("Type") if isinstance(resource, dict) else None
        if not isinstance(kind, str) or not isinstance(resource.get("Properties"), dict):
            continue
        for name in resource["Properties"]:
            if (kind, name) not in properties:
                continue
            reached = _reach(resources, ("Resources", logical_id, "Properties", name))
            if reached is not None and reached[2] and (len(reached[0]) == 4 or mentions(reached[1], "s3")):
                found[(reached[0], False)] = reached[1]
    for path in bucket_paths:
        reached = _reach(resources, path)
        if reached is None or reached[2] or not isinstance(reached[1], dict):
            continue
        node = reached[1]
        for key in _BUCKET_KEYS:
            if key in node and not isinstance(node[key], str) and len(node) > 1:
                found[(path + (key,), True)] = node[key]
    order: dict[Any, int] = {logical_id: index for index, logical_id in enumerate(resources)}
    walk = LastChildFirst()
    ranked = sorted(found, key=lambda item: _walk_rank(resources, order, walk, *item))
    return [(path, found[(path, is_bucket)], is_bucket) for path, is_bucket in ranked]


def _reach(resources: Mapping[str, Any], path: JsonPath) -> tuple[JsonPath, Any, bool] | None:
    """Follow `path` the way `asset_values` walks: (where it stops, the value there, stopped at an intrinsic).

    None when the walk never gets there: not under a resource's Properties or Metadata,
    missing, or through a bucket key (whose value is followed as a bucket, not walked).
    """
    if len(path) < 3 or path[0] != "Resources" or path[2] not in ("Properties", "Metadata"):
        return None
    resource = resources.get(str(path[1]))
    if not isinstance(resource, dict):
        return None
    node: Any = resource.get(path[2])
    for depth in range(3, len(path) + 1):
        if isinstance(node, dict) and len(node) == 1 and (next(iter(node)).startswith("Fn::") or "Ref" in node):
            return path[:depth], node, True
        if depth == len(path):
            return path, node, False
        part = path[depth]
        walked = (part not in _BUCKET_KEYS and part in node) if isinstance(node, dict) else (
            isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node))
        if not walked:
            return None
        node = node[part]
    return None  # pragma: no cover - the loop returns at the last depth


def _walk_rank(resources: Mapping[str, Any], order: Mapping[Any, int], walk: LastChildFirst, path: JsonPath, is_bucket: bool) -> tuple[float, ...]:
    """Where `asset_values` finds a value: resource, section, then last child first at every level."""
    steps = path[3:-1] if is_bucket else path[3:]
    rank: list[float] = [order[path[1]], 0 if path[2] == "Properties" else 1]
    rank += walk.rank(resources[str(path[1])][path[2]], steps)
    if is_bucket:  # found when its mapping is visited, before anything inside it; in _BUCKET_KEYS order
        rank += [float("-inf"), _BUCKET_KEYS.index(str(path[-1]))]
    return tuple(rank)

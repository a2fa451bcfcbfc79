"""The objects a template reads from a bucket, through the intrinsics that spell their locations.

Why: a release's templates do not always write their nested templates and assets as literal
URLs.  A `TemplateURL` may be an `Fn::Join` of a host and a key, a `!Sub` of a bucket
parameter's default, an `!If` between two children, a `!FindInMap`; a Lambda's `S3Key` a
`!Join`; an `AWS::Include` reads a snippet.  The asset rules repoint every one of them to the
China bucket (`ruleset/asset_flow.py` rewrites a bucket where it is set), so release mode must
copy every object any of them can name, or the China release reads objects that are not
there.  Each location is expanded with the one resolver the project has
(`partitions/nested_locations.py` over `model/flow.py`: Parameter defaults, Mappings, every
branch of `Fn::If`, `Fn::Sub` with its variable map, `Fn::Join`), and each spelling is
classified:

* in `bucket` with a key that is known: an object to copy (`Located`);
* a location that cannot be reduced to keys of `bucket` (a bucket or key from a parameter
  without a default, a `Fn::GetAtt`, an `Fn::ImportValue`, a key that depends on the region,
  more spellings than the expansion follows): `Unresolved` (discovery stops the run there);
* a nested template read from anywhere else (another bucket, another host, a relative path),
  or an asset property's object in another bucket: `Foreign` (a blocker at its place: the
  release neither copies nor ports it).

An asset is a value the asset rules treat as one: a string with an S3 URL or URI, an
`{S3Bucket, S3Key}` / `{Bucket, Key}` object, or an intrinsic in an asset property (the rules'
`asset_properties`).  An asset location whose bucket is not `bucket` is not ours to copy
(the asset rule warns about it, and `report/blockers.py` blocks a global one); one whose
bucket cannot be told is followed only in an asset property, where it is `Unresolved`.

Pure: the model in, the locations out; discovery (on the source, for the source bucket) and
each transform's outcome (on the output, for the China bucket) ask the same question, so
that reachability compares like with like.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import dataclass
from typing import Any

from ..model.flow import expansions, text_of
from ..model.paths import JsonPath
from ..model.walk import mentions
from ..partitions.nested_locations import NestedLocation, nested_locations
from ..partitions.s3urls import BUCKET_KEYS, find_references, forms
from ..ruleset.rule_files import RuleSet

#: spellings followed per location; a location with more is Unresolved, never partly followed
MAX_SPELLINGS = 256
_INTRINSIC_PREFIX = "Fn::"


@dataclass(frozen=True)
class Located:
    """An object of the bucket that `path` may name."""

    path: JsonPath  # the property (or string) that names it
    key: str
    is_template: bool  # a nested stack's template (read, transformed and followed in turn)
    logical_id: str | None = None  # the nesting resource of a template
    include: bool = False  # the snippet of an AWS::Include (copied as it is)


@dataclass(frozen=True)
class Unresolved:
    """A location that cannot be reduced to a finite set of keys of the bucket."""

    path: JsonPath
    text: str  # the spelling that could not be resolved
    why: str


@dataclass(frozen=True)
class Foreign:
    """A nested template, or an asset of an asset property, read from outside the bucket."""

    path: JsonPath
    text: str
    is_template: bool = True


@dataclass
class Locations:
    """What `object_locations` found, each list in document order of the properties."""

    located: list[Located]
    unresolved: list[Unresolved]
    foreign: list[Foreign]


def object_locations(model: Any, bucket: str, region: str, asset_properties: Collection[tuple[str, str]] = ()) -> Locations:
    """Every object of `bucket` that `model` may read, and the locations that cannot be told or lie elsewhere.

    `region` stands for `${AWS::Region}` in a bucket name (`panther-enterprise-${AWS::Region}`);
    `asset_properties` are the rules' (Type, Property) pairs that hold assets.
    """
    found = Locations([], [], [])
    seen: set[tuple[JsonPath, str, bool]] = set()

    def locate(path: JsonPath, key: str, is_template: bool, logical_id: str | None = None, include: bool = False) -> None:
        if (path, key, is_template) not in seen:
            seen.add((path, key, is_template))
            found.located.append(Located(path, key, is_template, logical_id, include))

    nesting = _templates(model, bucket, region, found, locate)
    for reference in find_references(model):  # literal URLs, URIs and objects (also inside intrinsics)
        name = reference.bucket.replace("${AWS::Region}", region)
        if (reference.form != "arn" and name == bucket and reference.key and "${" not in reference.key
                and not any(reference.path[:n] in nesting for n in range(1, len(reference.path) + 1))):
            locate(reference.path, reference.key, False)
        elif (reference.form != "arn" and name != bucket and "${" not in name and reference.key
              and _asset_place(model, reference.path, asset_properties)
              and not any(str(part).startswith(_INTRINSIC_PREFIX) for part in reference.path)):  # else the flow's
            found.foreign.append(Foreign(reference.path, f"s3://{name}/{reference.key}", is_template=False))
    for path, value in _intrinsic_locations(model, asset_properties, nesting):
        in_asset_property = _in_asset_property(model, path, asset_properties)
        spellings = _spellings(model, value, path)
        if spellings is None:
            found.unresolved.append(Unresolved(path, _short(value), f"more than {MAX_SPELLINGS} possible values"))
            continue
        names_bucket = mentions(value, bucket)
        for text, unknown in spellings:
            references = [(m.group("bucket"), m.group("key").lstrip("/"))
                          for name, pattern in forms().items() if name != "arn" for m in pattern.finditer(text)]
            ours = False
            for name, key in references:
                name = name.replace("${AWS::Region}", region)
                if name == bucket:
                    ours = True
                    _key(path, text, key, found, locate)
                elif "${" in name and in_asset_property:
                    found.unresolved.append(Unresolved(path, text, f"its bucket {name!r} is not known before deployment"))
                elif "${" not in name and _asset_place(model, path, asset_properties):
                    found.foreign.append(Foreign(path, text, is_template=False))
            if unknown and not ours and (in_asset_property and not references or names_bucket):
                found.unresolved.append(Unresolved(path, text, "its intrinsics cannot be followed to an object"))
    for path, bucket_value, key_value in _bucket_objects(model):
        joined = {"Fn::Join": ["\n", [bucket_value, key_value]]}  # one expansion: Fn::If branches taken consistently
        spellings = _spellings(model, joined, path)
        if spellings is None:
            found.unresolved.append(Unresolved(path, _short(bucket_value), f"more than {MAX_SPELLINGS} possible values"))
            continue
        for text, _unknown in spellings:
            name, _, key = text.partition("\n")
            name = name.replace("${AWS::Region}", region)
            if name == bucket:
                _key(path, f"s3://{name}/{key}", key, found, locate)
            elif "${" in name and _in_asset_property(model, path[:4], asset_properties):
                found.unresolved.append(Unresolved(path, f"s3://{name}/{key}", f"its bucket {name!r} is not known before deployment"))
            elif name and "${" not in name and _asset_place(model, path, asset_properties):
                found.foreign.append(Foreign(path, f"s3://{name}/{key}", is_template=False))
    return found


def asset_properties(rules: RuleSet) -> set[tuple[str, str]]:
    """The (Type, Property) pairs the rules' asset rules (`rewrite_s3_assets`) say hold assets."""
    found: set[tuple[str, str]] = set()
    for rule in rules.rules:
        if rule.action == "rewrite_s3_assets":
            for name in rule.params.get("asset_properties") or ():
                kind, _, prop = str(name).partition(".")
                found.add((kind, prop))
    return found


def _templates(model: Any, bucket: str, region: str, found: Locations, locate: Any) -> set[JsonPath]:
    """Nested templates and included snippets (`nested_locations`); returns the properties they are at."""
    by_path: dict[JsonPath, list[NestedLocation]] = {}
    for location in nested_locations(model, limit=MAX_SPELLINGS + 1):
        by_path.setdefault(location.path, []).append(location)
    for path, spellings in by_path.items():
        if len(spellings) > MAX_SPELLINGS:
            found.unresolved.append(Unresolved(path, spellings[0].text, f"more than {MAX_SPELLINGS} possible values"))
            continue
        for location in spellings:
            include = location.logical_id is None
            name = (location.bucket or "").replace("${AWS::Region}", region)
            if location.form == "s3" and name == bucket:
                if "${" in location.key or not location.key or location.key.endswith("/"):
                    found.unresolved.append(Unresolved(path, location.text, _why_key(location.key)))
                else:
                    locate(path, location.key, not include, location.logical_id, include)
            elif "${" in name or (location.form == "other" and "${" in location.text):
                found.unresolved.append(Unresolved(path, location.text, "its bucket or host is not known before deployment"))
            else:
                found.foreign.append(Foreign(path, location.text))
    return set(by_path)


def _key(path: JsonPath, text: str, key: str, found: Locations, locate: Any) -> None:
    if "${" in key or not key or key.endswith("/"):
        found.unresolved.append(Unresolved(path, text, _why_key(key)))
    else:
        locate(path, key, False)


def _why_key(key: str) -> str:
    if not key or key.endswith("/"):
        return "it names no object of the bucket"
    return f"its key {key!r} is not known before deployment (a parameter without a default, an attribute, an import, a pseudo parameter)"


def _spellings(model: Any, value: Any, path: JsonPath) -> list[tuple[str, bool]] | None:
    """The distinct texts `value` may take, each with whether a piece of it is unknown (a GetAtt, a parameter
    without a default), or None when there are more than the expansion follows."""
    found = expansions(model, value, path, limit=MAX_SPELLINGS + 1)
    if len(found) > MAX_SPELLINGS:
        return None
    spelled: dict[str, bool] = {}
    for expansion in found:
        text = text_of(expansion)
        spelled[text] = spelled.get(text, False) or any(piece.kind == "unknown" for piece in expansion)
    return list(spelled.items())


def _intrinsic_locations(model: Any, asset_properties: Collection[tuple[str, str]], skip: set[JsonPath]) -> Iterator[tuple[JsonPath, Any]]:
    """The outermost intrinsics that spell an S3 location: over a string that mentions `s3`, or in an asset property.

    A literal string is left to `literal_locations`; the nested-template properties to `_templates`;
    the values of `{S3Bucket, S3Key}` objects to `_bucket_objects`.
    """
    stack: list[tuple[JsonPath, Any]] = [((), model)]
    while stack:
        path, node = stack.pop()
        if path in skip:
            continue
        if _is_intrinsic(node):
            if _in_asset_property(model, path, asset_properties) or mentions(node, "s3"):
                yield path, node
        elif isinstance(node, dict):
            pairs = [pair for pair in BUCKET_KEYS if pair[0] in node and pair[1] in node]
            held = {name for pair in pairs for name in pair}
            stack.extend(reversed([(path + (k,), v) for k, v in node.items() if k not in held]))
        elif isinstance(node, list):
            stack.extend(reversed([(path + (i,), v) for i, v in enumerate(node)]))


def _bucket_objects(model: Any) -> Iterator[tuple[JsonPath, Any, Any]]:
    """(path of the bucket, bucket value, key value) of each `{S3Bucket, S3Key}` / `{Bucket, Key}` built with intrinsics."""
    stack: list[tuple[JsonPath, Any]] = [((), model)]
    while stack:
        path, node = stack.pop()
        if isinstance(node, dict):
            for bucket_key, key_key in BUCKET_KEYS:
                if bucket_key in node and key_key in node and not (isinstance(node[bucket_key], str) and isinstance(node[key_key], str)):
                    yield path + (bucket_key,), node[bucket_key], node[key_key]
            stack.extend(reversed([(path + (k,), v) for k, v in node.items()]))
        elif isinstance(node, list):
            stack.extend(reversed([(path + (i,), v) for i, v in enumerate(node)]))


def _is_intrinsic(node: Any) -> bool:
    """A function that computes a value (`Fn::Transform` is a macro: its Location is a nested location, walked into)."""
    if not isinstance(node, dict) or len(node) != 1:
        return False
    name = str(next(iter(node)))
    return name == "Ref" or (name.startswith(_INTRINSIC_PREFIX) and name != "Fn::Transform")


def _asset_place(model: Any, path: JsonPath, asset_properties: Collection[tuple[str, str]]) -> bool:
    """Whether `path` is in an asset property (the property or a value inside it), not in inline code."""
    return _in_asset_property(model, path[:4], asset_properties) and not {"ZipFile", "InlineCode"} & set(path[4:])


def _in_asset_property(model: Any, path: JsonPath, asset_properties: Collection[tuple[str, str]]) -> bool:
    if len(path) != 4 or path[0] != "Resources" or path[2] != "Properties":
        return False
    resource = model.get("Resources", {}).get(path[1]) if isinstance(model.get("Resources"), dict) else None
    return isinstance(resource, dict) and (resource.get("Type"), path[3]) in asset_properties


def _short(value: Any, limit: int = 80) -> str:
    text = str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"

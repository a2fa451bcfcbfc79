"""S3 object references in every form CloudFormation templates use (DESIGN.md section 3).

One table of patterns, shared by the `rewrite_s3_assets` action (which rewrites them)
and release mode (which follows them to the objects a release needs).  Hosts may end in
any partition's DNS suffix botocore knows (`amazonaws.com`, `amazonaws.com.cn` ...) or in
`${AWS::URLSuffix}`.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from ..model.paths import JsonPath
from ..model.walk import LastChildFirst
from .endpoint_data import dns_suffixes

_BUCKET = r"(?:[a-z0-9.-]|\$\{[A-Za-z0-9:._-]+\})+?"
_REGION = r"(?:[a-z0-9-]+|\$\{AWS::Region\})"
_KEY = r"[^\s\"'<>]*"


@functools.cache
def forms() -> Mapping[str, re.Pattern[str]]:
    """name -> pattern; each has the groups `bucket` and `key` (key starts with `/` or is empty)."""
    host = "(?:" + "|".join(re.escape(s) for s in dns_suffixes()) + r"|\$\{AWS::URLSuffix\})"
    return {
        # https://B.s3[.R|-R].<dns suffix>/K
        "virtual-hosted": re.compile(rf"https?://(?P<bucket>{_BUCKET})\.s3(?:[.-](?P<region>{_REGION}))?\.{host}(?P<key>/{_KEY}|$)"),
        # https://s3[.R|-R].<dns suffix>/B/K
        "path-style": re.compile(rf"https?://s3(?:[.-](?P<region>{_REGION}))?\.{host}/(?P<bucket>{_BUCKET})(?P<key>/{_KEY}|$)"),
        # s3://B/K
        "s3-uri": re.compile(rf"s3://(?P<bucket>{_BUCKET})(?P<key>/{_KEY}|$)"),
        # arn:<partition>:s3:::B[/K]
        "arn": re.compile(rf"arn:(?P<partition>aws(?:-[a-z]+)*):s3:::(?P<bucket>{_BUCKET})(?P<key>/{_KEY}|$|(?=[\s\"',]))"),
    }

#: key pairs of object-form references: {S3Bucket, S3Key} (Lambda) and {Bucket, Key} (SAM, Step Functions)
BUCKET_KEYS = (("S3Bucket", "S3Key"), ("Bucket", "Key"))


@dataclass(frozen=True)
class S3Reference:
    """One reference to an S3 object found in a template model."""

    path: JsonPath
    bucket: str
    key: str
    form: str


def find_references(model: Any) -> Iterator[S3Reference]:
    """Every S3 object reference in the model: URL strings, s3:// URIs, ARNs and objects.

    The bucket may contain `${AWS::Region}` (inside an `Fn::Sub`); keys lose their
    leading `/`.
    """
    stack: list[tuple[JsonPath, Any]] = [((), model)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, str):
            if "s3" in value:
                for form, pattern in forms().items():
                    for match in pattern.finditer(value):
                        yield S3Reference(path, match.group("bucket"), match.group("key").lstrip("/"), form)
        elif isinstance(value, dict):
            yield from _object_references(path, value)
            stack.extend((path + (k,), v) for k, v in value.items())
        elif isinstance(value, list):
            stack.extend((path + (i,), v) for i, v in enumerate(value))


def object_references(model: Any, mappings: Iterable[tuple[JsonPath, dict[str, Any]]]) -> list[S3Reference]:
    """The object-form references (`{S3Bucket, S3Key}`, `{Bucket, Key}`) among the mappings of `model`.

    For a caller that has the mappings already (`EditLog.mappings_with(*OBJECT_KEYS)`).
    In the order `find_references` gives them (its walk visits the last child first), so
    that findings come in the same order either way.
    """
    found = [(path, list(_object_references(path, mapping))) for path, mapping in mappings]
    order = LastChildFirst()  # the order of find_references' walk
    found.sort(key=lambda item: order.rank(model, item[0]))
    return [reference for _, references in found for reference in references]


#: the keys that make a mapping an object-form reference
OBJECT_KEYS = tuple(bucket_key for bucket_key, _ in BUCKET_KEYS)


def _object_references(path: JsonPath, value: dict[str, Any]) -> Iterator[S3Reference]:
    for bucket_key, key_key in BUCKET_KEYS:
        bucket, key = value.get(bucket_key), value.get(key_key)
        if bucket_key in value and key_key in value:
            if isinstance(bucket, dict) and list(bucket) == ["Fn::Sub"] and isinstance(bucket["Fn::Sub"], str):
                bucket = bucket["Fn::Sub"]
            if isinstance(bucket, str):  # a key built with intrinsics is reported as ""
                yield S3Reference(path + (bucket_key,), bucket, key if isinstance(key, str) else "", "object")


def bucket_properties(model: Any) -> list[tuple[JsonPath, Any]]:
    """`(path, value)` of each resource property whose key names an existing bucket (`S3Bucket`, `Bucket`,
    `S3BucketName`, `TargetBucket` ...), a literal or a `!Ref` of a parameter; a bucket resource's own
    `BucketName` creates the bucket and is left out."""
    found: list[tuple[JsonPath, Any]] = []
    resources = model.get("Resources")
    for logical_id, resource in resources.items() if isinstance(resources, dict) else ():
        if not isinstance(resource, dict):
            continue
        creates = str(resource.get("Type", "")).endswith("Bucket")
        stack: list[tuple[JsonPath, Any]] = [(("Resources", logical_id, "Properties"), resource.get("Properties"))]
        while stack:
            path, node = stack.pop()
            if isinstance(node, dict):
                for key, value in node.items():
                    if not (isinstance(key, str) and key.endswith(("Bucket", "BucketName"))):
                        stack.append((path + (key,), value))
                    elif creates and len(path) == 3 and key == "BucketName":
                        continue
                    elif isinstance(value, str) or (isinstance(value, dict) and list(value) == ["Ref"] and isinstance(value["Ref"], str)):
                        found.append((path + (key,), value))
            elif isinstance(node, list):
                stack.extend((path + (i,), v) for i, v in enumerate(node))
    return found


def with_keys(value: str, bucket: str, keys: Mapping[str, str], *, region: str = "") -> str:
    """`value` with each reference to an object of `bucket` whose key is in `keys` pointed at `keys[key]`.

    Why: release mode publishes a nested template under a key derived from its content, not
    under its source key (docs/release.md, "Keys"), so the parent's `TemplateURL` must name
    that key.  URL and `s3://` forms only (an ARN grants access, it does not read a
    template); a bucket spelled with `${AWS::Region}` matches when `region` makes it `bucket`.
    """
    def moved(match: re.Match[str]) -> str:
        name = match.group("bucket").replace("${AWS::Region}", region) if region else match.group("bucket")
        key = match.group("key")
        new = keys.get(key.lstrip("/")) if name == bucket and key.startswith("/") else None
        if new is None:
            return match.group(0)
        start, end = match.span("key")
        whole = match.group(0)
        return whole[: start - match.start()] + "/" + new + whole[end - match.start():]

    for name, pattern in forms().items():
        if name != "arn" and bucket in value:
            value = pattern.sub(moved, value)
    return value

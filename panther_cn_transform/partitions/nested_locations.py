"""Where a template's nested templates are read from, through the intrinsics that build the location.

Why: a parent names a child template by a location that is often computed, not written.
Quick Starts build `TemplateURL` with `Fn::Sub` from `QSS3BucketName`, `QSS3KeyPrefix` and
a bucket-region parameter, inside `Fn::If`; `aws cloudformation package` layouts write a
path relative to the parent (`./network.yaml`); others write a literal S3 URL.  Project
mode (and release mode's discovery) must find the child among the files it was given and
know which bucket the parent reads it from, so that the child is transformed first and the
location can be pointed at the user's bucket.  The value is expanded with `model/flow.py`
(Parameter defaults, Mappings, both branches of `Fn::If`, `Fn::Sub` variable maps,
`Fn::Join`) and each spelling classified by the S3 reference forms of `s3urls.py`.

What a template may nest: `AWS::CloudFormation::Stack.TemplateURL`,
`AWS::Serverless::Application.Location` (a string; the `{ApplicationId, ...}` form names
an application of the Serverless Application Repository, not a file) and the
`Location` of an `AWS::Include` transform.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

from ..model.flow import expansions, text_of
from ..model.paths import JsonPath
from .s3urls import forms

NESTING_PROPERTIES = {
    "AWS::CloudFormation::Stack": "TemplateURL",
    "AWS::Serverless::Application": "Location",
}
LocationForm = Literal["s3", "relative", "other"]
#: an https URL whose host has `s3` as a label, placeholders allowed anywhere in the host
_LOOSE_S3_URL = re.compile(r"https?://(?P<host>(?:[a-z0-9-]+|\$\{[A-Za-z0-9:._-]+\})(?:[.-](?:[a-z0-9-]+|\$\{[A-Za-z0-9:._-]+\}))*)/(?P<rest>.*)")


@dataclass(frozen=True)
class NestedLocation:
    """One spelling of where a parent reads a nested template from."""

    path: JsonPath  # the property that names the location
    logical_id: str | None  # the nesting resource (None for an AWS::Include)
    text: str  # the spelling, placeholders written `${Name}`
    form: LocationForm
    bucket: str | None  # for the S3 form: the bucket (may hold `${AWS::Region}`)
    key: str  # the object key (S3 form), the relative path, or the whole text


def nested_locations(model: Any, *, limit: int = 32) -> list[NestedLocation]:
    """Every spelling of every nested-template location in `model`, in document order of the properties.

    At most `limit` expansions of each property are followed (`model/flow.py`); a caller that
    must not miss one asks for more than it accepts and refuses a property that reaches the limit.
    """
    found: list[NestedLocation] = []
    for path, logical_id, value in _nesting_values(model):
        spellings = dict.fromkeys(text_of(expansion) for expansion in expansions(model, value, path, limit=limit))
        for text in spellings:
            found.append(classify(path, logical_id, text))
    return found


def classify(path: JsonPath, logical_id: str | None, text: str) -> NestedLocation:
    """An S3 URL or URI (its bucket and key), a relative path (a `package` layout), or another location."""
    for name, pattern in forms().items():
        if name == "arn":
            continue
        match = pattern.fullmatch(text.strip())
        if match:
            return NestedLocation(path, logical_id, text, "s3", match.group("bucket"), match.group("key").lstrip("/"))
    stripped = text.strip()
    loose = _LOOSE_S3_URL.fullmatch(stripped)  # a host with a placeholder where the forms want a region
    if loose:
        host, rest = loose.group("host"), loose.group("rest")
        if host.startswith(("s3.", "s3-")) and "/" in rest:
            bucket, key = rest.split("/", 1)
            return NestedLocation(path, logical_id, text, "s3", bucket, key)
        bucket_part, _, _ = host.partition(".s3")
        if bucket_part and bucket_part != host:
            return NestedLocation(path, logical_id, text, "s3", bucket_part, rest)
    if stripped and "://" not in stripped and not stripped.startswith(("/", "${")) and "${" not in stripped:
        return NestedLocation(path, logical_id, text, "relative", None, stripped)
    return NestedLocation(path, logical_id, text, "other", None, stripped)


def _nesting_values(model: Any) -> Iterator[tuple[JsonPath, str | None, Any]]:
    """(path, nesting resource, value) of each nested-template location property."""
    resources = model.get("Resources") if isinstance(model, dict) else None
    if isinstance(resources, dict):
        for logical_id, resource in resources.items():
            if not isinstance(resource, dict):
                continue
            prop = NESTING_PROPERTIES.get(str(resource.get("Type")))
            properties = resource.get("Properties")
            if prop and isinstance(properties, dict) and prop in properties:
                value = properties[prop]
                if isinstance(value, dict) and "ApplicationId" in value:
                    continue  # an application of the Serverless Application Repository
                yield ("Resources", logical_id, "Properties", prop), str(logical_id), value
    yield from _includes(model, ())


def _includes(value: Any, path: JsonPath) -> Iterator[tuple[JsonPath, str | None, Any]]:
    """The `Location` of every `Fn::Transform: {Name: AWS::Include, Parameters: {Location: ...}}`."""
    stack: list[tuple[JsonPath, Any]] = [(path, value)]
    while stack:
        where, item = stack.pop()
        if isinstance(item, dict):
            transform = item.get("Fn::Transform")
            if isinstance(transform, dict) and transform.get("Name") == "AWS::Include":
                parameters = transform.get("Parameters")
                if isinstance(parameters, dict) and "Location" in parameters:
                    yield (*where, "Fn::Transform", "Parameters", "Location"), None, parameters["Location"]
            stack.extend(reversed([((*where, k), v) for k, v in item.items()]))
        elif isinstance(item, list):
            stack.extend(reversed([((*where, i), v) for i, v in enumerate(item)]))

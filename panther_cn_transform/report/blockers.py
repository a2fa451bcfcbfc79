"""What in a transformed template would stop a deployment in the target region.

A warning says "look at this"; a blocker says "this stack will not create".  Three kinds
are found in the output model (new cfn-lint errors, the fourth, come from `verify.py`):

* `runtime`: a Lambda runtime AWS no longer lets anyone create functions with (`go1.x`,
  `python3.7`); dates from cfn-lint's `LmbdRuntimeLifecycle.json`, kept current by AWS;
* `foreign-region`: an ARN, host or region value naming a region outside the target's
  partition, i.e. a resource that cannot be reached from China;
* `global-bucket`: an asset still read from a bucket of the global partition.

Pure: the model, the target region and bucket, and the date to judge runtimes by.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Any

from ..model.edits import JsonPath, to_pointer
from ..model.walk import REGION_PATTERN, iter_strings, semantic_path
from ..partitions.bucket_names import region_of_bucket_name
from ..partitions.endpoint_data import partition_for
from ..partitions.region_data import cfn_lint_schemas
from ..partitions.s3urls import find_references

_FUNCTION_TYPES = ("AWS::Lambda::Function", "AWS::Serverless::Function")
_ARN_REGION = re.compile(rf"arn:aws[a-z-]*:[a-z0-9-]+:(?P<region>{REGION_PATTERN}):")
_HOST_REGION = re.compile(rf"[a-z0-9-]+[.-](?P<region>{REGION_PATTERN})\.amazonaws\.com(?P<cn>\.cn)?")
_REGION_VALUE = re.compile(f"^{REGION_PATTERN}$")
_GLOBAL_HOST = re.compile(r"\.amazonaws\.com(?!\.cn)(?:/|$)")
#: where text describes rather than configures
_PROSE_KEYS = frozenset({"Description", "Metadata", "Mappings", "AWSTemplateFormatVersion"})


@dataclass(frozen=True)
class Blocker:
    """One thing that stops the deployment: its kind, where it is, and what to do."""

    kind: str
    path: JsonPath
    message: str

    def to_json(self) -> dict[str, str]:
        return {"kind": self.kind, "path": to_pointer(self.path), "message": self.message}


@cache
def runtime_lifecycle() -> dict[str, dict[str, Any]]:
    """cfn-lint's Lambda runtime lifecycle data: runtime -> deprecated / create-block / successor."""
    path = cfn_lint_schemas().parent / "AdditionalSpecs" / "LmbdRuntimeLifecycle.json"
    data: dict[str, dict[str, Any]] = json.loads(path.read_text("utf-8"))
    return data


def find_blockers(model: Any, *, region: str, bucket: str | None, today: date) -> list[Blocker]:
    """Every blocker of the transformed template `model` for `region` (see the module docstring)."""
    found = _runtimes(model, today)
    found += _foreign_regions(model, region)
    found += _global_buckets(model, bucket)
    return sorted(set(found), key=lambda b: (b.kind, to_pointer(b.path), b.message))


def _runtimes(model: Any, today: date) -> list[Blocker]:
    places: list[tuple[JsonPath, Any]] = []
    globals_function = (model.get("Globals") or {}).get("Function") if isinstance(model.get("Globals"), dict) else None
    if isinstance(globals_function, dict):
        places.append((("Globals", "Function", "Runtime"), globals_function.get("Runtime")))
    for logical_id, resource in (model.get("Resources") or {}).items():
        if isinstance(resource, dict) and resource.get("Type") in _FUNCTION_TYPES:
            properties = resource.get("Properties")
            if isinstance(properties, dict):
                places.append((("Resources", logical_id, "Properties", "Runtime"), properties.get("Runtime")))
    found = []
    lifecycle = runtime_lifecycle()
    for path, runtime in places:
        dates = lifecycle.get(runtime) if isinstance(runtime, str) else None
        blocked = dates.get("create-block") if dates else None
        if dates and blocked and date.fromisoformat(blocked) <= today:
            successor = dates.get("successor")
            instead = f"; move to {successor}" if successor else ""
            found.append(Blocker("runtime", path, f"runtime {runtime} can no longer be created (blocked since {blocked}){instead}"))
    return found


def _foreign_regions(model: Any, region: str) -> list[Blocker]:
    partition = partition_for(region)
    found = []
    for path, value in iter_strings(model):
        if any(part in _PROSE_KEYS for part in semantic_path(path) if isinstance(part, str)) or path[:1] == ("Parameters",):
            continue
        named = {m.group("region") for m in _ARN_REGION.finditer(value)}
        named |= {m.group("region") for m in _HOST_REGION.finditer(value)}
        if _REGION_VALUE.match(value):
            named.add(value)
        for other in sorted(named):
            if partition_for(other) != partition:
                found.append(Blocker("foreign-region", path, f"{value!r} names {other}, outside {partition}: provide this resource in {region}"))
    return found


def _global_buckets(model: Any, bucket: str | None) -> list[Blocker]:
    found = []
    for reference in find_references(model):
        if reference.form == "arn" or not reference.key or reference.bucket == bucket:
            continue
        value = _string_at(model, reference.path)
        bucket_region = region_of_bucket_name(reference.bucket)
        global_name = bucket_region is not None and partition_for(bucket_region) == "aws"
        global_host = reference.form in ("virtual-hosted", "path-style") and bool(_GLOBAL_HOST.search(value or ""))
        if global_name or global_host:
            found.append(Blocker(
                "global-bucket", reference.path,
                f"asset s3://{reference.bucket}/{reference.key} is still read from a global bucket: copy it to the China bucket",
            ))
    return found


def _string_at(model: Any, path: JsonPath) -> str | None:
    value = model
    for part in path:
        try:
            value = value[part]
        except (KeyError, IndexError, TypeError):
            return None
    return value if isinstance(value, str) else None

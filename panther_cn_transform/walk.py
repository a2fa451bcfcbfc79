"""Traversals of the long-form model that every action shares."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from .paths import JsonPath


def iter_strings(value: Any, path: JsonPath = ()) -> Iterator[tuple[JsonPath, str]]:
    """Every string value (not mapping keys) with its path, in document order."""
    stack: list[tuple[JsonPath, Any]] = [(path, value)]
    while stack:
        here, item = stack.pop()
        if isinstance(item, str):
            yield here, item
        elif isinstance(item, dict):
            stack.extend(reversed([(here + (key,), child) for key, child in item.items()]))
        elif isinstance(item, list):
            stack.extend(reversed([(here + (index,), child) for index, child in enumerate(item)]))


def is_sub_template(path: JsonPath) -> bool:
    """True when the string at `path` is the template string of an `Fn::Sub`."""
    return bool(path) and (path[-1] == "Fn::Sub" or (len(path) > 1 and path[-2] == "Fn::Sub" and path[-1] == 0))


#: Intrinsics whose arguments are logical names or keys, never free text to rewrite.
NAME_ARGUMENTS = frozenset({"Ref", "Fn::GetAtt", "Condition", "Fn::FindInMap"})


def under_name_argument(path: JsonPath) -> bool:
    """True when the path goes through an intrinsic whose arguments are names (Ref, GetAtt...)."""
    return any(part in NAME_ARGUMENTS for part in path if isinstance(part, str))


#: An AWS region name (`us-west-1`, `cn-northwest-1`, `us-gov-east-1`, `us-isob-east-1`), as a regex fragment.
REGION_PATTERN = r"[a-z]{2}(?:-gov|-iso[a-z]?)?-[a-z]+-\d"
_REGION = re.compile(f"^{REGION_PATTERN}$")


def is_region(text: str) -> bool:
    """True when `text` is a region name such as `us-west-1`."""
    return bool(_REGION.match(text))


def partition_for(region: str) -> str:
    """The ARN partition of a region: `cn-*` is aws-cn, `us-gov-*` aws-us-gov."""
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def semantic_path(path: JsonPath) -> JsonPath:
    """`path` without intrinsic-function steps: where the value sits in the template's meaning.

    `(..., "Service", 0, "Fn::Join", 1, 2)` becomes `(..., "Service", 0)`, so that a rule
    asks "is this a service principal?" the same way for plain strings, Subs and Joins.
    """
    kept: list[str | int] = []
    skipping = False
    for part in path:
        if isinstance(part, str) and part.startswith("Fn::"):
            skipping = True
            continue
        if skipping and isinstance(part, int):
            continue
        skipping = False
        kept.append(part)
    return tuple(kept)


_PRINCIPAL_CONDITION_KEYS = frozenset({"iam:PassedToService", "aws:PrincipalServiceName", "iam:AWSServiceName"})


def is_service_principal(path: JsonPath) -> bool:
    """True where a string names a service principal, not an endpoint.

    Trust and resource policies (`Principal: {Service: ...}`), a Lambda permission's
    `Principal`, a service-linked role's `AWSServiceName`, and condition values of
    `iam:PassedToService` and friends.
    """
    meaning = [part for part in semantic_path(path) if isinstance(part, str)]
    if not meaning:
        return False
    last = meaning[-1]
    if last in ("Principal", "AWSServiceName", "ServicePrincipal") or last in _PRINCIPAL_CONDITION_KEYS:
        return True
    return last == "Service" and len(meaning) > 1 and meaning[-2] == "Principal"


def in_arn(value: str, index: int) -> bool:
    """True when `value[index]` lies inside an ARN (`arn:...` up to the next space or quote)."""
    start = value.rfind("arn:", 0, index)
    if start < 0:
        return False
    return not any(ch in value[start:index] for ch in " \t\n\"',")


def first_difference(got: Any, want: Any, path: str = "") -> str:
    """JSON Pointer of the first place where two models differ ("/" for the root)."""
    if type(got) is not type(want):
        return path or "/"
    if isinstance(want, dict):
        for key in sorted(set(got) | set(want), key=str):
            if key not in got or key not in want:
                return f"{path}/{key}"
            if got[key] != want[key]:
                return first_difference(got[key], want[key], f"{path}/{key}")
    if isinstance(want, list) and len(got) == len(want):
        for index, (a, b) in enumerate(zip(got, want)):
            if a != b:
                return first_difference(a, b, f"{path}/{index}")
    return path or "/"

"""Traversals of the long-form model that every action shares."""

from __future__ import annotations

from typing import Any, Iterator

from .edits import JsonPath


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


def partition_for(region: str) -> str:
    """The ARN partition of a region: `cn-*` is aws-cn, `us-gov-*` aws-us-gov."""
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def url_suffix_for(region: str) -> str:
    """The endpoint domain suffix of a region (`amazonaws.com.cn` in China)."""
    return "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"

"""S3 general purpose bucket naming rules, so that a mistyped `--bucket` fails loudly.

Why: the bucket name is pasted into every asset URL of a release.  A value such as
`s3://my-bucket` or `my-bucket/prefix` used to produce URLs that no longer matched any
bucket, so release mode silently copied nothing.  Checking the name against the rules S3
itself enforces catches every such mistake before anything is transformed.

Source: https://docs.amazonaws.cn/en_us/AmazonS3/latest/userguide/bucketnamingrules.html
(the same rules as the global partition).
"""

from __future__ import annotations

import functools
import re

from ..model.walk import REGION_PATTERN
from .endpoint_data import partition_endpoints, partition_names

_ALLOWED = re.compile(r"[a-z0-9.-]*")
_IP_ADDRESS = re.compile(r"\d{1,3}(?:\.\d{1,3}){3}")
_RESERVED_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_RESERVED_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")


def bucket_name_problem(name: str) -> str | None:
    """The first S3 naming rule that `name` breaks, or None when it is a valid bucket name.

    >>> bucket_name_problem("my-cn-bucket") is None
    True
    >>> bucket_name_problem("s3://my-cn-bucket")
    "may contain only lowercase letters, digits, '.' and '-' (found ':'; give the bare bucket name, without s3:// or a key prefix)"
    """
    if not 3 <= len(name) <= 63:
        return f"must be 3 to 63 characters long (it has {len(name)})"
    if not _ALLOWED.fullmatch(name):
        bad = next(c for c in name if not _ALLOWED.fullmatch(c))
        hint = "; give the bare bucket name, without s3:// or a key prefix" if bad in ":/" else ""
        return f"may contain only lowercase letters, digits, '.' and '-' (found {bad!r}{hint})"
    if not (name[0].isalnum() and name[-1].isalnum()):
        return "must begin and end with a letter or a digit"
    if ".." in name:
        return "must not contain two adjacent periods"
    if _IP_ADDRESS.fullmatch(name):
        return "must not be formatted as an IP address"
    for prefix in _RESERVED_PREFIXES:
        if name.startswith(prefix):
            return f"must not start with the reserved prefix {prefix!r}"
    for suffix in _RESERVED_SUFFIXES:
        if name.endswith(suffix):
            return f"must not end with the reserved suffix {suffix!r}"
    return None


_REGION_SUFFIX = re.compile(f"-(?P<region>{REGION_PATTERN})$")


def region_of_bucket_name(bucket: str) -> str | None:
    """The region a bucket's name ends with (`panther-enterprise-us-west-1` -> `us-west-1`), or None.

    Release buckets are named after their region (one bucket per region); release mode
    reads the source region from it and S3 clients start in it.
    """
    match = _REGION_SUFFIX.search(bucket)
    return match.group("region") if match else None


@functools.cache
def _known_regions() -> re.Pattern[str]:
    """Every region of every partition botocore's endpoint data lists, as a dash- or dot-separated word."""
    regions = sorted({region for name in partition_names() for region in partition_endpoints(name).regions}, key=len, reverse=True)
    return re.compile(rf"(?:^|(?<=[-.]))(?:{'|'.join(map(re.escape, regions))})(?=$|[-.])")


def regions_in_bucket_name(bucket: str) -> tuple[str, ...]:
    """The regions botocore's data lists that `bucket` names as a word of its own, in order.

    `sagemaker-ap-northeast-1-123456789012` (SageMaker's default bucket) -> `('ap-northeast-1',)`;
    `cloudformation-examples-us-east-1` -> `('us-east-1',)`.  A bucket lives in one region, and
    names like these say which: a region of another partition is a bucket the target cannot read.
    """
    return tuple(match.group(0) for match in _known_regions().finditer(bucket))

"""Which host names are service endpoints of which partition, from botocore's endpoint data.

Why botocore: AWS maintains `endpoints.json` with every SDK release (each partition's DNS
suffix, regions, services, hostname templates and partition-wide endpoints), so a
partition, region or service AWS adds reaches this tool with a botocore upgrade rather
than a hand edit.  The file is read where `botocore.loaders.create_loader()` reads it
(`~/.aws/models`, then botocore's own `data/`; `endpoints.json`, then the compressed
`endpoints.json.gz` newer releases may ship: tests/partitions/test_partition.py checks it
gives the loader's data) without importing the loader, whose imports (urllib3, http, email,
dateutil) were a third of a one-template `transform`'s start-up.  Nothing here touches the
network or credentials.

The index describes an endpoint by its *shape*: the host name with the region label
written `{region}` and the DNS suffix written `{dns_suffix}` (`sqs.{region}.{dns_suffix}`,
`iam.{dns_suffix}`), so that a host found in a template, with a literal region or
`${AWS::Region}`, can be looked up and the same endpoint found in another partition.
"""

from __future__ import annotations

import functools
import gzip
import importlib.util
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, NamedTuple

REGION_SLOT = "{region}"
SUFFIX_SLOT = "{dns_suffix}"


class Endpoint(NamedTuple):
    """One service endpoint of a partition (a named tuple: the aws partition makes some 20,000 at start-up,
    and a frozen dataclass took four times as long to make)."""

    service: str  # botocore's endpoint prefix: sqs, s3, api.ecr ...
    hostname: str
    shape: str  # hostname with {region} and {dns_suffix} slots
    region: str | None  # the region it serves; None for a partition-wide endpoint without one
    partition_wide: bool  # the service's partitionEndpoint (one host for the whole partition)


@dataclass(frozen=True)
class PartitionEndpoints:
    """The endpoints of one partition, indexed by shape and by service."""

    name: str
    dns_suffix: str
    regions: tuple[str, ...]
    by_shape: Mapping[str, tuple[Endpoint, ...]] = field(repr=False)
    by_service: Mapping[str, tuple[Endpoint, ...]] = field(repr=False)

    def with_shape(self, shape: str) -> tuple[Endpoint, ...]:
        """Endpoints whose host names have `shape` (empty when none)."""
        return self.by_shape.get(shape, ())

    def partition_endpoint(self, service: str) -> Endpoint | None:
        """The single partition-wide endpoint of `service`, if it has one."""
        return next((e for e in self.by_service.get(service, ()) if e.partition_wide), None)

    def regional(self, service: str, region: str, shape: str | None = None) -> Endpoint | None:
        """The endpoint of `service` in `region` (of `shape` when given), if the partition has one."""
        for endpoint in self.by_service.get(service, ()):
            if endpoint.region == region and not endpoint.partition_wide and (shape is None or endpoint.shape == shape):
                return endpoint
        return None


def botocore_version() -> str:
    """The installed botocore release, for messages that say where a fact came from."""
    import botocore

    return str(botocore.__version__)


def data_folders() -> tuple[Path, ...]:
    """Where botocore's default loader looks for its data files, in its order."""
    spec = importlib.util.find_spec("botocore")  # its folder, without running its imports
    if spec is None or spec.origin is None:
        raise ModuleNotFoundError("botocore is not installed")
    return Path("~/.aws/models").expanduser(), Path(spec.origin).parent / "data"


@functools.cache
def _raw() -> Mapping[str, Any]:
    for folder in data_folders():
        plain, packed = folder / "endpoints.json", folder / "endpoints.json.gz"
        if plain.is_file():
            data: Mapping[str, Any] = json.loads(plain.read_bytes())
            return data
        if packed.is_file():
            data = json.loads(gzip.decompress(packed.read_bytes()))
            return data
    raise FileNotFoundError(f"botocore's endpoint data (endpoints.json) is in none of {[str(f) for f in data_folders()]}")


def partition_names() -> tuple[str, ...]:
    """Every partition botocore knows, in its order (aws first)."""
    return tuple(p["partition"] for p in _raw()["partitions"])


def partition_of_region(region: str) -> str | None:
    """The partition whose region list names `region` (or, for a region it does not list yet,
    whose `regionRegex` matches it), or None."""
    for partition in _raw()["partitions"]:
        if region in partition["regions"]:
            return str(partition["partition"])
    for partition in _raw()["partitions"]:
        if re.match(partition.get("regionRegex", "$^"), region):
            return str(partition["partition"])
    return None


def partition_for(region: str) -> str:
    """The partition of a region, from botocore's endpoint data (`aws` for a region it does not know)."""
    return partition_of_region(region) or "aws"


def dns_suffixes() -> tuple[str, ...]:
    """The DNS suffix of every partition, longest first (so `amazonaws.com.cn` wins over `amazonaws.com`)."""
    return tuple(sorted({str(p["dnsSuffix"]) for p in _raw()["partitions"]}, key=len, reverse=True))


@functools.cache
def partition_endpoints(name: str) -> PartitionEndpoints:
    """The endpoint index of partition `name` (KeyError if botocore does not know it)."""
    partition = next((p for p in _raw()["partitions"] if p["partition"] == name), None)
    if partition is None:
        raise KeyError(name)
    suffix = str(partition["dnsSuffix"])
    regions = tuple(sorted(partition["regions"]))
    template = str(partition["defaults"].get("hostname", "{service}.{region}.{dnsSuffix}"))
    by_shape: dict[str, list[Endpoint]] = {}
    by_service: dict[str, list[Endpoint]] = {}
    for service, spec in partition["services"].items():
        wide = spec.get("partitionEndpoint")
        for key, entry in spec.get("endpoints", {}).items():
            if entry.get("deprecated"):
                continue
            region = key if key in partition["regions"] else (entry.get("credentialScope") or {}).get("region")
            hostname = entry.get("hostname")
            if hostname is None:
                if key not in partition["regions"]:
                    continue  # a pseudo-region without a host name of its own
                hostname = template.format(service=service, region=key, dnsSuffix=suffix)
            hosts = [str(hostname)]
            hosts += [str(v["hostname"]) for v in entry.get("variants", []) if "hostname" in v and str(v["hostname"]).endswith("." + suffix)]
            for number, host in enumerate(dict.fromkeys(hosts)):
                endpoint = Endpoint(
                    service=service,
                    hostname=host,
                    shape=shape_of(host, region, suffix),
                    region=region,
                    partition_wide=key == wide and number == 0,
                )
                by_shape.setdefault(endpoint.shape, []).append(endpoint)
                by_service.setdefault(service, []).append(endpoint)
    return PartitionEndpoints(
        name,
        suffix,
        regions,
        MappingProxyType({k: tuple(v) for k, v in by_shape.items()}),
        MappingProxyType({k: tuple(v) for k, v in by_service.items()}),
    )


def shape_of(host: str, region: str | None, dns_suffix: str) -> str:
    """`host` with its DNS suffix and (if it names it as a label) its region written as slots.

    >>> shape_of("sqs.us-east-1.amazonaws.com", "us-east-1", "amazonaws.com")
    'sqs.{region}.{dns_suffix}'
    >>> shape_of("iam.amazonaws.com", "us-east-1", "amazonaws.com")
    'iam.{dns_suffix}'
    """
    if host.endswith("." + dns_suffix):
        host = host[: -len(dns_suffix)] + SUFFIX_SLOT
    labels = host.split(".")
    return ".".join(REGION_SLOT if region and label == region else label for label in labels)


@functools.cache
def service_models() -> frozenset[str]:
    """The service names botocore has models for (`cognito-idp`, `cloudwatch`, `sagemaker`): the names boto3 clients
    and AWS CLI commands take (the folders of its data)."""
    folder = data_folders()[1]
    return frozenset(child.name for child in folder.iterdir() if child.is_dir()) if folder.is_dir() else frozenset()


@functools.cache
def endpoint_prefix(service_name: str) -> str | None:
    """The endpoint prefix of botocore's model `service_name` (`cloudwatch` -> `monitoring`, `ses` -> `email`,
    `opensearchserverless` -> `aoss`): the name its endpoints have in `endpoints.json`; None without a model."""
    if service_name not in service_models():
        return None
    folder = data_folders()[1] / service_name
    versions = sorted(child for child in folder.iterdir() if child.is_dir())
    for version in reversed(versions):
        plain, packed = version / "service-2.json", version / "service-2.json.gz"
        if plain.is_file() or packed.is_file():
            # the metadata opens the model: read its first bytes, not the whole model (sagemaker's is 0.75 s to parse)
            with (plain.open("rb") if plain.is_file() else gzip.open(packed, "rb")) as model:
                head = model.read(_MODEL_HEAD).decode("utf-8", "replace")
            found = _ENDPOINT_PREFIX.search(head)
            return found.group(1) if found else None
    return None


_MODEL_HEAD = 4096
_ENDPOINT_PREFIX = re.compile(r'"endpointPrefix"\s*:\s*"([^"]+)"')

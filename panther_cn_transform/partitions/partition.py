"""The partition model: everything an action needs to know about the partition it ports to.

One `Partition` object per run holds the partition's name, DNS suffix, regions and
service endpoints (from botocore, endpoint_data.py) and the facts botocore does not
have, which a partition file states with its sources (`rules/partitions/<name>.yml`):
console and sign-in hosts, the service principals that differ from
`<service>.amazonaws.com`, how interface VPC endpoints are named, and the host names AWS
gives resources (buckets, APIs, registries), and the hosts scripts download from that are
slow or unreachable from its regions.  Packs select a partition (`partition:
aws-cn`); actions read it from their `RuleContext` and hold no partition literals.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..errors import RegionError
from ..model.paths import JsonPath
from ..model.walk import in_mapping_for_elsewhere
from .endpoint_data import (
    PartitionEndpoints,
    botocore_version,
    partition_endpoints,
    partition_names,
    partition_of_region,
)

#: The partition templates are written for unless a pack says otherwise.
DEFAULT_SOURCE_PARTITION = "aws"


@dataclass(frozen=True)
class VpcEndpointNames:
    """How `AWS::EC2::VPCEndpoint` service names are formed in a partition.

    Every name is `<prefix>.<region>.<service>[<suffix>]`.  Gateway endpoints always use
    `default_prefix`; interface endpoints of the services listed for a region use
    `interface_prefix` (China: `cn.com.amazonaws`), and some services add a suffix.
    """

    default_prefix: str = "com.amazonaws"
    interface_prefix: str = "com.amazonaws"
    interface_services: Mapping[str, frozenset[str]] = field(default_factory=dict)
    interface_suffixes: Mapping[str, str] = field(default_factory=dict)

    def interface_name(self, region: str, region_text: str, service: str) -> str:
        """The interface endpoint name of `service` in `region` (written with `region_text`)."""
        prefix = self.interface_prefix if service in self.interface_services.get(region, frozenset()) else self.default_prefix
        suffix = self.interface_suffixes.get(service, "") if prefix == self.interface_prefix else ""
        return f"{prefix}.{region_text}.{service}{suffix}"


@dataclass(frozen=True)
class DownloadHost:
    """Hosts scripts download from that are slow or unreachable from a partition's regions (hand ports use mirrors).

    `commands` download from `hosts[0]` when a line names no other source (`pip install x`).
    """

    name: str
    hosts: tuple[str, ...]
    commands: tuple[str, ...] = ()
    source_url: str = ""


@dataclass(frozen=True)
class PartitionFacts:
    """What a partition file states (validated against the `partition` schema)."""

    name: str
    file: str
    console_host: str | None = None
    signin_host: str | None = None
    principals: Mapping[str, str] = field(default_factory=dict)
    uncertain_principals: Mapping[str, str] = field(default_factory=dict)
    vpc_endpoint_names: VpcEndpointNames = field(default_factory=VpcEndpointNames)
    resource_hosts: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    host_aliases: Mapping[str, str] = field(default_factory=dict)
    download_hosts: tuple[DownloadHost, ...] = ()
    attribute_hosts: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_data(cls, data: Mapping[str, Any], file: str) -> PartitionFacts:
        """Facts from a validated partition mapping (a partition file or a pack's `partition:` block)."""
        vpce = data.get("vpc_endpoint_names") or {}
        names = VpcEndpointNames(
            default_prefix=str(vpce.get("default_prefix", "com.amazonaws")),
            interface_prefix=str(vpce.get("interface_prefix", vpce.get("default_prefix", "com.amazonaws"))),
            interface_services={str(r): frozenset(map(str, s)) for r, s in (vpce.get("interface_services") or {}).items()},
            interface_suffixes={str(k): str(v) for k, v in (vpce.get("interface_suffixes") or {}).items()},
        )
        return cls(
            name=str(data["name"]),
            file=file,
            console_host=data.get("console_host"),
            signin_host=data.get("signin_host"),
            principals={str(k): str(v) for k, v in (data.get("principals") or {}).items()},
            uncertain_principals={str(k): " ".join(str(v).split()) for k, v in (data.get("uncertain_principals") or {}).items()},
            vpc_endpoint_names=names,
            resource_hosts={str(k): tuple(map(str, [v] if isinstance(v, str) else v)) for k, v in (data.get("resource_hosts") or {}).items()},
            host_aliases={str(k): str(v) for k, v in (data.get("host_aliases") or {}).items()},
            download_hosts=tuple(
                DownloadHost(str(entry["name"]), tuple(map(str, entry["hosts"])), tuple(map(str, entry.get("commands") or ())),
                             str(entry.get("source_url", "")))
                for entry in data.get("download_hosts") or ()
            ),
            attribute_hosts={str(k): str(v) for k, v in (data.get("attribute_hosts") or {}).items()},
        )


@dataclass(frozen=True)
class Partition:
    """A partition: its facts file plus botocore's endpoint data for it."""

    facts: PartitionFacts
    endpoints: PartitionEndpoints

    @property
    def name(self) -> str:
        return self.facts.name

    @property
    def dns_suffix(self) -> str:
        return self.endpoints.dns_suffix

    @property
    def regions(self) -> tuple[str, ...]:
        return self.endpoints.regions

    def has_region(self, region: str) -> bool:
        return region in self.endpoints.regions

    def elsewhere(self, path: JsonPath) -> bool:
        """True for a Mapping entry keyed by another partition or by a region outside this one."""
        if path[:1] != ("Mappings",):  # most strings a rule asks about: no partition names to gather
            return False
        return in_mapping_for_elsewhere(path, self.regions, self.name, partition_names())

    def principal(self, service: str, region_text: str) -> str | None:
        """The principal of `service` here when the partition's table says it differs, else None.

        `regional` is `<service>.<region>.<dns_suffix>`, `global` is `<service>.<dns_suffix>`.
        """
        style = self.facts.principals.get(service)
        if style == "regional":
            return f"{service}.{region_text}.{self.dns_suffix}"
        if style == "global":
            return f"{service}.{self.dns_suffix}"
        return None

    def object_url(self, bucket: str, region: str, key: str) -> str | None:
        """The HTTPS URL of object `key` in `bucket` of `region`, from the partition's data; None if it has no S3 host there.

        The first `s3-bucket` host of the partition file (`{resource}.s3.{region}.{dns_suffix}`),
        else botocore's regional S3 endpoint, path-style.
        """
        hosts = self.facts.resource_hosts.get("s3-bucket")
        if hosts:
            return f"https://{hosts[0].format(resource=bucket, region=region, dns_suffix=self.dns_suffix)}/{key}"
        endpoint = self.endpoints.regional("s3", region)
        return f"https://{endpoint.hostname}/{bucket}/{key}" if endpoint is not None else None

    def variables(self) -> dict[str, str]:
        """Rule variables the partition provides: `${partition}`, `${dns_suffix}`, `${console_host}`, `${signin_host}`."""
        values = {"partition": self.name, "dns_suffix": self.dns_suffix}
        if self.facts.console_host:
            values["console_host"] = self.facts.console_host
        if self.facts.signin_host:
            values["signin_host"] = self.facts.signin_host
        return values


def build_partition(facts: PartitionFacts) -> Partition:
    """The partition of `facts`, with botocore's endpoint data (a RegionError if botocore does not know it)."""
    try:
        endpoints = partition_endpoints(facts.name)
    except KeyError:
        raise RegionError(f"partition {facts.name!r} is not in botocore {botocore_version()}'s endpoint data", file=facts.file) from None
    return Partition(facts, endpoints)


def check_region(partition: Partition, region: str, rules: str) -> None:
    """A RegionError naming the valid regions unless `region` belongs to `partition`."""
    if partition.has_region(region):
        return
    elsewhere = partition_of_region(region)
    known = f" (it is in {elsewhere})" if elsewhere and region in partition_endpoints(elsewhere).regions else ""
    raise RegionError(
        f"region {region!r} is not in partition {partition.name} of the rules ({rules}){known}; "
        f"valid regions: {', '.join(partition.regions)}",
        file="<command line>",
    )

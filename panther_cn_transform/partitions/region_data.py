"""Which resource types a region has, read from the data cfn-lint ships.

Why cfn-lint's data: AWS refreshes it often (`cfnlint/data/schemas/providers/<region>.json`
maps every type available in a region to its schema), so when cfn-lint is upgraded the
removals follow without a hand-kept list.  The JSON files are read directly: importing
cfn-lint itself costs about a second.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import util
from pathlib import Path
from typing import Any

from ..errors import InputError

_KEPT_TYPES = ("Custom::", "AWS::CloudFormation::CustomResource")


@dataclass(frozen=True)
class RegionData:
    """The resource types of one region, and where that knowledge came from."""

    region: str
    types: frozenset[str]
    source: str
    schemas: Path
    digests: Mapping[str, str] = field(default_factory=dict, repr=False, compare=False)  # type -> schema file

    def lacks(self, resource_type: str) -> bool:
        """True when `resource_type` is an AWS type this region does not have.

        Custom resources and third-party types (any namespace but `AWS::`) are never
        reported: they are not the region's to offer.
        """
        if resource_type.startswith(_KEPT_TYPES) or not resource_type.startswith("AWS::"):
            return False
        return resource_type not in self.types

    def required_properties(self, resource_type: str) -> frozenset[str]:
        """The properties the type's schema requires (empty when the schema is unknown)."""
        digest = self.digests.get(resource_type)
        return _required_properties(self.schemas / "resources" / f"{digest}.json") if digest else frozenset()


@functools.cache
def _required_properties(path: Path) -> frozenset[str]:
    """Read once per schema file: removal repairs ask for each holder of a removed reference."""
    if not path.exists():
        return frozenset()
    schema: dict[str, Any] = json.loads(path.read_text("utf-8"))
    return frozenset(schema.get("required", []))


def cfn_lint_schemas() -> Path:
    """The folder of cfn-lint's bundled schemas, found without importing cfn-lint."""
    spec = util.find_spec("cfnlint")
    if spec is None or not spec.submodule_search_locations:
        raise InputError("cfn-lint is not installed; it provides the region data (pip install cfn-lint)")
    return Path(next(iter(spec.submodule_search_locations))) / "data" / "schemas"


@functools.cache
def load_region_data(region: str) -> RegionData:
    """Resource types available in `region` (plus the SAM types, available everywhere).

    Cached: every template of a release asks again, and each answer read two JSON files and the
    installed cfn-lint's metadata (about 13 ms); in release mode the workers inherit the answer
    (release.py computes it before they start).
    """
    from importlib import metadata  # 10 ms to import: only when the data is read

    schemas = cfn_lint_schemas()
    provider = schemas / "providers" / f"{region}.json"
    if not provider.exists():
        known = sorted(p.stem for p in (schemas / "providers").glob("*-*-*.json"))
        raise InputError(f"unknown region {region!r} (cfn-lint knows {', '.join(known)})", file="<command line>")
    digests: dict[str, str] = json.loads(provider.read_text("utf-8"))
    types = set(digests) | set(json.loads((schemas / "providers" / "sam.json").read_text("utf-8")))
    try:
        date = json.loads((schemas / "version.json").read_text("utf-8")).get("schema_date", "unknown")
    except (OSError, ValueError):
        date = "unknown"
    source = f"cfn-lint {metadata.version('cfn-lint')} region data, schemas of {date}"
    return RegionData(region, frozenset(types), source, schemas, digests)


#: the region whose schemas say what a type's Ref returns when the target region lacks the type (the most types)
_SCHEMA_REGION = "us-east-1"


@functools.cache
def ref_identifier(resource_type: str) -> str | None:
    """The property a resource's `Ref` returns (`UserPoolId` for `AWS::Cognito::UserPool`, `ClientId` for a
    pool client), from the last entry of its schema's `primaryIdentifier`; None when no schema says.

    Read from us-east-1's schemas: what is asked about is mostly a type the target region lacks.
    """
    data = load_region_data(_SCHEMA_REGION)
    digest = data.digests.get(resource_type)
    path = data.schemas / "resources" / f"{digest}.json" if digest else None
    if path is None or not path.exists():
        return None
    identifiers = json.loads(path.read_text("utf-8")).get("primaryIdentifier") or []
    last = str(identifiers[-1]) if identifiers else ""
    return last.rsplit("/", 1)[-1] or None if last.startswith("/properties/") else None

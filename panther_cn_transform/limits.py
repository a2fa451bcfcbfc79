"""Resource limits that keep a hostile or broken input from exhausting the machine.

Every limit is documented in docs/limits.md and can be raised by the caller.
"""

from __future__ import annotations

from dataclasses import dataclass

#: largest release asset an S3 source downloads (`--max-asset-bytes`): Panther's largest assets are tens of MB,
#: so 2 GiB is far above any real one, and still refuses a HEAD that announces an endless object
MAX_ASSET_BYTES = 2 * 1024 * 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """Bounds on one template's decoding.

    **Parameters:**

    * **max_input_bytes** - a template larger than this is refused before it is parsed.
      CloudFormation itself accepts at most 1 MB from S3, so 10 MB leaves ample room.
    * **max_depth** - deepest nesting of mappings and lists (CloudFormation templates
      rarely pass 20).
    * **max_nodes** - values in the document after aliases are expanded; stops
      "billion laughs" alias bombs, which are small on disk but huge in memory.
    * **max_alias_values** - values that aliases repeat, counted each time an alias
      repeats its anchor's values (one for an alias of a scalar).  Why a second bound: text costs at least
      two bytes a value, so the size limit bounds a template without aliases, but an alias
      doubles a value for a few bytes, and every repeated value has its own path that
      each rule, the patch and the report visit: 2^20 repeated ARNs within `max_nodes`
      took 156 s.  Real templates repeat a few blocks, if any (cfn-flip, SAM and the
      CloudFormation console write none).
    """

    max_input_bytes: int = 10 * 1024 * 1024
    max_depth: int = 200
    max_nodes: int = 5_000_000
    max_alias_values: int = 100_000

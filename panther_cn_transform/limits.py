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
    """

    max_input_bytes: int = 10 * 1024 * 1024
    max_depth: int = 200
    max_nodes: int = 5_000_000

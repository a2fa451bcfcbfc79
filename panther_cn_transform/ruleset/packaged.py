"""Files a rule pack ships into a release: deterministic zips keyed by their SHA-1.

Panther's release bucket keys every asset by the SHA-1 of its bytes; a pack that adds a
Lambda function of its own (the web proxy) ships its code the same way.  A rule file
names its assets under `assets:` (variable -> file in `panther_cn_transform/ruleset/assets/`);
the variable holds the object key, so a fragment can say `S3Key: ${web_proxy_key}`, and
release mode writes the object beside the release's own assets.

The zip is built in memory, stored (not deflated) with a fixed date and mode, so the
same file always gives the same bytes and key.
"""

from __future__ import annotations

import functools
import hashlib
import io
from importlib import resources

_ASSETS_PACKAGE = "panther_cn_transform.ruleset.assets"


def asset_names() -> list[str]:
    """Files that can be named under a rule file's `assets:`."""
    return sorted(p.name for p in resources.files(_ASSETS_PACKAGE).iterdir()
                  if p.is_file() and not p.name.startswith(("_", ".")) and p.name.endswith(".py"))


@functools.cache
def asset_zip(name: str) -> bytes:
    """The zip holding the asset file `name` at its root (a Lambda deployment package).

    >>> asset_zip("web_proxy.py") == asset_zip("web_proxy.py") and asset_zip("web_proxy.py")[:2] == b"PK"
    True
    """
    if name not in asset_names():
        raise KeyError(name)
    import zipfile  # only a pack that ships assets zips one

    data = resources.files(_ASSETS_PACKAGE).joinpath(name).read_bytes()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
        info.external_attr = 0o644 << 16
        archive.writestr(info, data)
    return buffer.getvalue()


def asset_key(name: str) -> str:
    """The object key of the asset `name`: the SHA-1 of its zip, as Panther keys its assets."""
    return hashlib.sha1(asset_zip(name)).hexdigest()

"""Object keys and release names that become local paths: checked before a byte is written.

A key from a template (`TemplateURL`, `CodeUri`, ...) or the `--release` name becomes a
path below a folder this tool writes (the download cache, the output folder).  A key such
as `../../../../.bashrc` would leave it, so every key is checked here before it is used,
by the S3 source as well as by release mode.
"""

from __future__ import annotations

from ..errors import ReleaseError


def unsafe_key(key: str) -> bool:
    """True for a key that is not a plain relative path: empty, absolute, `..`, `.`, `//` or a backslash."""
    return (not key or key.startswith(("/", "\\")) or "\\" in key or "\0" in key
            or any(part in ("", ".", "..") for part in key.split("/")))


def check_key(key: str, needed_by: str) -> None:
    """Refuse an unsafe `key` (see `unsafe_key`), naming `needed_by`, the template and property that reference it."""
    if unsafe_key(key):
        raise ReleaseError(f"unsafe object key {key!r} (needed by {needed_by}): it would leave the bucket folder", file=needed_by)


def check_release_name(release: str) -> None:
    """Refuse a `--release` that is not a folder of the bucket (`v1.16.0`; `a/b` is allowed, `..` is not)."""
    name = release.strip("/")
    if unsafe_key(name) or any(ord(c) < 0x20 or c == "\x7f" for c in name):
        raise ReleaseError(f"--release {release!r} is not a release folder of the bucket (such as v1.16.0): "
                           "it must be a relative name without '.', '..', empty parts, backslashes or control characters",
                           file="<command line>")

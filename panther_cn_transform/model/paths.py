"""Where a value sits in a template model: paths and their JSON Pointers.

A leaf module (it imports nothing of the package) so that edits, walks, S3 scans and
release mode can all name places the same way without importing each other.
"""

from __future__ import annotations

#: Keys and list indexes from the root of a long-form model to one value.
JsonPath = tuple[str | int, ...]


def to_pointer(path: JsonPath) -> str:
    """The RFC 6901 JSON Pointer for `path` (`~` and `/` escaped).

    >>> to_pointer(("Resources", "Fn", "Properties", "Code", "S3Key"))
    '/Resources/Fn/Properties/Code/S3Key'
    >>> to_pointer(("Metadata", "a/b~c", 0))
    '/Metadata/a~1b~0c/0'
    """
    if not path:
        return ""
    texts = [part if isinstance(part, str) else str(part) for part in path]
    joined = "/".join(texts)
    if "~" not in joined and joined.count("/") == len(texts) - 1:
        return "/" + joined  # nothing to escape (most paths): one join, asked of every edit and finding
    return "".join("/" + text.replace("~", "~0").replace("/", "~1") for text in texts)

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
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in path)

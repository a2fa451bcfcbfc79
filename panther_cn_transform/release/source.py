"""Where a release's objects come from: a local bucket mirror, or a cache that S3 fills on demand.

Release mode reads objects from a local folder laid out like the bucket (`<folder>/<key>`,
the folder named after the bucket).  A source decides how the objects get there: a local
mirror already has them; `s3source.S3Source` downloads each one when release mode first
asks for it, so only what the release reaches from its root is ever fetched.  Keeping
this seam small keeps release mode free of S3 (and of credentials) entirely.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol


class ReleaseSource(Protocol):
    """A bucket whose objects release mode reads from `folder`."""

    @property
    def bucket(self) -> str:
        """The source bucket's name (its `-<region>` suffix tells the source region)."""
        ...

    @property
    def folder(self) -> Path:
        """The local folder holding the objects under their keys (absolute)."""
        ...

    def fetch(self, key: str, needed_by: str, *, wait: bool) -> None:
        """Make `folder/key` present; `wait=False` may return before it is (see `finish`).

        `key` has already been checked to stay inside `folder` (a source that writes,
        such as `s3source.S3Source`, checks it again before any request); `needed_by` names
        the template and property that references it, for error messages.
        """
        ...

    def finish(self) -> None:
        """Wait until every fetch has completed; raise the first error any of them met."""
        ...


@dataclass(frozen=True)
class LocalMirror:
    """A local copy of the bucket: nothing to fetch, and no credentials needed.

    `path` is the folder (absolute); `given` is how the caller named it, for messages.
    """

    path: Path
    given: str = field(default="", compare=False)

    @property
    def bucket(self) -> str:
        return self.path.name

    @property
    def folder(self) -> Path:
        return self.path

    def fetch(self, key: str, needed_by: str, *, wait: bool) -> None:
        """Nothing to do: a missing object is reported when release mode reads it."""

    def finish(self) -> None:
        """Nothing pending."""

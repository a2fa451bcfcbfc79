"""Upload a finished China release to its bucket, in an order no reader can trip over.

The objects are those of the release's manifest (`release.ReleaseObject`), read from the
folder release mode wrote.  An object already in the bucket whose S3 SHA-256 checksum
(`head_object(ChecksumMode='ENABLED')`) is the manifest's is skipped, so a rerun after an
interruption uploads only what is missing; the `sha256` metadata the uploads also carry is
for people, never trusted (anyone who may write the object can set it over other bytes).
Every upload carries its SHA-256 as S3's checksum (`ChecksumAlgorithm='SHA256'`), which S3
verifies before it stores the object and keeps with it.

Order: assets first, then templates children before parents, the root template last of
all, so a stack created from the root while the upload runs never finds a child missing.
Objects of one step go up in parallel; botocore retries each request (standard mode), and
each has a deadline (`s3common.within`).

A nested template is published under its content's SHA-256, so a re-publish never replaces
what a live root reads; one kept under its source key (its `TemplateURL` is spelled in
pieces) would be replaced in place, and the live root would read the new child before the
new root is written.  Such a replacement is refused before anything is sent
(`LiveChildError`), unless the caller accepts it (`replace_live_children`).
"""

from __future__ import annotations

import base64
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import ReleaseError
from .manifest import ReleaseObject
from .s3common import DEFAULT_TIMEOUT, bucket_location, check_partition, deadline, make_client, s3_error, within

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

OPTION = "--target-profile"
#: the command-line option that accepts replacing nested templates a live root reads (`LiveChildError`)
REPLACE_OPTION = "--replace-live-children"


class LiveChildError(ReleaseError):
    """The bucket holds other bytes under the key of a nested template kept under its source key: uploading
    would change what the live root reads before the new root is written.  Raised before anything is sent."""


#: the root template's S3 metadata saying how many blockers the global release does not have the release has, and
#: where (`pipeline.blocker_places`): written by `release --upload` (only ever non-zero with --accept-blockers), read by `deploy`
BLOCKERS_METADATA, BLOCKER_PLACES_METADATA = "blockers", "blocker-places"
#: called after each object is uploaded or found already there: (object, uploaded?)
ObjectCallback = Callable[[ReleaseObject, bool], None]


@dataclass(frozen=True)
class PlannedUpload:
    """One object of the release and whether the bucket still needs it."""

    obj: ReleaseObject
    upload: bool


@dataclass
class UploadResult:
    """What an upload did (or, with `check`, would do)."""

    plan: list[PlannedUpload]
    uploaded: int = 0
    skipped: int = 0
    bytes: int = 0


def target_client(profile: str | None, region: str, *, jobs: int, timeout: float = DEFAULT_TIMEOUT) -> S3Client:
    """A client of the target's own session in the China region (`timeout`: its connect and read timeout, seconds)."""
    return make_client(profile, region, connections=max(jobs, 1), timeout=timeout)


def check_target(client: S3Client, bucket: str, region: str) -> None:
    """Refuse a target bucket that is missing, unreadable, or outside `region` (one line each)."""
    location = bucket_location(client, bucket, side="target", option=OPTION)
    if location is not None:
        check_partition(bucket, location, region, side="target")


def upload_order(objects: Sequence[ReleaseObject], root: str) -> list[list[ReleaseObject]]:
    """Steps of objects that may go up together: assets, then templates deepest first, then the root."""
    templates = {o.key: o for o in objects if o.kind == "template"}
    depth = _depths(templates, root)
    steps = [[o for o in objects if o.kind != "template"]]
    levels: dict[int, list[ReleaseObject]] = {}
    for key, obj in templates.items():
        if key != root:
            levels.setdefault(depth[key], []).append(obj)
    steps += [sorted(levels[d], key=lambda o: o.key) for d in sorted(levels, reverse=True)]
    if root in templates:
        steps.append([templates[root]])
    return [step for step in steps if step]


def _depths(templates: dict[str, ReleaseObject], root: str) -> dict[str, int]:
    """Each template's longest chain of parents up to the root (root 0), without recursion.

    Why a loop: a release may nest thousands of stacks in a chain (release.py's `_heights`
    takes the same care); a parent already on the current chain (a cycle) is not followed.
    """
    def parents(key: str) -> list[str]:
        return [t for t, _ in templates[key].referenced_by if t in templates]

    depth: dict[str, int] = {root: 0}
    for start in templates:
        if start in depth:
            continue
        chain = {start}
        stack = [(start, iter(parents(start)))]
        while stack:
            key, pending = stack[-1]
            parent = next((p for p in pending if p not in depth and p not in chain), None)
            if parent is not None:
                chain.add(parent)
                stack.append((parent, iter(parents(parent))))
                continue
            stack.pop()
            chain.discard(key)
            depth[key] = 1 + max((depth[p] for p in parents(key) if p in depth), default=0)
    return depth


def upload_release(
    folder: str | Path,
    objects: Sequence[ReleaseObject],
    *,
    root: str,
    bucket: str,
    region: str,
    client: S3Client,
    jobs: int = 8,
    check: bool = False,
    on_object: ObjectCallback | None = None,
    root_metadata: Mapping[str, str] | None = None,
    replace_live_children: bool = False,
) -> UploadResult:
    """Upload `objects` (read from `folder/<key>`) to `bucket` under their keys (the manifest's).

    The bucket must be in `region` (a bucket of another partition or region is refused
    before anything is sent).  With `check`, only the plan is made: what would go up and
    what is already there.  `on_object` runs in the calling thread after each object; an
    exception it raises stops the upload (objects already sent stay, and a rerun skips them).
    `root_metadata` is S3 metadata the root template carries besides its SHA-256 (the release's
    blockers, which `deploy` reads: `BLOCKERS_METADATA`).  A nested template kept under its
    source key whose key holds other bytes is a `LiveChildError` before anything is sent (also
    with `check`), unless `replace_live_children`.
    """
    check_target(client, bucket, region)
    source = Path(folder)
    workers = max(jobs, 1)
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="s3-upload") as pool:
        states = dict(zip((o.key for o in objects), pool.map(lambda o: _state(client, bucket, o), objects)))
        if not replace_live_children:
            _refuse_live_children(objects, states, root, bucket)
        result = UploadResult([PlannedUpload(o, states[o.key] != "same") for o in objects])
        if check:
            return result
        for step in upload_order(objects, root):
            for obj in step:
                if states[obj.key] == "same":
                    result.skipped += 1
                    if on_object:
                        on_object(obj, False)
            pending = {pool.submit(_put, client, bucket, source, obj, root_metadata if obj.key == root else None): obj
                       for obj in step if states[obj.key] != "same"}
            _drain(pending, result, on_object)
    return result


def _drain(pending: dict[Future[None], ReleaseObject], result: UploadResult, on_object: ObjectCallback | None) -> None:
    """Wait for one step; on any error cancel what has not started and raise it."""
    try:
        for future in as_completed(pending):
            future.result()
            obj = pending[future]
            result.uploaded += 1
            result.bytes += obj.size
            if on_object:
                on_object(obj, True)
    except BaseException:
        for future in pending:
            future.cancel()
        raise


def _refuse_live_children(objects: Sequence[ReleaseObject], states: Mapping[str, str], root: str, bucket: str) -> None:
    """A `LiveChildError` naming the nested templates under their source keys that the upload would replace."""
    replaced = [o for o in objects if o.kind == "template" and o.key != root and o.source in ("", o.key)
                and states[o.key] == "other"]
    if not replaced:
        return
    first = replaced[0]
    readers = ", ".join(f"{template} at {pointer}" for template, pointer in first.referenced_by[:3]) or "the root"
    more = f" (and {len(replaced) - 1} more)" if len(replaced) > 1 else ""
    raise LiveChildError(
        f"s3://{bucket}/{first.key}{more} holds bytes that are not this run's (by S3's SHA-256 checksum): this nested "
        f"template is published under its source key, not a content key (its TemplateURL, read by {readers}, cannot "
        f"name one: the release-keys warning there says why, unless that rule is disabled), and replacing it would change what the live root reads before "
        f"the new root is written; nothing was uploaded. Write that TemplateURL as one string, or accept the "
        f"replacement with {REPLACE_OPTION}", file=f"s3://{bucket}/{first.key}")


def _state(client: S3Client, bucket: str, obj: ReleaseObject) -> str:
    """`same` when the bucket holds `obj.key` with the same SHA-256, `other` when it holds other bytes, else `absent`."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        head = within(deadline(client), lambda _expired: client.head_object(Bucket=bucket, Key=obj.key, ChecksumMode="ENABLED"),
                      where=f"s3://{bucket}/{obj.key}")
    except ClientError as exc:
        if str(exc.response.get("Error", {}).get("Code")) in ("404", "NoSuchKey", "NotFound"):
            return "absent"
        raise s3_error(exc, side="target", bucket=bucket, key=obj.key, option=OPTION) from None
    except BotoCoreError as exc:
        raise s3_error(exc, side="target", bucket=bucket, key=obj.key, option=OPTION) from None
    # S3's own checksum, which S3 verified when the object was stored; never the `sha256` metadata, which anyone
    # who may write the object can set over other bytes (such an object would be skipped forever)
    return "same" if head.get("ChecksumSHA256") == _b64(obj.sha256) else "other"


def _put(client: S3Client, bucket: str, folder: Path, obj: ReleaseObject, metadata: Mapping[str, str] | None = None) -> None:
    from botocore.exceptions import BotoCoreError, ClientError

    def send(_expired: threading.Event) -> None:
        with open(folder / obj.key, "rb") as body:
            client.put_object(
                Bucket=bucket, Key=obj.key, Body=body, ContentLength=obj.size,
                ChecksumAlgorithm="SHA256", ChecksumSHA256=_b64(obj.sha256),
                Metadata={**(metadata or {}), "sha256": obj.sha256},
            )

    try:
        within(deadline(client, obj.size), send, where=f"s3://{bucket}/{obj.key}")
    except FileNotFoundError:
        raise ReleaseError(f"object {obj.key} of the manifest is missing from the release folder", file=str(folder)) from None
    except (BotoCoreError, ClientError) as exc:
        raise s3_error(exc, side="target", bucket=bucket, key=obj.key, option=OPTION) from None


def _b64(sha256_hex: str) -> str:
    return base64.b64encode(bytes.fromhex(sha256_hex)).decode("ascii")

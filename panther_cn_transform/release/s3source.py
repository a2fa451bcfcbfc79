"""A release read straight from its S3 bucket, through a local cache that survives interruptions.

Only what release mode asks for is fetched: it follows the tree from `<release>/panther.yml`
and asks for each template (and waits for it, since its references lead further) and for
each asset (fetched in parallel while discovery goes on).  Every object is streamed to disk:

* `<cache>/objects/<bucket>/<key>`: complete objects, the bucket mirror release mode reads;
* `<cache>/state/<bucket>/etags/<key>`: the ETag each complete object had when fetched;
* `<cache>/state/<bucket>/partial/<key>.<etag digest>`: a download in progress.

A rerun asks S3 for each object's size and ETag (HEAD) and downloads nothing whose cached
copy has both; a partial download of the same ETag resumes with a `Range` request (and
`If-Match`, so an object replaced in between is never stitched from two versions).  Single-part
ETags are the object's MD5, which is checked before a download counts as complete.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Self

from ..errors import ReleaseError
from ..files import write_atomic
from ..partitions.bucket_names import region_of_bucket_name
from .keys import check_key
from .s3common import make_client, s3_error

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

OPTION = "--source-profile"
CHUNK = 1 << 20
BytesCallback = Callable[[int], None]


def default_cache_dir() -> Path:
    """`$XDG_CACHE_HOME/panther-cn-transform`, else `~/.cache/panther-cn-transform`."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "panther-cn-transform"


def parse_s3_url(url: str) -> str | None:
    """The bucket of `s3://BUCKET` (a trailing `/` allowed); None for anything that is not an S3 URL."""
    if not url.startswith("s3://"):
        return None
    bucket = url[len("s3://"):].rstrip("/")
    if not bucket or "/" in bucket:
        raise ReleaseError("an S3 source is a whole bucket: s3://BUCKET (the release is chosen with --release)", file=url)
    return bucket


@dataclass
class DownloadStats:
    """What a source fetched: objects over the network, objects the cache already had, bytes received."""

    downloaded: int = 0
    cached: int = 0
    bytes: int = 0


class S3Source:
    """The bucket `bucket` as a `source.ReleaseSource`, fetched into `cache_dir`.

    Use as a context manager (it owns a thread pool).  `client` defaults to one of its own
    session (`profile`) in the region the bucket's name ends with.  `on_bytes` is called
    with every chunk received (for a progress display); an exception it raises stops that
    download, leaving its partial file to resume from.
    """

    def __init__(
        self,
        bucket: str,
        *,
        cache_dir: str | Path | None = None,
        client: S3Client | None = None,
        profile: str | None = None,
        jobs: int = 8,
        on_bytes: BytesCallback | None = None,
        chunk_size: int = CHUNK,
    ) -> None:
        self._bucket = bucket
        root = Path(cache_dir) if cache_dir is not None else default_cache_dir()
        root = root.expanduser().resolve()
        self._folder = root / "objects" / bucket
        self._state = root / "state" / bucket
        self._client = client or make_client(profile, region_of_bucket_name(bucket), connections=max(jobs, 1))
        self._pool = ThreadPoolExecutor(max_workers=max(jobs, 1), thread_name_prefix="s3-download")
        self._futures: dict[str, Future[None]] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._on_bytes = on_bytes
        self._chunk = chunk_size
        self.stats = DownloadStats()

    # -- ReleaseSource ------------------------------------------------------------------

    @property
    def bucket(self) -> str:
        return self._bucket

    @property
    def folder(self) -> Path:
        return self._folder

    def fetch(self, key: str, needed_by: str, *, wait: bool) -> None:
        """Download `key` unless the cache has it (in the background unless `wait`).

        An unsafe key (`keys.unsafe_key`: `..`, absolute, ...) is refused here, before any
        request, whatever the caller checked: nothing is ever written outside the cache.
        """
        check_key(key, needed_by)
        with self._lock:
            future = self._futures.get(key)
            if future is None:
                future = self._pool.submit(self._download, key, needed_by)
                self._futures[key] = future
        if wait:
            future.result()

    def finish(self) -> None:
        """Wait for every download; the first error (in key order) is raised."""
        with self._lock:
            futures = sorted(self._futures.items())
        for _, future in futures:
            future.result()

    # -- lifetime -----------------------------------------------------------------------

    def close(self, *, abort: bool = False) -> None:
        """Wait for running downloads and end the pool; `abort` stops them after their current chunk.

        Downloads not yet started are cancelled either way; what an aborted one received
        stays in its partial file, for the next run to resume.
        """
        if abort:
            self._stopping.set()
        self._pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None) -> None:
        self.close(abort=error is not None)

    # -- downloading --------------------------------------------------------------------

    def _missing(self, key: str, needed_by: str) -> ReleaseError:
        """The error for a 404: a missing object, a missing release, or a missing bucket.

        Only the root's absence asks whether the bucket exists (HEAD on the bucket needs
        `s3:ListBucket`, which a reader of Panther's bucket may not have; if it is refused,
        the release is reported missing).
        """
        from botocore.exceptions import BotoCoreError, ClientError

        if needed_by != key:
            return ReleaseError(f"object {key!r} needed by {needed_by} is missing from the source bucket s3://{self._bucket}", file=needed_by)
        try:
            self._client.head_bucket(Bucket=self._bucket)
        except ClientError as exc:
            if str(exc.response.get("Error", {}).get("Code")) in ("404", "NoSuchBucket", "NotFound"):
                return s3_error(exc, side="source", bucket=self._bucket, option=OPTION)
        except BotoCoreError:
            pass
        return ReleaseError(f"release not found: no root template {key} in the source bucket; {self._releases_held()}",
                            file=f"s3://{self._bucket}/{key}")

    def _releases_held(self, pages: int = 10) -> str:
        """The bucket's top-level folders (its releases), for the error about a release it lacks.

        Listing needs `s3:ListBucket`; without it, say how to look instead of failing twice.
        """
        from botocore.exceptions import BotoCoreError, ClientError

        folders: list[str] = []
        try:
            paginator = self._client.get_paginator("list_objects_v2")
            for page in paginator.paginate(Bucket=self._bucket, Delimiter="/", PaginationConfig={"MaxItems": pages * 1000}):
                folders += [str(p["Prefix"]).rstrip("/") for p in page.get("CommonPrefixes", [])]
        except (BotoCoreError, ClientError):
            return f"list its releases with: aws s3 ls s3://{self._bucket}/ (choose one with --release)"
        if not folders:
            return "the bucket holds no release folder"
        return f"the bucket holds {', '.join(sorted(set(folders)))} (choose one with --release)"

    def _download(self, key: str, needed_by: str) -> None:
        try:
            self._fetch_one(key, needed_by)
        except (ConnectionError, TimeoutError):  # the network, not the disk: the partial file is kept
            raise
        except OSError as exc:  # the cache folder: permissions, a full disk, a file in the way
            raise ReleaseError(f"cannot write the download cache: {exc.strerror or exc}", file=str(exc.filename or self._folder)) from None

    def _fetch_one(self, key: str, needed_by: str) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            head = self._client.head_object(Bucket=self._bucket, Key=key)
        except ClientError as exc:
            if str(exc.response.get("Error", {}).get("Code")) in ("404", "NoSuchKey", "NotFound"):
                raise self._missing(key, needed_by) from None
            raise s3_error(exc, side="source", bucket=self._bucket, key=key, option=OPTION) from None
        except BotoCoreError as exc:
            raise s3_error(exc, side="source", bucket=self._bucket, key=key, option=OPTION) from None
        size, etag = int(head["ContentLength"]), str(head["ETag"])
        path, record = self._folder / key, self._state / "etags" / key
        for folder, base in ((path.parent, self._folder), (record.parent, self._state)):
            self._inside(folder, base, key)
        if path.is_file() and path.stat().st_size == size and record.is_file() and record.read_text("utf-8") == etag:
            with self._lock:
                self.stats.cached += 1
            return
        partial = self._state / "partial" / f"{key}.{hashlib.sha256(etag.encode()).hexdigest()[:16]}"
        try:
            self._stream(key, etag, size, partial)
        except (BotoCoreError, ClientError) as exc:
            raise s3_error(exc, side="source", bucket=self._bucket, key=key, option=OPTION) from None
        _check_complete(partial, size, etag, f"s3://{self._bucket}/{key}")
        record.unlink(missing_ok=True)
        path.parent.mkdir(parents=True, exist_ok=True)
        os.replace(partial, path)
        record.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(record, etag)
        with self._lock:
            self.stats.downloaded += 1

    def _inside(self, folder: Path, base: Path, key: str) -> None:
        """Create `folder` and refuse it unless it really is below `base` (a link in the cache could lead out)."""
        folder.mkdir(parents=True, exist_ok=True)
        if not folder.resolve().is_relative_to(base.resolve()):
            raise ReleaseError(f"the cache folder for object {key!r} is a link leading outside the cache ({folder}); "
                               "remove it", file=f"s3://{self._bucket}/{key}")

    def _stream(self, key: str, etag: str, size: int, partial: Path) -> None:
        """Append the rest of the object to `partial` (all of it when nothing is there yet)."""
        from botocore.exceptions import ClientError

        self._inside(partial.parent, self._state, key)
        offset = partial.stat().st_size if partial.is_file() else 0
        if offset > size:
            partial.unlink()
            offset = 0
        if offset == size and size > 0:
            return
        try:
            if offset:
                response = self._client.get_object(Bucket=self._bucket, Key=key, IfMatch=etag, Range=f"bytes={offset}-")
            else:
                response = self._client.get_object(Bucket=self._bucket, Key=key, IfMatch=etag)
        except ClientError as exc:
            if str(exc.response.get("Error", {}).get("Code")) in ("PreconditionFailed", "412"):
                partial.unlink(missing_ok=True)
                raise ReleaseError("the object changed while it was being downloaded; run again", file=f"s3://{self._bucket}/{key}") from None
            raise
        with os.fdopen(_open_partial(partial), "ab") as out:
            for chunk in response["Body"].iter_chunks(self._chunk):
                if self._stopping.is_set():
                    raise ReleaseError("download stopped; run again to resume it", file=f"s3://{self._bucket}/{key}")
                out.write(chunk)
                out.flush()
                with self._lock:
                    self.stats.bytes += len(chunk)
                if self._on_bytes:
                    self._on_bytes(len(chunk))


def _open_partial(path: Path) -> int:
    """The partial file opened for appending, never through a link (a planted link is refused)."""
    try:
        return os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0), 0o666)
    except OSError:
        if path.is_symlink():
            raise ReleaseError("a partial download in the cache is a symbolic link; remove it", file=str(path)) from None
        raise


def _check_complete(partial: Path, size: int, etag: str, where: str) -> None:
    """The download has the object's size and, for a single-part ETag, its MD5."""
    got = partial.stat().st_size if partial.is_file() else 0
    if got != size:
        if got > size:
            partial.unlink()
        raise ReleaseError(f"download ended at {got} of {size} bytes; run again to resume", file=where)
    digest = etag.strip('"')
    if len(digest) == 32 and "-" not in digest:
        md5 = hashlib.md5(usedforsecurity=False)
        with open(partial, "rb") as data:
            for block in iter(lambda: data.read(CHUNK), b""):
                md5.update(block)
        if md5.hexdigest() != digest:
            partial.unlink()
            raise ReleaseError("downloaded bytes do not match the object's ETag (MD5); run again", file=where)

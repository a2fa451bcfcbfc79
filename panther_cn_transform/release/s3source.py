"""A release read straight from its S3 bucket, through a local cache that survives interruptions.

Only what release mode asks for is fetched: it follows the tree from `<release>/panther.yml`
and asks for each template (and waits for it, since its references lead further) and for
each asset (fetched in parallel while discovery goes on).  Every object is streamed to disk:

* `<cache>/objects/<bucket>/<key>`: complete objects, the bucket mirror release mode reads;
* `<cache>/state/<bucket>/verified/<key>.json`: for each complete object, the ETag and size
  it had and the SHA-256 of its bytes, recorded once the download was confirmed;
* `<cache>/state/<bucket>/partial/<digest>` and `progress/<digest>.json`: a download in
  progress (named by a digest of key and ETag) and how many of its bytes were received,
  with their SHA-256.

Content, not metadata, decides.  A download counts as complete when it is confirmed: by
S3's own SHA-256 checksum where the object has one (asked for with `ChecksumMode`), else
by its ETag where that is the MD5 (a single-part object, not under SSE-KMS or SSE-C),
else by a complete answer of the announced length.  A rerun asks S3 for each object's
size and ETag (HEAD) and downloads nothing whose cached copy still has the recorded
SHA-256 (it is hashed again: other bytes of the same size are not trusted).  A partial
download resumes with a `Range` request and `If-Match` only from a prefix whose SHA-256
still matches its progress record, and the answer must carry the ETag and range asked
for (a server that ignores `If-Match` cannot stitch two versions); the whole object is
hashed, the resumed part included.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
import stat
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self, TypeVar

from ..errors import ReleaseError
from ..files import write_new
from ..limits import MAX_ASSET_BYTES, Limits
from ..partitions.bucket_names import region_of_bucket_name
from .keys import check_key
from .s3common import DEFAULT_TIMEOUT, deadline, make_client, s3_error, within

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

T = TypeVar("T")
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
    session (`profile`) in the region the bucket's name ends with, whose connect and read
    timeout is `timeout` seconds; every request also has an overall deadline
    (`s3common.within`).  `on_bytes` is called with every chunk received (for a progress
    display); an exception it raises stops that download, leaving its partial file to
    resume from.

    Sizes are checked on the HEAD, before a byte is downloaded, and again while the body
    streams: a template (a fetch that waits, since its references lead further) may have
    at most `max_template_bytes`, an asset `max_asset_bytes`.
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
        timeout: float = DEFAULT_TIMEOUT,
        max_template_bytes: int | None = None,
        max_asset_bytes: int = MAX_ASSET_BYTES,
    ) -> None:
        self._bucket = bucket
        root = Path(cache_dir) if cache_dir is not None else default_cache_dir()
        root = root.expanduser().resolve()
        self._folder = root / "objects" / bucket
        self._state = root / "state" / bucket
        self._client = client or make_client(profile, region_of_bucket_name(bucket), connections=max(jobs, 1), timeout=timeout)
        self._max_template = Limits().max_input_bytes if max_template_bytes is None else max_template_bytes
        self._max_asset = max_asset_bytes
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
                future = self._pool.submit(self._download, key, needed_by, wait)
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
            self._bounded(lambda _expired: self._client.head_bucket(Bucket=self._bucket), f"s3://{self._bucket}")
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

        def listing(_expired: threading.Event) -> None:
            paginator = self._client.get_paginator("list_objects_v2")
            for page in paginator.paginate(Bucket=self._bucket, Delimiter="/", PaginationConfig={"MaxItems": pages * 1000}):
                folders.extend(str(p["Prefix"]).rstrip("/") for p in page.get("CommonPrefixes", []))

        try:
            self._bounded(listing, f"s3://{self._bucket}", size=pages * 1000 * 1024)
        except (BotoCoreError, ClientError, ReleaseError):
            return f"list its releases with: aws s3 ls s3://{self._bucket}/ (choose one with --release)"
        if not folders:
            return "the bucket holds no release folder"
        return f"the bucket holds {', '.join(sorted(set(folders)))} (choose one with --release)"

    def _bounded(self, call: Callable[[threading.Event], T], where: str, size: int = 0) -> T:
        """`call` under the deadline of a request moving `size` bytes (`s3common.within`); Ctrl-C ends the wait."""
        return within(deadline(self._client, size), call, where=where, stop=self._stopping,
                      stopped="download stopped; run again to resume it")

    def _download(self, key: str, needed_by: str, template: bool) -> None:
        try:
            self._fetch_one(key, needed_by, template)
        except (ConnectionError, TimeoutError):  # the network, not the disk: the partial file is kept
            raise
        except OSError as exc:  # the cache folder: permissions, a full disk, a file in the way
            raise ReleaseError(f"cannot write the download cache: {exc.strerror or exc}", file=str(exc.filename or self._folder)) from None

    def _fetch_one(self, key: str, needed_by: str, template: bool) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        where = f"s3://{self._bucket}/{key}"
        try:
            head = self._bounded(lambda _expired: self._client.head_object(Bucket=self._bucket, Key=key, ChecksumMode="ENABLED"), where)
        except ClientError as exc:
            if str(exc.response.get("Error", {}).get("Code")) in ("404", "NoSuchKey", "NotFound"):
                raise self._missing(key, needed_by) from None
            raise s3_error(exc, side="source", bucket=self._bucket, key=key, option=OPTION) from None
        except BotoCoreError as exc:
            raise s3_error(exc, side="source", bucket=self._bucket, key=key, option=OPTION) from None
        size, etag = int(head["ContentLength"]), str(head["ETag"])
        limit, what, option = ((self._max_template, "template", "--max-input-bytes") if template
                               else (self._max_asset, "asset", "--max-asset-bytes"))
        if size > limit:
            raise ReleaseError(f"object {key!r} is {size:,} bytes (its size in S3), over the {limit:,}-byte {what} limit "
                               f"(raise it with {option}); it was not downloaded", file=needed_by)
        path, record = self._folder / key, self._state / "verified" / f"{key}.json"
        for folder, base in ((path.parent, self._folder), (record.parent, self._state)):
            self._inside(folder, base, key)
        if _verified(path, record, etag, size):
            with self._lock:
                self.stats.cached += 1
            return
        record.unlink(missing_ok=True)
        name = hashlib.sha256(f"{key}\0{etag}".encode()).hexdigest()[:32]
        partial, progress = self._state / "partial" / name, self._state / "progress" / f"{name}.json"
        for folder in (partial.parent, progress.parent):
            self._inside(folder, self._state, key)
        try:
            digests = self._stream(key, etag, size, partial, progress)
        except (BotoCoreError, ClientError) as exc:
            raise s3_error(exc, side="source", bucket=self._bucket, key=key, option=OPTION) from None
        try:
            confirmed = _confirm(head, digests, where)
        except ReleaseError:
            _discard(partial, progress)
            raise
        os.replace(partial, path)
        _write_record(record, json.dumps({"etag": etag, "size": size, "sha256": digests.sha256.hexdigest(), "confirmed": confirmed}))
        progress.unlink(missing_ok=True)
        with self._lock:
            self.stats.downloaded += 1

    def _inside(self, folder: Path, base: Path, key: str) -> None:
        """Create `folder` and refuse it unless it really is below `base` (a link in the cache could lead out)."""
        folder.mkdir(parents=True, exist_ok=True)
        if not folder.resolve().is_relative_to(base.resolve()):
            raise ReleaseError(f"the cache folder for object {key!r} is a link leading outside the cache ({folder}); "
                               "remove it", file=f"s3://{self._bucket}/{key}")

    def _stream(self, key: str, etag: str, size: int, partial: Path, progress: Path) -> _Digests:
        """The object's bytes in `partial`, resuming a verified earlier part; the digests of all of them.

        `progress` records how many bytes of `partial` were received and their SHA-256,
        after every chunk; a rerun resumes only from a prefix that still has that hash (the
        prefix is hashed again, whole), anything else starts over.  The answer must be the
        version asked for: its ETag (a server may ignore `If-Match`) and its range or length.
        """
        where = f"s3://{self._bucket}/{key}"
        digests, offset = _resume(partial, progress, etag, size)
        if offset == size:
            return digests
        return self._bounded(lambda expired: self._receive(key, etag, size, offset, digests, partial, progress, expired),
                             where, size=size - offset)

    def _receive(self, key: str, etag: str, size: int, offset: int, digests: _Digests, partial: Path, progress: Path,
                 expired: threading.Event) -> _Digests:
        """GET the object from `offset` and append it to `partial` (in `within`'s thread: stops once `expired`)."""
        from botocore.exceptions import ClientError

        where = f"s3://{self._bucket}/{key}"
        try:
            if offset:
                response = self._client.get_object(Bucket=self._bucket, Key=key, IfMatch=etag, Range=f"bytes={offset}-")
            else:
                response = self._client.get_object(Bucket=self._bucket, Key=key, IfMatch=etag)
        except ClientError as exc:
            if str(exc.response.get("Error", {}).get("Code")) in ("PreconditionFailed", "412"):
                _discard(partial, progress)
                raise ReleaseError("the object changed while it was being downloaded; run again", file=where) from None
            raise
        expected_range = f"bytes {offset}-{size - 1}/{size}" if offset else None
        if (response.get("ETag", etag) != etag or (offset and response.get("ContentRange") != expected_range)
                or int(response.get("ContentLength", size - offset)) != size - offset):
            response["Body"].close()
            _discard(partial, progress)
            raise ReleaseError("S3 answered with another version or range of the object than the one asked for "
                               "(the object changed, or the server ignored If-Match); run again", file=where)
        received = offset
        with os.fdopen(_open_partial(partial), "ab") as out:
            for chunk in response["Body"].iter_chunks(self._chunk):
                if self._stopping.is_set() or expired.is_set():
                    raise ReleaseError("download stopped; run again to resume it", file=where)
                received += len(chunk)
                if received > size:
                    response["Body"].close()
                    out.close()
                    _discard(partial, progress)
                    raise ReleaseError(f"S3 sent more than the {size:,} bytes it announced; run again", file=where)
                out.write(chunk)
                out.flush()
                digests.update(chunk)
                _write_record(progress, json.dumps({"etag": etag, "size": received, "sha256": digests.sha256.hexdigest()}))
                with self._lock:
                    self.stats.bytes += len(chunk)
                if self._on_bytes:
                    self._on_bytes(len(chunk))
        if received != size:
            raise ReleaseError(f"download ended at {received} of {size} bytes; run again to resume", file=where)
        return digests


class _Digests:
    """SHA-256 and MD5 of the bytes so far (MD5 only to compare with a single-part ETag)."""

    def __init__(self) -> None:
        self.sha256 = hashlib.sha256()
        self.md5 = hashlib.md5(usedforsecurity=False)

    def update(self, data: bytes) -> None:
        self.sha256.update(data)
        self.md5.update(data)


def _verified(path: Path, record: Path, etag: str, size: int) -> bool:
    """The cached object is the one S3 has: its record names this ETag and size, and its bytes still have the recorded SHA-256."""
    try:
        info = os.lstat(path)
        facts = json.loads(record.read_text("utf-8"))
    except (OSError, ValueError):
        return False
    if not stat.S_ISREG(info.st_mode) or info.st_size != size or not isinstance(facts, dict):
        return False
    if facts.get("etag") != etag or facts.get("size") != size or not isinstance(facts.get("sha256"), str):
        return False
    digest = hashlib.sha256()
    with os.fdopen(os.open(path, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)), "rb") as data:
        for block in iter(lambda: data.read(CHUNK), b""):
            digest.update(block)
    return bool(digest.hexdigest() == facts["sha256"])


def _resume(partial: Path, progress: Path, etag: str, size: int) -> tuple[_Digests, int]:
    """The digests of the verified prefix of `partial` and its length; 0 (and nothing on disk) when there is none."""
    digests = _Digests()
    try:
        facts = json.loads(progress.read_text("utf-8"))
        info = os.lstat(partial)
    except (OSError, ValueError):
        _discard(partial, progress)
        return digests, 0
    length = facts.get("size") if isinstance(facts, dict) else None
    if (not stat.S_ISREG(info.st_mode) or facts.get("etag") != etag or not isinstance(length, int)
            or not 0 < length <= min(size, info.st_size)):
        _discard(partial, progress)
        return digests, 0
    with os.fdopen(os.open(partial, os.O_RDWR | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)), "r+b") as data:
        data.truncate(length)  # bytes written after the last record are not vouched for
        for block in iter(lambda: data.read(CHUNK), b""):
            digests.update(block)
    if digests.sha256.hexdigest() != facts.get("sha256"):
        _discard(partial, progress)
        return _Digests(), 0
    return digests, length


def _write_record(path: Path, text: str) -> None:
    """Replace the small file `path` atomically; a link at its name is replaced, never followed."""
    temp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        write_new(temp, text.encode("utf-8"))
        os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)


def _discard(partial: Path, progress: Path) -> None:
    progress.unlink(missing_ok=True)
    partial.unlink(missing_ok=True)


def _open_partial(path: Path) -> int:
    """The partial file opened for appending, never through a link (a planted link is refused)."""
    try:
        return os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0), 0o666)
    except OSError:
        if path.is_symlink():
            raise ReleaseError("a partial download in the cache is a symbolic link; remove it", file=str(path)) from None
        raise


def _confirm(head: Mapping[str, Any], digests: _Digests, where: str) -> str:
    """How the complete download was confirmed to be the object: by S3's SHA-256, by its MD5 ETag, or by its length.

    S3's SHA-256 checksum (asked for with `ChecksumMode`) covers the whole object unless it
    is composite (`...-N`, from a multipart upload).  An ETag is the MD5 only for a
    single-part object not encrypted with SSE-KMS or SSE-C.  Otherwise the complete
    response of the announced length is all there is (and its SHA-256 is recorded).
    """
    checksum = str(head.get("ChecksumSHA256") or "")
    if checksum and "-" not in checksum and head.get("ChecksumType", "FULL_OBJECT") != "COMPOSITE":
        if base64.b64encode(digests.sha256.digest()).decode("ascii") != checksum:
            raise ReleaseError("downloaded bytes do not match the object's SHA-256 checksum; run again", file=where)
        return "sha256"
    etag = str(head.get("ETag", "")).strip('"')
    encrypted = head.get("ServerSideEncryption") in ("aws:kms", "aws:kms:dsse") or bool(head.get("SSECustomerAlgorithm"))
    if len(etag) == 32 and "-" not in etag and not encrypted:
        if digests.md5.hexdigest() != etag.lower():
            raise ReleaseError("downloaded bytes do not match the object's ETag (MD5); run again", file=where)
        return "md5"
    return "length"

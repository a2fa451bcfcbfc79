"""What the S3 source and the S3 target share: how clients are made, and one-line errors.

The two sides of a copy are different accounts in different partitions (Panther's global
bucket, the customer's China bucket), so each side gets its own boto3 session (its own
profile).  Everything else is boto3's standard behaviour: credentials from the profile or
the environment, endpoints from `AWS_ENDPOINT_URL` / `AWS_ENDPOINT_URL_S3` (botocore reads
them itself), and botocore's `standard` retry mode.

Every request is bounded in time three ways: a connect timeout and a read timeout
(`--s3-timeout`, botocore's `connect_timeout` / `read_timeout`: an endpoint that never
answers), and an overall deadline (`within`): an answer that trickles a byte every 20 s
never trips a read timeout, so each call, its retries and the body it streams must end
by `deadline` seconds (the timeout once per attempt, plus a second per `MIN_RATE` bytes
of the object).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from ..errors import ReleaseError
from ..partitions.endpoint_data import partition_for

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

T = TypeVar("T")
#: attempts per request in botocore's standard retry mode (its default is 3)
MAX_ATTEMPTS = 5
#: seconds to connect, and to wait for each read, in every S3 request (`--s3-timeout`)
DEFAULT_TIMEOUT = 60.0
#: the slowest transfer a deadline allows for an object's body: 64 KiB/s (a 2 GiB asset: 9 h 6 min)
MIN_RATE = 64 * 1024
_DENIED = {"AccessDenied", "403", "InvalidAccessKeyId", "SignatureDoesNotMatch", "AllAccessDisabled",
           "InvalidToken", "ExpiredToken", "AccountProblem"}
_MISSING_BUCKET = {"NoSuchBucket"}
_MISSING_KEY = {"NoSuchKey", "404", "NotFound"}
_OTHER_REGION = {"PermanentRedirect", "AuthorizationHeaderMalformed", "IllegalLocationConstraintException", "301"}


def make_client(profile: str | None, region: str | None, *, connections: int = 10, timeout: float = DEFAULT_TIMEOUT) -> S3Client:
    """An S3 client of its own session (`profile`, else the environment) for `region`.

    `timeout` is the connect and the read timeout of each request, in seconds.
    """
    import boto3
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError

    try:
        session = boto3.Session(profile_name=profile)
        return session.client(
            "s3",
            region_name=region,
            config=Config(retries={"mode": "standard", "max_attempts": MAX_ATTEMPTS}, max_pool_connections=connections,
                          connect_timeout=timeout, read_timeout=timeout),
        )
    except BotoCoreError as exc:  # ProfileNotFound, a broken config file, an unknown region
        raise ReleaseError(str(exc), file="<aws configuration>") from None


def deadline(client: S3Client, size: int = 0) -> float:
    """Seconds a request of `client` may take in all, moving `size` bytes: its timeouts per attempt, plus the body at `MIN_RATE`."""
    config = client.meta.config
    per_attempt = sum(float(getattr(config, name, None) or DEFAULT_TIMEOUT) for name in ("connect_timeout", "read_timeout"))
    return per_attempt * MAX_ATTEMPTS + size / MIN_RATE


def within(seconds: float, call: Callable[[threading.Event], T], *, where: str, stop: threading.Event | None = None,
           stopped: str = "stopped") -> T:
    """The result of `call(expired)`, run in a thread of its own; a `ReleaseError` if it has not ended after `seconds`.

    Why a thread: a server that answers a byte at a time never trips a socket timeout, and
    nothing else can interrupt a blocked read.  The thread is a daemon and is left to end
    with its socket (or the process); `expired` is set for it, so it writes nothing after
    the caller gave up.  `stop` (Ctrl-C, another download's error) ends the wait at once,
    raising a `ReleaseError` saying `stopped`.
    """
    expired = threading.Event()
    done = threading.Event()
    outcome: list[T] = []
    failure: list[BaseException] = []

    def run() -> None:
        try:
            outcome.append(call(expired))
        except BaseException as exc:  # noqa: BLE001 - handed to the waiting thread, which raises it
            failure.append(exc)
        finally:
            done.set()

    threading.Thread(target=run, name="s3-request", daemon=True).start()
    end = time.monotonic() + seconds
    while not done.wait(min(0.25, max(end - time.monotonic(), 0.0))):
        if stop is not None and stop.is_set():
            expired.set()
            raise ReleaseError(stopped, file=where)
        if time.monotonic() >= end:
            expired.set()
            raise ReleaseError(f"no complete answer from S3 within {seconds:,.0f} s (a server that does not answer, or "
                               "answers too slowly; the deadline follows --s3-timeout); run again", file=where)
    if failure:
        raise failure[0]
    return outcome[0]


def s3_error(exc: BaseException, *, side: str, bucket: str, key: str | None = None, option: str = "") -> ReleaseError:
    """One line for what went wrong talking to S3, naming the bucket and what to change.

    `side` is `source` or `target`; `option` the command-line option that picks its
    credentials (`--source-profile`).
    """
    from botocore.exceptions import ClientError, EndpointConnectionError, NoCredentialsError, PartialCredentialsError

    where = f"s3://{bucket}/{key}" if key else f"s3://{bucket}"
    hint = f" (pass {option} PROFILE, or set the standard AWS environment)" if option else ""
    if isinstance(exc, (NoCredentialsError, PartialCredentialsError)):
        return ReleaseError(f"no AWS credentials for the {side} bucket{hint}", file=where)
    if isinstance(exc, EndpointConnectionError):
        return ReleaseError(f"cannot reach the S3 endpoint of the {side} bucket: {exc}", file=where)
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code = str(error.get("Code", ""))
        if code in _DENIED:
            return ReleaseError(f"access denied to the {side} bucket ({code}): its credentials may not use it{hint}", file=where)
        if code in _MISSING_BUCKET or (code in _MISSING_KEY and key is None):
            fix = ("create it in the target region, or give another --bucket" if side == "target"
                   else "check the name in SOURCE (s3://BUCKET)")
            return ReleaseError(f"the {side} bucket {bucket} does not exist (or is in another partition): {fix}", file=where)
        if code in _MISSING_KEY:
            return ReleaseError(f"object {key} is missing from the {side} bucket", file=where)
        if code in _OTHER_REGION:
            return ReleaseError(f"the {side} bucket is in another region or partition than its client ({code})", file=where)
        message = str(error.get("Message", "")) or str(exc)
        return ReleaseError(f"S3 error on the {side} bucket: {code}: {message}", file=where)
    return ReleaseError(f"S3 error on the {side} bucket: {exc}", file=where)


def check_partition(bucket: str, location: str, region: str, *, side: str) -> None:
    """Refuse a bucket outside `region`: its objects would not serve templates built for `region`."""
    if partition_for(location) != partition_for(region):
        raise ReleaseError(
            f"the {side} bucket is in {location} (partition {partition_for(location)}), not in the "
            f"{partition_for(region)} partition of {region}",
            file=f"s3://{bucket}",
        )
    if location != region:
        raise ReleaseError(
            f"the {side} bucket is in {location}, but the release is built for {region}: the templates "
            f"would point at https://{bucket}.s3.{region}...; use a bucket in {region}",
            file=f"s3://{bucket}",
        )


def bucket_location(client: S3Client, bucket: str, *, side: str, option: str) -> str | None:
    """The region of `bucket` (GetBucketLocation; `None` there means us-east-1).

    None when the credentials may not ask (`s3:GetBucketLocation` is not needed to upload;
    a bucket they cannot use still fails, one line, at the first object).
    """
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        answer = within(deadline(client), lambda _expired: client.get_bucket_location(Bucket=bucket), where=f"s3://{bucket}")
    except ClientError as exc:
        if str(exc.response.get("Error", {}).get("Code")) == "AccessDenied":
            return None
        raise s3_error(exc, side=side, bucket=bucket, option=option) from None
    except BotoCoreError as exc:
        raise s3_error(exc, side=side, bucket=bucket, option=option) from None
    location = answer.get("LocationConstraint") or "us-east-1"
    return "eu-west-1" if location == "EU" else str(location)

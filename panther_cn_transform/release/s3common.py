"""What the S3 source and the S3 target share: how clients are made, and one-line errors.

The two sides of a copy are different accounts in different partitions (Panther's global
bucket, the customer's China bucket), so each side gets its own boto3 session (its own
profile).  Everything else is boto3's standard behaviour: credentials from the profile or
the environment, endpoints from `AWS_ENDPOINT_URL` / `AWS_ENDPOINT_URL_S3` (botocore reads
them itself), and botocore's `standard` retry mode.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import ReleaseError
from ..partitions.endpoint_data import partition_for

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

#: attempts per request in botocore's standard retry mode (its default is 3)
MAX_ATTEMPTS = 5
_DENIED = {"AccessDenied", "403", "InvalidAccessKeyId", "SignatureDoesNotMatch", "AllAccessDisabled",
           "InvalidToken", "ExpiredToken", "AccountProblem"}
_MISSING_BUCKET = {"NoSuchBucket"}
_MISSING_KEY = {"NoSuchKey", "404", "NotFound"}
_OTHER_REGION = {"PermanentRedirect", "AuthorizationHeaderMalformed", "IllegalLocationConstraintException", "301"}


def make_client(profile: str | None, region: str | None, *, connections: int = 10) -> S3Client:
    """An S3 client of its own session (`profile`, else the environment) for `region`."""
    import boto3
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError

    try:
        session = boto3.Session(profile_name=profile)
        return session.client(
            "s3",
            region_name=region,
            config=Config(retries={"mode": "standard", "max_attempts": MAX_ATTEMPTS}, max_pool_connections=connections),
        )
    except BotoCoreError as exc:  # ProfileNotFound, a broken config file, an unknown region
        raise ReleaseError(str(exc), file="<aws configuration>") from None


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
        answer = client.get_bucket_location(Bucket=bucket)
    except ClientError as exc:
        if str(exc.response.get("Error", {}).get("Code")) == "AccessDenied":
            return None
        raise s3_error(exc, side=side, bucket=bucket, option=option) from None
    except BotoCoreError as exc:
        raise s3_error(exc, side=side, bucket=bucket, option=option) from None
    location = answer.get("LocationConstraint") or "us-east-1"
    return "eu-west-1" if location == "EU" else str(location)

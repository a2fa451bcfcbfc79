"""A local AWS to try `deploy` on: moto in server mode, completed for CloudFormation, and a stand-in bridge.

    python tests/local_aws.py --port 5000

runs until Ctrl-C and prints the two settings that point the command line at it:

    export AWS_ENDPOINT_URL=http://127.0.0.1:5000 PANTHER_CN_BRIDGE_URL=http://127.0.0.1:5001/prod

moto runs CloudFormation in its server's process, so the resource models it lacks are added
there (tests/moto_cloudformation.py, the same code the tests use; docs/testing.md lists what it
adds).  moto's API Gateway serves no stage, so the bridge is a local HTTP server on the next
port, accepting exactly the API keys moto's API Gateway has enabled on the bridge's usage plan
(a key the rotation retired is refused) and answering the guide's `listIntegrations` with an
empty list.  The buckets of docs/release.md (`my-cn-bucket` in cn-north-1, `my-web-bucket` in
ap-southeast-1) are created at start.  Credentials are moto's: any key id and secret.
"""

from __future__ import annotations

import argparse
import sys
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests import moto_cloudformation
from tests.aws_servers import FAKE_CREDENTIALS, fake_bridge, moto_server

BUCKETS = {"my-cn-bucket": "cn-north-1", "my-web-bucket": "ap-southeast-1"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--port", type=int, default=5000, help="moto's port (the bridge takes the next one; 0: any free ports)")
    parser.add_argument("--china-region", default="cn-north-1", help="the region whose API keys the bridge accepts")
    args = parser.parse_args(argv)

    import logging

    import boto3

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line per request
    moto_cloudformation.install()
    with moto_server(args.port) as url, fake_bridge("unset", port=args.port + 1 if args.port else 0) as bridge:
        bridge.accepts = lambda key: key in moto_cloudformation.bridge_keys(args.china_region)
        bridge.answers["panther-source-api"] = []
        for bucket, region in BUCKETS.items():
            boto3.client("s3", region_name=region, endpoint_url=url, **FAKE_CREDENTIALS).create_bucket(
                Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": region})
        print(f"export AWS_ENDPOINT_URL={url} PANTHER_CN_BRIDGE_URL={bridge.url}", flush=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())

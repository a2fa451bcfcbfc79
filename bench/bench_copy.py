"""Benchmark: bucket to bucket (`release s3://... --upload`) against moto, --jobs 1 against the default.

    python bench/bench_copy.py [MIRROR] [--release v1.16.0] [--repeat 5] [--no-verify]

Starts moto in server mode on a free local port, puts the mirror (default: the Panther
v1.16.0 mirror of the shared corpus) into a bucket `panther-enterprise-us-west-1`, and
times the whole command line as a user runs it (a new process each time): download into
an empty cache, transform, verify (unless --no-verify), upload into an empty China bucket.
The two settings alternate, so a change in the machine's load hits both alike; prints
medians, spreads (min-max) and the ratio.
"""

from __future__ import annotations

import argparse
import logging
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import boto3
from moto.server import ThreadedMotoServer

DEFAULT = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "panther-release" / "panther-enterprise-us-west-1"
SOURCE, TARGET = "panther-enterprise-us-west-1", "my-cn-bucket"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("mirror", nargs="?", default=os.environ.get("PANTHER_CN_MIRROR", str(DEFAULT)))
    parser.add_argument("--release", default="v1.16.0")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--no-verify", action="store_true", help="time the copy without the cfn-lint verification")
    args = parser.parse_args()
    mirror = Path(args.mirror)
    if not mirror.is_dir():
        sys.exit(f"mirror not found: {mirror}")

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    environment = {**os.environ, "AWS_ENDPOINT_URL": url, "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench"}
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
        environment.pop(name, None)

    def fresh_buckets() -> None:
        urllib.request.urlopen(urllib.request.Request(f"{url}/moto-api/reset", method="POST"), timeout=30).close()
        source = boto3.client("s3", region_name="us-west-1", endpoint_url=url, aws_access_key_id="bench", aws_secret_access_key="bench")
        source.create_bucket(Bucket=SOURCE, CreateBucketConfiguration={"LocationConstraint": "us-west-1"})
        for path in sorted(mirror.rglob("*")):
            if path.is_file():
                source.put_object(Bucket=SOURCE, Key=path.relative_to(mirror).as_posix(), Body=path.read_bytes())
        target = boto3.client("s3", region_name="cn-north-1", endpoint_url=url, aws_access_key_id="bench", aws_secret_access_key="bench")
        target.create_bucket(Bucket=TARGET, CreateBucketConfiguration={"LocationConstraint": "cn-north-1"})

    def copy(jobs: list[str]) -> float:
        fresh_buckets()
        with tempfile.TemporaryDirectory() as scratch:
            command = [sys.executable, "-m", "panther_cn_transform", "release", f"s3://{SOURCE}", "--release", args.release,
                       "--region", "cn-north-1", "--bucket", TARGET, "--upload", "--cache-dir", scratch, *jobs,
                       *(["--no-verify"] if args.no_verify else [])]
            start = time.perf_counter()
            done = subprocess.run(command, env=environment, capture_output=True, text=True, check=False)
            elapsed = time.perf_counter() - start
        if done.returncode != 0:
            sys.exit(f"copy failed: {done.stderr.strip()}")
        return elapsed

    try:
        serial: list[float] = []
        default: list[float] = []
        for _ in range(args.repeat):
            serial.append(copy(["--jobs", "1"]))
            default.append(copy([]))
    finally:
        server.stop()

    def line(name: str, times: list[float]) -> str:
        return f"  {name:<10} median {statistics.median(times):6.2f} s   spread {min(times):6.2f} - {max(times):6.2f} s"

    verify = "without verification" if args.no_verify else "with cfn-lint verification"
    print(f"release {args.release} bucket to bucket against moto, {verify}, {args.repeat} runs each (cores: {os.cpu_count()})")
    print(line("--jobs 1", serial))
    print(line("default", default))
    print(f"  speed-up of the default: {statistics.median(serial) / statistics.median(default):4.2f}x")


if __name__ == "__main__":
    main()

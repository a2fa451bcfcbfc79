"""Benchmark: release mode with 1 worker against N workers, in one run.

    python bench/bench_release.py [SOURCE_DIR] [--release v1.16.0] [--repeat 5] [--jobs 2]

Defaults to the Panther release mirror of the shared corpus.  Runs with `check=True`
(everything but writing) so the disk does not dominate; prints medians and the speed-up.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from panther_cn_transform import load_rules, transform_release

DEFAULT = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "panther-release" / "panther-enterprise-us-west-1"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", nargs="?", default=str(DEFAULT))
    parser.add_argument("--release", default="v1.16.0")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    rules = load_rules("panther")

    def run(jobs: int) -> float:
        start = time.perf_counter()
        transform_release(args.source, release=args.release, region="cn-north-1", bucket="my-cn-bucket",
                          rules=rules, out_dir="unused", jobs=jobs, check=True)
        return time.perf_counter() - start

    serial = statistics.median(run(1) for _ in range(args.repeat))
    parallel = statistics.median(run(args.jobs) for _ in range(args.repeat))
    print(f"release {args.release}: median of {args.repeat} runs")
    print(f"  --jobs 1        {serial * 1000:8.1f} ms")
    print(f"  --jobs {args.jobs:<8} {parallel * 1000:8.1f} ms")
    print(f"speed-up = {serial / parallel:4.2f}")


if __name__ == "__main__":
    main()

"""Benchmark: the command line's transform with the garbage collector held off until exit, against without.

    python bench/bench_cli_gc.py [--sizes 500,4500] [--repeat 5]

For each size, generates a template with bench/bench_transform.py's generator (500
resources: ~1.1 MB; 4,500: ~10 MB) and runs the whole command as a user does, in a new
process each time:

    transform FILE --rules china --region cn-north-1 -o OUT --report REPORT.md --patch PATCH.json

* held - the command as shipped (`cli.collector_held`: the cyclic collector stays off until
  the command returns)
* as before - the same command with `cli.collector_held` replaced by a no-op, so the collector
  runs again as soon as the library's transform returns

Both go through the same small runner; they alternate, in a rotating order, so the
machine's load hits both alike.  Prints medians, spreads (min - max), the ratio of
medians and the outputs' sizes (both variants must write the same bytes).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_transform import generate  # the one generator of the large-template benchmarks

ROOT = Path(__file__).resolve().parents[1]
RUNNER = """\
import contextlib, sys
import panther_cn_transform.cli as cli
if sys.argv[1] == "as before":
    cli.collector_held = contextlib.nullcontext
sys.exit(cli.main(sys.argv[2:]))
"""
VARIANTS = ("held", "as before")


def run_once(variant: str, template: Path, out: Path, env: dict[str, str]) -> tuple[float, str]:
    command = [sys.executable, "-c", RUNNER, variant, "transform", str(template), "--rules", "china", "--region",
               "cn-north-1", "-o", str(out / "out.yml"), "--report", str(out / "report.md"), "--patch",
               str(out / "patch.json")]
    start = time.perf_counter()
    subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, check=True)
    elapsed = time.perf_counter() - start
    digest = hashlib.sha256(b"".join((out / name).read_bytes() for name in ("out.yml", "report.md", "patch.json")))
    return elapsed, digest.hexdigest()


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sizes", default="500,4500", help="comma-separated resource counts (500: ~1.1 MB)")
    parser.add_argument("--repeat", type=int, default=5, help="runs per variant and size")
    args = parser.parse_args()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    print(f"CLI transform (china pack), {args.repeat} interleaved runs per variant, Python {sys.version.split()[0]}")
    with tempfile.TemporaryDirectory() as folder:
        for resources in (int(size) for size in args.sizes.split(",")):
            template = Path(folder) / f"template-{resources}.yml"
            template.write_text(generate(resources))
            out = Path(folder) / "out"
            out.mkdir(exist_ok=True)
            times: dict[str, list[float]] = {variant: [] for variant in VARIANTS}
            digests = {run_once(variant, template, out, env)[1] for variant in VARIANTS}  # warm-up, untimed
            for round_number in range(args.repeat):
                order = VARIANTS if round_number % 2 == 0 else VARIANTS[::-1]
                for variant in order:
                    elapsed, digest = run_once(variant, template, out, env)
                    times[variant].append(elapsed)
                    digests.add(digest)
            assert len(digests) == 1, "the variants wrote different outputs"
            print(f"\n{template.stat().st_size:,} bytes ({resources} resources)")
            for variant in VARIANTS:
                values = times[variant]
                print(f"  {variant:10} median {statistics.median(values):7.3f} s   spread {min(values):7.3f} - {max(values):7.3f} s")
            ratio = statistics.median(times["as before"]) / statistics.median(times["held"])
            print(f"  as before / held = {ratio:.2f}")


if __name__ == "__main__":
    main()

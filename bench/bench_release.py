"""Benchmark: a whole release through the command line, default `--jobs` against `--jobs 1` and `--jobs 2`.

    python bench/bench_release.py [SOURCE_DIR] [--release v1.16.0] [--repeat 9]
    python bench/bench_release.py --generated 2x500 [--repeat 9]

Defaults to the Panther release mirror of the shared corpus (`PANTHER_CN_CORPUS` or
`../shared/corpus`).  `--generated COUNTxRESOURCES` builds a release instead: a root with
COUNT nested stacks, each a template of RESOURCES resources made by bench_transform.py's
generator (500 resources: ~1.1 MB), all at one depth.  Each run is the whole
command as a user runs it, in a new process (start-up, rule loading, the worker pool
when there is one):

    python -m panther_cn_transform release SOURCE_DIR --release v1.16.0 --region cn-north-1 \\
        --bucket my-cn-bucket --check [--jobs N]

`--check` does everything but write, so the disk does not dominate.  The variants
alternate in a rotating order so the machine's load hits all alike.  Prints, per
variant, the median wall-clock time and its spread (min - max), the median CPU time
(user + system, the command and its workers) and the ratio of medians to `--jobs 1`.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_transform import generate  # the one generator of the large-template benchmarks

ROOT = Path(__file__).resolve().parents[1]
CORPUS = Path(os.environ.get("PANTHER_CN_CORPUS") or ROOT.parent / "shared" / "corpus")  # as tests/corpus.py finds it
DEFAULT = CORPUS / "panther-release" / "panther-enterprise-us-west-1"
VARIANTS: dict[str, list[str]] = {"default": [], "--jobs 1": ["--jobs", "1"], "--jobs 2": ["--jobs", "2"]}


def run_once(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall-clock seconds, CPU seconds of the command and its workers)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, check=False)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed: {done.stderr.decode(errors='replace')[-500:]}")
    return elapsed, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def generated_release(folder: Path, count: int, resources: int) -> Path:
    """A bucket mirror with release v0.0.0: a root naming `count` generated templates (each different)."""
    mirror = folder / "panther-enterprise-us-west-1"
    (mirror / "v0.0.0").mkdir(parents=True)
    root = ["AWSTemplateFormatVersion: '2010-09-09'", "Description: generated release", "Resources:"]
    for index in range(count):
        data = f"# generated template {index}\n{generate(resources)}".encode()
        key = hashlib.sha1(data).hexdigest()
        (mirror / key).write_bytes(data)
        root += [f"  Stack{index}:", "    Type: AWS::CloudFormation::Stack", "    Properties:",
                 f"      TemplateURL: https://{mirror.name}.s3.us-west-1.amazonaws.com/{key}"]
    (mirror / "v0.0.0" / "panther.yml").write_text("\n".join(root) + "\n")
    return mirror


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("source", nargs="?", default=str(DEFAULT))
    parser.add_argument("--release", default="v1.16.0")
    parser.add_argument("--repeat", type=int, default=9, help="rounds (each runs every variant once)")
    parser.add_argument("--generated", metavar="COUNTxRESOURCES", help="a generated release instead, e.g. 2x500")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        if args.generated:
            count, _, resources = args.generated.partition("x")
            args.source = str(generated_release(Path(folder), int(count), int(resources)))
            args.release = "v0.0.0"
        measure(args)


def measure(args: argparse.Namespace) -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    base = [sys.executable, "-m", "panther_cn_transform", "release", args.source, "--release", args.release,
            "--region", "cn-north-1", "--bucket", "my-cn-bucket", "--check"]
    names = list(VARIANTS)
    wall: dict[str, list[float]] = {name: [] for name in names}
    cpu: dict[str, list[float]] = {name: [] for name in names}
    for name in names:  # warm the file cache and the bytecode, untimed
        run_once(base + VARIANTS[name], env)
    loads: list[float] = []  # the default picks its workers from the load average: say what it saw
    for round_number in range(args.repeat):
        shift = round_number % len(names)
        for name in names[shift:] + names[:shift]:
            if name == "default":
                loads.append(os.getloadavg()[0])
            elapsed, used = run_once(base + VARIANTS[name], env)
            wall[name].append(elapsed)
            cpu[name].append(used)
    serial = statistics.median(wall["--jobs 1"])
    sizes = sorted(path.stat().st_size for path in Path(args.source).iterdir() if path.is_file())
    print(f"release {args.release} of {Path(args.source).name} ({args.generated or 'mirror'}; largest objects "
          f"{', '.join(f'{size:,}' for size in sizes[-3:])} bytes)")
    print(f"--check, {args.repeat} interleaved rounds, {os.cpu_count()} CPUs, "
          f"Python {sys.version.split()[0]}")
    print(f"the default ran at 1-minute load {min(loads):.2f} - {max(loads):.2f} (release.scheduling.default_workers: workers only for "
          f"large templates at one depth and idle CPUs)")
    print(f"{'variant':10} {'median':>9} {'spread (min - max)':>22} {'CPU':>9} {'/ --jobs 1':>11}")
    for name in names:
        median = statistics.median(wall[name])
        print(f"{name:10} {median * 1000:6.0f} ms {min(wall[name]) * 1000:9.0f} - {max(wall[name]) * 1000:5.0f} ms"
              f" {statistics.median(cpu[name]) * 1000:6.0f} ms {median / serial:11.2f}")


if __name__ == "__main__":
    main()

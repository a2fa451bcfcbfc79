"""Benchmark: start-up of the command against `python -c pass`, interleaved in one run.

    python bench/bench_startup.py [--repeat 21]

Each round starts, in a fresh interpreter (`sys.executable`, not a shell shim), one after
the other and in a rotating order so that the machine's load hits all alike:

* baseline   - `python -c pass`
* help       - `python -m panther_cn_transform --help`
* rules-help - `python -m panther_cn_transform rules --help`
* transform  - `python -m panther_cn_transform transform examples/global-stack.yaml --rules china
  --region cn-north-1` (a 1.5 KB template; output to /dev/null)
* check      - the same with `--check` (issue 28's measure: at most 8x the baseline)

The package's bytecode is compiled first (`compileall`, as `pip install` does), so that a
machine with `PYTHONDONTWRITEBYTECODE` set does not time the compiler on every start.

and prints each command's median wall-clock time, its spread (min - max) and the ratio
of medians to the baseline.  Only the ratios mean anything across machines.

    python bench/bench_startup.py --against ../main

also runs the three commands with the package of another checkout (e.g. before a change),
interleaved in the same rounds.
"""

from __future__ import annotations

import argparse
import compileall
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COMMAND = [sys.executable, "-m", "panther_cn_transform"]
CASES: dict[str, list[str]] = {
    "python -c pass": [sys.executable, "-c", "pass"],
    "--help": [*COMMAND, "--help"],
    "rules --help": [*COMMAND, "rules", "--help"],
    "transform (global-stack.yaml, china)": [
        *COMMAND, "transform", str(ROOT / "examples" / "global-stack.yaml"), "--rules", "china", "--region", "cn-north-1",
    ],
    "transform --check (global-stack.yaml, china)": [
        *COMMAND, "transform", str(ROOT / "examples" / "global-stack.yaml"), "--rules", "china", "--region", "cn-north-1",
        "--check",
    ],
}


def environment(root: Path) -> tuple[dict[str, str], Path]:
    """The environment and working folder that import the package from checkout `root` (`-m` puts the
    working folder first on the path)."""
    return {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(root), os.environ.get("PYTHONPATH")]))}, root


def run_once(command: list[str], where: tuple[dict[str, str], Path]) -> float:
    env, cwd = where
    start = time.perf_counter()
    done = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd=cwd, check=False)
    if done.returncode not in (0, 1):  # 1: --check found changes
        raise SystemExit(f"{' '.join(command)} exited with {done.returncode}")
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--repeat", type=int, default=21, help="rounds (each runs every command once)")
    parser.add_argument("--against", type=Path, help="another checkout whose package to time in the same rounds")
    args = parser.parse_args()
    cases = {name: (command, environment(ROOT)) for name, command in CASES.items()}
    if args.against:
        for name, command in list(CASES.items())[1:]:
            cases[f"{name} [{args.against.resolve().name}]"] = (command, environment(args.against.resolve()))
    for root in {ROOT, *([args.against.resolve()] if args.against else [])}:
        compileall.compile_dir(str(root / "panther_cn_transform"), quiet=1)
    names = list(cases)
    times: dict[str, list[float]] = {name: [] for name in names}
    for name in names:  # warm the file cache once, untimed
        run_once(*cases[name])
    for round_number in range(args.repeat):
        shift = round_number % len(names)
        for name in names[shift:] + names[:shift]:
            times[name].append(run_once(*cases[name]))
    baseline = statistics.median(times[names[0]])
    print(f"start-up, {args.repeat} interleaved rounds, {sys.executable} (Python {sys.version.split()[0]})")
    print(f"{'command':47} {'median':>9} {'spread (min - max)':>21} {'/ baseline':>10}")
    for name in names:
        values = times[name]
        median = statistics.median(values)
        print(f"{name:47} {median * 1000:7.1f} ms {min(values) * 1000:8.1f} - {max(values) * 1000:6.1f} ms"
              f" {median / baseline:10.2f}")


if __name__ == "__main__":
    main()

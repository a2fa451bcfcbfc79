"""Benchmark: the worst templates within the default limits, each one CLI run with `--patch --report`.

    python bench/bench_bounds.py [--repeat 3] [--cases aliases,chain,userdata,resources] [--timeout 400]
    python bench/bench_bounds.py --cases userdata-join --scale 0.2 --repeat 6 --against ../other-checkout

Why: docs/limits.md promises that a template within the limits cannot exhaust the machine.
The worst cases are not large files but small ones whose cost grows faster than their size;
each is generated at the size the default limits allow (issue 26, "Bounds"):

* **aliases** - YAML aliases doubling level by level (`&l1 [*l0, *l0]`, ...) in a kept
  resource's Metadata, as many levels as the default limits allow (`max_alias_values`; on
  main, before that limit, 19 levels fit in `max_nodes`: `--levels 19`), the anchored leaf a
  list of partition ARNs, so every repeated value is rewritten;
* **chain** - a resource type China lacks (`AWS::Cognito::UserPool`) referenced by resource 1,
  which resource 2 references, ... 10,000 links: the removal cascades down the whole chain;
* **userdata** - an EC2 instance whose `UserData` is a 150,000-line `Fn::Sub` script (about
  8 MB), a partition ARN and an S3 host on every line;
* **userdata-join** - the same as an `Fn::Join` of 150,000 one-line parts, each with an ARN
  and an S3 URL (how cfn-flip and the CloudFormation designer write scripts);
* **resources** - 10,000 resources, each with an ARN and a host the rules rewrite.

Each runs `python -m panther_cn_transform transform CASE --region cn-north-1 --bucket
my-cn-bucket -o OUT --patch P --report R` in a fresh process; `os.wait4` gives that process's
own CPU time and peak RSS (`ru_maxrss`), beside its wall time.  The baseline is the same
command on a small template (`examples/global-stack.yaml`), run in the same rounds on equal
terms, so a loaded machine shows in both.  Medians and spreads (min-max) over `--repeat`
rounds; the target is at most 30 s and 1 GiB per case, the time judged in CPU time (on a
shared machine the wall time is the load's as much as the run's; on an idle one they agree).

`--against DIR` measures a change: every case also runs with another checkout's package
(`DIR` first on PYTHONPATH), the two trees taking turns within each round (which goes first
alternates), and the ratio of the medians of CPU time (this tree / that one) is printed per
case.  The baseline is mostly the interpreter's start and too noisy to judge a change by.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "examples" / "global-stack.yaml"
TARGET_SECONDS = 30.0
TARGET_BYTES = 1 << 30
HEADER = "AWSTemplateFormatVersion: '2010-09-09'\nDescription: bounds benchmark\n"


def aliases(leaf: int = 8, levels: int | None = None, scale: float = 1.0) -> str:
    """Doubling aliases (`&l1 [*l0, *l0]`, ...) of a list of `leaf` ARNs, as many levels as the default limits allow.

    An alias repeats its anchor's values; levels are added while the values repeated stay
    within `Limits().max_alias_values` (and the values within `max_nodes`), so the template
    is the largest of its shape that the defaults accept.
    """
    from panther_cn_transform.limits import Limits

    limits = Limits()
    budget = int(getattr(limits, "max_alias_values", limits.max_nodes) * scale)  # before the alias limit: max_nodes
    lines = [HEADER, "Resources:\n  Topic:\n    Type: AWS::SNS::Topic\n    Metadata:\n"]
    lines.append("      l0: &l0 [" + ", ".join(f"arn:aws:s3:::bucket/key{i}" for i in range(leaf)) + "]\n")
    size, repeated, values, level = leaf + 1, 0, leaf + 1, 0
    while (level < levels if levels is not None else
           repeated + 2 * size <= budget and values + 2 * size + 1 <= limits.max_nodes):
        level += 1
        lines.append(f"      l{level}: &l{level} [*l{level - 1}, *l{level - 1}]\n")
        repeated, values, size = repeated + 2 * size, values + 2 * size + 1, 2 * size + 1
    return "".join(lines)


def chain(links: int = 10_000) -> str:
    """A removed resource at the head of a chain of `links` resources, each referencing the one before."""
    parts = [HEADER, "Resources:\n  Pool:\n    Type: AWS::Cognito::UserPool\n    Properties:\n      UserPoolName: pool\n"]
    previous = "Pool"
    for i in range(1, links + 1):
        parts.append(f"  Link{i}:\n    Type: AWS::SNS::Topic\n    Properties:\n      TopicName: !GetAtt {previous}.Arn\n")
        previous = f"Link{i}"
    return "".join(parts)


def userdata(lines: int = 150_000) -> str:
    """An instance whose UserData is a `lines`-line `Fn::Sub` script with a partition ARN on every line."""
    script = "".join(f"          cp arn:aws:s3:::b-${{AWS::Region}}/k{i} /opt/{i}\n" for i in range(lines))
    return (HEADER + "Resources:\n  Host:\n    Type: AWS::EC2::Instance\n    Properties:\n      ImageId: ami-1\n"
            "      UserData:\n        Fn::Base64: !Sub |\n" + script)


def userdata_join(lines: int = 150_000) -> str:
    """The same script written as CloudFormation's designers and cfn-flip write it: an `Fn::Join` of one part per line."""
    items = "".join(f"            - \"arn:aws:s3:::b/{i} https://s3.amazonaws.com/b\\n\"\n" for i in range(lines))
    return (HEADER + "Resources:\n  Host:\n    Type: AWS::EC2::Instance\n    Properties:\n      ImageId: ami-1\n"
            "      UserData:\n        Fn::Base64:\n          Fn::Join:\n          - ''\n          -\n" + items)


def resources(count: int = 10_000) -> str:
    """`count` queues, each with an ARN and a host the rules rewrite."""
    parts = [HEADER, "Resources:\n"]
    parts.extend(
        f"  Queue{i}:\n    Type: AWS::SQS::Queue\n    Properties:\n      QueueName: q{i}\n"
        f"      RedrivePolicy:\n        deadLetterTargetArn: arn:aws:sqs:us-west-2:123456789012:dead-{i}\n"
        f"        maxReceiveCount: 5\n      Tags:\n        - Key: url\n          Value: https://s3.amazonaws.com/b/{i}\n"
        for i in range(count)
    )
    return "".join(parts)


SIZES = {"chain": 10_000, "userdata": 150_000, "userdata-join": 150_000, "resources": 10_000}
CASES = {"aliases": aliases, "chain": chain, "userdata": userdata, "userdata-join": userdata_join, "resources": resources}


def measure(template: Path, timeout: float, cap: int | None = None, root: Path = ROOT) -> tuple[float, float, int, int]:
    with tempfile.TemporaryDirectory() as folder:
        command_folder = Path(folder)
        return _run_wait4(template, command_folder, timeout, cap, root)


def _run_wait4(template: Path, folder: Path, timeout: float, cap: int | None, root: Path = ROOT) -> tuple[float, float, int, int]:
    """One CLI run reaped by `os.wait4` (its own rusage, not the sum over every child)."""
    command = [sys.executable, "-m", "panther_cn_transform", "transform", str(template), "--region", "cn-north-1",
               "--bucket", "my-cn-bucket", "-o", str(folder / "out.yaml"), "--patch", str(folder / "patch.json"),
               "--report", str(folder / "report.md")]
    env = dict(os.environ, PYTHONPATH=str(root) + os.pathsep + os.environ.get("PYTHONPATH", ""))

    def limit() -> None:
        if cap is not None:
            resource.setrlimit(resource.RLIMIT_AS, (cap, cap))

    start = time.monotonic()
    errors = (folder / "stderr.txt").open("wb")  # a file, not a pipe: thousands of warnings would fill a pipe and block
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=errors, env=env, cwd=folder,
                               preexec_fn=limit)  # noqa: PLW1509 - this process starts no threads
    deadline = start + timeout
    while True:
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            break
        if time.monotonic() > deadline:
            process.kill()
        time.sleep(0.05)
    wall = time.monotonic() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    code = process.returncode
    errors.close()
    message = (folder / "stderr.txt").read_text(errors="replace").strip().splitlines()[-1:]
    if code not in (0, 1):
        print(f"    exit {code}: {' '.join(message)[:300]}", file=sys.stderr)
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss * 1024, code


def spread(values: list[float], unit: float, suffix: str) -> str:
    return f"{statistics.median(values) / unit:8.2f}{suffix} ({min(values) / unit:.2f}-{max(values) / unit:.2f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--cases", default=",".join(CASES), help="comma-separated: " + ", ".join(CASES))
    parser.add_argument("--timeout", type=float, default=400.0, help="seconds before a run is killed")
    parser.add_argument("--alias-leaf", type=int, default=8, help="ARNs in the anchored leaf of the aliases case")
    parser.add_argument("--alias-levels", type=int, help="doubling levels (default: as many as the limits allow)")
    parser.add_argument("--memory-cap", type=float, help="GiB of address space per run (RLIMIT_AS); a run past it fails")
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of each case's size (a quick try: 0.01)")
    parser.add_argument("--against", type=Path, help="another checkout: each case also runs with its package, in turns")
    args = parser.parse_args()
    if args.against is not None and not (args.against / "panther_cn_transform" / "__init__.py").is_file():
        parser.error(f"--against {args.against}: no panther_cn_transform package there")
    sys.path.insert(0, str(ROOT))  # the checkout this file is in, as its runs use (PYTHONPATH)
    names = args.cases.split(",")
    results: dict[str, list[tuple[float, float, int, int]]] = {name: [] for name in ["baseline", *names]}
    with tempfile.TemporaryDirectory() as folder:
        paths = {"baseline": BASELINE}
        for name in names:
            if name == "aliases":
                text = aliases(args.alias_leaf, args.alias_levels, args.scale)
            else:
                text = CASES[name](max(1, int(SIZES[name] * args.scale)))
            paths[name] = Path(folder) / f"{name}.yaml"
            paths[name].write_text(text)
            print(f"{name}: {len(text.encode()):,} bytes", flush=True)
        print(f"load average at start: {os.getloadavg()[0]:.2f}", flush=True)
        cap = int(args.memory_cap * 2**30) if args.memory_cap else None
        other: dict[str, list[float]] = {name: [] for name in results}
        for round_ in range(args.repeat):
            for name, rows in results.items():
                trees = [ROOT] if args.against is None else [ROOT, args.against][:: 1 if round_ % 2 == 0 else -1]
                for root in trees:
                    measured = measure(paths[name], args.timeout, cap, root)
                    if root == ROOT:
                        rows.append(measured)
                    else:
                        other[name].append(measured[1])
                    wall, cpu, rss, code = measured
                    label = name if root == ROOT else f"{name} (against)"
                    print(f"  round {round_ + 1} {label:20} wall {wall:7.2f} s  cpu {cpu:7.2f} s  rss {rss / 2**20:7.0f} MiB  "
                          f"exit {code}  (load {os.getloadavg()[0]:.2f})", flush=True)
    print(f"\nmedian (min-max) of {args.repeat} rounds; target: <= {TARGET_SECONDS:g} s of CPU time and <= 1 GiB per case "
          f"(wall time is the machine's load as much as the run's: load {os.getloadavg()[0]:.2f} now)")
    print(f"{'case':10} {'wall':>24} {'cpu':>24} {'peak RSS':>26}  cpu/baseline  meets")
    base_cpu = statistics.median(r[1] for r in results["baseline"])
    for name, rows in results.items():
        walls, cpus, rsses = [r[0] for r in rows], [r[1] for r in rows], [float(r[2]) for r in rows]
        ok = all(r[3] in (0, 1) for r in rows) and max(cpus) <= TARGET_SECONDS and max(rsses) <= TARGET_BYTES
        print(f"{name:10} {spread(walls, 1, ' s'):>24} {spread(cpus, 1, ' s'):>24} {spread(rsses, 2**20, ' MiB'):>26}"
              f"  {statistics.median(cpus) / base_cpu:12.1f}  {'yes' if ok else 'NO'}")
    if args.against is not None:
        print(f"\nagainst {args.against}: CPU time, median (min-max), and this tree / that one")
        for name, rows in results.items():
            mine, theirs = [r[1] for r in rows], other[name]
            print(f"{name:10} this {spread(mine, 1, ' s'):>24}  that {spread(theirs, 1, ' s'):>24}  "
                  f"ratio {statistics.median(mine) / statistics.median(theirs):.3f}")


if __name__ == "__main__":
    main()

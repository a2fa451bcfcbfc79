"""Benchmark: aliases whose anchors are inside removed resources, at several alias counts.

    python bench/bench_aliases.py [--aliases 0,500,1000,2000,4000] [--size 1100000] [--repeat 7]

Every template is padded to the same size (~1 MB) with ordinary resources, so that only
the number of aliases changes.  Each alias points at an anchor inside an
`AWS::Cognito::UserPool` (a type cn-north-1 lacks, so the resource is removed): YAML 1.1
scalars (`0777`, `on`, `1.10`) and a policy statement with an ARN the partition rule
rewrites.  Two kept resources alias each anchor, so half the aliases must become copies
(the first of each pair carries the anchor) and half keep pointing at it.

For every alias count the run times, on the same text and interleaved round by round:

* baseline  - `yaml.load(text, Loader=CSafeLoader)` (plus a constructor for short tags)
* transform - decode + the `china` rules + render (alias repair included) + verify

and prints medians and spreads (min-max), the time each alias adds over the template with
none, and the ratios of those extra times between counts (linear: ratio of the counts).
It also checks every output: each copied alias keeps its source text, and the output's
value count stays within the default `max_nodes` limit.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import yaml
from bench_transform import _TagLoader  # CSafeLoader plus the short tags, as in bench_transform.py

GONE = """\
  Gone{i}:
    Type: AWS::Cognito::UserPool
    Properties:
      UserPoolName: pool-{i}
    Metadata:
      Mode: &mode{i} 0777
      Switch: &switch{i} on
      Ratio: &ratio{i} 1.10
      Statement: &statement{i}
        Effect: Allow            # shared with the topics
        Action: [s3:GetObject, s3:PutObject]
        Resource: arn:aws:s3:::bucket-{i}/*
"""
KEPT = """\
  Kept{i}x{k}:
    Type: AWS::SNS::Topic
    Metadata:
      Mode: *mode{i}
      Switch: *switch{i}
      Ratio: *ratio{i}
      Statement: *statement{i}
"""
ALIASES_PER_GONE = 8  # four anchors, each aliased by two kept topics
FILLER = """\
  Filler{i}:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: !Sub "queue-{i}-${{AWS::Region}}"
      VisibilityTimeout: 60
      RedrivePolicy:
        deadLetterTargetArn: arn:aws:sqs:us-west-2:123456789012:dead-letters-{i}
        maxReceiveCount: 5
      Tags:
        - Key: team
          Value: platform   # owner of queue {i}
        - Key: cost-center
          Value: '0042'
"""


def generate(aliases: int, size: int) -> str:
    """A template with `aliases` aliases of anchors in removed resources, padded to `size` characters."""
    parts = ["AWSTemplateFormatVersion: '2010-09-09'\nDescription: alias benchmark\nResources:\n"]
    for i in range(aliases // ALIASES_PER_GONE):
        parts.append(GONE.format(i=i))
        parts.extend(KEPT.format(i=i, k=k) for k in range(2))
    filler = 0
    length = sum(map(len, parts))
    while length < size:
        parts.append(FILLER.format(i=filler))
        length += len(parts[-1])
        filler += 1
    return "".join(parts)


def timings(run: Callable[[], object]) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def check(text: str, output: str, aliases: int) -> tuple[int, int]:
    """Every copy keeps the anchored text; returns (values in the output, the limit)."""
    from panther_cn_transform.decode import _ModelBuilder, decode_text
    from panther_cn_transform.limits import Limits

    for i in range(aliases // ALIASES_PER_GONE):
        for expected in (f"Mode: &mode{i} 0777\n", f"Switch: &switch{i} on\n", f"Ratio: &ratio{i} 1.10\n", f"Mode: *mode{i}\n"):
            assert expected in output, expected
    template = decode_text(output)
    builder = _ModelBuilder(template.source, Limits())
    builder.build(template.root)
    return builder.count, Limits().max_nodes


def spread(values: list[float]) -> str:
    return f"{statistics.median(values) * 1000:8.1f} ms  ({min(values) * 1000:.1f}-{max(values) * 1000:.1f})"


def main() -> None:
    from panther_cn_transform import load_rules, transform_text

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--aliases", default="0,500,1000,2000,4000", help="comma-separated alias counts")
    parser.add_argument("--size", type=int, default=1_100_000, help="characters per template")
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()

    counts = [int(c) for c in args.aliases.split(",")]
    rules = load_rules("china")
    texts = {n: generate(n, args.size) for n in counts}
    for n, text in texts.items():
        result = transform_text(text, rules, region="cn-north-1")
        values, limit = check(text, result.text, n)
        print(f"{n:5} aliases: {len(text):,} chars in, {len(result.text):,} out, {len(result.edits)} edits, "
              f"{values:,} values in the output (limit {limit:,})")

    baseline: dict[int, list[float]] = {n: [] for n in counts}
    transform: dict[int, list[float]] = {n: [] for n in counts}
    for _ in range(args.repeat):  # round by round, so that machine noise hits every count alike
        for n in counts:
            baseline[n].append(timings(lambda: yaml.load(texts[n], Loader=_TagLoader)))
            transform[n].append(timings(lambda: transform_text(texts[n], rules, region="cn-north-1")))

    print(f"\nmedian (min-max) of {args.repeat} runs")
    print(f"{'aliases':>7}  {'CSafeLoader':>28}  {'transform':>28}  transform/baseline")
    for n in counts:
        ratio = statistics.median(transform[n]) / statistics.median(baseline[n])
        print(f"{n:7}  {spread(baseline[n]):>28}  {spread(transform[n]):>28}  {ratio:.2f}")
    zero = min(counts)
    extra = {n: statistics.median(transform[n]) - statistics.median(transform[zero]) for n in counts if n != zero}
    if extra:
        print(f"\ntime added over {zero} aliases (median difference):")
        for n, seconds in extra.items():
            print(f"{n:7} aliases: {seconds * 1000:8.1f} ms = {seconds / (n - zero) * 1e6:6.1f} us per alias")
        pairs = [(a, b) for a, b in zip(sorted(extra), sorted(extra)[1:])]
        for a, b in pairs:
            print(f"extra({b}) / extra({a}) = {extra[b] / extra[a]:.2f}  (linear: {(b - zero) / (a - zero):.2f})")


if __name__ == "__main__":
    main()

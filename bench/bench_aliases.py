"""Benchmark: aliases whose anchors are inside removed resources, at several alias counts.

    python bench/bench_aliases.py [--aliases 0,1000,2000,4000,8000,12000] [--size 1100000] [--repeat 9]

Every template holds the same 1,500 `AWS::Cognito::UserPool` resources (a type cn-north-1
lacks, so all are removed), each with four anchors: YAML 1.1 scalars (`0777`, `on`,
`1.10`) and a policy statement with an ARN the partition rule rewrites.  Only the number
of kept aliases pointing into them changes: two kept topics alias each anchor of the
first n/8 pools, so half the aliases become copies (the first of each pair carries the
anchor) and half keep pointing at it.  Ordinary resources pad every template to the same
size (~1 MB).  The template with 0 aliases does all the same removals, so the difference
is what the aliases cost.

For every alias count the run measures, on the same text, interleaved round by round,
the CPU time of this process (`time.process_time`: the machine is shared, and CPU time
is far less disturbed by other processes than wall-clock time):

* baseline  - `yaml.load(text, Loader=CSafeLoader)` (plus a constructor for short tags),
  with the cyclic collector paused as the transform does
* transform - decode + the `china` rules + render (alias repair included) + verify
* render    - the renderer alone, on the decoded template and the edits of the transform

and prints medians and spreads (min-max), the time the aliases add over the template
with none, a least-squares line through the medians (time per alias) and the ratios of
the extra times between counts (linear: the ratio of the counts).  It also checks every
output: each copied alias keeps its source text, and the output's value count stays
within the default `max_nodes` limit.
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import time
from collections.abc import Callable
from functools import partial

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


POOLS = 1500  # removed resources with anchors, in every template


def generate(aliases: int, size: int) -> str:
    """A template with `aliases` aliases of anchors in removed resources, padded to `size` characters."""
    if aliases > POOLS * ALIASES_PER_GONE:
        raise SystemExit(f"at most {POOLS * ALIASES_PER_GONE} aliases")
    parts = ["AWSTemplateFormatVersion: '2010-09-09'\nDescription: alias benchmark\nResources:\n"]
    for i in range(POOLS):
        parts.append(GONE.format(i=i))
        if i < aliases // ALIASES_PER_GONE:
            parts.extend(KEPT.format(i=i, k=k) for k in range(2))
    filler = 0
    length = sum(map(len, parts))
    while length < size:
        parts.append(FILLER.format(i=filler))
        length += len(parts[-1])
        filler += 1
    return "".join(parts)


def cpu_seconds(run: Callable[[], object]) -> float:
    start = time.process_time()
    run()
    return time.process_time() - start


def _load(text: str) -> object:
    from panther_cn_transform._gc import collector_paused

    with collector_paused():  # on equal terms: the transform pauses the cyclic collector too
        return yaml.load(text, Loader=_TagLoader)


def render_only(text: str, rules: object) -> Callable[[], object]:
    """The renderer's work for `text`: the same template, edits and substitutions as a transform."""
    from panther_cn_transform import transform_text
    from panther_cn_transform._gc import collector_paused
    from panther_cn_transform.model.edits import EditLog, list_alignment
    from panther_cn_transform.render import render

    result = transform_text(text, rules, region="cn-north-1")  # type: ignore[arg-type]
    log = EditLog(result.template.model)
    for edit in result.edits:
        log.apply(edit)
    alignment = list_alignment(result.template.model, log.edits)
    substitutions = log.substitutions()

    def run() -> str:
        with collector_paused():
            return render(result.template, log.model, substitutions, alignment)

    assert run() == result.text
    return run


def check(text: str, output: str, aliases: int) -> tuple[int, int]:
    """Every copy keeps the anchored text; returns (values in the output, the limit)."""
    from panther_cn_transform.limits import Limits
    from panther_cn_transform.model.builder import ModelBuilder
    from panther_cn_transform.model.decode import decode_text

    for i in range(aliases // ALIASES_PER_GONE):
        for expected in (f"Mode: &mode{i} 0777\n", f"Switch: &switch{i} on\n", f"Ratio: &ratio{i} 1.10\n", f"Mode: *mode{i}\n"):
            assert expected in output, expected
    template = decode_text(output)
    builder = ModelBuilder(template.source, Limits())
    builder.build(template.root)
    return builder.count, Limits().max_nodes


def spread(values: list[float]) -> str:
    return f"{statistics.median(values) * 1000:8.1f} ms  ({min(values) * 1000:.1f}-{max(values) * 1000:.1f})"


def main() -> None:
    from panther_cn_transform import load_rules, transform_text

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--aliases", default="0,1000,2000,4000,8000,12000", help="comma-separated alias counts")
    parser.add_argument("--size", type=int, default=1_100_000, help="characters per template")
    parser.add_argument("--repeat", type=int, default=9)
    args = parser.parse_args()

    counts = sorted(int(c) for c in args.aliases.split(","))
    rules = load_rules("china")
    texts = {n: generate(n, args.size) for n in counts}
    for n, text in texts.items():
        result = transform_text(text, rules, region="cn-north-1")
        values, limit = check(text, result.text, n)
        print(f"{n:5} aliases: {len(text):,} chars in, {len(result.text):,} out, {len(result.edits)} edits, "
              f"{values:,} values in the output (limit {limit:,})")

    renders = {n: render_only(texts[n], rules) for n in counts}
    measured: dict[str, dict[int, list[float]]] = {"baseline": {}, "transform": {}, "render": {}}
    for _ in range(args.repeat):  # round by round, so that machine noise hits every count alike
        for n in counts:
            text = texts[n]
            measured["baseline"].setdefault(n, []).append(cpu_seconds(partial(_load, text)))
            measured["transform"].setdefault(n, []).append(cpu_seconds(partial(transform_text, text, rules, region="cn-north-1")))
            measured["render"].setdefault(n, []).append(cpu_seconds(renders[n]))

    print(f"\nCPU time, median (min-max) of {args.repeat} runs")
    print(f"{'aliases':>7}  " + "  ".join(f"{name:>28}" for name in measured) + "  transform/baseline")
    for n in counts:
        ratio = statistics.median(measured["transform"][n]) / statistics.median(measured["baseline"][n])
        print(f"{n:7}  " + "  ".join(f"{spread(measured[name][n]):>28}" for name in measured) + f"  {ratio:.2f}")
    zero = min(counts)
    for name in ("transform", "render"):
        medians = {n: statistics.median(measured[name][n]) for n in counts}
        slope, intercept = _line(list(medians), list(medians.values()))
        print(f"\n{name}: least squares through the medians: {intercept * 1000:.1f} ms + {slope * 1e6:.1f} us per alias")
        extra = {n: medians[n] - medians[zero] for n in counts if n != zero}
        for n, seconds in extra.items():
            print(f"  {n:5} aliases add {seconds * 1000:7.1f} ms over {zero} ({seconds / (n - zero) * 1e6:6.1f} us per alias)")
        ordered = sorted(extra)
        for a, b in itertools.pairwise(ordered):
            print(f"  extra({b}) / extra({a}) = {extra[b] / extra[a]:.2f}  (linear: {(b - zero) / (a - zero):.2f})")


def _line(xs: list[int], ys: list[float]) -> tuple[float, float]:
    """Slope and intercept of the least-squares line through the points."""
    mean_x, mean_y = statistics.fmean(xs), statistics.fmean(ys)
    slope = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys)) / sum((x - mean_x) ** 2 for x in xs)
    return slope, mean_y - slope * mean_x


if __name__ == "__main__":
    main()

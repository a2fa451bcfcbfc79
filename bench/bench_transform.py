"""Benchmark: transform time against PyYAML's C loader (and `json`), on equal terms, in one run.

    python bench/bench_transform.py [--resources 500] [--repeat 15] [--format yaml,json] [--flip]

Generates a ~1 MB YAML template with ~500 resources (short tags, Sub strings, IAM
policies with ARNs, inline code) and its JSON form (the same model, `json.dumps(indent=2)`),
then times, on the same text, interleaved round by round with the order alternating
(baseline first in even rounds, transform first in odd ones):

* baseline  - YAML: `yaml.load(text, Loader=_TagLoader)` (CSafeLoader plus a constructor
  for the short tags); JSON: `json.loads(text)`.  Run with the cyclic collector paused
  exactly as the transform pauses it (`_gc.collector_paused`), and the loaded value is
  dropped before the next run, so neither side carries the other's garbage.
* transform - decode + the `china` rules + render + verify (`transform_text`), run the
  same way: the collector paused around the whole call and the result dropped inside
  the pause.  (`transform_text` pauses it itself from the decode to its end; without the
  outer pause the collector, enabled again, scans the returned result at the caller's
  next allocations, a cost the baseline's dropped value never has.  `--caller` times that
  too.)

Before every timed call the collector runs once (untimed), so each call starts from the
same heap.  Times are CPU time of this process (`time.process_time`: the machine is
shared, and CPU time is far less disturbed by other processes than wall-clock time);
wall-clock medians are printed beside them.  Prints medians, spreads (min-max), the ratio
of the medians and the median of the per-round ratios.

    python bench/bench_transform.py --flip

also times cfn-flip (load + dump), three runs, for the cfn-flip / transform ratio.

    python bench/bench_transform.py --removals 3700 --megabytes 10

times instead the transform of a ~10 MB template in which 3,700 resources are of a type
the target region lacks (`AWS::Cognito::UserPool`: removed, with every reference repaired:
a function's environment variable becomes a new parameter, a policy's resource entry is
dropped), against the same text with a type the region has (`AWS::SNS::Topic`: nothing
removed), interleaved: what removal planning and rendering the removals cost.

    python bench/bench_transform.py --floor

also times, against the same baseline, the parsing a transform that changes something
must do whatever its rules cost: decode the input (for YAML with the node tree the
renderer needs), and parse the rendered output for the renderer's check (`render`
re-parses every result and compares it with the planned model; for JSON whose changes
are all strings, `json.loads`).  What is left between the floor and the transform is the
rules, the edit bookkeeping and rendering.

    python bench/bench_transform.py --caller

also times the transform as a library caller sees it, against the same baseline: the
collector enabled again when `transform_text` returns, with the result alive until the
caller drops it (the command line keeps the collector paused to its exit instead).

    python bench/bench_transform.py --without edit_property,rewrite_alias_zones

also times the pack without the rules of those actions, interleaved with the whole pack
in the same process, and prints both medians, their spreads and the ratio: what those
rules cost.
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import yaml

RESOURCE = """\
  Role{i}:
    Type: AWS::IAM::Role
    Properties:
      RoleName: !Sub "app-role-{i}-${{AWS::Region}}"
      AssumeRolePolicyDocument:
        Version: '2012-10-17'
        Statement:
          - Effect: Allow
            Principal:
              Service: lambda.amazonaws.com
            Action: sts:AssumeRole
      ManagedPolicyArns:
        - arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole
      Policies:
        - PolicyName: access-{i}
          PolicyDocument:
            Statement:
              - Effect: Allow
                Action: [s3:GetObject, s3:PutObject]
                Resource:
                  - !Sub arn:aws:s3:::${{Bucket{i}}}/*
                  - 'arn:aws:s3:::shared-bucket-{i}/*'
              - Effect: Allow
                Action: sqs:SendMessage
                Resource: !GetAtt Queue{i}.Arn   # queue of this function
              - Sid: ReadParameters{i}
                Effect: Allow
                Action:
                  - ssm:GetParameter
                  - ssm:GetParameters
                  - ssm:GetParametersByPath
                Resource:
                  - !Sub arn:aws:ssm:${{AWS::Region}}:${{AWS::AccountId}}:parameter/app/{i}/*
                  - !Sub arn:aws:ssm:${{AWS::Region}}:${{AWS::AccountId}}:parameter/shared/*
              - Sid: WriteLogs{i}
                Effect: Allow
                Action: [logs:CreateLogGroup, logs:CreateLogStream, logs:PutLogEvents]
                Resource: !Sub "arn:aws:logs:${{AWS::Region}}:${{AWS::AccountId}}:log-group:/aws/lambda/fn-{i}:*"
              - Sid: Decrypt{i}
                Effect: Allow
                Action: kms:Decrypt
                Resource: '*'
                Condition:
                  StringEquals:
                    kms:ViaService: !Sub "sqs.${{AWS::Region}}.amazonaws.com"
  Queue{i}:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: !Join ['-', [queue, '{i}', !Ref AWS::Region]]
      VisibilityTimeout: 60
  Bucket{i}:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: !Sub "data-{i}-${{AWS::AccountId}}"
  Function{i}:
    Type: AWS::Lambda::Function
    Properties:
      Runtime: python3.12
      Handler: index.handler
      Role: !GetAtt Role{i}.Arn
      Environment:
        Variables:
          QUEUE_URL: !Ref Queue{i}
          TOPIC: arn:aws:sns:us-west-2:123456789012:topic-{i}
      Code:
        ZipFile: |
          import os
          import json
          import logging

          LOGGER = logging.getLogger(__name__)
          LOGGER.setLevel(logging.INFO)


          def handler(event, context):
              # function {i}: forwards to arn:aws:sqs:us-west-2:123456789012:q
              LOGGER.info("received %s records", len(event.get("Records", [])))
              for record in event.get("Records", []):
                  body = json.loads(record["body"])
                  LOGGER.debug("record %s", body.get("id"))
              return {{"queue": os.environ["QUEUE_URL"], "n": {i}}}
  StateMachine{i}:
    Type: AWS::StepFunctions::StateMachine
    Properties:
      RoleArn: !GetAtt Role{i}.Arn
      DefinitionString: !Sub |
        {{
          "Comment": "pipeline {i}",
          "StartAt": "Step0",
          "States": {{
{states}
            "Done": {{"Type": "Succeed"}}
          }}
        }}
  Alarm{i}:
    Type: AWS::CloudWatch::Alarm
    Properties:
      AlarmDescription: !Sub "Errors of function {i} in ${{AWS::StackName}}"
      Namespace: AWS/Lambda
      MetricName: Errors
      Dimensions:
        - Name: FunctionName
          Value: !Ref Function{i}
      Statistic: Sum
      Period: 300
      EvaluationPeriods: 1
      Threshold: 1
      ComparisonOperator: GreaterThanOrEqualToThreshold
      AlarmActions:
        - !Sub arn:aws:sns:${{AWS::Region}}:${{AWS::AccountId}}:alerts
"""


STATE = """\
            "Step{n}": {{
              "Type": "Task",
              "Resource": "arn:aws:states:::lambda:invoke",
              "Parameters": {{"FunctionName": "${{Function{i}.Arn}}", "Payload.$": "$"}},
              "Retry": [{{"ErrorEquals": ["States.TaskFailed"], "IntervalSeconds": 2, "MaxAttempts": 3}}],
              "Next": "{next}"
            }},
"""
GROUP = 6  # resources per group in RESOURCE

REMOVABLE = """\
  Pool{j}:
    Type: {pool_type}
    Properties:
      UserPoolName: !Sub "pool-{j}-${{AWS::StackName}}"
  PoolUser{j}:
    Type: AWS::Lambda::Function
    Properties:
      Handler: index.handler
      Runtime: python3.12
      Role: !GetAtt Role{i}.Arn
      Code: {{ZipFile: 'def handler(event, context): return event'}}
      Environment:
        Variables:
          POOL_ID: !Ref Pool{j}
          QUEUE_URL: !Ref Queue{i}
  PoolPolicy{j}:
    Type: AWS::IAM::ManagedPolicy
    Properties:
      PolicyDocument:
        Statement:
          - Effect: Allow
            Action: [cognito-idp:AdminGetUser, cognito-idp:ListUsers]
            Resource:
              - !GetAtt Pool{j}.Arn
              - !Sub arn:aws:cognito-idp:${{AWS::Region}}:${{AWS::AccountId}}:userpool/shared-{j}
"""
REMOVED_TYPE, KEPT_TYPE = "AWS::Cognito::UserPool", "AWS::SNS::Topic"


def generate(resources: int) -> str:
    """A template of `resources` resources (groups of six) in the style of real stacks."""
    head = "AWSTemplateFormatVersion: '2010-09-09'\nDescription: generated benchmark template\nResources:\n"
    groups = []
    for i in range(resources // GROUP):
        states = "".join(STATE.format(i=i, n=n, next=f"Step{n + 1}" if n < 27 else "Done") for n in range(28))
        groups.append(RESOURCE.format(i=i, states=states.rstrip("\n")))
    return head + "".join(groups)


def generate_with_removable(megabytes: float, removable: int, *, removed: bool) -> str:
    """About `megabytes` of groups plus `removable` pools (each with a user and a policy).

    With `removed` the pools are of a type the China regions lack (the transform removes
    them and repairs their references); without, of one they have: otherwise the same text.
    """
    pool_type = REMOVED_TYPE if removed else KEPT_TYPE
    pools_size = len(REMOVABLE.format(j=0, i=0, pool_type=KEPT_TYPE)) * removable
    group_size = len(generate(GROUP)) - len(generate(0))
    groups = max(1, int((megabytes * 1_000_000 - pools_size) // group_size))
    text = generate(groups * GROUP)
    return text + "".join(REMOVABLE.format(j=j, i=j % groups, pool_type=pool_type) for j in range(removable))


class _TagLoader(yaml.CSafeLoader):
    """CSafeLoader plus the short-form tags (as cfn-flip and cfn-lint build them)."""


def _construct_tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> object:
    if isinstance(node, yaml.ScalarNode):
        return {suffix: loader.construct_scalar(node)}
    if isinstance(node, yaml.SequenceNode):
        return {suffix: loader.construct_sequence(node, deep=True)}
    return {suffix: loader.construct_mapping(node, deep=True)}  # type: ignore[arg-type]


_TagLoader.add_multi_constructor("!", _construct_tag)


@dataclass
class Timing:
    """CPU and wall-clock seconds of repeated runs of one thing."""

    cpu: list[float] = field(default_factory=list)
    wall: list[float] = field(default_factory=list)

    def run(self, call: Callable[[], object]) -> None:
        gc.collect()  # untimed: every run starts from the same heap
        wall, cpu = time.perf_counter(), time.process_time()
        call()  # the result is dropped at once: nothing large outlives the run
        self.cpu.append(time.process_time() - cpu)
        self.wall.append(time.perf_counter() - wall)

    def line(self, name: str) -> str:
        cpu, wall = self.cpu, self.wall
        return (f"  {name:<28} CPU median {statistics.median(cpu) * 1000:8.1f} ms  ({min(cpu) * 1000:.1f}-{max(cpu) * 1000:.1f})"
                f"   wall median {statistics.median(wall) * 1000:8.1f} ms  ({min(wall) * 1000:.1f}-{max(wall) * 1000:.1f})")


def compare(name: str, baseline: Callable[[], object], transform: Callable[[], object], repeat: int,
            labels: tuple[str, str] = ("baseline", "transform (china pack)")) -> tuple[Timing, Timing]:
    """Both, interleaved round by round, the order alternating; prints medians, spreads and ratios."""
    base, ours = Timing(), Timing()
    for round_ in range(repeat):
        pair = ((base, baseline), (ours, transform)) if round_ % 2 == 0 else ((ours, transform), (base, baseline))
        for timing, call in pair:
            timing.run(call)
    ratios = [o / b for o, b in zip(ours.cpu, base.cpu)]
    print(f"{name}: {repeat} rounds, interleaved, order alternating")
    print(base.line(labels[0]))
    print(ours.line(labels[1]))
    print(f"  ratio of CPU medians {labels[1].split()[0]} / {labels[0].split()[0]} = {statistics.median(ours.cpu) / statistics.median(base.cpu):5.2f}"
          f"   per-round ratios: median {statistics.median(ratios):.2f} ({min(ratios):.2f}-{max(ratios):.2f})"
          f"   wall: {statistics.median(ours.wall) / statistics.median(base.wall):5.2f}")
    return base, ours


def paused(call: Callable[[], object]) -> Callable[[], None]:
    """`call` with the cyclic collector paused the way the transform pauses it; its result dropped."""
    from panther_cn_transform._gc import collector_paused

    def run() -> None:
        with collector_paused():
            call()

    return run


def _transform_of(text: str, rules: Any) -> Callable[[], object]:
    """The transform of `text`, timed as the baseline is: the collector paused around it, its result dropped inside."""
    return paused(_caller_transform_of(text, rules))


def _caller_transform_of(text: str, rules: Any) -> Callable[[], object]:
    """The transform of `text` as a library caller runs it (the collector enabled again when it returns)."""
    from panther_cn_transform import transform_text

    return lambda: transform_text(text, rules, region="cn-north-1")


def _floor_of(text: str, rendered: str) -> Callable[[], object]:
    """The parsing of one transform: the input decoded, and the rendered text parsed as `render` checks it.

    YAML: the node tree the renderer needs comes with the decode, and the check decodes the
    output again.  JSON whose changes are all strings (as here) is written without a node
    tree, and the check is `json.loads` of the output (render/json_strings.py).
    """
    from panther_cn_transform import decode_text

    def run() -> object:
        template = decode_text(text)
        if template.format == "json":
            return json.loads(rendered)
        return template.root, decode_text(rendered, source=template.source, limits=template.limits, trusted=True).model

    return run


def main() -> None:
    from panther_cn_transform import decode_text, load_rules, transform_text

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resources", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--format", default="yaml,json", help="comma-separated: yaml, json")
    parser.add_argument("--flip", action="store_true", help="also time cfn-flip load + dump (slow)")
    parser.add_argument("--floor", action="store_true", help="also time the parsing a transform cannot skip (input + verification)")
    parser.add_argument("--caller", action="store_true", help="also time the transform with the collector enabled when it returns (as a library caller)")
    parser.add_argument("--without", default="", help="comma-separated actions whose rules to leave out in a second timing")
    parser.add_argument("--removals", type=int, default=0, help="time a template with this many removed resources instead")
    parser.add_argument("--megabytes", type=float, default=10.0, help="size of the template of --removals")
    args = parser.parse_args()
    if args.removals:
        _compare_removals(args.megabytes, args.removals, args.repeat)
        return

    text = generate(args.resources)
    rules = load_rules("china")
    texts = {"yaml": text, "json": json.dumps(decode_text(text).model, indent=2) + "\n"}
    baselines: dict[str, Callable[[], object]] = {
        "yaml": lambda: yaml.load(texts["yaml"], Loader=_TagLoader),
        "json": lambda: json.loads(texts["json"]),
    }
    results: dict[str, tuple[Timing, Timing]] = {}
    for form in args.format.split(","):
        source = texts[form]
        result = transform_text(source, rules, region="cn-north-1")
        baseline_name = "CSafeLoader load" if form == "yaml" else "json.loads"
        print(f"\n{form.upper()}: {len(source):,} characters, {args.resources // GROUP * GROUP} resources, "
              f"{len(result.edits)} edits per transform; baseline: {baseline_name}, collector paused")
        rendered = result.text
        del result
        results[form] = compare(form.upper(), paused(baselines[form]), _transform_of(source, rules), args.repeat)
        if args.caller:
            compare(f"{form.upper()} as a caller", paused(baselines[form]), _caller_transform_of(source, rules), args.repeat,
                    labels=("baseline", "transform (GC on at return)"))
        if args.floor:
            compare(f"{form.upper()} floor", paused(baselines[form]), paused(_floor_of(source, rendered)), args.repeat,
                    labels=("baseline", "floor (parse in and out)"))
    if args.flip:
        import cfn_flip

        flip = Timing()
        for _ in range(3):
            flip.run(lambda: cfn_flip.dump_yaml(cfn_flip.load(text)[0]))
        print(flip.line("cfn-flip load+dump"))
        if "yaml" in results:
            print(f"  ratio cfn-flip / transform = {statistics.median(flip.cpu) / statistics.median(results['yaml'][1].cpu):5.2f}")
    if args.without:
        _compare_without(text, rules, set(args.without.split(",")), args.repeat)


def _compare_without(text: str, rules: Any, actions: set[str], repeat: int) -> None:
    from panther_cn_transform import RuleSet

    fewer = RuleSet(tuple(r for r in rules.rules if r.action not in actions), rules.defaults)
    whole, without = Timing(), Timing()
    for round_ in range(repeat):  # interleaved, so both see the same machine load
        pair = ((whole, rules), (without, fewer)) if round_ % 2 == 0 else ((without, fewer), (whole, rules))
        for timing, pack in pair:
            timing.run(_transform_of(text, pack))
    left_out = len(rules.rules) - len(fewer.rules)
    print(f"interleaved, {repeat} runs each; {left_out} rules of {', '.join(sorted(actions))} left out in the second")
    print(whole.line("whole pack"))
    print(without.line("without"))
    print(f"ratio whole / without = {statistics.median(whole.cpu) / statistics.median(without.cpu):5.2f}")


def _compare_removals(megabytes: float, removals: int, repeat: int) -> None:
    from panther_cn_transform import load_rules, transform_text

    rules = load_rules("china")
    with_removals = generate_with_removable(megabytes, removals, removed=True)
    without = generate_with_removable(megabytes, removals, removed=False)
    removed = transform_text(with_removals, rules, region="cn-north-1")
    gone = sum(1 for e in removed.edits if e.op == "remove" and len(e.path) == 2 and e.path[0] == "Resources")
    kept = transform_text(without, rules, region="cn-north-1")
    print(f"{len(with_removals):,} / {len(without):,} characters; {gone:,} resources removed with "
          f"{len(removed.edits):,} edits, against {len(kept.edits):,} edits and none removed")
    del removed, kept
    compare(f"{megabytes:g} MB, {removals:,} removals", _transform_of(without, rules), _transform_of(with_removals, rules), repeat,
            labels=("without removals", "with removals"))


if __name__ == "__main__":
    main()

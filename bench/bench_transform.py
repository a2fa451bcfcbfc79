"""Benchmark: transform time against PyYAML's C loader and cfn-flip, measured in one run.

    python bench/bench_transform.py [--resources 500] [--repeat 7]

Generates a ~1 MB YAML template with ~500 resources (short tags, Sub strings, IAM
policies with ARNs, inline code), then times, on the same text:

* baseline  - `yaml.load(text, Loader=_TagLoader)`
* cfn-flip  - `cfn_flip.load(text)` followed by `cfn_flip.dump_yaml(...)`
* transform - decode + the `china` rules + render + verify (`transform_text`)

and prints medians and the ratios transform/baseline and cfn-flip/transform.  Only the
ratios mean anything across machines.

    python bench/bench_transform.py --without edit_property,rewrite_alias_zones

also times the pack without the rules of those actions, interleaved with the whole pack
in the same process, and prints both medians, their spreads and the ratio: what those
rules cost.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
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


def generate(resources: int) -> str:
    """A template of `resources` resources (groups of six) in the style of real stacks."""
    head = "AWSTemplateFormatVersion: '2010-09-09'\nDescription: generated benchmark template\nResources:\n"
    groups = []
    for i in range(resources // GROUP):
        states = "".join(STATE.format(i=i, n=n, next=f"Step{n + 1}" if n < 27 else "Done") for n in range(28))
        groups.append(RESOURCE.format(i=i, states=states.rstrip("\n")))
    return head + "".join(groups)


class _TagLoader(yaml.CSafeLoader):
    """CSafeLoader plus the short-form tags (as cfn-flip and cfn-lint build them)."""


def _construct_tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> object:
    if isinstance(node, yaml.ScalarNode):
        return {suffix: loader.construct_scalar(node)}
    if isinstance(node, yaml.SequenceNode):
        return {suffix: loader.construct_sequence(node, deep=True)}
    return {suffix: loader.construct_mapping(node, deep=True)}  # type: ignore[arg-type]


_TagLoader.add_multi_constructor("!", _construct_tag)


def median_seconds(run: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    import cfn_flip

    from panther_cn_transform import load_rules, transform_text

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resources", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--without", default="", help="comma-separated actions whose rules to leave out in a second timing")
    args = parser.parse_args()

    text = generate(args.resources)
    rules = load_rules("china")
    result = transform_text(text, rules, region="cn-north-1")
    print(f"template: {len(text):,} bytes, {args.resources // GROUP * GROUP} resources, {len(result.edits)} edits per transform")

    baseline = median_seconds(lambda: yaml.load(text, Loader=_TagLoader), args.repeat)
    flip = median_seconds(lambda: cfn_flip.dump_yaml(cfn_flip.load(text)[0]), max(3, args.repeat // 2))
    ours = median_seconds(lambda: transform_text(text, rules, region="cn-north-1"), args.repeat)

    print(f"median of {args.repeat} runs (cfn-flip: {max(3, args.repeat // 2)})")
    print(f"  CSafeLoader load        {baseline * 1000:9.1f} ms")
    print(f"  cfn-flip load+dump      {flip * 1000:9.1f} ms")
    print(f"  transform (china pack)  {ours * 1000:9.1f} ms")
    print(f"ratio transform / CSafeLoader load   = {ours / baseline:5.2f}  (target <= 3)")
    print(f"ratio cfn-flip / transform           = {flip / ours:5.2f}  (target >= 2)")
    if args.without:
        _compare_without(text, rules, set(args.without.split(",")), args.repeat)


def _compare_without(text: str, rules: Any, actions: set[str], repeat: int) -> None:
    from panther_cn_transform import RuleSet, transform_text

    fewer = RuleSet(tuple(r for r in rules.rules if r.action not in actions), rules.defaults)
    times: dict[str, list[float]] = {"whole pack": [], "without": []}
    for _ in range(repeat):  # interleaved, so both see the same machine load
        for name, pack in (("whole pack", rules), ("without", fewer)):
            start = time.perf_counter()
            transform_text(text, pack, region="cn-north-1")
            times[name].append(time.perf_counter() - start)
    left_out = len(rules.rules) - len(fewer.rules)
    print(f"interleaved, {repeat} runs each; {left_out} rules of {', '.join(sorted(actions))} left out in the second")
    for name, values in times.items():
        print(f"  {name:<12} median {statistics.median(values) * 1000:7.1f} ms  (min {min(values) * 1000:.1f}, max {max(values) * 1000:.1f})")
    print(f"ratio whole / without = {statistics.median(times['whole pack']) / statistics.median(times['without']):5.2f}")


if __name__ == "__main__":
    main()

"""Hostile templates: broken syntax, encodings, bombs, odd shapes, and corpus templates cut or bit-flipped.

Each runs `transform IN --region cn-north-1 --bucket my-cn-bucket -o out.yaml --patch p.json
--report r.md`: every output at once, where a late failure would leave a half-written set.
"""

from __future__ import annotations

import random
from pathlib import Path

from ..corpus import CORPUS
from .runner import Expect, Probe, Run

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = (REPO / "examples" / "global-stack.yaml").read_bytes()
TOPIC = b"Resources:\n  Topic:\n    Type: AWS::SNS::Topic\n"


def _transform(data: bytes, expect: Expect, *extra: str, name: str = "in.yaml", parses: bool = True) -> Probe:
    def build(work: Path) -> Run:
        (work / name).write_bytes(data)
        return Run(["transform", name, "--region", "cn-north-1", "--bucket", "my-cn-bucket", "-o", "out.yaml",
                    "--patch", "p.json", "--report", "r.md", *extra], expect,
                   writes=[Path("out.yaml"), Path("p.json"), Path("r.md")], parses=[Path("out.yaml")] if parses else [])
    return Probe("templates", "", build)


def _doubling(levels: int) -> bytes:
    lines = ["a0: &a0 [x, x]"] + [f"a{i}: &a{i} [*a{i - 1}, *a{i - 1}]" for i in range(1, levels)]
    return ("\n".join(lines) + f"\nResources:\n  T:\n    Type: AWS::SNS::Topic\n    Metadata: *a{levels - 1}\n").encode()


def _written() -> list[tuple[str, bytes, Expect, tuple[str, ...]]]:
    """Small hand-written cases: (name, bytes, expected, extra arguments)."""
    deep_list = b"Resources:\n  T:\n    Type: AWS::SNS::Topic\n    Metadata: " + b"[" * 300 + b"]" * 300 + b"\n"
    ok_list = b"Resources:\n  T:\n    Type: AWS::SNS::Topic\n    Metadata: " + b"[" * 150 + b"]" * 150 + b"\n"
    many = b"Resources:\n" + b"".join(b"  T%d:\n    Type: AWS::SNS::Topic\n" % i for i in range(5000))
    return [
        ("empty file", b"", "error", ()),
        ("only whitespace", b"  \n\n\t\n", "error", ()),
        ("null document", b"null\n", "error", ()),
        ("a list", b"[]\n", "error", ()),
        ("a scalar", b"hello\n", "error", ()),
        ("Resources is a number", b"Resources: 1\n", "error", ()),
        ("Resources is a list", b"Resources: []\n", "error", ()),
        ("a resource that is a string", b"Resources:\n  T: text\n", "either", ()),
        ("a resource without Type", b"Resources:\n  T:\n    Properties: {}\n", "either", ()),
        ("a Type that is a list", b"Resources:\n  T:\n    Type: [a]\n", "either", ()),
        ("unclosed flow", b"Resources: {T: {Type: AWS::SNS::Topic}\n", "error", ()),
        ("a tab as indentation", b"Resources:\n\tT:\n\t\tType: AWS::SNS::Topic\n", "error", ()),
        ("duplicate top-level keys", TOPIC + TOPIC, "error", ()),
        ("duplicate nested keys", b"Resources:\n  T:\n    Type: AWS::SNS::Topic\n    Type: AWS::SQS::Queue\n", "error", ()),
        ("an unknown tag", TOPIC + b"    Properties:\n      TopicName: !Foo bar\n", "error", ()),
        ("!Ref of a mapping", TOPIC + b"    Properties:\n      TopicName: !Ref {a: b}\n", "either", ()),
        ("!GetAtt without attribute", TOPIC + b"    Properties:\n      TopicName: !GetAtt Topic\n", "either", ()),
        ("!Sub unclosed", TOPIC + b"    Properties:\n      TopicName: !Sub 'arn:aws:${AWS::Region'\n", "either", ()),
        ("!Sub of a number", TOPIC + b"    Properties:\n      TopicName: !Sub 5\n", "either", ()),
        ("an undefined alias", TOPIC + b"    Metadata: *nowhere\n", "error", ()),
        ("a small alias fan-out", _doubling(10), "ok", ()),
        ("an alias bomb over --max-nodes", _doubling(18), "error", ("--max-nodes", "10000")),
        ("an alias bomb over the default node limit", _doubling(24), "error", ()),
        ("300 nested lists", deep_list, "error", ()),
        ("150 nested lists", ok_list, "ok", ()),
        ("a UTF-8 BOM", b"\xef\xbb\xbf" + EXAMPLE, "ok", ()),
        ("UTF-16 with BOM", b"\xff\xfe" + EXAMPLE.decode().encode("utf-16-le"), "either", ()),
        ("UTF-16 without BOM", EXAMPLE.decode().encode("utf-16-le"), "error", ()),
        ("Latin-1 byte", TOPIC + b"    Metadata: {note: caf\xe9}\n", "error", ()),
        ("a NUL byte", TOPIC + b"    Metadata: {note: a\x00b}\n", "error", ()),
        ("an escape character", TOPIC + b"    Metadata: {note: \"a\\x1b[31mred\"}\n", "ok", ()),
        ("a raw escape character", TOPIC + b"    Metadata: {note: a\x1b[31mred}\n", "error", ()),
        ("a JSON lone surrogate value", b'{"Resources": {"T": {"Type": "AWS::SNS::Topic", "Metadata": {"n": "\\udc80"}}}}', "either", ()),
        ("a JSON lone surrogate key", b'{"Resources": {"T": {"Type": "AWS::SNS::Topic", "Metadata": {"\\ud800": 1}}}}', "either", ()),
        ("a YAML lone surrogate escape", TOPIC + b'    Metadata: {n: "\\udc80"}\n', "either", ()),
        ("a JSON trailing comma (YAML's flow style)", b'{"Resources": {"T": {"Type": "AWS::SNS::Topic"},}}', "either", ()),
        ("JSON duplicate keys", b'{"Resources": {"T": {"Type": "AWS::SNS::Topic"}, "T": {"Type": "AWS::SQS::Queue"}}}', "error", ()),
        ("a JSON number of 400 digits", b'{"Resources": {"T": {"Type": "AWS::SNS::Topic", "Metadata": {"n": 1' + b"0" * 400 + b"}}}}", "either", ()),
        ("a JSON 1e400", b'{"Resources": {"T": {"Type": "AWS::SNS::Topic", "Metadata": {"n": 1e400}}}}', "either", ()),
        ("a JSON NaN", b'{"Resources": {"T": {"Type": "AWS::SNS::Topic", "Metadata": {"n": NaN}}}}', "either", ()),
        ("JSON 250 deep", b'{"Resources": {"T": {"Type": "AWS::SNS::Topic", "Metadata": ' + b"[" * 250 + b"]" * 250 + b"}}}", "error", ()),
        ("a top-level JSON array", b"[1, 2]", "error", ()),
        ("a YAML merge key", b"base: &b {Type: AWS::SNS::Topic}\nResources:\n  T:\n    <<: *b\n", "either", ()),
        ("two YAML documents", TOPIC + b"---\n" + TOPIC, "error", ()),
        ("a YAML 1.1 directive", b"%YAML 1.1\n---\n" + TOPIC, "either", ()),
        ("CRLF line endings", EXAMPLE.replace(b"\n", b"\r\n"), "ok", ()),
        ("CR line endings", EXAMPLE.replace(b"\n", b"\r"), "either", ()),
        ("a one-megabyte value", TOPIC + b"    Metadata: {note: " + b"x" * (1 << 20) + b"}\n", "ok", ()),
        ("over --max-input-bytes", EXAMPLE, "error", ("--max-input-bytes", "100")),
        ("5,000 resources", many, "ok", ()),
        ("a key holding a newline", TOPIC + b'    Metadata: {"a\\nb": 1}\n', "ok", ()),
        ("a line separator in a value", TOPIC + "    Metadata: {n: a\u2028b}\n".encode(), "either", ()),
        ("an ARN in a newline key", b'Resources:\n  "T\\nX":\n    Type: AWS::SNS::Topic\n', "either", ()),
        ("a 10,000-key mapping", TOPIC + b"    Metadata:\n" + b"".join(b"      k%d: arn:aws:s3:::b%d\n" % (i, i) for i in range(10000)), "ok", ()),
        ("AWS::Include transform", TOPIC + b"    Properties:\n      Fn::Transform: {Name: AWS::Include, Parameters: {Location: s3://b/k}}\n", "either", ()),
        ("a TemplateURL climbing out", b"Resources:\n  C:\n    Type: AWS::CloudFormation::Stack\n    Properties:\n      TemplateURL: https://b.s3.amazonaws.com/../../../../.bashrc\n", "either", ()),
        ("a relative TemplateURL climbing out", b"Resources:\n  C:\n    Type: AWS::CloudFormation::Stack\n    Properties:\n      TemplateURL: ../../../../home/.bashrc\n", "either", ()),
        ("an empty Resources mapping", b"Resources: {}\n", "either", ()),
        ("a Description full of escapes", b'Description: "\\e[2J\\e[H\\x07"\n' + TOPIC, "ok", ()),
        ("a huge integer key", TOPIC + b"    Metadata: {" + b"9" * 5000 + b": 1}\n", "either", ()),
        ("an anchored resource used twice", b"Resources:\n  A: &r\n    Type: AWS::Cognito::UserPool\n  B: *r\n", "either", ()),
        ("a removed resource referenced everywhere", b"Resources:\n  P:\n    Type: AWS::Cognito::UserPool\n" + b"".join(
            b"  T%d:\n    Type: AWS::SNS::Topic\n    Properties:\n      TopicName: !Ref P\n" % i for i in range(500)), "either", ()),
        ("a complex key", TOPIC + b"    Metadata:\n      ? [a, b]\n      : 1\n", "either", ()),
        ("a binary scalar", TOPIC + b"    Metadata: !!binary aGVsbG8=\n", "either", ()),
        ("a timestamp scalar", TOPIC + b"    Metadata: {t: 2001-12-14t21:59:43.10-05:00}\n", "ok", ()),
        ("an octal-looking string", TOPIC + b"    Metadata: {n: 0777, m: 0x1F, o: 1_000}\n", "ok", ()),
        ("a Python tag", TOPIC + b"    Metadata: !!python/object/apply:os.system ['touch ../../../../pwned']\n", "error", ()),
        ("a stdin template", EXAMPLE, "ok", ()),
    ]


def _mutations() -> list[tuple[str, bytes]]:
    """Corpus and example templates cut short and with bytes flipped, deterministically."""
    sources = sorted((CORPUS / "public").glob("*"))[:: max(1, len(list((CORPUS / "public").glob("*"))) // 8)][:8]
    chosen = [("global-stack.yaml", EXAMPLE)] + [(p.name, p.read_bytes()) for p in sources if p.is_file()]
    rng = random.Random(26)
    cases = []
    for name, data in chosen:
        for fraction in (0.1, 0.37, 0.5, 0.73, 0.99):
            cases.append((f"{name} cut at {fraction:.0%}", data[: int(len(data) * fraction)]))
        for flip in range(4):
            mutated = bytearray(data)
            for _ in range(3):
                mutated[rng.randrange(len(mutated))] = rng.choice(b"{}[]:&*!|>'\"\n\t\x00\xff-#%@`,")
            cases.append((f"{name} with bytes flipped #{flip}", bytes(mutated)))
    return cases


def probes() -> list[Probe]:
    result = []
    for name, data, expect, extra in _written():
        probe = _transform(data, expect, *extra, name="in.json" if data[:1] in (b"{", b"[") else "in.yaml")
        probe.name = name
        if name == "a stdin template":
            probe = _stdin_probe(data)
        result.append(probe)
    for name, data in _mutations():
        probe = _transform(data, "either", name="in.json" if name.endswith(".json") else "in.yaml")
        probe.name = name
        result.append(probe)
    for region in ("cn-northwest-1", "us-east-1", "cn-north-9", "", "cn-north-1\n"):
        result.append(_region_probe(region))
    return result


def _stdin_probe(data: bytes) -> Probe:
    def build(work: Path) -> Run:
        return Run(["transform", "-", "--region", "cn-north-1", "--bucket", "my-cn-bucket", "--report", "r.json"], "ok",
                   writes=[Path("r.json")], stdin=data,
                   check=lambda done: [] if done.returncode != 0 or _decodes(done.stdout) else ["silent wrong output"])
    return Probe("templates", "a stdin template", build)


def _decodes(data: bytes) -> bool:
    """The output on stdout is a template."""
    from panther_cn_transform import TemplateError, decode_text

    try:
        decode_text(data.decode("utf-8"), source="<stdout>")
    except (UnicodeDecodeError, TemplateError):
        return False
    return True


def _region_probe(region: str) -> Probe:
    def build(work: Path) -> Run:
        (work / "in.yaml").write_bytes(EXAMPLE)
        expect: Expect = "ok" if region == "cn-northwest-1" else "either" if region == "us-east-1" else "error"
        return Run(["transform", "in.yaml", "--region", region, "--bucket", "my-cn-bucket", "-o", "out.yaml"], expect,
                   writes=[Path("out.yaml")], parses=[Path("out.yaml")])
    return Probe("templates", f"--region {region!r}", build)

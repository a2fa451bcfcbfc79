"""Hostile and broken input: one-line errors, bounded resources, nothing half-written."""

from __future__ import annotations

import resource
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from panther_cn_transform import TransformError, decode_text, load_rules, transform_text

from .corpus import corpus_templates

MEMORY_CAP = 2 * 1024**3  # a run that needs more than this is a failure, whatever it is doing


def run_capped(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP))

    return subprocess.run(
        [sys.executable, "-m", "panther_cn_transform", *map(str, args)],
        capture_output=True, text=True, check=False, cwd=cwd, preexec_fn=cap, timeout=120,
    )


def deep_flow(n: int) -> str:
    return "Resources:\n  R:\n    Type: T\n    Properties:\n      P: " + "[" * n + "]" * n + "\n"


def alias_bomb() -> str:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 10):
        previous, name = chr(96 + i), chr(97 + i)
        lines.append(f"{name}: &{name} [" + ",".join([f"*{previous}"] * 9) + "]")
    return "\n".join(lines) + "\nResources:\n  R:\n    Type: T\n    Properties: {P: *j}\n"


CASES: dict[str, tuple[bytes, str, int | None]] = {
    # name: (file content, message fragment, line or None)
    "empty": (b"", "empty file", None),
    "whitespace only": (b"  \n\n", "empty file", None),
    "binary zip": (b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + bytes(range(256)), "binary data", None),
    "NUL after the first 8 KiB": (b"Resources:\n" + b"#" * 9000 + b"\n  R: {Type: T}\x00\n", "control characters are not allowed", 3),
    "latin-1 bytes": ("Resources:\n  R:\n    Type: T\n    Description: caf\xe9\n".encode("latin-1"), "not UTF-8", 4),
    "tab indentation": (b"Resources:\n\tR:\n\t\tType: T\n", "malformed YAML", 2),
    "unclosed bracket": (b"Resources:\n  R: {Type: T\n", "malformed YAML", 3),
    "bad indentation": (b"Resources:\n  R:\n    Type: T\n   Properties: {}\n", "malformed YAML", 4),
    "unclosed JSON": (b'{"Resources": {"R": {"Type": "T"}}', "invalid JSON", 1),
    "root is a list": (b"- Resources\n", "the document is a list", 1),
    "root is a scalar": (b"just text\n", "the document is a single value", 1),
    "Resources not a mapping": (b"Resources: 3\n", "Resources must be a mapping", 1),
    "resource without Type": (b"Resources:\n  R:\n    Properties: {}\n", "has no Type", None),
    "duplicate keys": (b"Resources:\n  R:\n    Type: T\n    Type: U\n", "duplicate key 'Type' (first at line 3)", 4),
    "unknown tag": (b"Resources:\n  R:\n    Type: !Foo T\n", "unknown tag !Foo", 3),
    "GetAtt without dot": (b"Resources:\n  R:\n    Type: T\n    Properties: {A: !GetAtt R}\n", "!GetAtt needs Resource.Attribute", 4),
    "deep YAML nesting": (deep_flow(10_000).encode(), "nesting deeper than", 5),
    "deeper YAML nesting (C stack)": (deep_flow(200_000).encode(), "nesting deeper than", 5),
    "deep JSON nesting": (('{"Resources": {"R": {"Type": "T", "Properties": {"P": ' + "[" * 10_000 + "]" * 10_000 + "}}}}").encode(), "nesting deeper than", None),
    "alias bomb": (alias_bomb().encode(), "alias bomb", None),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_template_gets_one_line_error_exit_2_and_nothing_written(tmp_path: Path, name: str) -> None:
    content, message, line = CASES[name]
    source, out = tmp_path / "input.yaml", tmp_path / "out.yaml"
    source.write_bytes(content)
    done = run_capped("transform", "input.yaml", "-o", out, "--region", "cn-north-1", cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr
    where = "input.yaml" + (f":{line}" if line else "")
    assert lines[0].startswith(f"error: {where}") and message in lines[0], lines[0]
    assert not out.exists() and source.read_bytes() == content
    assert sorted(p.name for p in tmp_path.iterdir()) == ["input.yaml"]


def test_a_50_mb_file_is_refused_before_reading(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    with big.open("wb") as handle:
        handle.write(b"Resources:\n")
        chunk = b"".join(b"  R%d:\n    Type: AWS::SNS::Topic\n" % i for i in range(1000))
        while handle.tell() < 50 * 1024 * 1024:
            handle.write(chunk)
    done = run_capped("transform", big, "--region", "cn-north-1", cwd=tmp_path)
    assert done.returncode == 2 and "over the 10,485,760-byte input limit" in done.stderr
    raised = run_capped("transform", big, "--region", "cn-north-1", "--max-input-bytes", "100", cwd=tmp_path)
    assert raised.returncode == 2 and "over the 100-byte input limit" in raised.stderr


def test_bom_and_crlf_are_transformed_not_refused(tmp_path: Path) -> None:
    source = tmp_path / "t.yaml"
    source.write_bytes(b"\xef\xbb\xbfResources:\r\n  R:\r\n    Type: AWS::SNS::Topic\r\n    Properties: {KmsMasterKeyId: 'arn:aws:kms:cn-north-1:1:key/k'}\r\n")
    done = run_capped("transform", source, "-o", tmp_path / "o.yaml", "--region", "cn-north-1", "--rules", "china", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "o.yaml").read_bytes() == source.read_bytes().replace(b"arn:aws:", b"arn:aws-cn:")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("rules:\n  - {id: a, description: d, action: nope}\n", ":2: rules/0/action: unknown action 'nope'"),
        ("rules:\n  - id: a\n    description: d\n    action: rewrite_vpce_names\n    services: 3\n", ":5: rules/0/services: 3 is not of type 'object'"),
        ("rules:\n  - id: a\n    description: d\n    action: replace_text\n    replacements: [{pattern: '(', replace: x}]\n", "is not a 'regex'"),
        ("extends: self.yml\nrules: []\n", "extends cycle"),
        ("extends: missing.yml\nrules: []\n", "missing.yml: rule file not found (extended by"),
        ("rules:\n  - {id: a, description: d, action: rewrite_s3_assets, source_buckets: [x], target_bucket: '${nope}'}\n", "undefined variable ${nope}"),
        ("rules: [\n", "malformed YAML"),
    ],
)
def test_bad_rule_files_get_one_line_errors(tmp_path: Path, content: str, message: str) -> None:
    (tmp_path / "self.yml").write_text(content)
    (tmp_path / "t.yaml").write_text("Resources:\n  R:\n    Type: AWS::SNS::Topic\n")
    done = run_capped("transform", "t.yaml", "--region", "cn-north-1", "--rules", "self.yml", cwd=tmp_path)
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr
    assert message in done.stderr, done.stderr


# -- fuzzing ----------------------------------------------------------------------------------

FUZZ_SOURCES = [p.read_text("utf-8") for p in corpus_templates()[::9]][:25]
CHINA = load_rules("panther")


@st.composite
def mutated(draw: st.DrawFn) -> str:
    text = draw(st.sampled_from(FUZZ_SOURCES))
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["insert", "delete", "duplicate-line", "drop-line", "swap"]))
        at = draw(st.integers(0, max(0, len(text) - 1)))
        if kind == "insert":
            text = text[:at] + draw(st.sampled_from(["[", "]", "{", "}", ":", ": ", "!", "!Ref ", "&a ", "*a", "\t", "'", '"', "\n", "- ", "#", "\x00", "\ufffd", "|", ">"])) + text[at:]
        elif kind == "delete":
            text = text[:at] + text[at + draw(st.integers(1, 20)):]
        else:
            lines = text.split("\n")
            index = draw(st.integers(0, max(0, len(lines) - 1)))
            if kind == "duplicate-line":
                lines.insert(index, lines[index])
            elif kind == "drop-line" and len(lines) > 1:
                del lines[index]
            elif kind == "swap" and index + 1 < len(lines):
                lines[index], lines[index + 1] = lines[index + 1], lines[index]
            text = "\n".join(lines)
    return text


@settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large], deadline=None)
@given(text=mutated(), region=st.sampled_from(["cn-north-1", "cn-northwest-1"]))
@example(text='\x00{"Resources": {"R": {"Type": "T"}}}', region="cn-north-1")  # found by this test: a 2-line reader error
def test_fuzzed_corpus_templates_give_a_clean_error_or_a_valid_template(text: str, region: str) -> None:
    try:
        result = transform_text(text, CHINA, region=region, variables={"bucket": "b"}, source="fuzz.yaml")
    except TransformError as error:
        message = str(error)
        assert message.startswith("fuzz.yaml") and "\n" not in message
        event(f"clean error: {type(error).__name__}")
        return
    assert decode_text(result.text).model == result.model
    event("transformed")

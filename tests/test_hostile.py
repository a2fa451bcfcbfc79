"""Hostile and broken input: one-line errors, bounded resources, nothing half-written."""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from panther_cn_transform import (
    Limits,
    RuleFileError,
    TemplateError,
    TransformError,
    decode_text,
    load_rules,
    transform_text,
)
from panther_cn_transform.model.json_compose import compose_json
from panther_cn_transform.model.yaml_compose import compose_yaml
from panther_cn_transform.ruleset import patterns, rule_files
from panther_cn_transform.ruleset.rule_files import packs_dir

from .corpus import corpus_templates

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
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
    "!!int that is not one": (b"Resources:\n  R:\n    Type: T\n    Properties: {A: !!int abc}\n", "'abc' is not a valid int (tag !!int)", 4),
    "!!float that is not one": (b"Resources:\n  R:\n    Type: T\n    Properties: {A: !!float abc}\n", "'abc' is not a valid float", 4),
    "!!bool that is not one": (b"Resources:\n  R:\n    Type: T\n    Properties: {A: !!bool abc}\n", "'abc' is not a valid bool", 4),
    "YAML integer over 4,300 digits": (b"Resources:\n  R:\n    Type: T\n    Properties:\n      A: " + b"9" * 5000 + b"\n",
                                       "an integer of 5,000 digits", 5),
    "JSON integer over 4,300 digits": (b'{"Resources": {"R": {"Type": "T",\n "Properties": {"A": ' + b"9" * 5000 + b"}}}}",
                                       "an integer of 5,000 digits", 2),
    "Outputs a list": (b"Resources:\n  R:\n    Type: T\nOutputs: [a]\n", "Outputs must be a mapping, not a list", 4),
    "Parameters a list": (b"Parameters: [a]\nResources:\n  R:\n    Type: T\n", "Parameters must be a mapping, not a list", 1),
    "Conditions a value": (b"Conditions: 3\nResources:\n  R:\n    Type: T\n", "Conditions must be a mapping, not the single value '3'", 1),
    "an output that is not a mapping": (b"Resources:\n  R:\n    Type: T\nOutputs:\n  O: 3\n", "output 'O' must be a mapping", 5),
    "a parameter that is not a mapping": (b"Parameters:\n  P: [1]\nResources:\n  R:\n    Type: T\n", "parameter 'P' must be a mapping", 2),
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
        ("rules:\n  - id: a\n    description: d\n    action: warn_arns\n    ignore_accounts: 3\n", ":5: rules/0/ignore_accounts: 3 is not of type 'array'"),
        ("rules:\n  - id: a\n    description: d\n    action: replace_text\n    replacements: [{pattern: '(', replace: x}]\n", "is not a valid regular expression: missing )"),
        ("extends: self.yml\nrules: []\n", "extends cycle"),
        ("extends: missing.yml\nrules: []\n", "missing.yml: rule file not found (extended by"),
        ("rules:\n  - {id: a, description: d, action: rewrite_s3_assets, source_buckets: [x], target_bucket: '${nope}'}\n", "undefined variable ${nope}"),
        ("rules: [\n", "malformed YAML"),
        # issue 13: everything transform would trip over is found when the file is loaded
        ("rules:\n  - id: a\n    description: d\n    action: replace_text\n    replacements: [{pattern: '(a|aa)+$', replace: x}]\n",
         ":5: rules/0/replacements/0: pattern '(a|aa)+$' backtracks catastrophically"),
        ("rules:\n  - id: a\n    description: d\n    action: replace_text\n    replacements: [{pattern: '(a)', replace: '\\2'}]\n",
         ":5: rules/0/replacements/0: replacement '\\\\2' does not fit pattern '(a)' (no such group; the pattern has 1 group(s))"),
        ("rules:\n  - id: a\n    description: d\n    action: replace_text\n    replacements: [{pattern: '(?P<y>a)', replace: '\\g<x>'}]\n",
         "(unknown group; the pattern has 1 group(s): y)"),
        ("rules:\n  - id: a\n    description: d\n    action: replace_text\n    replacements: [{pattern: 'a', replace: '\\q'}]\n",
         "bad escape \\q"),
        (alias_bomb().split("Resources:")[0].replace("\n", "\n  ").replace("a: &a", "bomb:\n  a: &a", 1) + "\nrules: []\n",
         "expands to more than 5,000,000 values (an alias bomb? raise the limit with --max-nodes N)"),
        ("rules:\n  - id: a\n    description: d\n    action: warn_arns\n    services: " + "[" * 400 + "]" * 400 + "\n",
         "self.yml: nesting too deep to parse"),
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


def mutate(draw: st.DrawFn, text: str, inserts: list[str], kinds: list[str]) -> str:
    """`text` with one to four random damages: an insert from `inserts`, a cut, or a line duplicated, dropped or swapped."""
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(kinds))
        at = draw(st.integers(0, max(0, len(text) - 1)))
        if kind == "insert":
            text = text[:at] + draw(st.sampled_from(inserts)) + text[at:]
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


@st.composite
def mutated(draw: st.DrawFn) -> str:
    inserts = ["[", "]", "{", "}", ":", ": ", "!", "!Ref ", "&a ", "*a", "\t", "'", '"', "\n", "- ", "#", "\x00", "\ufffd", "|", ">"]
    return mutate(draw, draw(st.sampled_from(FUZZ_SOURCES)), inserts, ["insert", "delete", "duplicate-line", "drop-line", "swap"])


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


# -- rule files: what transform would hit is found at load time (issue 13) ---------------------


def test_rule_files_get_the_input_limits(tmp_path: Path) -> None:
    deep = tmp_path / "deep.yml"
    deep.write_text("rules:\n  - id: a\n    description: d\n    action: warn_arns\n    services: " + "[" * 60 + "]" * 60 + "\n")
    with pytest.raises(RuleFileError, match=r"deep.yml:1: rules: nesting deeper than 50 levels \(raise the limit with --max-depth N\)"):
        load_rules(deep, limits=Limits(max_depth=50))
    with pytest.raises(RuleFileError, match=r"deep.yml: file is \d+ bytes, over the 100-byte input limit"):
        load_rules(deep, limits=Limits(max_input_bytes=100))


def test_an_extends_diamond_loads_each_file_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """31 levels of diamonds: 2^30 loads if files were loaded once per path through the graph."""
    for level in range(31):
        parents = f"extends: [d{level + 1}a.yml, d{level + 1}b.yml]\n" if level < 30 else "extends: china\n"
        for side in "ab":
            (tmp_path / f"d{level}{side}.yml").write_text(
                parents + f"rules:\n  - {{id: r{level}, description: level {level} {side}, action: warn_arns}}\n"
            )
    reads: list[str] = []
    real = rule_files._Loader.read

    def counting(self: rule_files._Loader, name: str, path: Path | None, chain: tuple[tuple[str, str], ...]) -> str:
        reads.append(name)
        return real(self, name, path, chain)

    monkeypatch.setattr(rule_files._Loader, "read", counting)
    rules = load_rules(tmp_path / "d0a.yml")
    assert len(reads) == len(set(reads)) == 62  # 61 files (d0b is not reached) and the china pack, each once
    assert [r.description for r in rules.rules if r.id == "r0"] == ["level 0 a"]
    assert next(r for r in rules.rules if r.id == "r30").description == "level 30 b"  # the later sibling wins, as before
    monkeypatch.undo()
    done = run_capped("rules", "check", "d0a.yml", cwd=tmp_path)
    assert done.returncode == 0 and done.stdout == "d0a.yml: ok\n", done.stderr


def console_rules(pattern: str, replace: str = "https://console.amazonaws.cn") -> str:
    return (
        "rules:\n  - id: console\n    description: The China console.\n    action: replace_text\n"
        f"    replacements:\n      - pattern: '{pattern}'\n        replace: '{replace}'\n"
        "      - pattern: 'signin\\.aws\\.amazon\\.com'\n        replace: signin.amazonaws.cn\n"
    )


def test_inline_flags_and_group_references_work_in_patterns(tmp_path: Path) -> None:
    (tmp_path / "r.yml").write_text(console_rules(r"(?i)https://(?P<region>[a-z0-9-]+)\.CONSOLE\.aws\.amazon\.com", r"https://console.amazonaws.cn/\g<region>"))
    (tmp_path / "t.yaml").write_text("Resources:\n  T:\n    Type: AWS::SNS::Topic\n    Properties:\n"
                                     "      DisplayName: https://us-west-2.console.aws.amazon.com and signin.aws.amazon.com\n")
    assert run_capped("rules", "check", "r.yml", cwd=tmp_path).returncode == 0
    done = run_capped("transform", "t.yaml", "--region", "cn-north-1", "--rules", "r.yml", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "DisplayName: https://console.amazonaws.cn/us-west-2 and signin.amazonaws.cn" in done.stdout


def test_a_nested_quantifier_that_regex_handles_runs_in_linear_time(tmp_path: Path) -> None:
    """`(a+)+$` hangs Python's `re` on forty a's and a '!'; the `regex` module finishes it (and the probes accept it)."""
    (tmp_path / "r.yml").write_text(console_rules("(a+)+$", "b"))
    (tmp_path / "t.yaml").write_text("Resources:\n  T:\n    Type: AWS::SNS::Topic\n    Properties: {DisplayName: " + "a" * 40 + "!}\n")
    done = run_capped("transform", "t.yaml", "--region", "cn-north-1", "--rules", "r.yml", cwd=tmp_path)
    assert done.returncode == 0 and "DisplayName: " + "a" * 40 + "!" in done.stdout, done.stderr


def test_a_pattern_made_bad_by_a_variable_is_an_error_naming_the_rule(tmp_path: Path) -> None:
    (tmp_path / "r.yml").write_text("variables: {host: console}\n" + console_rules(r"${host}\.aws\.amazon\.com"))
    (tmp_path / "t.yaml").write_text("Resources:\n  T:\n    Type: AWS::SNS::Topic\n")
    assert run_capped("transform", "t.yaml", "--region", "cn-north-1", "--rules", "r.yml", cwd=tmp_path).returncode == 0
    done = run_capped("transform", "t.yaml", "--region", "cn-north-1", "--rules", "r.yml", "--set", "host=(", cwd=tmp_path)
    assert done.returncode == 2 and done.stderr.startswith("error: r.yml:3: rule 'console': replacements/0: invalid regular expression")


def test_a_search_over_its_time_budget_names_the_rule_the_template_and_the_string(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(patterns, "RULE_SECONDS", 0.0)
    rules = load_rules("china")
    with pytest.raises(RuleFileError) as caught:
        transform_text("Resources:\n  T:\n    Type: AWS::SNS::Topic\n    Properties: {DisplayName: x}\n", rules, region="cn-north-1", source="t.yaml")
    message = str(caught.value)
    assert message.startswith("<builtin>/china.yml:") and "rule 'console-urls'" in message
    assert "ran longer than 0 s on t.yaml:/Resources/T/Type" in message


def test_transform_text_honours_max_input_bytes() -> None:
    text = "Resources:\n  T:\n    Type: AWS::SNS::Topic\n    Properties: {DisplayName: '" + "é" * 600 + "'}\n"
    with pytest.raises(TemplateError, match=r"t.yaml: input is 1,2\d\d bytes, over the 1,000-byte input limit"):
        transform_text(text, CHINA, region="cn-north-1", source="t.yaml", limits=Limits(max_input_bytes=1000))
    with pytest.raises(TemplateError, match=r"input is at least 10,\d\d\d bytes, over the 1,000-byte input limit"):
        transform_text(text + "#" * 10_000, CHINA, region="cn-north-1", source="t.yaml", limits=Limits(max_input_bytes=1000))
    assert not transform_text(text, CHINA, region="cn-north-1", variables={"bucket": "b"}, limits=Limits(max_input_bytes=2000)).changed
    ascii_only = "Resources: {}\n" + "#" * 2000  # as many bytes as characters: the size is exact without encoding
    with pytest.raises(TemplateError, match=r"t.yaml: input is 2,014 bytes, over the 1,000-byte input limit"):
        transform_text(ascii_only, CHINA, region="cn-north-1", source="t.yaml", limits=Limits(max_input_bytes=1000))


def test_a_raised_max_depth_applies_to_the_render_check_too(tmp_path: Path) -> None:
    nested = "{A: " * 240 + "arn:aws:sns:cn-north-1:123456789012:t" + "}" * 240
    (tmp_path / "t.yaml").write_text(f"Resources:\n  T:\n    Type: AWS::SNS::Topic\n    Properties:\n      Tags: {nested}\n")
    done = run_capped("transform", "t.yaml", "--region", "cn-north-1", "--rules", "china", cwd=tmp_path)
    assert done.returncode == 2 and "nesting deeper than 200 levels" in done.stderr
    done = run_capped("transform", "t.yaml", "--region", "cn-north-1", "--rules", "china", "--max-depth", "400", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "arn:aws-cn:sns:cn-north-1:123456789012:t" in done.stdout


def test_valid_json_with_a_key_over_1024_characters_is_transformed(tmp_path: Path) -> None:
    key = "k" * 1100
    source = json.dumps({"Resources": {"T": {"Type": "AWS::SNS::Topic", "Metadata": {key: "x"},
                                             "Properties": {"KmsMasterKeyId": "arn:aws:kms:cn-north-1:123456789012:key/k"}}}}, indent=1)
    (tmp_path / "t.json").write_text(source)
    done = run_capped("transform", "t.json", "--region", "cn-north-1", "--rules", "china", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout == source.replace("arn:aws:kms", "arn:aws-cn:kms")


def node_summary(node: yaml.Node) -> list[tuple[object, ...]]:
    found, stack = [], [node]
    while stack:
        item = stack.pop()
        found.append((type(item).__name__, item.tag, item.value if isinstance(item, yaml.ScalarNode) else None,
                      getattr(item, "style", None), getattr(item, "flow_style", None),
                      item.start_mark.index, item.start_mark.line, item.start_mark.column,
                      item.end_mark.index, item.end_mark.line, item.end_mark.column))
        if isinstance(item, yaml.MappingNode):
            stack.extend(n for pair in reversed(item.value) for n in reversed(pair))
        elif isinstance(item, yaml.SequenceNode):
            stack.extend(reversed(item.value))
    return found


JSON_TEMPLATES = [p.read_text("utf-8") for p in corpus_templates() if p.read_text("utf-8").lstrip().startswith("{")]


@pytest.mark.skipif(not JSON_TEMPLATES, reason="shared corpus not found")
def test_the_json_composer_builds_the_nodes_libyaml_builds() -> None:
    assert len(JSON_TEMPLATES) > 20
    for text in JSON_TEMPLATES:
        assert node_summary(compose_json(text, "t.json")) == node_summary(yaml.compose(text, Loader=yaml.CSafeLoader))


ALL_TEMPLATES = [p.read_text("utf-8", errors="replace") for p in corpus_templates()]


def test_the_fast_loader_composes_what_libyaml_composes_on_the_corpus() -> None:
    """yaml_compose.compose_yaml (its own tag resolver) gives CSafeLoader's tree: tags, values, styles, marks."""
    compared = 0
    for text in ALL_TEMPLATES:
        try:
            expected = yaml.compose(text, Loader=yaml.CSafeLoader)
        except yaml.YAMLError:
            continue
        assert node_summary(compose_yaml(text)) == node_summary(expected)  # type: ignore[arg-type]
        compared += 1
    assert compared > 100


@pytest.mark.parametrize("text", [
    "a: ! [x, y]\nb: ! {k: v}\n",  # the non-specific tag: libyaml asks the resolver for a collection's tag
    "a: !!seq [x]\nb: !!map {k: v}\nc: !!omap [{k: v}]\nd: !!set {k: null}\n",
    "- [a, [b, {c: [d]}]]\n- k:\n    - v\n",
    "a: &x [1, 2]\nb: *x\nc: {<<: {d: e}}\n",
])
def test_the_fast_loader_tags_collections_as_pyyaml_does(text: str) -> None:
    assert node_summary(compose_yaml(text)) == node_summary(yaml.compose(text, Loader=yaml.CSafeLoader))  # type: ignore[arg-type]


@pytest.mark.parametrize("text", [
    "Resources:\n  A: é\n  B: x\x07y\n",  # a control character after a non-ASCII one: the reader's position in characters
    "a: b\n\x85c: d\x00\n",
    "Resources:\n  A: 'x\n",  # the stream ends inside a quoted scalar
    "é" * 20_000 + ": x\n  - y\n",  # the error far past the first piece libyaml reads
    "k: " + "ü" * 16_383 + "\r\nj: [a,\n",  # a piece ends between CR and LF, after two-byte characters
])
def test_the_fast_loader_reports_what_libyaml_reports_for_a_whole_string(text: str) -> None:
    """compose_yaml hands libyaml the text a piece at a time: the same errors at the same places as the whole string."""
    def problem(compose: Any) -> tuple[Any, ...]:
        try:
            compose(text)
        except yaml.reader.ReaderError as exc:
            return ("reader", exc.position, exc.character, exc.reason)
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark
            return ("marked", exc.problem, mark.index, mark.line, mark.column) if mark else ("marked", exc.problem)
        return ("no problem",)

    assert problem(compose_yaml) == problem(lambda whole: yaml.compose(whole, Loader=yaml.CSafeLoader)) != ("no problem",)


yaml11_words = st.sampled_from(["", "~", "null", "Null", "NULL", "on", "off", "yes", "No", "y", "n", "true", "False", "0777",
                                "0x1ff", "0b101", "8:31", "1_000", "1.10", ".5", "-.inf", ".NaN", "1e3", "+12", "-", "=", "<<",
                                "2010-09-09", "2001-12-14t21:59:43.10-05:00", "!x", "&y", "*z", "0o17", "1:2:3.5"])


@given(words=st.lists(yaml11_words | st.text(min_size=0, max_size=6), min_size=1, max_size=12),
       style=st.sampled_from(["plain", "single", "double"]))
def test_the_fast_loader_resolves_every_scalar_as_pyyaml_does(words: list[str], style: str) -> None:
    def spelled(word: str) -> str:
        return {"plain": word, "single": "'" + word.replace("'", "''") + "'", "double": json.dumps(word)}[style]

    text = "".join(f"k{i}: {spelled(word)}\n" for i, word in enumerate(words))
    text += "seq: [" + ", ".join(spelled(word) for word in words) + "]\n"
    try:
        expected = yaml.compose(text, Loader=yaml.CSafeLoader)
    except yaml.YAMLError:
        with pytest.raises(yaml.YAMLError):
            compose_yaml(text)
        return
    assert node_summary(compose_yaml(text)) == node_summary(expected)  # type: ignore[arg-type]


# libyaml folds the line breaks NEL, LS and PS inside quoted strings (YAML, not JSON, semantics), so values with
# them differ by design; json.loads gives the model, and the marks are compared for them separately below
json_text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x85\u2028\u2029"), max_size=20)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10**20, 10**20) | st.floats(allow_nan=False, allow_infinity=False) | json_text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(json_text.map(lambda t: t[:12]), inner, max_size=4),
    max_leaves=30,
)


def test_the_json_composer_counts_lines_as_libyaml_does() -> None:
    text = '{"a": "x\u2028y\x85z",\r\n "b": [1,\r 2]}'
    ours, theirs = node_summary(compose_json(text, "t.json")), node_summary(yaml.compose(text, Loader=yaml.CSafeLoader))
    assert [n[:2] + n[3:] for n in ours] == [n[:2] + n[3:] for n in theirs]


@given(value=json_values, indent=st.sampled_from([None, 0, 1, 2, "\t"]))
def test_the_json_composer_matches_libyaml_on_any_json(value: object, indent: int | str | None) -> None:
    text = json.dumps(value, indent=indent, ensure_ascii=False)
    try:
        expected = yaml.compose(text, Loader=yaml.CSafeLoader)
    except yaml.YAMLError:
        return  # JSON that libyaml cannot read (what compose_json is for); nothing to compare with
    assert node_summary(compose_json(text, "t.json")) == node_summary(expected)


# -- fuzzing rule files -------------------------------------------------------------------------

PACK_SOURCES = [(packs_dir() / name).read_text("utf-8") for name in ("china.yml", "panther.yml")]
FUZZ_TEMPLATES = [
    (EXAMPLES / "global-stack.yaml").read_text("utf-8"),
    ("Resources:\n  T:\n    Type: AWS::SNS::Topic\n    Properties:\n      DisplayName: https://us-west-2.console.aws.amazon.com/x aaaa\n"
     "      KmsMasterKeyId: arn:aws:kms:us-west-1:123456789012:key/k\n"),
]
REGEX_PIECES = ["a", "b", ".", "\\.", "\\d", "\\w", "\\s", "[a-z]", "[^/]", "(", ")", "(?:", "(?i)", "(?P<n>", "\\1", "\\2",
                "*", "+", "?", "{2}", "{1,3}", "|", "^", "$", "aws", "amazon", "com", "https://", "\\", "(?=a)", "(?<!b)"]
REPLACE_PIECES = ["x", "\\1", "\\2", "\\g<0>", "\\g<n>", "\\g<x>", "\\\\", "\\n", "\\q", "$1", "${bucket}", "${nope}", "arn:aws-cn"]


@st.composite
def generated_rule_file(draw: st.DrawFn) -> str:
    rules = []
    for index in range(draw(st.integers(1, 3))):
        pairs = []
        for _ in range(draw(st.integers(1, 3))):
            pattern = "".join(draw(st.lists(st.sampled_from(REGEX_PIECES), min_size=1, max_size=8)))
            replace = "".join(draw(st.lists(st.sampled_from(REPLACE_PIECES), max_size=3)))
            pairs.append({"pattern": pattern, "replace": replace})
        rules.append({"id": f"r{index}", "description": "fuzzed.", "action": "replace_text", "replacements": pairs})
    data: dict[str, object] = {"rules": rules}
    if draw(st.booleans()):
        data["extends"] = draw(st.sampled_from(["china", "panther", "self.yml", "missing.yml", ["china", "china"]]))
    return yaml.safe_dump(data, sort_keys=False)


@st.composite
def mutated_pack(draw: st.DrawFn) -> str:
    inserts = ["[", "]", "{", "}", ":", ": ", "&a ", "*a", "\t", "'", '"', "\n", "- ", "#", "\\", "(", ")", "(?i)", "\\2", "${x}", "!!int ", "~"]
    return mutate(draw, draw(st.sampled_from(PACK_SOURCES)), inserts, ["insert", "delete", "duplicate-line", "drop-line"])


plain_yaml = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(["rules", "id", "action", "extends", "variables",
                                                                                 "disable", "replacements", "pattern", "x"]), inner, max_size=4),
    max_leaves=20,
)


@settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large], deadline=None)
@given(text=st.one_of(generated_rule_file(), mutated_pack(), plain_yaml.map(yaml.safe_dump)),
       template=st.sampled_from(FUZZ_TEMPLATES), variables=st.sampled_from([{}, {"bucket": "my-cn-bucket"}, {"bucket": "("}]))
@example(text="rules:\n- id: r0\n  description: fuzzed.\n  action: replace_text\n  replacements:\n  - {pattern: '(a)', replace: '\\2'}\n",
         template=FUZZ_TEMPLATES[1], variables={})
def test_fuzzed_rule_files_give_a_clean_error_or_a_valid_transform(text: str, template: str, variables: dict[str, str]) -> None:
    """No rule file, however broken, ends in anything but a one-line TransformError or a valid output."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "self.yml"
        path.write_text(text, "utf-8")
        try:
            rules = load_rules(path)
        except TransformError as error:
            assert "\n" not in str(error) and error.file is not None
            event(f"load: {type(error).__name__}")
            return
        try:
            result = transform_text(template, rules, region="cn-north-1", variables=variables, source="t.yaml")
        except TransformError as error:
            assert "\n" not in str(error) and error.file is not None
            event(f"transform: {type(error).__name__}")
            return
    assert decode_text(result.text).model == result.model
    event("transformed")

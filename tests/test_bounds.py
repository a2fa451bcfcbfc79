"""Bounds (issue 26): the worst inputs within the default limits run in bounded memory, and rule patterns are
bounded before they are compiled and probed as `transform` would find them.

The heavy cases run the command line in a subprocess under a 1 GiB address-space limit and a
timeout with wide margins (it is not a time bound: a run that needs more than 1 GiB stops at
once with "out of memory", and the timeout only ends a hang).  The templates are
bench/bench_bounds.py's, which measures the same cases in time and memory.
"""

from __future__ import annotations

import importlib.util
import json
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from panther_cn_transform import Limits, TemplateError, decode_text, load_rules, transform_text
from panther_cn_transform.ruleset import patterns

REPO = Path(__file__).resolve().parent.parent
GIB = 1024**3
_spec = importlib.util.spec_from_file_location("bench_bounds", REPO / "bench" / "bench_bounds.py")
assert _spec is not None and _spec.loader is not None
bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench)


def run_in_1_gib(*args: str | Path, cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (GIB, GIB))

    return subprocess.run(
        [sys.executable, "-m", "panther_cn_transform", *map(str, args)],
        capture_output=True, text=True, check=False, cwd=cwd, preexec_fn=cap, timeout=timeout,
    )


def transform_with_reports(tmp_path: Path, text: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "t.yaml").write_text(text)
    return run_in_1_gib("transform", "t.yaml", "--region", "cn-north-1", "--bucket", "my-cn-bucket", "-o", "out.yaml",
                        "--patch", "patch.json", "--report", "report.md", cwd=tmp_path)


# -- a chain of references from a removed resource ---------------------------------------------------------------


def test_a_10000_link_chain_from_a_removed_resource_runs_in_1_gib_with_patch_and_report(tmp_path: Path) -> None:
    """Each link's reason quoted the one before: n^2 characters (over 5.8 GB on main for 10,000 links)."""
    done = transform_with_reports(tmp_path, bench.chain(10_000))
    assert done.returncode == 0, done.stderr[-500:]
    patch = json.loads((tmp_path / "patch.json").read_text())
    assert {op["path"] for op in patch} == {"/Resources/Pool"} | {f"/Resources/Link{i}" for i in range(1, 10_001)}
    assert (tmp_path / "report.md").stat().st_size < 10_000 * 1000  # a bounded line per link


def test_a_cascaded_removal_names_what_it_used_and_where_the_cascade_started() -> None:
    result = transform_text(bench.chain(300), load_rules("china"), region="cn-north-1", source="t.yaml")
    reasons = {edit.path: edit.reason for edit in result.edits if edit.op == "remove"}
    first, second, last = reasons[("Resources", "Link1")], reasons[("Resources", "Link2")], reasons[("Resources", "Link300")]
    assert first.startswith("Link1 removed: Properties.TopicName uses Pool; Pool removed: AWS::Cognito::UserPool")
    assert second == "Link2 removed: Properties.TopicName uses Link1; " + first  # within two links: the whole reason
    assert last.startswith("Link300 removed: Properties.TopicName uses Link299; Link299 removed: Properties.TopicName uses "
                           "Link298 (removed in turn, from: Pool removed: AWS::Cognito::UserPool")
    assert "Link297" not in last and len(last) < len(second) + 100


# -- aliases ---------------------------------------------------------------------------------------------------------


def test_doubling_aliases_past_the_alias_limit_are_refused_at_once(tmp_path: Path) -> None:
    """19 doubling levels (about a million values, within max_nodes) took 156 s and 4 GB with --patch --report on main."""
    done = transform_with_reports(tmp_path, bench.aliases(leaf=2, levels=19))
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "error: t.yaml:20:12: aliases repeat more than 100,000 values (an alias bomb? raise the limit with --max-alias-values N)"
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.yaml"]


def test_the_worst_doubling_aliases_within_the_default_limits_run_in_1_gib_with_patch_and_report(tmp_path: Path) -> None:
    text = bench.aliases()
    done = transform_with_reports(tmp_path, text)
    assert done.returncode == 0, done.stderr[-500:]
    assert "arn:aws:" not in (tmp_path / "out.yaml").read_text()
    assert len(json.loads((tmp_path / "patch.json").read_text())) > Limits().max_alias_values // 2


def test_the_alias_limit_counts_what_each_alias_repeats_and_can_be_raised() -> None:
    text = "Resources:\n  T:\n    Type: AWS::SNS::Topic\n    Metadata:\n      a: &a [x, y, z]\n      b: [*a, *a]\n"
    assert decode_text(text, limits=Limits(max_alias_values=6)).model["Resources"]["T"]["Metadata"]["b"] == [["x", "y", "z"]] * 2
    with pytest.raises(TemplateError, match=r"^t.yaml:5:10: aliases repeat more than 5 values"):
        decode_text(text, source="t.yaml", limits=Limits(max_alias_values=5))
    scalars = "Resources:\n  T:\n    Type: AWS::SNS::Topic\n    Metadata:\n      a: &a x\n      b: [*a, *a, *a]\n"
    assert decode_text(scalars, limits=Limits(max_alias_values=3)).model  # three aliases of a scalar: three values


def test_max_alias_values_is_a_command_line_limit(tmp_path: Path) -> None:
    (tmp_path / "t.yaml").write_text("Resources:\n  T:\n    Type: AWS::SNS::Topic\n    Metadata:\n      a: &a [x, y]\n      b: [*a, *a]\n")
    base = ("transform", "t.yaml", "--region", "cn-north-1", "--bucket", "my-cn-bucket")
    assert run_in_1_gib(*base, "--max-alias-values", "4", cwd=tmp_path).returncode == 0
    done = run_in_1_gib(*base, "--max-alias-values", "3", cwd=tmp_path)
    assert done.returncode == 2 and done.stderr.startswith("error: t.yaml:5:10: aliases repeat more than 3 values")


# -- rule patterns -------------------------------------------------------------------------------------------------


def pattern_rules(pattern: str) -> str:
    return ("rules:\n  - id: p\n    description: d\n    action: replace_text\n"
            f"    replacements:\n      - pattern: '{pattern}'\n        replace: x\n")


@pytest.mark.parametrize("command", [("rules", "check", "r.yml"),
                                     ("transform", "t.yaml", "--region", "cn-north-1", "--rules", "r.yml")], ids=["check", "transform"])
def test_a_huge_counted_repeat_is_refused_before_it_is_compiled(tmp_path: Path, command: tuple[str, ...]) -> None:
    """`a{1000000000}`: 100 bytes of rule file took 4 GB at compile on main."""
    (tmp_path / "r.yml").write_text(pattern_rules("a{1000000000}"))
    (tmp_path / "t.yaml").write_text("Resources:\n  T:\n    Type: AWS::SNS::Topic\n")
    done = run_in_1_gib(*command, cwd=tmp_path, timeout=120)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.splitlines() == [
        ("error: r.yml:6: rules/0/replacements/0: pattern 'a{1000000000}' is too large once its counted repeats are "
         "unrolled (1,000,000,000 copies, at most 10,000); use an open repeat such as + or {1,}, or smaller counts"),
    ]


@pytest.mark.parametrize("command", [("rules", "check", "r.yml"),
                                     ("transform", "t.yaml", "--region", "cn-north-1", "--rules", "r.yml")], ids=["check", "transform"])
def test_overlapping_branches_under_a_repeat_fail_rules_check_as_transform_finds_them(tmp_path: Path, command: tuple[str, ...]) -> None:
    """`^(ab|a|b)*$` passed `rules check` on main, then stopped `transform` at its 10 s budget on `abab...ab!`."""
    (tmp_path / "r.yml").write_text(pattern_rules("^(ab|a|b)*$"))
    (tmp_path / "t.yaml").write_text("Resources:\n  T:\n    Type: AWS::SNS::Topic\n    Properties: {DisplayName: " + "ab" * 30 + "!}\n")
    done = run_in_1_gib(*command, cwd=tmp_path, timeout=120)
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        ("error: r.yml:6: rules/0/replacements/0: pattern '^(ab|a|b)*$' backtracks catastrophically (over 0.1 s on "
         "20 x 'ab'); rewrite it without nested or overlapping repetition"),
    ]


@pytest.mark.parametrize(("pattern", "size"), [
    ("a{1000000000}", 1_000_000_000), ("(?:a{100}){100}", 10_000), ("(?P<x>ab{3}){2}c", 9), (r"[0-9a-f]{8}-\d{4}", 13),
    (r"\p{L}{3}", 3), ("[{]{5}", 5), (r"x\{5}", 4), ("(?:ab|cd){0,1000000}", 4), ("a{1,}|b", 2), ("(?#{9999})a", 1),
])
def test_unrolled_size_counts_each_repeat_s_minimum_through_nesting(pattern: str, size: int) -> None:
    assert patterns.unrolled_size(pattern) == size


def test_patterns_within_the_unrolled_size_compile_and_one_past_it_does_not() -> None:
    for ordinary in (r"https://(?:[a-z0-9-]+\.)?console\.aws\.amazon\.com", r"^(\d+\.\d+\.\d+)$", "(a+)+$",
                     r"arn:aws:([a-z0-9-]*):(.*)", r"(?:[0-9a-f]{8}-){3}[0-9a-f]{12}", "(?:a{100}){100}"):
        patterns.compile_replacement(ordinary, "x")  # neither too large nor refused by the pumped probes
    with pytest.raises(patterns.PatternError, match=r"10,100 copies, at most 10,000"):
        patterns.compile_replacement("(?:a{100}){101}", "x")


def test_the_pumped_strings_of_a_repeat_are_what_its_branches_match() -> None:
    pumps = patterns.pumped_strings("x(ab|a|b)*$")
    assert ("x", "ab") in pumps and ("x", "a") in pumps and ("x", "b") in pumps
    assert patterns.pumped_strings("plain") == []
    assert patterns.pumped_strings(r"\p{L}+") == []  # `re` cannot read it: the character runs only


# -- a script written as a Join of lines -----------------------------------------------------------------------------


def test_the_hosts_of_a_join_are_found_once_not_once_per_part(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each part of a Join searched the whole joined text: quadratic (2,000 lines took 63 s of CPU on main)."""
    from panther_cn_transform.ruleset.actions import rewrite_endpoints

    calls: list[int] = []
    real = rewrite_endpoints.find_hosts

    def counting(text: str, *args: object) -> object:
        calls.append(len(text))
        return real(text, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(rewrite_endpoints, "find_hosts", counting)
    result = transform_text(bench.userdata_join(300), load_rules("china"), region="cn-north-1", source="t.yaml")
    assert len(calls) == 1
    assert result.text.count("arn:aws-cn:s3:::b/") == 300


def test_a_3000_line_join_script_transforms_in_linear_time(tmp_path: Path) -> None:
    """Under a CPU-time limit (RLIMIT_CPU) of 60 s: main needed about 130 s, this tree about 2 s (no wall-clock bound)."""
    (tmp_path / "t.yaml").write_text(bench.userdata_join(3000))

    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (GIB, GIB))
        resource.setrlimit(resource.RLIMIT_CPU, (60, 60))

    done = subprocess.run(
        [sys.executable, "-m", "panther_cn_transform", "transform", "t.yaml", "--region", "cn-north-1", "--bucket", "my-cn-bucket",
         "-o", "out.yaml", "--patch", "patch.json", "--report", "report.md"],
        capture_output=True, text=True, check=False, cwd=tmp_path, preexec_fn=cap, timeout=1200,
    )
    assert done.returncode == 0, done.stderr[-300:]
    assert (tmp_path / "out.yaml").read_text().count("arn:aws-cn:s3:::b/") == 3000


def test_aliases_of_scalars_count_against_the_alias_limit_when_the_text_could_pass_it() -> None:
    """100,000 aliases of one ARN in 400 KB took 12 s of CPU (2.6 million fit in 10 MiB)."""
    text = "Resources:\n  T:\n    Type: AWS::SNS::Topic\n    Metadata:\n      a: &a arn:aws:s3:::b\n      b: [" + ", ".join(["*a"] * 11) + "]\n"
    assert decode_text(text, limits=Limits(max_alias_values=11)).model["Resources"]["T"]["Metadata"]["b"] == ["arn:aws:s3:::b"] * 11
    with pytest.raises(TemplateError, match=r"^t.yaml:5:10: aliases repeat more than 10 values"):
        decode_text(text, source="t.yaml", limits=Limits(max_alias_values=10))

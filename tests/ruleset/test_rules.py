"""Rule files: the schema's ok/fail cases, extends, overrides, variables and errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from panther_cn_transform import RuleFileError, load_rules

CASES = Path(__file__).resolve().parents[1] / "rules" / "schema"


@pytest.mark.parametrize("path", sorted(CASES.glob("*.ok.yaml")), ids=lambda p: p.name)
def test_ok_cases_load(path: Path) -> None:
    assert load_rules(path).rules


@pytest.mark.parametrize("path", sorted(CASES.glob("*.fail.yaml")), ids=lambda p: p.name)
def test_fail_cases_name_file_and_line(path: Path) -> None:
    with pytest.raises(RuleFileError) as caught:
        load_rules(path)
    assert caught.value.file == str(path) and caught.value.line is not None


def test_extends_override_keeps_place_and_disable_drops() -> None:
    rules = load_rules(CASES / "extends-and-vars.ok.yaml")
    ids = [r.id for r in rules.rules]
    china_ids = [r.id for r in load_rules("china").rules]
    assert ids == [i for i in china_ids if i != "console-urls"] + ["my-assets"]
    panther = load_rules("panther")
    # the ICP rule is disabled and defined again after the bridge, so that it sees the bridge on every run
    assert [r.id for r in panther.rules] == [i for i in china_ids if i != "api-gateway-icp-unauthenticated"] + [
        "global-only-components", "cognito-management-beside-the-pool", "cn-bridge", "api-gateway-icp-unauthenticated"
    ]
    assert "panther-enterprise-*" in next(r for r in panther.rules if r.id == "s3-assets").params["source_buckets"]


def test_variables_are_bound_and_undefined_ones_are_named(tmp_path: Path) -> None:
    bound = load_rules(CASES / "extends-and-vars.ok.yaml").bind({"region": "cn-north-1"})
    assert next(r for r in bound if r.id == "my-assets").params["target_bucket"] == "default-bucket"
    with pytest.raises(RuleFileError, match=r"undefined variable \$\{bucket\}"):
        load_rules("panther").bind({"region": "cn-north-1"})


def test_extends_cycle_and_missing_parent(tmp_path: Path) -> None:
    (tmp_path / "a.yml").write_text("extends: b.yml\nrules: []\n")
    (tmp_path / "b.yml").write_text("extends: a.yml\nrules: []\n")
    with pytest.raises(RuleFileError, match="extends cycle"):
        load_rules(tmp_path / "a.yml")
    (tmp_path / "c.yml").write_text("extends: nowhere.yml\nrules: []\n")
    with pytest.raises(RuleFileError, match="rule file not found"):
        load_rules(tmp_path / "c.yml")
    with pytest.raises(RuleFileError, match="unknown rule pack 'chian'"):
        load_rules("chian")


def test_rules_check_command_exit_codes() -> None:
    ok = subprocess.run([sys.executable, "-m", "panther_cn_transform", "rules", "check", "rules/china.yml"], capture_output=True, text=True, check=False, cwd=CASES.parents[2])
    assert ok.returncode == 0
    bad = subprocess.run([sys.executable, "-m", "panther_cn_transform", "rules", "check", str(CASES / "unknown-key.fail.yaml")], capture_output=True, text=True, check=False)
    assert bad.returncode == 2 and ":2: rules/0/stlye: unknown key" in bad.stderr and "Traceback" not in bad.stderr


def test_docs_rules_md_is_generated_and_current() -> None:
    from panther_cn_transform.report.rule_docs import render_rules_doc

    doc = Path(__file__).resolve().parents[2] / "docs" / "rules.md"
    assert doc.read_text("utf-8") == render_rules_doc(), "run: python -m panther_cn_transform rules docs > docs/rules.md"


def test_rules_schema_json_is_generated_and_current() -> None:
    from panther_cn_transform.ruleset.rule_schema import render_schema

    shipped = Path(__file__).resolve().parents[2] / "rules" / "schema.json"
    assert shipped.read_text("utf-8") == render_schema(), "run: python -m panther_cn_transform rules schema > rules/schema.json"


def test_every_action_declares_what_the_docs_and_schema_need() -> None:
    from panther_cn_transform.ruleset.actions import ACTIONS

    for name, action in ACTIONS.items():
        spec = action.spec
        assert spec.name == name and action.__doc__ and spec.why and spec.safety and spec.example, name
        assert not [p.name for p in spec.params if p.required and p.default is not None], name
        assert set(spec.example_params) <= {p.name for p in spec.params}, name


def test_a_pack_name_is_not_shadowed_by_a_folder_or_file_of_that_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "panther").mkdir()
    (tmp_path / "china").write_text("not a rule file: [")
    done = subprocess.run([sys.executable, "-m", "panther_cn_transform", "rules", "show", "--rules", "china"],
                          capture_output=True, text=True, check=False, cwd=tmp_path)
    assert done.returncode == 0 and "id: partition" in done.stdout, done.stderr
    (tmp_path / "t.yaml").write_text("Resources:\n  Q:\n    Type: AWS::SQS::Queue\n")
    default = subprocess.run([sys.executable, "-m", "panther_cn_transform", "transform", "t.yaml", "--region", "cn-north-1",
                              "--bucket", "my-cn-bucket"], capture_output=True, text=True, check=False, cwd=tmp_path)
    assert default.returncode == 0 and "AWS::SQS::Queue" in default.stdout, default.stderr
    (tmp_path / "mine").write_text("rules: []\n")
    monkeypatch.chdir(tmp_path)
    assert load_rules("mine").rules == ()  # a name that is no pack is still a file
    with pytest.raises(RuleFileError, match="malformed YAML"):
        load_rules("./china")


SHIPPED = Path(__file__).resolve().parents[2] / "rules"


@pytest.mark.parametrize("path", [*sorted(SHIPPED.glob("*.yml")), *sorted((SHIPPED / "partitions").glob("*.yml"))],
                         ids=lambda p: p.relative_to(SHIPPED).as_posix())
def test_every_shipped_pack_and_partition_file_passes_the_schema(path: Path) -> None:
    # Loading skips the JSON Schema for the files the package ships (jsonschema costs ~70 ms of every start);
    # this is where they are validated instead, as a user's file would be.
    from panther_cn_transform.limits import Limits
    from panther_cn_transform.ruleset.rule_files import _Loader, partition_schema

    loader = _Loader(Limits())
    data = loader.parse(str(path), path.read_text("utf-8"))
    loader.validate(str(path), data, partition_schema() if path.parent.name == "partitions" else None)


def test_a_shipped_file_that_breaks_the_schema_fails_that_check(tmp_path: Path) -> None:
    from panther_cn_transform.limits import Limits
    from panther_cn_transform.ruleset.rule_files import _Loader

    broken = (SHIPPED / "china.yml").read_text("utf-8").replace("action: ", "action: no_such_", 1)
    loader = _Loader(Limits())
    with pytest.raises(RuleFileError, match="unknown action"):
        loader.validate("china.yml", loader.parse("china.yml", broken))


def _values_and_lines(value: object, path: tuple[object, ...] = ()) -> list[tuple[tuple[object, ...], object]]:
    """Every (path, plain value) and (path + ('line',), line) of a parsed rule file, for comparing parsers."""
    found: list[tuple[tuple[object, ...], object]] = []
    if isinstance(value, dict):
        for key, item in value.items():
            found.append(((*path, key, "line"), value.lc.key(key)[0]))  # type: ignore[attr-defined]
            found += _values_and_lines(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found.append(((*path, index, "line"), value.lc.item(index)[0]))  # type: ignore[attr-defined]
            found += _values_and_lines(item, (*path, index))
    else:  # the builtin type a scalar stands for (ruamel's ScalarFloat is a float, FoldedScalarString a str...)
        kind = next((kind for kind in (bool, int, float, str) if isinstance(value, kind)), type(value))
        found.append((path, (kind.__name__, value)))
    return found


@pytest.mark.parametrize("shipped", sorted(p.relative_to(SHIPPED).as_posix() for p in SHIPPED.rglob("*.yml")))
def test_a_shipped_file_reads_the_same_through_libyaml_as_through_ruamel(shipped: str) -> None:
    # The shipped packs are read with libyaml (shipped_yaml.py) for start-up; a user's file with ruamel.yaml.
    # Every value (and its type: YAML 1.1 and 1.2 read `yes`, `on`, `0o7` differently) and every line must agree.
    from panther_cn_transform.limits import Limits
    from panther_cn_transform.ruleset.rule_files import _Loader
    from panther_cn_transform.ruleset.shipped_yaml import load_shipped

    text = (SHIPPED / shipped).read_text("utf-8")
    through_ruamel = _Loader(Limits()).parse(shipped, text)
    through_libyaml = load_shipped(text)
    assert _values_and_lines(through_libyaml) == _values_and_lines(through_ruamel)



def test_the_libyaml_reading_tells_yaml_1_1_forms_apart_from_ruamel() -> None:
    # The check above can fail: a form the two parsers read differently is seen.
    from panther_cn_transform.limits import Limits
    from panther_cn_transform.ruleset.rule_files import _Loader
    from panther_cn_transform.ruleset.shipped_yaml import load_shipped

    text = "rules:\n  - enabled: yes\n"
    assert _values_and_lines(load_shipped(text)) != _values_and_lines(_Loader(Limits()).parse("x.yml", text))

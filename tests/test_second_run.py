"""A second run on an output changes nothing and warns only about what truly remains.

Running `transform` again on its own output is what a user does to check a port. It must
change nothing, and warn about nothing the first run fixed: never about the pack's own
target bucket (the China bucket is not "unmapped"), never about a value the first run
rewrote. What truly remains (a foreign-region ARN, a missing ICP license) is warned again,
exactly as the first run warned it. Held on the whole corpus, for the generic `china` pack
and the default `panther` pack, in both China regions.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from panther_cn_transform import load_rules, read_template, transform, transform_text

from .corpus import CORPUS, corpus_templates

TEMPLATES = corpus_templates()
PACKS = {"china": load_rules("china"), "panther": load_rules("panther")}
REGIONS = ("cn-north-1", "cn-northwest-1")
BUCKET = "my-cn-bucket"
EXAMPLE_ROOT = Path(__file__).resolve().parent.parent / "examples" / "release" / "panther-enterprise-us-west-1" / "v1.0.0" / "panther.yml"


def _id(path: Path) -> str:
    return str(path.relative_to(CORPUS))


@pytest.mark.parametrize("path", TEMPLATES, ids=_id)
def test_a_second_run_changes_nothing_and_warns_only_what_remains(path: Path) -> None:
    template = read_template(path)
    for pack, rules in PACKS.items():
        for region in REGIONS:
            targets = {BUCKET, f"{region}-assets"}  # the panther pack's --bucket, the china pack's default target
            first = transform(template, rules, region=region, variables={"bucket": BUCKET})
            second = transform_text(first.text, rules, region=region, variables={"bucket": BUCKET}, source=template.source)
            where = f"{pack} pack, {region}"
            assert not second.edits, (where, [(e.pointer, e.rule) for e in second.edits])
            assert second.text == first.text, where
            before = {(w.path, w.rule, w.message) for w in first.warnings}
            new = [(w.pointer, w.rule, w.message) for w in second.warnings if (w.path, w.rule, w.message) not in before]
            assert not new, (where, new)
            about_target = [w.message for w in second.warnings if any(f"'{bucket}'" in w.message for bucket in targets)]
            assert not about_target, (where, about_target)
            # what truly remains is warned again: a foreign-region ARN stays foreign
            foreign = {(w.path, w.message) for w in first.warnings if w.rule == "foreign-arns"}
            assert foreign <= {(w.path, w.message) for w in second.warnings if w.rule == "foreign-arns"}, where


def test_the_cli_twice_on_the_example_root_warns_the_same_and_never_about_the_china_bucket(tmp_path: Path) -> None:
    def run(source: Path, output: Path) -> list[str]:
        done = subprocess.run(
            [sys.executable, "-m", "panther_cn_transform", "transform", source, "-o", output,
             "--region", "cn-north-1", "--bucket", BUCKET],
            capture_output=True, text=True, check=False, env=os.environ, cwd=tmp_path,
        )
        assert done.returncode == 0, done.stderr
        return [line.replace(f"warning: {source}:", "warning: ") for line in done.stderr.splitlines()]

    first = run(EXAMPLE_ROOT, tmp_path / "once.yml")
    second = run(tmp_path / "once.yml", tmp_path / "twice.yml")
    assert (tmp_path / "once.yml").read_bytes() == (tmp_path / "twice.yml").read_bytes()
    assert second == first and len(set(first)) == len(first)  # the same warnings, each once
    assert not any(BUCKET in line for line in second)
    # the root reads its nested stacks' outputs, which only release mode can check: said once, naming it
    nested = [line for line in first if "[nested-outputs-unchecked]" in line]
    assert len(nested) == 1 and "release command" in nested[0] and "Bootstrap.Outputs.UserPoolId" in nested[0]

"""The whole shared corpus: loads, round-trips untouched, and changes only what rules change."""

from __future__ import annotations

import difflib
import re
from pathlib import Path

import jsonpatch
import pytest

from panther_cn_transform import RuleSet, decode_text, load_rules, read_template, transform
from panther_cn_transform.model.walk import is_region, iter_strings

from .corpus import CORPUS, corpus_templates

TEMPLATES = corpus_templates()
PARTITION_ONLY = load_rules(Path(__file__).parent / "rules" / "partition-only.yml")
_ARN_REGION = re.compile(r"arn:aws:(?:[a-z0-9-]*:(?P<region>[^:\s\"']*):)?")


def _portable_arns(path: tuple[object, ...], value: str) -> int:
    """ARNs the partition rule rewrites: all but those with a region outside China (left whole, in prose too; reported outside it)."""
    return sum(1 for m in _ARN_REGION.finditer(value)
               if not (is_region(m.group("region") or "") and not m.group("region").startswith("cn-")))


def _id(path: Path) -> str:
    return str(path.relative_to(CORPUS))


def test_the_corpus_is_all_there() -> None:
    # public + pairs + panther + panther-release; guards against a silently empty glob
    assert len(TEMPLATES) >= 200


@pytest.mark.parametrize("path", TEMPLATES, ids=_id)
def test_no_rules_means_byte_identical(path: Path) -> None:
    result = transform(read_template(path), RuleSet.empty(), region="cn-north-1")
    assert result.text.encode("utf-8") == path.read_bytes()
    assert not result.edits


@pytest.mark.parametrize("path", TEMPLATES, ids=_id)
def test_partition_rule_changes_only_rewritten_lines_and_patch_explains_output(path: Path) -> None:
    source = path.read_text("utf-8")
    result = transform(read_template(path), PARTITION_ONLY, region="cn-north-1")
    output_model = decode_text(result.text).model
    assert jsonpatch.apply_patch(decode_text(source).model, result.patch) == output_model
    removed = [l for l in difflib.unified_diff(source.splitlines(), result.text.splitlines(), lineterm="", n=0) if l.startswith("-") and not l.startswith("---")]
    added = [l for l in difflib.unified_diff(source.splitlines(), result.text.splitlines(), lineterm="", n=0) if l.startswith("+") and not l.startswith("+++")]
    assert all("arn:aws:" in line for line in removed)
    assert all("arn:aws-cn:" in line for line in added)
    assert len(removed) == len(added)
    had_arns = any(_portable_arns(path, value) for path, value in iter_strings(decode_text(source).model))
    assert bool(result.edits) == had_arns  # comments are not values: they stay as written
    assert not any(_portable_arns(path, value) for path, value in iter_strings(output_model))

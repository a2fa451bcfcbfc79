"""The corpus gauntlet: every corpus template, a China region each (both under the long profile), every invariant."""

from __future__ import annotations

from pathlib import Path

import pytest

from panther_cn_transform import decode_text, load_rules, read_template, transform
from panther_cn_transform.testing import (
    assert_layout_preserved,
    assert_no_dangling_references,
    assert_patch_consistent,
    assert_region_ready,
    dangling_references,
)

from .corpus import CORPUS, corpus_templates, one_region_each

TEMPLATES = corpus_templates()
PANTHER = load_rules("panther")


CASES = one_region_each(TEMPLATES)


@pytest.mark.parametrize(("path", "region"), CASES, ids=[f"{p.relative_to(CORPUS)}-{r}" for p, r in CASES])
def test_corpus_template_passes_every_invariant(path: Path, region: str) -> None:
    template = read_template(path)
    result = transform(template, PANTHER, region=region, variables={"bucket": "my-cn-bucket"})
    assert_no_dangling_references(result.model, already=dangling_references(template.model))
    assert_patch_consistent(template.model, decode_text(result.text).model, result.patch)
    assert_layout_preserved(template.text, result.text, result.edits)
    if result.model.get("Resources"):
        assert_region_ready(result.model, region, asset_buckets=["panther-enterprise-us-west-1"],
                            warned=[w.pointer for w in result.warnings])
    again = transform(decode_text(result.text), PANTHER, region=region, variables={"bucket": "my-cn-bucket"})
    assert not again.edits  # a second run changes nothing

"""cfn-lint on transformed public templates reports no error the input did not have."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from panther_cn_transform import load_rules, read_template, transform

from .corpus import CORPUS, corpus_templates

cfnlint_api = pytest.importorskip("cfnlint.api", reason="cfn-lint is not installed (CI installs it)")
PUBLIC = [p for p in corpus_templates() if (CORPUS / "public") in p.parents]
CHINA = load_rules("china")


def _errors(text: str, region: str) -> Counter[tuple[str, str]]:
    matches = cfnlint_api.lint(text, config=cfnlint_api.ManualArgs(regions=[region]))
    # compare by rule and message without positions: edits may move lines
    return Counter(
        (m.rule.id, re.sub(r"\d+", "N", str(m.message).replace("aws-cn", "aws").replace(".com.cn", ".com")))
        for m in matches
        if m.rule.id.startswith("E")
    )


@pytest.mark.skipif(not PUBLIC, reason=f"shared corpus not found at {CORPUS}")
@pytest.mark.parametrize("path", PUBLIC, ids=lambda p: str(p.relative_to(CORPUS / "public")))
def test_no_new_cfn_lint_errors_in_cn_north_1(path: Path) -> None:
    template = read_template(path)
    result = transform(template, CHINA, region="cn-north-1")
    if not result.changed:
        return
    before = _errors(template.text, "cn-north-1")
    after = _errors(result.text, "cn-north-1")
    assert after - before == Counter()

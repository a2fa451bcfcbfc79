"""cfn-lint on transformed public templates reports no error the input did not have.

cfn-lint is about a third of the whole suite's CPU time (docs/testing.md), so the default run samples: the string
rewrite check lints every other public template (all of them under `HYPOTHESIS_PROFILE=long`),
and the removal check runs each corpus template in one China region, the two regions taking
turns down the corpus (both under the long profile).
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from pathlib import Path

import cfnlint.api as cfnlint_api
import pytest

from panther_cn_transform import load_rules, read_template, transform

from .corpus import CORPUS, LONG, corpus_templates, one_region_each

PUBLIC = [p for p in corpus_templates() if (CORPUS / "public") in p.parents]
CHINA = load_rules("china")


@functools.cache
def _errors(text: str, region: str) -> Counter[tuple[str, str]]:
    """Error-level findings by rule and message (cached: inputs are linted by several tests)."""
    matches = cfnlint_api.lint(text, config=cfnlint_api.ManualArgs(regions=[region]))
    # compare by rule and message without positions: edits may move lines
    return Counter(
        (m.rule.id, re.sub(r"\d+", "N", str(m.message).replace("aws-cn", "aws").replace(".com.cn", ".com")))
        for m in matches
        if m.rule.id.startswith("E")
    )


PUBLIC_CASES = PUBLIC if LONG else PUBLIC[::2]


@pytest.mark.parametrize("path", PUBLIC_CASES, ids=lambda p: str(p.relative_to(CORPUS / "public")))
def test_no_new_cfn_lint_errors_in_cn_north_1(path: Path) -> None:
    template = read_template(path)
    result = transform(template, CHINA, region="cn-north-1")
    if not result.changed:
        return
    before = _errors(template.text, "cn-north-1")
    after = _errors(result.text, "cn-north-1")
    assert after - before == Counter()


ALL = corpus_templates()
PANTHER = load_rules("panther")
REFERENCE_RULES = {"E3005", "E1010", "E1019", "E1020", "E6101", "E3006", "E1041", "E3012"}


REMOVAL_CASES = one_region_each(ALL)


@pytest.mark.parametrize(("path", "region"), REMOVAL_CASES, ids=[f"{p.relative_to(CORPUS)}-{r}" for p, r in REMOVAL_CASES])
def test_removals_leave_no_unsupported_type_and_no_new_reference_error(path: Path, region: str) -> None:
    template = read_template(path)
    result = transform(template, PANTHER, region=region, variables={"bucket": "my-cn-bucket"})
    if not any(e.op == "remove" and len(e.path) == 2 and e.path[0] == "Resources" for e in result.edits):
        return  # nothing removed: the string rewrites are checked above
    after = _errors(result.text, region)
    assert not [key for key in after if key[0] == "E3006"], after
    before = _errors(template.text, region)
    new = {key: n for key, n in (after - before).items() if key[0] in REFERENCE_RULES}
    assert not new

"""The shipped China packs on the Panther release (the pairs are measured in test_fidelity.py)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from panther_cn_transform import load_rules, read_template, transform
from panther_cn_transform.model.walk import iter_strings

from ..corpus import CORPUS, corpus_templates

RELEASE = CORPUS / "panther-release" / "panther-enterprise-us-west-1"
RELEASE_TEMPLATES = [p for p in corpus_templates() if RELEASE in p.parents]
PANTHER = load_rules("panther")


@pytest.mark.parametrize("path", RELEASE_TEMPLATES, ids=lambda p: p.name[:10])
def test_panther_release_templates_point_at_the_china_bucket(path: Path) -> None:
    result = transform(read_template(path), PANTHER, region="cn-north-1", variables={"bucket": "my-cn-bucket"})
    source = read_template(path).model
    strings = dict(iter_strings(result.model))
    warned = {w.path for w in result.warnings if w.rule == "foreign-arns"}
    for where, value in strings.items():
        assert "panther-enterprise-us-west-1" not in value, where
        assert "arn:aws:" not in value or where in warned, where  # an ARN in a global region stays whole, reported
        assert not re.search(r"https://[^ ]*s3[^ ]*\.amazonaws\.com(?!\.cn)", value), where
    for where, value in iter_strings(source):
        if where not in strings:
            continue  # removed with its resource (Panther's AppSync and web server stay global)
        if where[-1] == "TemplateURL":
            key = value.rsplit("/", 1)[1]
            assert strings[where] == f"https://my-cn-bucket.s3.cn-north-1.amazonaws.com.cn/{key}"
        if where[-1] in ("CodeUri", "DefinitionS3Location"):
            assert strings[where] == "s3://my-cn-bucket/" + value.split("/", 3)[3]
        if where[-1] == "S3Bucket":
            assert strings[where] == "my-cn-bucket"


def test_the_two_foreign_arns_of_the_release_are_warnings() -> None:
    messages = []
    for path in RELEASE_TEMPLATES:
        result = transform(read_template(path), PANTHER, region="cn-north-1", variables={"bucket": "b"})
        messages += [w.message for w in result.warnings if w.rule == "foreign-arns"]
    assert any(m.startswith("kms ARN in us-west-2") for m in messages)
    assert any(m.startswith("serverlessrepo ARN in us-east-1") for m in messages)
    assert len(messages) == 2

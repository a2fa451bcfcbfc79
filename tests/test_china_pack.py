"""The shipped China packs on real templates: the pairs floor, the Panther release, cfn-lint."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from panther_cn_transform import load_rules, read_template, transform
from panther_cn_transform.walk import iter_strings

from .corpus import CORPUS, corpus_templates

PAIRS = sorted(p for p in (CORPUS / "pairs").glob("*") if p.is_dir()) if CORPUS.is_dir() else []
RELEASE = CORPUS / "panther-release" / "panther-enterprise-us-west-1"
RELEASE_TEMPLATES = [p for p in corpus_templates() if RELEASE in p.parents]
CHINA = load_rules("china")
PANTHER = load_rules("panther")
needs_corpus = pytest.mark.skipif(not CORPUS.is_dir(), reason=f"shared corpus not found at {CORPUS}")


def _value(model: object, path: tuple[object, ...]) -> object:
    for part in path:
        try:
            model = model[part]  # type: ignore[index]
        except (KeyError, IndexError, TypeError):
            return None
    return model


@needs_corpus
@pytest.mark.parametrize("pair", PAIRS, ids=lambda p: p.name)
def test_every_hand_made_partition_and_endpoint_change_is_made(pair: Path) -> None:
    global_file = next(pair.glob("global.*"))
    china_model = read_template(next(pair.glob("china.*"))).model
    ours = transform(read_template(global_file), CHINA, region="cn-north-1").model
    checked = 0
    for path, before in iter_strings(read_template(global_file).model):
        theirs = _value(china_model, path)
        if not isinstance(theirs, str) or theirs == before:
            continue
        mine = _value(ours, path)
        assert isinstance(mine, str), path
        for token in ("arn:aws-cn:", "amazonaws.com.cn"):
            if theirs.count(token) > before.count(token):
                checked += 1
                assert mine.count(token) >= theirs.count(token), (path, mine, theirs)
    assert not any("arn:aws:" in v for _, v in iter_strings(ours))
    assert checked or pair.name == "siem-integration-with-control-tower"  # the identity pair


@needs_corpus
@pytest.mark.parametrize("path", RELEASE_TEMPLATES, ids=lambda p: p.name[:10])
def test_panther_release_templates_point_at_the_china_bucket(path: Path) -> None:
    result = transform(read_template(path), PANTHER, region="cn-north-1", variables={"bucket": "my-cn-bucket"})
    source = read_template(path).model
    strings = dict(iter_strings(result.model))
    for where, value in strings.items():
        assert "panther-enterprise-us-west-1" not in value, where
        assert "arn:aws:" not in value, where
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


@needs_corpus
def test_the_two_foreign_arns_of_the_release_are_warnings() -> None:
    messages = []
    for path in RELEASE_TEMPLATES:
        result = transform(read_template(path), PANTHER, region="cn-north-1", variables={"bucket": "b"})
        messages += [w.message for w in result.warnings if w.rule == "foreign-arns"]
    assert any(m.startswith("kms ARN in us-west-2") for m in messages)
    assert any(m.startswith("serverlessrepo ARN in us-east-1") for m in messages)
    assert len(messages) == 2

"""Where the shared corpus is, and which of its files are templates.

The corpus is `../shared/corpus/` beside the checkout, or the folder named by the
environment variable `PANTHER_CN_CORPUS`.  A missing corpus fails the whole run (see
conftest.py): the tests that read it are the measure of fidelity, not optional extras.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from panther_cn_transform import Template, TransformResult
    from panther_cn_transform.model.edits import EditLog

CORPUS = Path(os.environ.get("PANTHER_CN_CORPUS") or Path(__file__).resolve().parent.parent.parent / "shared" / "corpus")
_TEMPLATE_SUFFIXES = {".yaml", ".yml", ".json", ".template"}


#: the long profile (`HYPOTHESIS_PROFILE=long`): the corpus-wide checks run every case, not the default share
LONG = os.environ.get("HYPOTHESIS_PROFILE") == "long"
CHINA_REGIONS = ("cn-north-1", "cn-northwest-1")


def one_region_each(paths: list[Path]) -> list[tuple[Path, str]]:
    """Each path in one China region, the two regions taking turns down the list; in both under the long profile.

    Why: the corpus-wide checks (the gauntlet, cfn-lint's removal check) cost most of the
    suite's time; taking turns still runs every template, and each region on half of them.
    """
    return [(path, region) for index, path in enumerate(paths) for region in CHINA_REGIONS
            if LONG or region == CHINA_REGIONS[index % 2]]


def corpus_templates() -> list[Path]:
    """Every CloudFormation template of the corpus (public, pairs, panther, panther-release)."""
    if not CORPUS.is_dir():
        return []
    found: list[Path] = []
    for folder in ("public", "pairs", "panther/deployments"):
        found += [p for p in sorted((CORPUS / folder).rglob("*")) if p.suffix in _TEMPLATE_SUFFIXES and p.is_file()]
    for path in sorted((CORPUS / "panther-release").rglob("*")):
        if path.is_file() and not path.read_bytes().startswith(b"PK"):
            found.append(path)
    return [p for p in found if _looks_like_template(p)]


def _looks_like_template(path: Path) -> bool:
    """Leaves out the corpus's non-templates (a deployment config, a GraphQL schema)."""
    text = path.read_text("utf-8", errors="replace")
    return "Resources" in text


def decodable_corpus_templates() -> Iterator[tuple[Path, Template]]:
    """Each corpus template that decodes, with its path (a few are refused on purpose: bad YAML, not templates)."""
    from panther_cn_transform import TransformError, read_template

    for path in corpus_templates():
        try:
            yield path, read_template(path)
        except TransformError:
            continue


def china_transforms_replayed(form: str) -> Iterator[tuple[Path, TransformResult, EditLog]]:
    """Each corpus template in `form` (yaml or json) transformed with the china pack, and a new log with its edits replayed.

    For the renderer tests that compare a fast path with the general renderer on real
    templates: the log (its model index built, as a transform's rules build it) gives
    what `render` is given.
    """
    from panther_cn_transform import Edit, load_rules, transform
    from panther_cn_transform.model.edits import EditLog

    rules = load_rules("china")
    for path, template in decodable_corpus_templates():
        if template.format != form:
            continue
        result = transform(template, rules, region="cn-north-1", variables={"bucket": "my-cn-bucket"})
        log = EditLog(template.model)
        log.strings()
        for edit in result.edits:
            log.apply(Edit(edit.path, edit.op, edit.rule, edit.reason, value=edit.value, fragments=edit.fragments))
        yield path, result, log

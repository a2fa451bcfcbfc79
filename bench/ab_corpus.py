"""A/B of behaviour: every corpus template transformed with the china and panther packs, before and after a change.

Why: a refactoring (modules moved, a big module split) must not change what any transform
gives.  This script records, for every corpus template and pack, the output text's SHA-256,
every edit (path, op, value, old, rule, reason) and every warning (path, rule, message), or
the error's one line, using only the public API, so that the same script runs on the tree
before and after the change.

    python bench/ab_corpus.py --write /tmp/ab-before.json     # on the tree before
    python bench/ab_corpus.py --compare /tmp/ab-before.json   # on the tree after: exit 1 on any difference

The corpus is `../shared/corpus/` beside the checkout, or `$PANTHER_CN_CORPUS`.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from panther_cn_transform import TransformError, load_rules, read_template, transform
from tests.corpus import CORPUS, corpus_templates

PACKS = {"china": "cn-north-1", "panther": "cn-northwest-1"}


def outcome(path: Path, pack: str, rules: Any) -> dict[str, Any]:
    """What transforming `path` with `rules` gives, in a form that compares with ==."""
    try:
        result = transform(read_template(path), rules, region=PACKS[pack], variables={"bucket": "my-cn-bucket"})
    except TransformError as error:
        return {"error": str(error)}
    return {
        "text": hashlib.sha256(result.text.encode("utf-8", "surrogatepass")).hexdigest(),
        "edits": [[list(e.path), e.op, repr(e.value), repr(e.old), e.rule, e.reason] for e in result.edits],
        "warnings": [[list(w.path), w.rule, w.message] for w in result.warnings],
    }


def run() -> dict[str, dict[str, Any]]:
    """Every corpus template with every pack, keyed `pack:relative path`."""
    corpus = corpus_templates()
    if not corpus:
        raise SystemExit("error: no corpus found (set PANTHER_CN_CORPUS)")
    found: dict[str, dict[str, Any]] = {}
    for pack in PACKS:
        rules = load_rules(pack)
        for path in corpus:
            found[f"{pack}:{path.relative_to(CORPUS)}"] = outcome(path, pack, rules)
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--write", type=Path, help="record the outcomes in this file")
    group.add_argument("--compare", type=Path, help="compare the outcomes with this recorded file")
    args = parser.parse_args()
    found = run()
    if args.write:
        args.write.write_text(json.dumps(found, sort_keys=True))
        print(f"{len(found)} transforms recorded in {args.write}")
        return 0
    recorded = json.loads(args.compare.read_text())
    differing = sorted(key for key in recorded.keys() | found.keys() if recorded.get(key) != found.get(key))
    for key in differing:
        print(f"differs: {key}")
    print(f"{len(found)} transforms, {len(differing)} differ from {args.compare}")
    return 1 if differing else 0


if __name__ == "__main__":
    sys.exit(main())

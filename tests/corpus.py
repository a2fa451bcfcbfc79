"""Where the shared corpus is, and which of its files are templates."""

from __future__ import annotations

import os
from pathlib import Path

# beside the checkout (../shared/corpus), or wherever PANTHER_CN_CORPUS says (a git worktree elsewhere)
CORPUS = Path(os.environ.get("PANTHER_CN_CORPUS") or Path(__file__).resolve().parent.parent.parent / "shared" / "corpus")
_TEMPLATE_SUFFIXES = {".yaml", ".yml", ".json", ".template"}


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

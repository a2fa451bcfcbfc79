"""The package's layering is a checked contract: import-linter, with the contracts of pyproject.toml.

Layers from the command line down to the model and the leaves (no import runs up), no import
circle between the modules or sub-packages of any package, and only `release/` imports boto3 or
botocore.  The contracts are shown to break: on a copy of the package with one upward import or
one circle added, `lint-imports` fails.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "panther_cn_transform"


def lint_imports(cwd: Path) -> subprocess.CompletedProcess[str]:
    """`lint-imports` in `cwd`, which holds the pyproject.toml and the package it checks."""
    script = "import sys; sys.path.insert(0, '.'); from importlinter.cli import lint_imports_command; lint_imports_command()"
    return subprocess.run([sys.executable, "-c", script, "--no-cache"], cwd=cwd, capture_output=True, text=True,
                          check=False)


def test_the_import_contracts_are_kept() -> None:
    done = lint_imports(ROOT)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "Contracts: 3 kept, 0 broken." in done.stdout


@pytest.mark.parametrize(
    ("module", "line", "broken"),
    [
        ("model/paths.py", "from ..ruleset import findings  # noqa", "Layers"),
        ("partitions/hosts.py", "from .. import cli  # noqa", "Layers"),
        ("model/model_index.py", "from . import edits  # noqa", "No import circle"),
        ("partitions/bucket_names.py", "import boto3  # noqa", "Only release/"),
    ],
    ids=["model imports ruleset", "partitions import the cli", "a circle in model", "boto3 outside release"],
)
def test_an_added_import_that_breaks_a_contract_fails_the_check(tmp_path: Path, module: str, line: str,
                                                                broken: str) -> None:
    copy = tmp_path / "panther_cn_transform"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    target = copy / module
    target.write_text(target.read_text() + f"\n{line}\n")
    done = lint_imports(tmp_path)
    assert done.returncode == 1, done.stdout[-3000:] + done.stderr[-2000:]
    assert broken in done.stdout.split("Broken contracts", 1)[1], done.stdout[-3000:]

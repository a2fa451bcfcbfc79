"""The code stays strictly typed and lint-clean (mypy --strict and ruff, as configured in pyproject.toml)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("tool", [["mypy"], ["ruff", "check", "panther_cn_transform", "tests", "bench", "examples"]], ids=["mypy", "ruff"])
def test_static_checks_pass(tool: list[str]) -> None:
    done = subprocess.run([sys.executable, "-m", *tool], cwd=ROOT, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr

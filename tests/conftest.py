"""Shared fixtures and hypothesis profiles."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from .corpus import CORPUS

REPO = Path(__file__).resolve().parent.parent


def pytest_configure(config: pytest.Config) -> None:
    """A missing corpus is a failure of the run, never a quiet skip of the tests that need it.

    Every subprocess the tests start (`python -m panther_cn_transform` in a temporary folder,
    say) runs this checkout: without the checkout on PYTHONPATH such a command imports whatever
    copy is installed in site-packages, and its test checks that copy instead.
    tests/test_install.py removes PYTHONPATH on purpose to run the built wheel.
    """
    if not (CORPUS / "pairs").is_dir() or not (CORPUS / "public").is_dir():
        raise pytest.UsageError(f"shared corpus not found at {CORPUS} (set PANTHER_CN_CORPUS to its folder)")
    paths = os.environ.get("PYTHONPATH", "").split(os.pathsep)
    if str(REPO) not in paths:
        os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), *paths]))

from .s3server import _moto_server, s3  # noqa: F401 - fixtures: a moto S3 server per worker, emptied per test

settings.register_profile("default", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("thorough", max_examples=1200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# one-off long budgets, e.g. for the fuzz test: HYPOTHESIS_PROFILE=long pytest -n 0 -k fuzz
# the documented long and thorough commands, run as examples by tests/test_docs.py: the command line, not the budget
settings.register_profile("docs", max_examples=3, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("long", max_examples=10_000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

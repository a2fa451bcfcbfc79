"""Shared fixtures and hypothesis profiles."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

from .s3server import _moto_server, s3  # noqa: F401 - fixtures: a moto S3 server per worker, emptied per test

settings.register_profile("default", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("thorough", max_examples=1200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# one-off long budgets, e.g. for the fuzz test: HYPOTHESIS_PROFILE=long pytest -n 0 -k fuzz
settings.register_profile("long", max_examples=10_000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

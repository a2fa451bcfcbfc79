"""The hostile probe suite (tests/probes), one test per probe: no probe may show a defect.

The default run takes every twentieth probe of each family (the first included); the long
profile (`HYPOTHESIS_PROFILE=long python -m pytest tests/test_probes.py`, as for the other
hostile tests) runs every one of them.  `python -m tests.probes` runs them all outside pytest
and prints the table docs/limits.md quotes.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from .corpus import LONG
from .probes.families import FAMILIES
from .probes.runner import Family, Probe, run_probe, sample

EVERY = 1 if LONG else 20
PROBES = [(family, probe) for family in FAMILIES for probe in sample(family.probes(), EVERY)]


@pytest.fixture(scope="module")
def contexts() -> Iterator[dict[str, object]]:
    """Each family's context (a server), entered the first time one of its probes runs."""
    with ExitStack() as stack:
        class Lazy(dict[str, object]):
            def enter(self, family: Family) -> None:
                if family.name not in self:
                    self[family.name] = stack.enter_context(family.context())

        yield Lazy()


def test_the_suite_is_large_enough_to_mean_something() -> None:
    families = {family.name: len(family.probes()) for family in FAMILIES}
    assert sum(families.values()) >= 300, families
    assert set(families) >= {"templates", "rules", "mirrors", "outputs", "s3", "connect"}


@pytest.mark.parametrize(("family", "probe"), PROBES, ids=[f"{f.name}/{p.name}" for f, p in PROBES])
def test_probe_shows_no_defect(family: Family, probe: Probe, contexts: dict[str, object], tmp_path: Path) -> None:
    contexts.enter(family)  # type: ignore[attr-defined]
    outcome = run_probe(probe, tmp_path / "probe")
    assert not outcome.defects, f"{outcome.defects}: exit {outcome.returncode}\n{outcome.stderr[-2000:]}"

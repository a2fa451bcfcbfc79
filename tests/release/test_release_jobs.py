"""The default number of release workers: in this process unless workers can save time (bench/bench_release.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

import panther_cn_transform.release.scheduling as scheduling_module
import panther_cn_transform.release.workers as workers_module
from panther_cn_transform import load_rules, transform_release
from panther_cn_transform.release.scheduling import LARGE_TEMPLATE_BYTES, default_workers

from ..corpus import CORPUS

MIRROR = CORPUS / "panther-release" / "panther-enterprise-us-west-1"
LARGE, SMALL = LARGE_TEMPLATE_BYTES, 64 * 1024


@pytest.mark.parametrize(("depths", "cpus", "load", "expected"), [
    ([[SMALL] * 11, [SMALL], [SMALL]], 2, 0.0, 1),  # the shape of Panther v1.16.0: small templates only
    ([[LARGE, LARGE, SMALL], [SMALL]], 2, 0.0, 2),  # two large templates at one depth, idle CPUs
    ([[LARGE, LARGE, LARGE, LARGE], [SMALL]], 8, 0.5, 4),  # never more workers than large templates
    ([[LARGE, LARGE, LARGE]], 2, 0.0, 2),  # nor than CPUs
    ([[LARGE, LARGE]], 2, 1.8, 1),  # a busy machine: no idle CPU to run a second template
    ([[LARGE], [LARGE], [LARGE]], 4, 0.0, 1),  # large templates at different depths run one after the other
    ([[LARGE - 1, LARGE - 1]], 2, 0.0, 1),  # below the threshold a worker costs more than it saves
    ([[LARGE, LARGE]], 1, 0.0, 1),  # one CPU
    ([], 2, 0.0, 1),
])
def test_default_workers(depths: list[list[int]], cpus: int, load: float, expected: int) -> None:
    assert default_workers(depths, cpus=cpus, load=load) == expected


def test_the_panther_release_runs_in_this_process_by_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_pool(workers: int) -> object:
        raise AssertionError(f"a pool of {workers} workers was started")

    monkeypatch.setattr(workers_module, "start_pool", no_pool)
    monkeypatch.setattr(scheduling_module.os, "getloadavg", lambda: (0.0, 0.0, 0.0))  # even on an idle machine
    result = transform_release(MIRROR, release="v1.16.0", region="cn-north-1", bucket="my-cn-bucket",
                               rules=load_rules("panther"), out_dir=tmp_path / "out", check=True)
    assert len(result.report["templates"]) == 11  # of 13 transformed: the AppSync and web templates are left behind


def test_a_worker_pool_is_shut_down_after_its_block_and_killed_when_the_block_fails() -> None:
    from panther_cn_transform.release.workers import worker_pool

    with worker_pool(1) as none:
        assert none is None  # one worker: the work runs in this process
    with worker_pool(2) as pool:
        assert pool is not None and list(pool.map(abs, [-1, -2])) == [1, 2]
        processes = list(pool._processes.values())
    assert not any(process.is_alive() for process in processes)
    for _ in range(30):  # repeated: reaping raced with the pool's own thread in about one stop in five
        with pytest.raises(KeyboardInterrupt), worker_pool(2) as pool:
            pool.submit(abs, 1).result()
            processes = list(pool._processes.values())
            raise KeyboardInterrupt
        assert all(process.exitcode is not None for process in processes)  # killed and reaped, not left behind

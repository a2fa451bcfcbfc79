"""Worker processes for release mode that never outlive the run.

Why: with a plain `ProcessPoolExecutor`, Ctrl-C reaches every worker (same process
group) and each prints a KeyboardInterrupt traceback; SIGTERM or SIGKILL of the parent
leaves the workers running, holding the caller's pipes open.  Here

* each worker ignores SIGINT (the parent decides what an interrupt means), takes the
  default SIGTERM action (die quietly), and asks the kernel to kill it when its parent
  dies (Linux `prctl(PR_SET_PDEATHSIG, SIGKILL)`), so not even SIGKILL of the parent
  leaves an orphan;
* `stop()` kills the workers at once when the parent stops early (an error, Ctrl-C,
  SIGTERM) instead of waiting for queued work; `worker_pool()` is the block that starts a
  pool and ends it one way or the other.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager

_PR_SET_PDEATHSIG = 1


def start_pool(workers: int) -> ProcessPoolExecutor:
    """A process pool whose workers die with this process and ignore Ctrl-C."""
    return ProcessPoolExecutor(max_workers=workers, initializer=_init_worker, initargs=(os.getpid(),))


@contextmanager
def worker_pool(workers: int) -> Iterator[ProcessPoolExecutor | None]:
    """A pool of `workers` processes for the block (None when `workers` is 1 or less: work in this process).

    Shut down when the block ends, after its queued work; killed at once (`stop`) when the
    block ends by an exception, Ctrl-C or SIGTERM.
    """
    if workers <= 1:
        yield None
        return
    pool = start_pool(workers)
    try:
        yield pool
    except BaseException:
        stop(pool)
        raise
    pool.shutdown()


def stop(pool: ProcessPoolExecutor) -> None:
    """Kill the workers now and wait until each is reaped, dropping queued work.

    Why the manager thread is joined first: it notices the killed workers and reaps them
    itself (`join`). A `join` of ours running beside it races on `waitpid`: the loser gets
    ECHILD and returns while the winner has not yet recorded the exit code, so a worker
    could read as not ended (about 2% of stops under load before this).
    """
    processes = list(pool._processes.values()) if pool._processes else []  # no public API before Python 3.14
    for process in processes:
        if process.is_alive():
            process.kill()
    manager: threading.Thread | None = getattr(pool, "_executor_manager_thread", None)  # private too (typeshed mistypes it); None before any work
    pool.shutdown(wait=False, cancel_futures=True)
    if manager is not None:
        manager.join(timeout=5)
    for process in processes:
        process.join(timeout=5)


def _init_worker(parent: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):  # pragma: no cover - no prctl: stop() still covers the parent's own exits
            pass
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)

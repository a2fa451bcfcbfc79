"""Pause Python's cyclic garbage collector while building large, acyclic structures.

Why: decoding a 1 MB template allocates tens of thousands of nodes, lists and dicts in a
burst; the generational collector then runs again and again over objects that are all
alive and contain no cycles, which costs about 30% of a transform (measured with
bench/bench_transform.py).  The collector's previous state is always restored, so a
caller that disabled it keeps it disabled; reference counting still frees memory as usual.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """Disable the cyclic collector for the block, then restore what it was."""
    was_enabled = gc.isenabled()
    if was_enabled:
        gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()

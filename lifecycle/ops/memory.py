"""Python's cyclic garbage collector during bulk passes.

A pass over the whole portfolio (the health job at 100,000 accounts) keeps millions
of small objects alive at once: rows, inputs, results. CPython's collector runs a
collection of the youngest objects every few hundred allocations (700 on 3.12, 2,000
on 3.13) and of all objects whenever the survivors have grown by a quarter, so as
those objects pile up it walks them again and again, finding nothing: 2.3-2.8 s of
the health job's 7 s of gathering and scoring (docs/performance.md, "Health scoring:
the collector"). Their memory is freed by reference counting as before; only
reference cycles wait for the collector, and a pass makes few."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """The cyclic garbage collector off while the block runs, back on after it (if it
    was on: the outermost pause, in any thread, turns it back on)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()

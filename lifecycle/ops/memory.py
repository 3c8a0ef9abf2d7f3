"""Python's cyclic garbage collector during bulk passes.

A pass over the whole portfolio (the health job at 100,000 accounts) keeps millions
of small objects alive at once: rows, inputs, results. CPython's collector runs a
collection of the youngest objects every few hundred allocations (700 on 3.12, 2,000
on 3.13) and of all objects whenever the survivors have grown by a quarter, so as
those objects pile up it walks them again and again, finding nothing: 2.3-2.8 s of
the health job's 7 s of gathering and scoring (docs/performance.md, "Health scoring:
the collector"). Their memory is freed by reference counting as before; only
reference cycles wait for the collector, and a pass makes few.

A web worker has the same trouble on a smaller scale: the loaded project (Django, the
apps, their modules, classes and URL patterns) is over 100,000 objects that live as
long as the process, and every full collection walks them all. `loaded_app_frozen`
moves them out of the collector's sight once, after loading (lifecycle/wsgi.py)."""

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


def loaded_app_frozen() -> None:
    """Load what a worker's first request would (the URL patterns and the views they
    import), collect what loading left behind, and freeze the rest: everything alive
    now lives as long as the process, so the collector need never walk it again
    (gc.freeze: they move to a permanent generation; reference counting still frees
    any of them that is let go). Objects made later are collected as before."""
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 - loads the URLconf and every view module
    gc.collect()
    gc.freeze()

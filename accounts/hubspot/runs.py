"""The bookkeeping every sync run shares: RUNNING while it works, FAILED with the error
when it raises (the exception goes on), DONE when it returns."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.utils import timezone

from accounts.hubspot.models import SyncRun


def run_update(run: SyncRun, **fields: Any) -> None:
    """Save `fields` on the run's row, and on the object in hand."""
    for name, value in fields.items():
        setattr(run, name, value)
    SyncRun.objects.filter(pk=run.pk).update(**fields)


@contextmanager
def run_tracked(run: SyncRun, **starting: Any) -> Iterator[dict[str, Any]]:
    """Mark `run` RUNNING (started and heartbeat now, plus `starting`), then FAILED with
    the error if the block raises, else DONE with whatever the block put in the dict it
    is given (totals known only at the end). A failed run keeps its phase, which says
    where it stopped; a done one clears it."""
    now = timezone.now()
    run_update(
        run, status=SyncRun.Status.RUNNING, **{"started_at": now, "heartbeat_at": now, **starting}
    )
    finishing: dict[str, Any] = {}
    try:
        yield finishing
    except BaseException as exc:
        run_update(
            run,
            status=SyncRun.Status.FAILED,
            error=f"{type(exc).__name__}: {exc}"[:2000],
            finished_at=timezone.now(),
        )
        raise
    run_update(run, status=SyncRun.Status.DONE, phase="", finished_at=timezone.now(), **finishing)

"""The bookkeeping every sync run shares: RUNNING while it works, FAILED with the error
when it raises (the exception goes on), DONE when it returns; and who is alive.

On PostgreSQL a run is alive iff its lock is held: the worker running it holds a
session-level advisory lock keyed on the run's id, on a connection of its own, for as
long as it works. The lock dies with the worker's process (kill -9, OOM, a lost
machine), so a RUNNING row whose lock is free belongs to a dead worker, whatever its
heartbeat says; `runs_recover` (the watchdog, every minute) resumes those runs.

SQLite (the zero-setup default) has no advisory locks: there, a RUNNING run is alive
while its heartbeat is recent, as before (`STALE_AFTER`)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.utils import timezone

from accounts.hubspot.models import SyncRun

logger = logging.getLogger(__name__)

# The first half of every run lock's two-int key ("LCRN"); the second is the run id.
RUN_LOCKS = 0x4C43524E
# SQLite only: a RUNNING run whose heartbeat is older than this is taken to have died.
STALE_AFTER = timedelta(minutes=15)
INTERRUPTED = "Interrupted: its worker died while it ran"


class RunTaken(Exception):
    """Another worker holds this run's lock (a duplicate delivery of its task)."""


def locks_supported() -> bool:
    return connection.vendor == "postgresql"


@contextmanager
def advisory_lock(namespace: int, key: int) -> Iterator[bool]:
    """Try to take the session-level advisory lock (namespace, key) without waiting;
    yields whether it was taken, and releases it on leaving. The lock lives on a
    connection of its own, so no transaction, rollback or connection recycling of
    the caller's can drop it while the block runs; only the process dying does. Yields
    True at once on databases without advisory locks."""
    if not locks_supported():
        yield True
        return
    own = connections.create_connection(DEFAULT_DB_ALIAS)
    taken = False
    try:
        with own.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [namespace, key])
            taken = bool(cursor.fetchone()[0])
        yield taken
    finally:
        try:
            if taken:
                # Released before the close returns: a session's end is asynchronous on
                # the server, and pg_locks would show the lock a moment longer.
                with own.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [namespace, key])
        finally:
            own.close()


def lock_held(namespace: int, key: int) -> bool:
    """Whether any session (this one included) holds the advisory lock, in this database."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT EXISTS (
                SELECT 1 FROM pg_locks
                WHERE locktype = 'advisory' AND granted AND objsubid = 2
                  AND classid = %s AND objid = %s
                  AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
            )
            """,
            [namespace, key],
        )
        return bool(cursor.fetchone()[0])


def run_alive(run: SyncRun) -> bool:
    """A RUNNING run whose worker still works on it: its lock is held (PostgreSQL), or
    its heartbeat is recent (SQLite)."""
    if run.status != SyncRun.Status.RUNNING:
        return False
    if locks_supported():
        return lock_held(RUN_LOCKS, run.pk)
    recent = timezone.now() - STALE_AFTER
    return bool(run.heartbeat_at and run.heartbeat_at >= recent)


def kind_busy(kind: str) -> bool:
    """A run of this kind is alive (dead RUNNING rows do not count)."""
    running = SyncRun.objects.filter(kind=kind, status=SyncRun.Status.RUNNING)
    if not locks_supported():
        return running.filter(heartbeat_at__gte=timezone.now() - STALE_AFTER).exists()
    return any(lock_held(RUN_LOCKS, pk) for pk in running.values_list("pk", flat=True))


def run_update(run: SyncRun, **fields: Any) -> None:
    """Save `fields` on the run's row, and on the object in hand."""
    for name, value in fields.items():
        setattr(run, name, value)
    SyncRun.objects.filter(pk=run.pk).update(**fields)


@contextmanager
def run_tracked(run: SyncRun, **starting: Any) -> Iterator[dict[str, Any]]:
    """Take the run's lock (RunTaken if another worker holds it), mark it RUNNING
    (started and heartbeat now, plus `starting`), then FAILED with the error if the
    block raises, else DONE with whatever the block put in the dict it is given (totals
    known only at the end). The status is written before the lock is released, so a
    RUNNING row with a free lock always means a dead worker. A failed run keeps its
    phase, which says where it stopped; a done one clears it."""
    with advisory_lock(RUN_LOCKS, run.pk) as taken:
        if not taken:
            raise RunTaken(f"{run} is being run by another worker")
        now = timezone.now()
        run_update(
            run,
            status=SyncRun.Status.RUNNING,
            **{"started_at": now, "heartbeat_at": now, **starting},
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
        run_update(
            run, status=SyncRun.Status.DONE, phase="", finished_at=timezone.now(), **finishing
        )


def runs_recover(resumable: set[str]) -> list[SyncRun]:
    """The watchdog: every RUNNING run whose worker died is marked interrupted; those
    of a kind in `resumable` go back to QUEUED (the caller enqueues them; an import
    resumes from its last committed page), the others FAILED (their schedule runs them
    again). Each candidate is confirmed dead by taking its lock, and its status re-read
    under it, so a run that finishes meanwhile is left alone."""
    recovered: list[SyncRun] = []
    running = SyncRun.objects.filter(status=SyncRun.Status.RUNNING).order_by("pk")
    if not locks_supported():
        running = running.exclude(heartbeat_at__gte=timezone.now() - STALE_AFTER)
    for run in running:
        with advisory_lock(RUN_LOCKS, run.pk) as taken:
            if not taken:
                continue  # alive
            status = SyncRun.Status.QUEUED if run.kind in resumable else SyncRun.Status.FAILED
            marked = SyncRun.objects.filter(pk=run.pk, status=SyncRun.Status.RUNNING).update(
                status=status, error=f"{INTERRUPTED} ({timezone.now():%Y-%m-%d %H:%M:%S} UTC)"
            )
        if marked:
            run.refresh_from_db()
            logger.warning("HubSpot %s: %s", run, INTERRUPTED)
            recovered.append(run)
    return recovered

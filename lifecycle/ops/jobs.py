"""Work of a dead worker resumes as soon as a worker is available (issue 23, item 4).

django-q2 re-delivers a task whose worker died only after `retry` seconds (the ORM
broker; the Redis broker never does), which for a long job is many minutes. Instead:

- A task decorated with `@resumable(queue)` runs under a lease: a `Job` row naming the
  call (function and arguments) and a PostgreSQL session advisory lock on it, held on a
  connection of its own for as long as the task runs. The lock dies with the worker's
  process (kill -9, OOM, a lost host); the row is deleted when the task returns or
  raises (a task that raises failed, it did not die: django-q2 records the failure).
- `work_recover` (the watchdog) queues again every job whose row is there while its
  lock is free, then calls WORK_RECOVER_HOOKS (HubSpot resumes its sync runs). It is
  scheduled every minute and also runs when a worker process starts
  (`worker_started`, django-q2's post_spawn): a cluster restarted after a crash picks
  up the dead work within seconds, not at its scheduler's first tick (30 s).
- Several watchdogs at once (each worker of a starting cluster runs one) are safe:
  each job and run is confirmed dead, and re-read, under its lock.
- A second delivery of a job that a live worker runs cannot take the lock and returns
  at once; resumable jobs must be idempotent (run again, they give the same result).

SQLite (the zero-setup default) has no advisory locks: there tasks run without a lease,
and a dead worker's task waits for django-q2's re-delivery."""

from __future__ import annotations

import functools
import hashlib
import json
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any, ParamSpec, TypeVar

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.utils import timezone
from django.utils.module_loading import import_string
from django_q.conf import Conf
from django_q.tasks import async_task

from lifecycle.ops import queues
from lifecycle.ops.models import Job

logger = logging.getLogger(__name__)

JOB_LOCKS = 0x4C434A42  # "LCJB": the first half of every job lock's two-int key
# A job the watchdog queued again is not queued a second time before this, however
# long it waits in the queue (a worker starting it clears the mark).
REQUEUE_AFTER = timedelta(minutes=10)
# A job whose worker died this many times is given up (logged as an error).
MAX_RECOVERIES = 3

P = ParamSpec("P")
R = TypeVar("R")


def _key(func: str, args: list[Any], kwargs: dict[str, Any]) -> str:
    call = json.dumps([func, args, kwargs], sort_keys=True, default=str)
    return hashlib.sha256(call.encode()).hexdigest()


def _lock_id(key: str) -> int:
    """The second half of the job's lock key: 32 bits of its hash, signed for int4."""
    return int(key[:8], 16) - 2**31


@contextmanager
def _own_connection() -> Iterator[Any]:
    """A connection of its own (autocommit), outside the caller's transaction: the job's
    row and lock must neither roll back with the task's work nor wait for its commit."""
    own = connections.create_connection(DEFAULT_DB_ALIAS)
    try:
        yield own
    finally:
        own.close()


def _try_lock(cursor: Any, key: str) -> bool:
    cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [JOB_LOCKS, _lock_id(key)])
    return bool(cursor.fetchone()[0])


def _unlock(cursor: Any, key: str) -> None:
    # Released before the connection closes: a session's end is asynchronous on the
    # server, and pg_locks would show the lock a moment longer.
    cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [JOB_LOCKS, _lock_id(key)])


@contextmanager
def job_held(
    func: str, args: list[Any], kwargs: dict[str, Any], queue_name: str | None
) -> Iterator[bool]:
    """Run the block under the job's lease; yields False, without running anything, when
    another live worker holds the same job (a duplicate delivery)."""
    if connection.vendor != "postgresql":
        yield True
        return
    key = _key(func, args, kwargs)
    with _own_connection() as own, own.cursor() as cursor:
        if not _try_lock(cursor, key):
            yield False
            return
        try:
            cursor.execute(
                f"""
                INSERT INTO {Job._meta.db_table}
                    (key, func, args, kwargs, queue, started_at, recoveries)
                VALUES (%s, %s, %s, %s, %s, now(), 0)
                ON CONFLICT (key) DO UPDATE SET started_at = now(), requeued_at = NULL
                """,
                [key, func, json.dumps(args), json.dumps(kwargs), queue_name or ""],
            )
            try:
                yield True
            finally:
                cursor.execute(f"DELETE FROM {Job._meta.db_table} WHERE key = %s", [key])
        finally:
            _unlock(cursor, key)


def resumable(
    queue_name: str | None = None,
) -> Callable[[Callable[P, R]], Callable[P, R | None]]:
    """Run the task under a lease, so that it is queued again (on `queue_name`) within a
    minute should its worker die; its arguments must be JSON (ids, lists of ids)."""

    def wrap(func: Callable[P, R]) -> Callable[P, R | None]:
        path = f"{func.__module__}.{func.__qualname__}"

        @functools.wraps(func)
        def task(*args: P.args, **kwargs: P.kwargs) -> R | None:
            with job_held(path, list(args), dict(kwargs), queue_name) as taken:
                if not taken:
                    logger.info("job %s skipped: another worker is running it", path)
                    return None
                return func(*args, **kwargs)

        return task

    return wrap


def jobs_recover() -> list[Job]:
    """Queue again every job whose worker died (its row is there, its lock free); give
    up on one that died MAX_RECOVERIES times. Each is confirmed dead by taking its lock,
    under which its row is updated, so a job that finishes meanwhile is left alone."""
    if connection.vendor != "postgresql":
        return []
    recovered: list[Job] = []
    waiting = timezone.now() - REQUEUE_AFTER
    candidates = list(Job.objects.exclude(requeued_at__gte=waiting).order_by("pk"))
    for job in candidates:
        with _own_connection() as own, own.cursor() as cursor:
            if not _try_lock(cursor, job.key):
                continue  # its worker is alive
            try:
                # Re-read under the lock: another watchdog may have queued it meanwhile.
                still_dead = "key = %s AND (requeued_at IS NULL OR requeued_at < %s)"
                requeue = job.recoveries < MAX_RECOVERIES
                if requeue:
                    cursor.execute(
                        f"UPDATE {Job._meta.db_table} SET requeued_at = now(), "
                        f"recoveries = recoveries + 1 WHERE {still_dead}",
                        [job.key, waiting],
                    )
                else:
                    cursor.execute(
                        f"DELETE FROM {Job._meta.db_table} WHERE {still_dead}", [job.key, waiting]
                    )
                found = cursor.rowcount
            finally:
                _unlock(cursor, job.key)
        if not found:
            continue  # it finished meanwhile
        if not requeue:
            logger.error("job %s given up: its worker died %s times", job, job.recoveries)
            continue
        # Outside a transaction: the ORM broker of another cluster closes the connection.
        async_task(
            job.func,
            *job.args,
            q_options={"cluster": queues.queue(job.queue or None), "group": "recovered"},
            **job.kwargs,
        )
        logger.warning("job %s queued again: its worker died", job)
        recovered.append(job)
    return recovered


def work_recover() -> None:
    """The watchdog (scheduled every minute, and when a worker starts): resume the work
    of dead workers, ours and the integrations' (WORK_RECOVER_HOOKS)."""
    jobs_recover()
    for path in getattr(settings, "WORK_RECOVER_HOOKS", []):
        import_string(path)()


def worker_started(**kwargs: Any) -> None:
    """django-q2's post_spawn, in a new worker process: a worker is available again, so
    dead work resumes now. Never stops the worker from starting. Not when tasks run
    inline (sync mode: django-q2 sends the signal for every task, in the caller)."""
    if Conf.SYNC:
        return
    try:
        work_recover()
    except Exception:
        logger.exception("resuming the work of dead workers failed at worker start")

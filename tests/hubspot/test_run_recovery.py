# ruff: noqa: F811 -- fixtures from sync_support are used as test arguments
"""Crash recovery (issue 23 item 4, issue 15 item 9): a run is alive while its worker
holds the run's PostgreSQL advisory lock, which dies with the worker's process.

The worker here is its own Python process on the test database, SIGKILLed for real in
the middle of a full import (as tests/hubspot/test_two_way_kill.py kills a push). Its
run row still says RUNNING with a fresh heartbeat; the watchdog (called directly, as its
schedule would every minute) or the "Full import" button resume it at once, from its
last committed page, and nothing is lost or counted twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from accounts.hubspot import services, tasks
from accounts.hubspot.models import SyncRun
from accounts.hubspot.runs import INTERRUPTED, RUN_LOCKS, advisory_lock, run_alive
from accounts.hubspot.sandbox import Sandbox, SandboxServer
from accounts.models import Account, Deal
from lifecycle.ops.queues import SYNC

from .sync_support import (  # noqa: F401
    TOKEN,
    hubspot_settings,
    portfolio,
    sync_clock,
    sync_sandbox,
    sync_server,
)

COMPANIES = 200  # 200 companies and 200 deals: 16 pages of 25
PAGE = 25
WORKER = textwrap.dedent(
    """
    import django, sys
    django.setup()
    from accounts.hubspot.inbound.importer import import_run
    from accounts.hubspot.models import SyncRun
    from accounts.hubspot.transport.client import HubSpotClient
    run = SyncRun.objects.get(pk=int(sys.argv[3]))
    import_run(run, client=HubSpotClient(access_token=sys.argv[1], base_url=sys.argv[2]),
               page_size=int(sys.argv[4]))
    print("finished")
    """
)


def _database_url() -> str:
    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def _calls(server: SandboxServer) -> int:
    return sum(server.calls.values())


@pytest.fixture
def killed_import(
    sync_sandbox: Sandbox, sync_server: SandboxServer, hubspot_settings: None
) -> Iterator[tuple[SyncRun, float]]:
    """A full import whose worker process was SIGKILLed after a few committed pages;
    returns the run and the moment of the kill (time.monotonic())."""
    portfolio(sync_sandbox, companies=COMPANIES, deals_per_company=1)
    run = SyncRun.objects.create(kind=SyncRun.Kind.IMPORT)
    # Every HubSpot answer takes 50 ms, so the kill lands between pages, mid-import.
    sync_sandbox.faults.configure(slow_rate=1.0, slow_seconds=0.05)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "lifecycle.settings.test",
        "DATABASE_URL": _database_url(),
    }
    worker = subprocess.Popen(
        [sys.executable, "-c", WORKER, TOKEN, sync_server.url, str(run.pk), str(PAGE)],
        cwd=Path(settings.BASE_DIR),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while SyncRun.objects.get(pk=run.pk).records_done < 3 * PAGE:
        if worker.poll() is not None:
            out, err = worker.communicate()
            raise AssertionError(f"the worker ended before the kill: {out}{err}")
        assert time.monotonic() < deadline, "the worker never committed three pages"
        time.sleep(0.01)
    worker.send_signal(signal.SIGKILL)
    killed_at = time.monotonic()
    worker.communicate(timeout=30)
    assert worker.returncode == -signal.SIGKILL
    sync_sandbox.faults.configure(slow_rate=0.0, slow_seconds=0.0)
    run.refresh_from_db()
    yield run, killed_at


def _completed_once(run: SyncRun) -> None:
    """The import finished with every record once: no page lost, none counted twice."""
    run.refresh_from_db()
    assert run.status == SyncRun.Status.DONE, run.error
    assert run.records_done == 2 * COMPANIES
    assert Account.objects.count() == COMPANIES
    assert Account.objects.values("hubspot_id").distinct().count() == COMPANIES
    assert Deal.objects.count() == COMPANIES
    assert Deal.objects.values("hubspot_id").distinct().count() == COMPANIES


@pytest.mark.django_db(transaction=True)
def test_the_watchdog_resumes_an_import_whose_worker_was_killed(
    killed_import: tuple[SyncRun, float],
) -> None:
    run, killed_at = killed_import
    # The row still says RUNNING, with a heartbeat seconds old: only the lock tells.
    assert run.status == SyncRun.Status.RUNNING
    assert run.heartbeat_at and timezone.now() - run.heartbeat_at < tasks_stale()
    assert 0 < run.records_done < 2 * COMPANIES
    assert not run_alive(run)

    recovered = services.runs_recover_queue()  # the every-minute schedule's call

    assert [r.pk for r in recovered] == [run.pk]
    assert INTERRUPTED in recovered[0].error
    _completed_once(run)  # tasks run inline in tests: the queued import ran
    print(f"\nrecovery: kill -> import completed in {time.monotonic() - killed_at:.2f} s")
    assert services.runs_recover_queue() == []


def tasks_stale() -> timedelta:
    from accounts.hubspot.runs import STALE_AFTER

    return STALE_AFTER


@pytest.mark.django_db(transaction=True)
def test_full_import_resumes_a_run_whose_worker_died_instead_of_returning_it(
    killed_import: tuple[SyncRun, float],
) -> None:
    run, _ = killed_import

    queued = services.sync_run_queue(kind=SyncRun.Kind.IMPORT)  # the "Full import" button

    assert queued.pk == run.pk
    _completed_once(run)


@pytest.mark.django_db(transaction=True)
def test_a_run_whose_worker_holds_its_lock_is_alive_and_left_alone(
    sync_server: SandboxServer, hubspot_settings: None
) -> None:
    # A stale heartbeat (a long page) does not make a working run dead.
    an_hour_ago = timezone.now() - timedelta(hours=1)
    run = SyncRun.objects.create(
        kind=SyncRun.Kind.IMPORT, status=SyncRun.Status.RUNNING, heartbeat_at=an_hour_ago
    )
    with advisory_lock(RUN_LOCKS, run.pk) as taken:  # its worker
        assert taken
        assert run_alive(run)
        assert services.runs_recover_queue() == []
        before = _calls(sync_server)
        assert services.sync_run_queue(kind=SyncRun.Kind.IMPORT).pk == run.pk
        tasks.hubspot_import(run.pk)  # a duplicate delivery returns at once
        assert _calls(sync_server) == before
        run.refresh_from_db()
        assert run.status == SyncRun.Status.RUNNING
    assert not run_alive(run)


@pytest.mark.django_db(transaction=True)
def test_the_scheduled_poll_is_not_skipped_for_a_run_whose_worker_died(
    sync_sandbox: Sandbox, hubspot_settings: None
) -> None:
    portfolio(sync_sandbox, companies=2, deals_per_company=0)
    now = timezone.now()
    SyncRun.objects.create(
        kind=SyncRun.Kind.IMPORT, status=SyncRun.Status.RUNNING, started_at=now, heartbeat_at=now
    )

    tasks.hubspot_poll()

    assert SyncRun.objects.filter(kind=SyncRun.Kind.POLL, status=SyncRun.Status.DONE).exists()


@pytest.mark.django_db(transaction=True)
def test_the_scheduled_poll_is_skipped_while_an_import_is_alive(hubspot_settings: None) -> None:
    now = timezone.now()
    run = SyncRun.objects.create(
        kind=SyncRun.Kind.IMPORT, status=SyncRun.Status.RUNNING, started_at=now, heartbeat_at=now
    )
    with advisory_lock(RUN_LOCKS, run.pk):
        tasks.hubspot_poll()
    assert not SyncRun.objects.filter(kind=SyncRun.Kind.POLL).exists()


def test_the_watchdog_is_scheduled_every_minute_and_resumes_hubspot_runs() -> None:
    from lifecycle.schedules import SCHEDULES

    watchdog = [s for s in SCHEDULES if s.func == "lifecycle.ops.jobs.work_recover"]
    assert len(watchdog) == 1 and watchdog[0].minutes == 1
    assert "accounts.hubspot.tasks.hubspot_runs_recover" in settings.WORK_RECOVER_HOOKS


@pytest.mark.django_db(transaction=True)
def test_a_resumed_import_goes_back_on_the_sync_queue(
    killed_import: tuple[SyncRun, float], settings: Any
) -> None:
    from django_q.conf import Conf
    from django_q.models import OrmQ

    run, _ = killed_import
    settings.Q_SEPARATE_QUEUES = True
    saved, Conf.SYNC = Conf.SYNC, False  # queued in the broker, as in production
    try:
        assert [r.pk for r in services.runs_recover_queue()] == [run.pk]
    finally:
        Conf.SYNC = saved
    # Not on the default cluster, whose workers apply webhooks.
    assert list(OrmQ.objects.values_list("key", flat=True)) == [SYNC]

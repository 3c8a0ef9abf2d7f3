# ruff: noqa: F811 -- fixtures from sync_support are used as test arguments
"""Work of a killed worker resumes within a minute of a worker being available again
(issue 23, item 4), for real: a `manage.py qcluster` process group (production
settings, the ORM broker, the test database) is SIGKILLed in the middle of a full
HubSpot import, or of the daily health job, then a new cluster is started.

The import resumes from its last committed page and finishes with every record once;
the health job runs again and scores every account. The recovery time is printed:
from the new cluster saying it runs to the dead work running again (the watchdog runs
when a worker process starts, lifecycle/ops/jobs.py). The bound asserted is generous;
the number measured goes in docs/operations.md."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone
from django_q.conf import Conf
from django_q.models import Schedule

from accounts.hubspot import services
from accounts.hubspot.models import SyncRun
from accounts.hubspot.runs import run_alive
from accounts.hubspot.sandbox import Sandbox, SandboxServer
from accounts.models import Account, Deal
from lifecycle.ops.models import Job
from lifecycle.schedules import SCHEDULES, schedules_sync
from lifecycle.settings.base import caches_from_env
from success.health.models import HealthScore
from tests.factories import AccountFactory, UsageSnapshotFactory
from tests.hubspot.sync_support import TOKEN, portfolio, sync_clock, sync_sandbox, sync_server  # noqa: F401
from tests.scale.processes import Hosts, Process, worker_cluster

COMPANIES = 800  # and a deal each: 16 pages of 100
SLOW = 0.25  # seconds every HubSpot answer takes: the import runs for several seconds
# Generous, so a loaded CI machine does not fail it; the measured number is printed.
RECOVERY_BOUND = 90.0
WATCHDOG = "lifecycle.ops.jobs.work_recover"


@pytest.fixture
def hosts(tmp_path: Path, transactional_db: Any, settings: Any) -> Iterator[Hosts]:
    settings.Q_SEPARATE_QUEUES = False  # the test queues on the one cluster it starts
    saved = Conf.SYNC
    Conf.SYNC = False  # tasks the test queues go to the broker, as from a web host
    hosts = Hosts(
        workdir=tmp_path,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "lifecycle.settings.production",
            # The key django-q2 signs tasks with: the test queues tasks the cluster runs.
            "DJANGO_SECRET_KEY": settings.SECRET_KEY,
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
            "Q_SEPARATE_QUEUES": "0",
            "LOG_FORMAT": "plain",
            "PYTHONUNBUFFERED": "1",
        },
    )
    hosts.env.pop("REDIS_URL", None)  # the ORM broker: it re-delivers after `retry`
    # The clusters' cache is the database's (the tests' own is per-process memory).
    settings.CACHES = caches_from_env()
    call_command("createcachetable", verbosity=0)
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    # Only the watchdog's schedule: the other jobs would only add noise to the timing.
    (spec,) = [s for s in SCHEDULES if s.func == WATCHDOG]
    schedules_sync()
    Schedule.objects.exclude(func=WATCHDOG).delete()
    assert spec.minutes == 1
    try:
        yield hosts
    finally:
        hosts.stop()
        Conf.SYNC = saved


def _running_since(process: Process, timeout: float = 60) -> float:
    """Wait for the cluster to say it runs; returns that moment (time.monotonic())."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if re.search(r"Q Cluster .* running\.", process.tail()):
            return time.monotonic()
        assert process.alive(), process.tail()
        time.sleep(0.05)
    raise AssertionError(f"the cluster did not start:\n{process.tail()}")


def _kill(process: Process) -> None:
    process.kill()  # SIGKILL to its whole process group: sentinel, workers, monitor
    process.popen.wait(timeout=10)


@pytest.mark.django_db(transaction=True)
def test_an_import_whose_workers_were_killed_resumes_within_a_minute(
    hosts: Hosts, sync_sandbox: Sandbox, sync_server: SandboxServer
) -> None:
    hosts.env.update(
        {
            "HUBSPOT_ACCESS_TOKEN": TOKEN,
            "HUBSPOT_BASE_URL": sync_server.url,
            "HUBSPOT_TIER": "professional",
            "HUBSPOT_PUSH_ENABLED": "0",
        }
    )
    portfolio(sync_sandbox, companies=COMPANIES, deals_per_company=1)
    sync_sandbox.faults.configure(slow_rate=1.0, slow_seconds=SLOW)
    first = worker_cluster(hosts, "worker-first", workers=2)
    _running_since(first)
    run = services.sync_run_queue(kind=SyncRun.Kind.IMPORT)  # the "Full import" button

    deadline = time.monotonic() + 60
    while SyncRun.objects.get(pk=run.pk).records_done < 200:
        assert time.monotonic() < deadline, first.tail()
        time.sleep(0.05)
    _kill(first)
    run.refresh_from_db()
    done_at_kill = run.records_done
    assert run.status == SyncRun.Status.RUNNING and 0 < done_at_kill < 2 * COMPANIES
    # The lock dies with the worker: the server ends its session a moment after the
    # socket closes. Nobody presses a button.
    deadline = time.monotonic() + 10
    while run_alive(run):
        assert time.monotonic() < deadline, "the dead worker's lock is still held"
        time.sleep(0.05)

    second = worker_cluster(hosts, "worker-second", workers=2)
    available = _running_since(second)
    resumed = None
    deadline = available + RECOVERY_BOUND
    while True:
        run.refresh_from_db()
        if resumed is None and run.records_done > done_at_kill:
            resumed = time.monotonic()
        if run.status in (SyncRun.Status.DONE, SyncRun.Status.FAILED):
            break
        assert time.monotonic() < deadline, f"{run.status} {run.records_done}\n{hosts.logs()}"
        time.sleep(0.05)
    finished = time.monotonic()
    assert run.status == SyncRun.Status.DONE, run.error
    assert resumed is not None
    print(
        f"\nimport recovery: worker available -> import resumed {resumed - available:.1f} s, "
        f"-> import done {finished - available:.1f} s "
        f"({done_at_kill} of {2 * COMPANIES} records were in when killed)"
    )
    # Every record once: nothing lost, nothing counted or created twice.
    assert run.records_done == 2 * COMPANIES
    assert Account.objects.count() == COMPANIES
    assert Account.objects.values("hubspot_id").distinct().count() == COMPANIES
    assert Deal.objects.count() == COMPANIES
    assert Deal.objects.values("hubspot_id").distinct().count() == COMPANIES
    assert resumed - available < RECOVERY_BOUND


def _blocker(account: Account) -> psycopg.Connection[Any]:
    """Another session holding one account's row lock: the health job's write of that
    account waits for it, so the job is stuck mid-write until released."""
    db = connection.settings_dict
    blocker = psycopg.connect(
        host=db["HOST"] or "127.0.0.1",
        port=int(db["PORT"] or 5432),
        user=db["USER"] or "postgres",
        dbname=db["NAME"],
    )
    blocker.execute(
        f"SELECT id FROM {Account._meta.db_table} WHERE id = %s FOR UPDATE", [account.pk]
    )
    return blocker


def _waiting_on_a_lock(application_name: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s"
            " AND wait_event_type = 'Lock'",
            [application_name],
        )
        return bool(cursor.fetchone()[0])


@pytest.mark.django_db(transaction=True)
def test_a_health_job_whose_workers_were_killed_runs_again_within_a_minute(
    hosts: Hosts, default_health_model: None
) -> None:
    accounts = AccountFactory.create_batch(30)
    for account in accounts:
        UsageSnapshotFactory.create(account=account)
    blocker = _blocker(accounts[-1])
    first = worker_cluster(hosts, "worker-first", workers=2)
    _running_since(first)
    from lifecycle.ops.queues import SCORING, enqueue

    enqueue("success.health.tasks.score_portfolio", queue_name=SCORING)
    deadline = time.monotonic() + 60
    while not (Job.objects.exists() and _waiting_on_a_lock("worker-first")):
        assert time.monotonic() < deadline, first.tail()
        time.sleep(0.05)
    _kill(first)
    blocker.rollback()  # the dead worker's session ends; its write never commits
    blocker.close()
    assert Job.objects.get().func == "success.health.tasks.score_portfolio"

    second = worker_cluster(hosts, "worker-second", workers=2)
    available = _running_since(second)
    today = timezone.localdate()
    deadline = available + RECOVERY_BOUND
    while Job.objects.exists() or not HealthScore.objects.filter(date=today).exists():
        assert time.monotonic() < deadline, hosts.logs()
        time.sleep(0.05)
    finished = time.monotonic()
    print(f"\nhealth job recovery: worker available -> job done {finished - available:.1f} s")
    scored = HealthScore.objects.filter(date=today)
    assert scored.count() == len(accounts)
    assert set(scored.values_list("account_id", flat=True)) == {a.pk for a in accounts}
    assert finished - available < RECOVERY_BOUND

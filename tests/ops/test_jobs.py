"""Jobs under a lease (lifecycle/ops/jobs.py): a job whose worker died is queued again
on its queue, once; a live one is left alone and a second delivery of it returns at
once; a job that raises or one that killed its worker too often is not run again.

A dead worker here is what it leaves behind: the job's row with its lock free (the
lease is taken on a connection of its own, so these tests commit: transactional).
tests/ops/test_worker_kill.py kills a real qcluster process group."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.utils import timezone
from django_q.conf import Conf
from django_q.models import OrmQ, Schedule
from django_q.signing import SignedPackage

from lifecycle.ops import jobs
from lifecycle.ops.jobs import MAX_RECOVERIES, job_held, jobs_recover, resumable, worker_started
from lifecycle.ops.models import Job
from lifecycle.ops.queues import SCORING
from lifecycle.schedules import RETIRED, schedules_sync
from success.health.models import HealthScore
from success.health.tasks import score_accounts
from tests.factories import AccountFactory, UsageSnapshotFactory

SCORE_ACCOUNTS = "success.health.tasks.score_accounts"


@pytest.fixture
def queued() -> Iterator[None]:
    """Tasks go to the broker instead of running inline, as on a real deployment."""
    saved = Conf.SYNC
    Conf.SYNC = False
    yield
    Conf.SYNC = saved


def _accounts(n: int = 3) -> list[int]:
    accounts = AccountFactory.create_batch(n)
    for account in accounts:
        UsageSnapshotFactory.create(account=account)
    return [a.pk for a in accounts]


def _dead(func: str, args: list[Any], **fields: Any) -> Job:
    """The row a worker killed mid-job leaves: nobody holds its lock."""
    return Job.objects.create(
        key=jobs._key(func, args, {}), func=func, args=args, queue=SCORING, **fields
    )


@pytest.mark.django_db(transaction=True)
def test_a_job_whose_worker_died_is_queued_again_once_on_its_queue(
    queued: None, settings: Any, default_health_model: None
) -> None:
    settings.Q_SEPARATE_QUEUES = True
    ids = _accounts()
    job = _dead(SCORE_ACCOUNTS, [ids])

    assert [j.pk for j in jobs_recover()] == [job.pk]
    assert jobs_recover() == []  # queued already: not a second time while it waits

    (row,) = OrmQ.objects.all()
    assert row.key == SCORING
    task = SignedPackage.loads(row.payload)
    assert (task["func"], task["args"]) == (SCORE_ACCOUNTS, (ids,))
    job.refresh_from_db()
    assert job.recoveries == 1 and job.requeued_at is not None
    score_accounts(*task["args"])  # a worker runs it
    assert not Job.objects.exists()
    assert set(HealthScore.objects.values_list("account_id", flat=True)) == set(ids)


@pytest.mark.django_db(transaction=True)
def test_a_job_its_worker_runs_is_left_alone_and_a_second_delivery_returns_at_once(
    default_health_model: None,
) -> None:
    ids = _accounts()
    with job_held(SCORE_ACCOUNTS, [ids], {}, SCORING) as taken:  # its worker, alive
        assert taken
        assert Job.objects.get().func == SCORE_ACCOUNTS
        assert jobs_recover() == []
        assert score_accounts(ids) is None  # a duplicate delivery
        assert not HealthScore.objects.exists()
    assert not Job.objects.exists()
    assert score_accounts(ids) == "scored 3, no data 0"
    assert not Job.objects.exists()


@resumable()
def _failing() -> None:
    raise RuntimeError("a bug, not a dead worker")


@pytest.mark.django_db(transaction=True)
def test_a_job_that_raises_is_not_run_again() -> None:
    with pytest.raises(RuntimeError):
        _failing()
    assert not Job.objects.exists()
    assert jobs_recover() == []


@pytest.mark.django_db(transaction=True)
def test_a_job_that_killed_its_worker_too_often_is_given_up(
    queued: None, caplog: pytest.LogCaptureFixture
) -> None:
    _dead(SCORE_ACCOUNTS, [[1]], recoveries=MAX_RECOVERIES)
    assert jobs_recover() == []
    assert not Job.objects.exists()
    assert not OrmQ.objects.exists()
    assert "given up" in caplog.text


@pytest.mark.django_db(transaction=True)
def test_a_job_queued_again_long_ago_and_never_started_is_queued_once_more(
    queued: None,
) -> None:
    _dead(SCORE_ACCOUNTS, [[1]], recoveries=1, requeued_at=timezone.now() - jobs.REQUEUE_AFTER)
    assert len(jobs_recover()) == 1
    assert OrmQ.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_starting_worker_resumes_dead_work_at_once(queued: None) -> None:
    _dead(SCORE_ACCOUNTS, [[1]])
    worker_started(proc_name="Process-1")  # django-q2's post_spawn in a new worker process
    assert SignedPackage.loads(OrmQ.objects.get().payload)["func"] == SCORE_ACCOUNTS


@pytest.mark.django_db(transaction=True)
def test_tasks_run_inline_do_not_look_for_dead_work() -> None:
    # Sync mode (tests, Conf.SYNC): django-q2 sends post_spawn for every inline task.
    _dead(SCORE_ACCOUNTS, [[1]])
    worker_started(proc_name="MainProcess")
    assert Job.objects.get().requeued_at is None


@pytest.mark.django_db
def test_the_retired_watchdog_schedule_is_removed() -> None:
    Schedule.objects.create(
        name=RETIRED[0], func="accounts.hubspot.tasks.hubspot_runs_recover", minutes=1
    )
    schedules_sync()
    assert not Schedule.objects.filter(name__in=RETIRED).exists()
    assert Schedule.objects.filter(func="lifecycle.ops.jobs.work_recover", minutes=1).exists()


def test_every_cluster_redelivers_a_task_only_after_its_timeout() -> None:
    """django-q2 re-delivers a task after `retry`: below `timeout`, a slow task that still
    runs would be delivered twice. (Resuming dead work does not wait for it.)"""
    from lifecycle.settings.base import q_cluster_from_env

    conf = q_cluster_from_env()
    clusters = [conf, *({**conf, **alt} for alt in conf["ALT_CLUSTERS"].values())]
    assert all(c["timeout"] < c["retry"] for c in clusters)

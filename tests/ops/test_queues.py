"""Delayed tasks and queue routing on the ORM broker (tests otherwise run tasks inline)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from django_q.brokers.orm import ORM
from django_q.conf import Conf
from django_q.models import OrmQ
from django_q.signing import SignedPackage

from lifecycle.ops.queues import SCORING, enqueue_in
from success.health.models import HealthScore
from success.health.tasks import score_portfolio
from tests.factories import AccountFactory, UsageSnapshotFactory


@pytest.fixture
def queued() -> Iterator[None]:
    """Tasks go to the broker instead of running inline, as on a real deployment."""
    saved = Conf.SYNC
    Conf.SYNC = False
    yield
    Conf.SYNC = saved


def _run(row: OrmQ) -> Any:
    """What a worker does with a queued row: load the signed package, call the task."""
    from pydoc import locate

    task = SignedPackage.loads(row.payload)
    func: Any = locate(task["func"])
    return func(*task["args"], **task["kwargs"])


def test_a_delayed_task_waits_in_the_broker_until_due(db: Any, queued: None) -> None:
    before = timezone.now()
    enqueue_in(30, "accounts.hubspot.tasks.hubspot_push", task_name="later", group="hubspot")
    row = OrmQ.objects.get()
    assert row.key == Conf.CLUSTER_NAME
    assert before + timedelta(seconds=29) < row.lock < timezone.now() + timedelta(seconds=31)
    assert SignedPackage.loads(row.payload)["name"] == "later"
    assert not ORM(list_key=Conf.CLUSTER_NAME).dequeue()  # no worker takes it before then


def test_a_delayed_task_goes_to_its_queues_cluster(db: Any, queued: None, settings: Any) -> None:
    settings.Q_SEPARATE_QUEUES = True
    enqueue_in(5, "success.health.tasks.score_accounts", [1], queue_name=SCORING)
    settings.Q_SEPARATE_QUEUES = False
    enqueue_in(5, "success.health.tasks.score_accounts", [2], queue_name=SCORING)
    assert sorted(OrmQ.objects.values_list("key", flat=True)) == sorted(
        [SCORING, Conf.CLUSTER_NAME]
    )


def test_the_daily_health_job_is_split_into_chunks_on_the_scoring_queue(
    db: Any, queued: None, settings: Any, default_health_model: None
) -> None:
    settings.Q_SEPARATE_QUEUES = True
    accounts = AccountFactory.create_batch(5)
    for account in accounts:
        UsageSnapshotFactory.create(account=account)
    result = score_portfolio(chunk=2) or ""
    assert "in 2 chunks of 2" in result
    # The job scored the first range itself: exactly the two lowest ids.
    first = sorted(a.pk for a in accounts)[:2]
    assert set(HealthScore.objects.values_list("account_id", flat=True)) == set(first)
    rows = list(OrmQ.objects.order_by("pk"))
    assert [r.key for r in rows] == [SCORING] * 2
    # The rest is queued as ranges of ids (first, last): with the first range, together
    # they hold every account once.
    packages = [SignedPackage.loads(r.payload) for r in rows]
    assert {p["func"] for p in packages} == {"success.health.tasks.score_account_range"}
    ranges = [(first[0], first[-1])] + [tuple(p["args"]) for p in packages]
    covered = [a.pk for a in accounts for low, high in ranges if low <= a.pk <= high]
    assert sorted(covered) == sorted(a.pk for a in accounts)
    for row in rows:
        _run(row)
    scored = set(HealthScore.objects.values_list("account_id", flat=True))
    assert scored == {a.pk for a in accounts}
    assert scored  # the chunks scored the portfolio

"""The bench_pages portfolio built with COPY (`lifecycle.demo.build_large`, what
`bench_pages --large` uses for 100,000 accounts), built small: every page the
benchmark drives finds what it shows, and answers for its login."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from accounts.models import Account, Contact, Deal, Event, StageChange, User
from accounts.roles import Role
from accounts.support.models import Engagement, FeedbackSubmission, Ticket
from lifecycle.demo import _custom_plans, build_large
from lifecycle.management.commands.bench_pages import _pages
from onboarding.models import OnboardingPlan
from success.alerts.models import Alert
from success.health.models import HealthScore
from success.models import ArrMovement, Renewal, SuccessTask

# VACUUM, which the builder runs, cannot run inside the test's transaction.
pytestmark = pytest.mark.django_db(transaction=True)

N = 300


def test_build_large_gives_every_benched_page_its_data(
    client: Any, default_health_model: None
) -> None:
    today = timezone.localdate()
    started = timezone.now()
    build_large(accounts=N, seed=7, today=today, log=lambda _m: None)

    leader = User.objects.get(username="leader", groups__name=Role.LEADER)
    csm1 = User.objects.get(username="csm1", groups__name=Role.CSM)
    assert Account.objects.count() == N
    assert Account.objects.filter(owner=csm1).exists()
    # The demo's names: the portfolio search the benchmark runs finds some.
    assert Account.objects.filter(name__icontains="tech").exists()
    # Every NEW_EVERY-th contract started this month, as in the demo.
    assert Account.objects.filter(contract_start__gte=today.replace(day=1)).exists()
    # What the accounts demo writes beside the accounts.
    assert Contact.objects.count() == 2 * N
    assert Deal.objects.filter(kind=Deal.Kind.NEW).count() == N
    assert Deal.objects.filter(kind=Deal.Kind.EXPANSION).exists()
    assert StageChange.objects.filter(from_stage="").count() == N
    assert Event.objects.filter(kind=Event.Kind.ACCOUNT_CREATED).count() == N
    # Support history, today's scores and the weeks before, on the accounts too.
    assert Ticket.objects.exists() and FeedbackSubmission.objects.exists()
    assert Engagement.objects.exists()
    assert HealthScore.objects.filter(date=today).exists()
    assert HealthScore.objects.values("date").distinct().count() == 13
    assert Account.objects.exclude(health_score=None).count() > N * 0.8
    # The app builders: onboarding, renewals, the ARR ledger, alerts, playbooks.
    assert OnboardingPlan.objects.exists()
    assert Renewal.objects.exists()
    # Every account has a ledger (the few the success builder renewed or churned
    # start theirs there, as in build_all).
    assert ArrMovement.objects.filter(kind=ArrMovement.Kind.NEW).count() > N * 0.9
    assert not Account.objects.filter(arr_movements=None).exists()
    assert Alert.objects.filter(owner=csm1).exists()
    assert SuccessTask.objects.filter(assignee_user=csm1, done_at=None).exists()
    # Start-up work is dated in the past, as build_all leaves it.
    assert not Account.objects.filter(last_activity_at__gte=started).exists()
    assert not Account.objects.filter(owner__isnull=False, last_activity_at=None).exists()

    account = Account.objects.order_by("pk")[N // 2]
    for page in _pages(account_id=account.pk, owner_id=csm1.pk):
        if "page 200" in page.label:
            continue  # 300 accounts have 12 pages
        client.force_login(leader if page.user == "leader" else csm1)
        response = client.get(page.path)
        assert response.status_code == 200, page


def _plan_cache_mode() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW plan_cache_mode")
        return cursor.fetchone()[0]


def test_custom_plans_hold_on_a_connection_opened_meanwhile() -> None:
    """The builders' foreign key checks are planned when they run, on whichever
    connection runs them: django-q closes one older than CONN_MAX_AGE before it
    queues a task, and the SET of the first connection went with it (the 100,000
    account build's playbooks step took 49 minutes instead of 5)."""
    connection.close()  # opened by the block, not with its options
    with _custom_plans():
        assert _plan_cache_mode() == "force_custom_plan"
        connection.close()  # what close_old_connections does to an old connection
        assert _plan_cache_mode() == "force_custom_plan"
    assert _plan_cache_mode() == "auto"
    connection.close()
    assert _plan_cache_mode() == "auto"

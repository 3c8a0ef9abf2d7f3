"""The demo's support history tells each account's story: trouble shows in support
(tickets piling up, detractors, touches drying up) before usage, and so health, falls."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db.models import Count, Q
from django.utils import timezone

from accounts.demo import build as accounts_build
from accounts.models import Account, Stage
from accounts.support import demo
from accounts.support.models import Engagement, FeedbackSubmission, Ticket
from accounts.support.selectors import support_figures

pytestmark = pytest.mark.django_db


def _per_account(at_risk: bool, since_days: int, until_days: int) -> float:
    now = timezone.now()
    stages = [Stage.AT_RISK, Stage.CHURNED]
    accounts = (
        Account.objects.filter(stage__in=stages)
        if at_risk
        else Account.objects.exclude(stage__in=stages)
    )
    window = Q(
        tickets__opened_at__gt=now - timedelta(days=since_days),
        tickets__opened_at__lte=now - timedelta(days=until_days),
    )
    counts = accounts.annotate(n=Count("tickets", filter=window)).values_list("n", flat=True)
    return sum(counts) / max(len(counts), 1)


def test_demo_tickets_pile_up_at_risk_accounts_before_their_health_falls() -> None:
    today = timezone.localdate()
    accounts_build(accounts=150, seed=7, today=today)
    message = demo.build(seed=7, today=today)
    assert "tickets" in message and Ticket.objects.exists()

    # Early (4-6 months ago, while their usage still held) and late, at-risk accounts
    # open more tickets than the rest, and more late than early.
    early_risk, early_rest = _per_account(True, 180, 120), _per_account(False, 180, 120)
    late_risk, late_rest = _per_account(True, 60, 0), _per_account(False, 60, 0)
    assert early_risk > early_rest and late_risk > late_rest and late_risk > early_risk

    risky = list(Account.objects.filter(stage=Stage.AT_RISK).values_list("pk", flat=True))
    figures = support_figures(account_ids=risky)
    assert all(f.nps is not None and f.nps < 0 for f in figures.values())
    assert sum(f.escalated_open for f in figures.values()) > 0
    # Their CSMs stopped calling: no touch in the last two months.
    recent = Engagement.objects.filter(
        account_id__in=risky, occurred_at__gt=timezone.now() - timedelta(days=60)
    )
    assert not recent.exists()
    assert (
        FeedbackSubmission.objects.filter(response_group="DETRACTOR").exclude(comment="").exists()
    )

    count = Ticket.objects.count()
    assert "left as is" in demo.build(seed=7, today=today)
    assert Ticket.objects.count() == count


def test_demo_is_registered_with_the_project_builder() -> None:
    from lifecycle.demo import APP_BUILDERS

    assert APP_BUILDERS[0] == "accounts.support.demo.build"

"""The demo builders: the ARR history ends, for every account, at its ARR; the
whole demo portfolio gives every dashboard figure a value."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db.models import Case, DecimalField, F, Sum, When
from django.urls import reverse
from django.utils import timezone

from accounts.models import Account, Stage
from lifecycle.demo import build_all
from lifecycle.metrics import demo
from lifecycle.metrics.dashboard import dashboard
from lifecycle.metrics.periods import Grain, period_containing
from lifecycle.metrics.scope import Scope
from success.models import ArrMovement
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db
TODAY = date(2026, 11, 23)


def test_demo_ledger_ends_at_each_accounts_arr_and_churned_accounts_end_at_zero(db: Any) -> None:
    for i in range(30):
        AccountFactory.create(
            arr=Decimal(10000 + 1000 * i),
            contract_start=TODAY - timedelta(days=40 * i + 20),
            stage=Stage.CHURNED if i % 5 == 0 else Stage.ADOPTION,
        )
    demo.build(seed=3, today=TODAY)
    signed = Case(
        When(arr_movements__kind__in=["new", "expansion"], then=F("arr_movements__amount")),
        When(arr_movements__kind__in=["contraction", "churn"], then=-F("arr_movements__amount")),
        default=Decimal("0"),
        output_field=DecimalField(max_digits=16, decimal_places=2),
    )
    for account in Account.objects.annotate(ledger=Sum(signed)):
        assert account.ledger == account.arr, account
    churned = Account.objects.filter(
        stage=Stage.CHURNED, contract_start__lt=TODAY - timedelta(days=60)
    )
    assert churned.exists()
    assert not churned.exclude(arr=0).exists()
    assert ArrMovement.objects.filter(kind="new").count() == 30
    assert demo.build(seed=3, today=TODAY) == "ARR history exists; left as is"


# The second day of a quarter: the running month and quarter have two days.
SECOND_DAY = date(2026, 10, 2)


def test_demo_portfolio_gives_every_dashboard_metric_a_value(
    client: Any, leader: Any, default_health_model: None
) -> None:
    started = timezone.now()
    build_all(accounts=30, seed=7, reset=False, today=SECOND_DAY, log=lambda _m: None)
    # What the builders did at start-up is dated in the past, so no account
    # reads "active a minute ago" (issue 17, item 6); owned ones all have some.
    assert not Account.objects.filter(last_activity_at__gte=started).exists()
    assert not Account.objects.filter(owner__isnull=False, last_activity_at=None).exists()
    for grain in (Grain.QUARTER, Grain.MONTH):
        board = dashboard(
            scope=Scope(), period=period_containing(SECOND_DAY, grain), today=SECOND_DAY
        )
        empty = [m.key for m in board.metrics if m.current is None]
        assert not empty, (grain, empty)
        assert board.has_health and board.health[-1].total > 0
        assert board.at_risk.has_data
        assert board.ttv.counts[-1] > 0
    # Renewals decided this year, most of them with a CSAT band and an NPS category
    # from the demo's survey answers.
    year = dashboard(
        scope=Scope(), period=period_containing(SECOND_DAY, Grain.YEAR), today=SECOND_DAY
    ).satisfaction
    assert year.decided
    assert year.csat[-1].ratio.denominator < year.decided
    assert year.nps[-1].ratio.denominator < year.decided
    client.force_login(leader)
    html = client.get(reverse("metrics"), {"grain": "quarter", "on": "2026-10-02"}).content.decode()
    figures = re.findall(r'<p class="mx-figure">(.*?)</p>', html, re.S)
    assert len(figures) == len(board.metrics) + 1  # and at-risk ARR
    assert not [f for f in figures if "no data yet" in f]

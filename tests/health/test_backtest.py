from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.urls import reverse

from success.health.backtest import renewal_backtest
from success.health.models import HealthModel, HealthScore
from success.models import ChurnReason, Renewal
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db
RENEWS = date(2026, 9, 30)


def _closed(band: str | None, renewed: bool, arr: str, new_arr: str | None = None) -> None:
    account = AccountFactory.create()
    if band:
        HealthScore.objects.create(
            account=account,
            date=RENEWS - timedelta(days=95),
            model=HealthModel.objects.get(status="active"),
            score=50,
            band=band,
        )
    Renewal.objects.create(
        account=account,
        renewal_date=RENEWS,
        current_arr=Decimal(arr),
        status="renewed" if renewed else "churned",
        closed_on=RENEWS,
        new_arr=Decimal(new_arr) if new_arr else None,
        churn_reason=None if renewed else ChurnReason.objects.get_or_create(label="Budget")[0],
    )


def test_renewal_rate_and_arr_retained_by_band_90_days_before() -> None:
    _closed("green", True, "100", "120")
    _closed("green", True, "100", "100")
    _closed("red", False, "300")
    _closed("red", True, "100", "50")
    _closed(None, True, "10", "10")
    outcomes = {o.band: o for o in renewal_backtest(start=date(2026, 9, 1), end=date(2026, 9, 30))}
    assert (outcomes["green"].renewal_rate, outcomes["green"].arr_retained) == (
        Decimal("100.0"),
        Decimal("110.0"),
    )
    assert (outcomes["red"].renewal_rate, outcomes["red"].arr_retained) == (
        Decimal("50.0"),
        Decimal("12.5"),
    )
    assert outcomes["yellow"].renewal_rate is None
    assert outcomes["unscored"].closed == 1


def test_backtest_page_is_for_leaders(client: Any, leader: Any, csm: Any) -> None:
    _closed("green", True, "100", "100")
    client.force_login(csm)
    assert client.get(reverse("health:backtest")).status_code == 403
    client.force_login(leader)
    response = client.get(reverse("health:backtest"), {"start": "2026-09-01", "end": "2026-09-30"})
    assert "100.0%" in response.content.decode()
    bad = client.get(reverse("health:backtest"), {"start": "2026-09-30", "end": "2026-09-01"})
    assert "The end comes after the start." in bad.content.decode()

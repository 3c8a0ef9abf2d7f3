from __future__ import annotations

from datetime import date

import pytest

from accounts import demo as accounts_demo
from accounts.models import ForecastCategory
from success import demo
from success.models import ArrMovement, BusinessReview, Renewal, SuccessPlan

pytestmark = pytest.mark.django_db


def test_demo_builds_every_kind_of_success_data_once() -> None:
    today = date(2026, 11, 23)
    accounts_demo.build(accounts=60, seed=7, today=today)
    message = demo.build(seed=7, today=today)
    assert "renewals" in message
    assert SuccessPlan.objects.exists()
    assert BusinessReview.objects.filter(status="held").exists()
    assert BusinessReview.objects.filter(status="scheduled", scheduled_for__gt=today).exists()
    categories = set(
        Renewal.objects.filter(status="open").values_list("forecast_category", flat=True)
    )
    assert set(ForecastCategory.values) <= categories
    counts = (Renewal.objects.count(), SuccessPlan.objects.count(), ArrMovement.objects.count())

    assert demo.build(seed=7, today=today) == "success data exists; left as is"
    assert counts == (
        Renewal.objects.count(),
        SuccessPlan.objects.count(),
        ArrMovement.objects.count(),
    )

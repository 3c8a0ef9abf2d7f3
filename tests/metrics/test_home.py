"""The home page: this week's numbers, the whole portfolio for leaders and
viewers, their own book for a CSM."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import ForecastCategory, HealthBand
from onboarding.models import OnboardingPlan, PlanStatus
from success.models import Renewal
from tests.factories import AccountFactory, OnboardingPlanFactory, RenewalFactory

pytestmark = pytest.mark.django_db
D = Decimal


def text(html: str, element_id: str) -> str:
    match = re.search(rf'id="{element_id}">(.*?)</(article|table)>', html, re.S)
    assert match, element_id
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", match.group(1))).strip()


@pytest.fixture
def book(csm: Any, other_csm: Any) -> None:
    today = timezone.localdate()
    AccountFactory.create(owner=csm, arr=D("40000"), health_band=HealthBand.RED)
    AccountFactory.create(
        owner=other_csm, arr=D("60000"), renewal_forecast_category=ForecastCategory.CHURN
    )
    AccountFactory.create(owner=other_csm, arr=D("99000"), health_band=HealthBand.GREEN)
    mine = AccountFactory.create(owner=csm, arr=D("25000"))
    RenewalFactory.create(
        account=mine,
        renewal_date=today + timedelta(days=30),
        forecast_category=ForecastCategory.COMMIT,
    )
    theirs = AccountFactory.create(owner=other_csm, arr=D("70000"))
    RenewalFactory.create(
        account=theirs,
        renewal_date=today + timedelta(days=89),
        forecast_category=ForecastCategory.AT_RISK,
        forecast_arr=D("50000"),
    )
    far = AccountFactory.create(owner=other_csm, arr=D("10000"))
    RenewalFactory.create(account=far, renewal_date=today + timedelta(days=120))
    closed = AccountFactory.create(owner=csm, arr=D("10000"))
    RenewalFactory.create(
        account=closed, renewal_date=today + timedelta(days=5), status=Renewal.Status.RENEWED
    )
    plan = OnboardingPlanFactory.create(account__owner=csm)
    OnboardingPlan.objects.filter(pk=plan.pk).update(status=PlanStatus.LATE)


def test_leader_sees_the_whole_portfolio(client: Any, leader: Any, book: None) -> None:
    client.force_login(leader)
    html = client.get(reverse("home")).content.decode()
    assert "100,000" in text(html, "home-at-risk")  # 40,000 red + 60,000 forecast churn
    assert "2 accounts" in text(html, "home-at-risk")
    assert text(html, "home-renewals").startswith("Renewals in the next 90 days 2 ")
    forecast = text(html, "home-forecast")
    assert "Commit 1 25,000 25,000" in forecast
    assert "At risk 1 70,000 50,000" in forecast
    assert "Late onboarding 1" in text(html, "home-onboarding")
    assert reverse("metrics") in html


def test_csm_sees_only_their_book(client: Any, csm: Any, book: None) -> None:
    client.force_login(csm)
    html = client.get(reverse("home")).content.decode()
    assert "Your book" in html
    assert "40,000" in text(html, "home-at-risk")
    assert "1 account " in text(html, "home-at-risk")
    assert "Commit 1 25,000" in text(html, "home-forecast")
    assert "At risk 0 0 0" in text(html, "home-forecast")
    assert 'href="/metrics/"' not in html


def test_viewer_gets_the_leader_view(client: Any, viewer: Any, book: None) -> None:
    client.force_login(viewer)
    html = client.get(reverse("home")).content.decode()
    assert "The whole portfolio" in html
    assert "100,000" in text(html, "home-at-risk")


def test_home_without_data_says_so(client: Any, leader: Any) -> None:
    client.force_login(leader)
    html = client.get(reverse("home")).content.decode()
    assert "no data yet" in text(html, "home-at-risk")


def test_home_query_count_does_not_grow_with_the_book(
    client: Any, leader: Any, book: None, django_assert_num_queries: Any
) -> None:
    client.force_login(leader)
    # session, user with their role groups; renewals, late plans, open alerts, at-risk.
    with django_assert_num_queries(6):
        client.get(reverse("home"))
    for _ in range(20):
        RenewalFactory.create(renewal_date=timezone.localdate() + timedelta(days=10))
    with django_assert_num_queries(6):
        client.get(reverse("home"))

"""A leader answers: how did retention do last quarter, who drove churn, and
what is at risk next quarter, in a real browser."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import ForecastCategory, HealthBand
from accounts.roles import Role
from lifecycle.metrics.periods import last_complete_quarter
from success.models import ArrMovement
from tests.factories import AccountFactory, RenewalFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
D = Decimal


def test_leader_reads_last_quarters_retention_churn_and_risk(live_server: Any, page: Any) -> None:
    today = timezone.localdate()
    quarter = last_complete_quarter(today)
    before = quarter.start - timedelta(days=200)
    UserFactory.create(username="lena", first_name="Lena", role=Role.LEADER)
    kept = AccountFactory.create(name="Keeper Corp", arr=D("820000"), contract_start=before)
    gone = AccountFactory.create(name="Gone Ltd", arr=D("0"), contract_start=before)
    for account, kind, amount, day in (
        (kept, "new", "800000", before),
        (kept, "expansion", "20000", quarter.start + timedelta(days=10)),
        (gone, "new", "200000", before),
        (gone, "churn", "200000", quarter.start + timedelta(days=20)),
    ):
        ArrMovement.objects.create(account=account, kind=kind, amount=D(amount), date=day)
    risky = AccountFactory.create(
        name="Wobbly Inc",
        arr=D("150000"),
        health_band=HealthBand.RED,
        contract_start=quarter.after,  # a customer only since this quarter
    )
    RenewalFactory.create(
        account=risky,
        renewal_date=today + timedelta(days=40),
        forecast_category=ForecastCategory.AT_RISK,
    )

    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill("lena")
    page.get_by_label("Password").fill("pw")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("This week")
    expect(page.locator("#home-at-risk")).to_contain_text("150,000")
    at_risk_row = page.locator("#home-forecast tbody tr", has_text="At risk")
    expect(at_risk_row.locator("td").nth(0)).to_have_text("1")
    expect(at_risk_row.locator("td").nth(1)).to_have_text("150,000")

    page.get_by_role("link", name="Metrics").first.click()
    page.get_by_role("link", name=re.compile(rf"← {quarter.label}")).click()
    expect(page).to_have_title(re.compile(quarter.label))
    # GRR = (1,000,000 - 200,000) / 1,000,000; NRR adds the 20,000 expansion.
    expect(page.locator("#card-grr .mx-figure")).to_have_text("80.0%")
    expect(page.locator("#card-nrr .mx-figure")).to_have_text("82.0%")
    expect(page.locator("#trend-grr table")).to_contain_text("80.0%")

    page.locator("#card-churn .mx-figure a").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Churned ARR")
    table = page.locator("#drill-table")
    expect(table.locator("tbody tr")).to_have_count(1)
    expect(table).to_contain_text("Gone Ltd")
    expect(table).to_contain_text("200,000")
    with page.expect_download() as download:
        page.get_by_role("link", name="Export CSV").click()
    assert "Gone Ltd" in download.value.path().read_text()

    page.get_by_role("link", name="← Metrics").click()
    page.locator("#card-at_risk .mx-figure a").click()
    expect(page.locator("#drill-table")).to_contain_text("Wobbly Inc")

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.roles import Role
from success import services
from success.models import ForecastChange, SuccessTask
from tests.factories import AccountFactory, BusinessReviewFactory, ContactFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_csm_holds_a_qbr_forecasts_at_risk_and_sees_both_in_my_work_and_the_pipeline(
    live_server: Any, page: Any
) -> None:
    today = timezone.localdate()
    csm = UserFactory.create(username="maya", first_name="Maya", last_name="Okafor", role=Role.CSM)
    account = AccountFactory.create(
        name="Northwind Analytics",
        owner=csm,
        arr=Decimal("50000"),
        renewal_date=today + timedelta(days=60),
    )
    ContactFactory.create(account=account, name="Ada Champion")
    BusinessReviewFactory.create(account=account, owner=csm, scheduled_for=today)
    services.renewals_create_due(today=today)

    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill("maya")
    page.get_by_label("Password").fill("pw")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()

    page.goto(f"{live_server.url}{account.get_absolute_url()}")
    page.locator("#reviews").get_by_role("link", name=re.compile(r"^QBR")).click()
    page.get_by_role("link", name="Record as held").click()
    page.get_by_label("Sentiment").select_option("positive")
    page.get_by_label("Outcomes").fill("Agreed to roll out to the EMEA team")
    page.locator("#id_items-0-title").fill("Send ROI summary to the sponsor")
    page.locator("#id_items-0-assignee").select_option(label="Maya Okafor")
    page.locator("#id_items-0-due_date").fill((today + timedelta(days=7)).isoformat())
    page.get_by_role("button", name="Record review").click()
    expect(page.locator(".message-success")).to_contain_text("Review recorded")
    expect(page.get_by_role("heading", level=1)).to_contain_text("QBR")
    expect(page.locator("body")).to_contain_text("Send ROI summary to the sponsor")

    page.goto(f"{live_server.url}{account.get_absolute_url()}")
    page.locator("#renewal").get_by_role("link", name="Change forecast").click()
    page.get_by_label("Forecast category").select_option("at_risk")
    page.get_by_label("Forecast ARR").fill("30000")
    page.get_by_role("button", name="Save forecast").click()
    expect(page.locator(".error")).to_contain_text("This field is required.")
    page.get_by_label("Reason").fill("Champion left; usage down 40%")
    page.get_by_role("button", name="Save forecast").click()
    expect(page.locator(".message-success")).to_contain_text("Forecast is now At risk")
    expect(page.locator("#forecast-history")).to_contain_text("Champion left; usage down 40%")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="My work").click()
    work = page.locator("#my-work")
    expect(work).to_contain_text("Send ROI summary to the sponsor")  # due in 7 days
    # the renewal is two months out: in the later section, one link away
    sections = page.get_by_role("navigation", name="Sections of my work")
    sections.get_by_role("link", name=re.compile(r"^Later")).click()
    expect(work).to_contain_text("Renewal: At risk")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Renewals").click()
    expect(page.locator("#renewals-table")).to_contain_text("Northwind Analytics")
    expect(page.locator("#renewals-table")).to_contain_text("At risk")
    totals = page.locator("#renewal-totals tfoot")
    expect(totals).to_contain_text("30,000")  # forecast ARR
    expect(totals).to_contain_text("50,000")  # at-risk ARR
    page.get_by_role("link", name="Northwind Analytics").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Northwind Analytics")

    change = ForecastChange.objects.get()
    assert (change.to_category, change.to_arr, change.changed_by) == (
        "at_risk",
        Decimal("30000.00"),
        csm,
    )
    assert SuccessTask.objects.get(review__isnull=False).assignee_user == csm

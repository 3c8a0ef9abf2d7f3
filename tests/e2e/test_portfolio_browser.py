from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from accounts.models import Stage, StageChange
from accounts.roles import Role
from tests.factories import AccountFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_csm_filters_opens_an_account_and_changes_its_stage(
    live_server: Any, page: Any, login: Any
) -> None:
    csm = UserFactory.create(username="maya", first_name="Maya", last_name="Okafor", role=Role.CSM)
    AccountFactory.create(name="Northwind Analytics", owner=csm, stage=Stage.ADOPTION)
    AccountFactory.create(name="Bluestone Travel", owner=csm, stage=Stage.ADOPTION)
    AccountFactory.create(name="Someone Else's", stage=Stage.ADOPTION)

    login("maya")
    table = page.locator("#portfolio-table")
    # A CSM's portfolio opens on their own book (the count says so).
    expect(page.locator("#results-count")).to_contain_text("in your book")
    expect(table).to_contain_text("Northwind Analytics")
    expect(table).not_to_contain_text("Someone Else's")

    page.get_by_label("Search").fill("northwind")
    expect(table.locator("tbody tr")).to_have_count(1)
    expect(page).to_have_url(re.compile(r"q=northwind"))

    page.get_by_role("link", name="Northwind Analytics").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Northwind Analytics")

    page.get_by_role("link", name="Change stage").click()
    page.get_by_label("New stage").select_option("at_risk")
    page.get_by_role("button", name="Change stage").click()
    expect(page.locator(".error")).to_contain_text("This field is required.")

    page.get_by_label("Reason").fill("Champion left; usage down 40%")
    page.get_by_role("button", name="Change stage").click()
    expect(page.locator(".message-success")).to_contain_text("Stage is now At risk")
    expect(page.locator("#timeline")).to_contain_text(
        "Stage Adoption → At risk: Champion left; usage down 40%"
    )
    change = StageChange.objects.get(to_stage=Stage.AT_RISK)
    assert change.changed_by == csm

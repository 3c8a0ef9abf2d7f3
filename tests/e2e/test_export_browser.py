from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from accounts.models import Segment
from accounts.roles import Role
from tests.factories import AccountFactory, RenewalFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _download_names(page: Any, column: str) -> list[str]:
    with page.expect_download() as info:
        page.get_by_role("link", name="Export CSV").click()
    path = Path(info.value.path())
    with path.open(newline="") as f:
        return sorted(row[column] for row in csv.DictReader(f))


def test_portfolio_export_follows_the_filter_chosen_on_the_page(
    live_server: Any, page: Any, login: Any
) -> None:
    UserFactory.create(username="lead", role=Role.LEADER)
    for i in range(3):
        AccountFactory.create(name=f"Small {i}", segment=Segment.SMB)
    for i in range(4):
        AccountFactory.create(name=f"Big {i}", segment=Segment.ENTERPRISE)

    login("lead")
    table = page.locator("#portfolio-table")
    expect(table.locator("tbody tr")).to_have_count(7)
    page.get_by_label("Segment").select_option("smb")
    expect(table.locator("tbody tr")).to_have_count(3)

    shown = sorted(table.locator("tbody .row-title").all_inner_texts())
    assert _download_names(page, "name") == shown == ["Small 0", "Small 1", "Small 2"]


def test_renewals_export_follows_the_filter_chosen_on_the_page(
    live_server: Any, page: Any, login: Any
) -> None:
    UserFactory.create(username="lead", role=Role.LEADER)
    for i in range(2):
        RenewalFactory.create(account__name=f"Small {i}", account__segment=Segment.SMB)
    for i in range(3):
        RenewalFactory.create(account__name=f"Big {i}", account__segment=Segment.ENTERPRISE)

    login("lead")
    page.goto(f"{live_server.url}/renewals/")
    table = page.locator("#renewals-table")
    expect(table.locator("tbody tr")).to_have_count(5)
    page.get_by_label("Segment").select_option("enterprise")
    expect(table.locator("tbody tr")).to_have_count(3)

    shown = sorted(table.locator("tbody .row-title").all_inner_texts())
    assert _download_names(page, "account") == shown == ["Big 0", "Big 1", "Big 2"]

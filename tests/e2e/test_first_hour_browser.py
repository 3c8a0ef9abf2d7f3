"""What a new user met in their first hour (issue 17, item 7), in a real browser."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.roles import Role
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize(("role", "reads_metrics"), [(Role.VIEWER, True), (Role.CSM, False)])
def test_the_nav_and_the_home_page_agree_on_metrics(
    live_server: Any, page: Any, login: Any, role: Role, reads_metrics: bool
) -> None:
    UserFactory.create(username="sam", role=role)
    login("sam")
    page.goto(f"{live_server.url}/")
    nav = page.get_by_role("navigation", name="Main").get_by_role("link", name="Metrics")
    on_home = page.locator("main").get_by_role("link", name="Metrics", exact=True)
    expect(nav).to_have_count(1 if reads_metrics else 0)
    expect(on_home).to_have_count(1 if reads_metrics else 0)
    if reads_metrics:
        nav.click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Metrics")


def test_switching_a_quarter_view_to_month_shows_the_current_month(
    live_server: Any, page: Any, login: Any
) -> None:
    UserFactory.create(username="lena", role=Role.LEADER)
    login("lena")
    page.goto(f"{live_server.url}/metrics/?grain=quarter")
    today = timezone.localdate()
    page.get_by_label("Period", exact=True).select_option("month")
    page.get_by_role("button", name="Apply").click()
    expect(page.locator(".page-head p.muted")).to_contain_text(f"{today:%b %Y}")


def test_valid_import_rows_are_marked_green_and_rows_with_errors_red(
    live_server: Any, page: Any, login: Any, tmp_path: Any
) -> None:
    UserFactory.create(username="lena", role=Role.LEADER)
    upload = tmp_path / "accounts.csv"
    upload.write_text("name,arr\nGood,10\nBad,-5\n")
    login("lena")
    page.goto(f"{live_server.url}/imports/accounts/new/")
    page.locator("input[type=file]").set_input_files(str(upload))
    page.get_by_role("button", name="Upload and preview").click()

    good = page.locator("tbody tr", has_text="Good").locator("td").last
    bad = page.locator("tbody tr", has_text="Bad").locator("td").last
    expect(good).to_have_text("✓ valid")
    expect(good).to_have_css("color", "rgb(21, 128, 61)")  # --green
    expect(bad).to_have_css("color", "rgb(185, 28, 28)")  # --red

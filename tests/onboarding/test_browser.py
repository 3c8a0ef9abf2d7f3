"""End to end in headless Chromium: an admin builds a template, a CSM starts
a plan, completes the first-value milestone inline, and TTV shows on the
account page."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from accounts.models import Segment, Stage
from accounts.roles import Role
from onboarding.models import OnboardingTemplate
from tests.factories import AccountFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _sign_in(page: Page, base: str, username: str) -> None:
    page.goto(f"{base}/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("pw")
    page.get_by_role("button", name="Sign in").click()
    # Wherever home is, signing in leaves the login page.
    page.wait_for_url(lambda url: "/login/" not in url)


def _add_milestone(page: Page, title: str, kind: str, offset: int) -> None:
    page.get_by_role("link", name="Add milestone").click()
    page.get_by_label("Title").fill(title)
    page.get_by_label("Kind").select_option(kind)
    page.get_by_label("Due offset (days)").fill(str(offset))
    page.get_by_role("button", name="Save milestone").click()
    expect(page.locator(".message-success")).to_contain_text("Milestone saved.")


def test_admin_builds_template_csm_reaches_first_value_and_ttv_shows(
    live_server: Any, page: Page
) -> None:
    base = live_server.url
    UserFactory.create(username="ada", role=Role.ADMIN)
    maya = UserFactory.create(username="maya", first_name="Maya", last_name="Okafor", role=Role.CSM)
    account = AccountFactory.create(
        name="Northwind Analytics",
        owner=maya,
        segment=Segment.MID_MARKET,
        stage=Stage.ONBOARDING,
        contract_start=timezone.localdate() - timedelta(days=15),
    )

    # Admin: template, milestones, activation (refused first, then accepted).
    _sign_in(page, base, "ada")
    page.goto(f"{base}/onboarding/templates/")
    page.get_by_role("link", name="New template").click()
    page.get_by_label("Name").fill("Mid-market pilot")
    page.get_by_label("Mid-market").check()
    page.get_by_role("button", name="Create template").click()
    _add_milestone(page, "Kickoff call", "kickoff", 2)
    page.get_by_role("button", name="Activate").click()
    expect(page.locator(".message-error")).to_contain_text("first value")
    _add_milestone(page, "First dashboard live", "first_value", 14)
    page.get_by_role("button", name="Activate").click()
    expect(page.locator(".message-success")).to_contain_text("is active")
    page.get_by_role("button", name="Sign out").click()

    # CSM: start from the account page, complete first value inline (htmx).
    _sign_in(page, base, "maya")
    page.goto(f"{base}{account.get_absolute_url()}")
    page.locator("#onboarding").get_by_role("link", name="Start onboarding").click()
    expect(page.get_by_label("Template")).to_have_value(str(OnboardingTemplate.objects.get().pk))
    page.get_by_role("button", name="Start onboarding").click()
    expect(page.locator(".message-success")).to_contain_text("Onboarding started")

    row = page.locator("li.onb-milestone", has_text="First dashboard live")
    row.get_by_text("Complete", exact=True).click()
    row.get_by_role("button", name="Mark done").click()
    row = page.locator("li.onb-milestone", has_text="First dashboard live")
    expect(row).to_contain_text("Done ")
    expect(page.locator("#checklist")).to_contain_text("15 days")
    # htmx swapped the checklist: the page was not reloaded, so its message stays.
    expect(page.locator(".message-success")).to_contain_text("Onboarding started")

    page.goto(f"{base}{account.get_absolute_url()}")
    expect(page.locator("#onboarding-ttv")).to_have_text("15 days")
    expect(page.locator("#timeline")).to_contain_text("first value reached")

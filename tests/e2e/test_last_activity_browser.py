"""A CSM finds the accounts nobody has talked to, though syncs, renewals the
daily job opened and alerts wrote to their timelines a moment ago."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import Event
from accounts.roles import Role
from accounts.services import event_record
from success.services import renewal_create
from tests.factories import AccountFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_last_activity_ignores_system_events_and_finds_quiet_accounts(
    live_server: Any, page: Any, login: Any
) -> None:
    maya = UserFactory.create(username="maya", first_name="Maya", role=Role.CSM)
    quiet = AccountFactory.create(name="Quietfield Logistics", owner=maya)
    busy = AccountFactory.create(name="Busybee Retail", owner=maya)
    AccountFactory.create(name="Zenith Media", owner=maya)
    for account, days in ((quiet, 45), (busy, 2)):
        event_record(
            account=account,
            kind=Event.Kind.NOTE,
            summary="Check-in call",
            actor=maya,
            occurred_at=timezone.now() - timedelta(days=days),
        )
    # Start-up: the daily job opens renewals, sync and alerts write to the timeline.
    for account in (quiet, busy):
        renewal_create(account=account)
        event_record(account=account, kind=Event.Kind.HUBSPOT, summary="Synced from HubSpot")
        event_record(account=account, kind=Event.Kind.HEALTH, summary="Alert opened")

    login("maya")
    table = page.locator("#portfolio-table")
    row = table.locator("tr", has_text="Quietfield Logistics")
    expect(row).to_contain_text("1 month")
    expect(table.locator("tr", has_text="Zenith Media")).to_contain_text("—")
    expect(table).not_to_contain_text("seconds ago")

    page.get_by_label("No activity for (days)").fill("30")
    page.get_by_label("No activity for (days)").press("Tab")  # change, as a person leaves it
    expect(table.locator("tbody tr")).to_have_count(2)
    expect(table).not_to_contain_text("Busybee Retail")

    # By name Quietfield comes first; by least recent activity, the account
    # nobody ever touched does.
    expect(table.locator("tbody tr").first).to_contain_text("Quietfield Logistics")
    page.get_by_role("link", name="Last activity").click()
    expect(page).to_have_url(re.compile(r"sort=activity"))
    expect(table.locator("tbody tr").first).to_contain_text("Zenith Media")
    expect(table.locator("tbody tr").nth(1)).to_contain_text("Quietfield Logistics")

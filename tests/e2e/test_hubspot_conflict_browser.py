"""An admin sees a sync conflict in the browser, keeps HubSpot's value, and the next
push has nothing to write back (HubSpot holds it already)."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from accounts.hubspot.field_state import FieldSync
from accounts.hubspot.models import SyncChange, SyncConflict, SyncSource, SyncState
from accounts.roles import Role
from tests.factories import AccountFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_admin_resolves_a_conflict_by_taking_hubspots_value(
    live_server: Any, page: Any, login: Any
) -> None:
    UserFactory.create(username="ada", first_name="Ada", role=Role.ADMIN)
    account = AccountFactory.create(
        name="Harbor Freight Co", hubspot_id="7001", renewal_forecast_category="likely"
    )
    SyncState.objects.create(
        account=account,
        fields={
            "renewal_forecast_category": FieldSync(
                prop="lifecycle_renewal_forecast", base="commit", remote="at_risk"
            )
        },
    )
    SyncConflict.objects.create(
        account=account,
        field="renewal_forecast_category",
        base_value="commit",
        ours="likely",
        theirs="at_risk",
    )

    login("ada")
    page.goto(f"{live_server.url}/hubspot/conflicts/")
    row = page.locator("table.data tbody tr", has_text="Harbor Freight Co")
    expect(row).to_contain_text("Renewal forecast")
    expect(row).to_contain_text("Likely")
    expect(row).to_contain_text("At risk")
    row.get_by_role("button", name="Take HubSpot's").click()

    expect(page.locator("body")).to_contain_text("Harbor Freight Co: At risk kept")
    expect(page.locator("table.data")).to_contain_text("No open conflicts")
    account.refresh_from_db()
    assert account.renewal_forecast_category == "at_risk"
    change = SyncChange.objects.get(account=account, source=SyncSource.RESOLVE)
    assert (change.old_value, change.new_value) == ("likely", "at_risk")
    # Both sides hold it: the base is HubSpot's value, so nothing is left to push.
    assert (
        SyncState.objects.get(account=account).fields["renewal_forecast_category"].base == "at_risk"
    )

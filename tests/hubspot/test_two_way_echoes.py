# ruff: noqa: F811 -- fixtures from sync_support are used as test arguments
"""Issue 15, defects 1 and 2: echoes are told by provenance (who HubSpot says wrote a
value), not by time windows, and the push decides on what HubSpot holds now (read before
write), so no edit on either side vanishes because a webhook was late, absent, or our
write was held up by a 429. The real HubSpotClient talks HTTP to the sandbox; webhooks
go from the sandbox's dispatcher through the real receiver view."""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

import pytest

from accounts.hubspot import twoway
from accounts.hubspot.inbound.importer import import_run, run_start
from accounts.hubspot.models import SyncChange, SyncConflict, SyncRun, SyncSource
from accounts.hubspot.sandbox import Sandbox
from accounts.hubspot.sandbox.store import Source
from accounts.hubspot.transport.client import HubSpotClient
from accounts.hubspot.transport.http_retries import RetryPolicy
from accounts.models import Account
from accounts.services import account_cs_fields_update

from .sync_support import (  # noqa: F401
    SECRET,
    TOKEN,
    capture,
    catch_up,
    client,
    clock_of,
    hubspot_settings,
    portfolio,
    sync_clock,
    sync_sandbox,
    sync_server,
    webhooks_deliver,
    webhooks_to,
)

pytestmark = pytest.mark.django_db
HUBSPOT_USER = Source(source_type="CRM_UI", change_source="CRM_UI", user_id="9001")
FORECAST = "lifecycle_renewal_forecast"


@pytest.fixture
def linked(client: HubSpotClient, sync_sandbox: Sandbox) -> list[Account]:
    portfolio(sync_sandbox, companies=2, deals_per_company=0)
    twoway.provision(client)
    import_run(run_start(SyncRun.Kind.IMPORT), client=client)
    clock_of(sync_sandbox).advance(seconds=3600)  # to now, where the import left the cursor
    twoway.push_pass(client)
    return list(Account.objects.order_by("pk"))


def _hubspot_edit(sandbox: Sandbox, account: Account, *, after_ms: int, **values: str) -> None:
    """A person's edit in HubSpot, `after_ms` after now (HubSpot's clock reads ours)."""
    clock = clock_of(sandbox)
    catch_up(clock)
    clock.advance(ms=after_ms)
    sandbox.store.update(
        sandbox.store.find("companies", account.hubspot_id or ""), values, source=HUBSPOT_USER
    )


def _company(sandbox: Sandbox, account: Account, prop: str) -> str:
    return sandbox.store.find("companies", account.hubspot_id or "").properties.get(prop, "")


def test_defect1_a_429_before_our_write_does_not_make_a_newer_lifecycle_edit_vanish(
    sync_sandbox: Sandbox,
    sync_server: Any,
    linked: list[Account],
    capture: dict[str, Any],
    hubspot_settings: None,
    settings: Any,
) -> None:
    """Latest-wins field; our write of V1 meets one 429 and lands after the person made
    V2 in Lifecycle. Our own V1 coming back (INTEGRATION, our app) is our echo however
    late it lands or arrives: V2 ends on both sides, and nothing claims a HubSpot edit."""
    twoway.rule_save(
        key="renewal_forecast_category", owner="two_way", policy="latest", prop="", by=None
    )
    webhooks_to(sync_sandbox, capture)
    # This test runs each pass itself (tasks run inline in tests: a push queued by an
    # edit would run inside the wait below, which no worker does).
    settings.ACCOUNT_CHANGED_HOOKS = []
    account = linked[0]
    clock = clock_of(sync_sandbox)

    def wait(seconds: float) -> None:  # the client's wait after the 429: time passes
        time.sleep(1.0)
        if Account.objects.get(pk=account.pk).renewal_forecast_category != "likely":
            account_cs_fields_update(
                account=Account.objects.get(pk=account.pk), renewal_forecast_category="likely"
            )  # V2, made in Lifecycle while V1 is on its way
            time.sleep(0.05)
        catch_up(clock)

    client = HubSpotClient(
        access_token=TOKEN,
        base_url=sync_server.url,
        timeout=(2.0, 10.0),
        policy=RetryPolicy(max_attempts=3, backoff_base=0.0, jitter=lambda: 0.0),
        sleep=wait,
    )
    catch_up(clock)
    account_cs_fields_update(account=account, renewal_forecast_category="at_risk")  # V1
    sync_sandbox.faults.queue("pass", 429)  # the read passes; the write meets one 429
    assert twoway.push_pass(client).pushed == 1
    assert _company(sync_sandbox, account, FORECAST) == "at_risk"  # V1 landed late
    catch_up(clock)
    twoway.push_pass(client)  # V2, the newer edit
    catch_up(clock)
    webhooks_deliver(sync_sandbox, capture)  # V1's and V2's webhooks arrive after both writes
    twoway.push_pass(client)
    webhooks_deliver(sync_sandbox, capture)

    account.refresh_from_db()
    assert account.renewal_forecast_category == "likely"
    assert _company(sync_sandbox, account, FORECAST) == "likely"
    history = sync_sandbox.store.find("companies", account.hubspot_id or "").history[FORECAST]
    assert [h["value"] for h in history[:2]] == ["likely", "at_risk"]  # no V1 after V2
    assert history[0]["sourceType"] == "INTEGRATION" and history[0]["sourceId"] == "4242"
    assert not SyncChange.objects.filter(note__contains="overwritten edit").exists()
    assert twoway.push_pass(client).calls == 0


def test_defect2_a_hubspot_edit_made_after_ours_is_not_overwritten_without_its_webhook(
    client: HubSpotClient, sync_sandbox: Sandbox, linked: list[Account]
) -> None:
    """No webhook (late, or a property without a subscription): Lifecycle sets 31313,
    a person sets 42424 in HubSpot 0.3 s later. The push reads HubSpot first and its
    history says who set 42424 and when: the later edit wins on both sides, journaled."""
    twoway.rule_save(key="renewal_forecast_arr", owner="two_way", policy="latest", prop="", by=None)
    account = linked[0]
    catch_up(clock_of(sync_sandbox))
    account_cs_fields_update(account=account, renewal_forecast_arr=Decimal("31313"))
    _hubspot_edit(sync_sandbox, account, after_ms=300, lifecycle_renewal_arr="42424")
    outcome = twoway.push_pass(client)
    assert outcome.pulled == 1 and outcome.pushed == 0
    account.refresh_from_db()
    assert account.renewal_forecast_arr == Decimal("42424")
    assert _company(sync_sandbox, account, "lifecycle_renewal_arr") == "42424"
    change = SyncChange.objects.filter(account=account, field="renewal_forecast_arr").latest("pk")
    assert (change.old_value, change.new_value) == ("31313", "42424")
    assert change.note == "changed on both sides; HubSpot's edit is later"
    assert change.change_source == "CRM_UI userId:9001"
    assert twoway.push_pass(client).calls == 0


def test_defect2_an_ask_field_opens_its_conflict_before_any_write_with_the_agreed_base(
    client: HubSpotClient, sync_sandbox: Sandbox, linked: list[Account]
) -> None:
    twoway.rule_save(
        key="renewal_forecast_category", owner="two_way", policy="ask", prop="", by=None
    )
    account = linked[0]
    agreed = account.renewal_forecast_category
    catch_up(clock_of(sync_sandbox))
    account_cs_fields_update(account=account, renewal_forecast_category="at_risk")
    _hubspot_edit(sync_sandbox, account, after_ms=300, **{FORECAST: "commit"})
    outcome = twoway.push_pass(client)
    assert outcome.conflicts == 1 and outcome.pushed == 0
    conflict = SyncConflict.objects.get(account=account)
    assert (conflict.base_value, conflict.ours, conflict.theirs) == (agreed, "at_risk", "commit")
    assert _company(sync_sandbox, account, FORECAST) == "commit"  # nothing written over it
    history = sync_sandbox.store.find("companies", account.hubspot_id or "").history[FORECAST]
    assert history[0]["sourceType"] == "CRM_UI"


def test_defect2_a_lifecycle_owned_overwrite_journals_the_value_and_its_hubspot_author(
    client: HubSpotClient, sync_sandbox: Sandbox, linked: list[Account]
) -> None:
    account = linked[1]
    _hubspot_edit(sync_sandbox, account, after_ms=0, lifecycle_health_score="99")
    account_cs_fields_update(account=account, health_score=42)
    assert twoway.push_pass(client).pushed == 1
    assert _company(sync_sandbox, account, "lifecycle_health_score") == "42"
    change = SyncChange.objects.get(account=account, field="health_score", new_value="42")
    assert (change.source, change.old_value, change.old_by) == (
        SyncSource.PUSH,
        "99",
        "CRM_UI userId:9001",
    )
    assert change.status == "confirmed"

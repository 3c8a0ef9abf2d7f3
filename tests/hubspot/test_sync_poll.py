# ruff: noqa: F811 -- fixtures from sync_support are used as test arguments
"""Incremental sync against the sandbox: the search cursor at the 10,000 cap with
thousands of equal timestamps, the overlap, and the archived sweep."""

from __future__ import annotations

import os
from decimal import Decimal

import pytest

from accounts.hubspot.inbound.poller import archived_sweep, changed_pages, poll_run
from accounts.hubspot.models import SyncChange, SyncCursor, SyncRun, SyncSource
from accounts.hubspot.sandbox import ManualClock, Sandbox, search
from accounts.hubspot.sandbox.operations import bulk_edit
from accounts.hubspot.sandbox.store import Source
from accounts.hubspot.transport.client import HubSpotClient
from accounts.models import Account, Deal

from .sync_support import client, portfolio, sync_clock, sync_sandbox, sync_server  # noqa: F401

pytestmark = pytest.mark.django_db
UI = Source(source_type="CRM_UI", change_source="CRM_UI")


def _poll(client: HubSpotClient, *, cap: int = 10_000) -> SyncRun:
    return poll_run(SyncRun.objects.create(kind=SyncRun.Kind.POLL), client=client, cap=cap)


@pytest.mark.parametrize(
    "cap",
    [
        1_000,
        # HubSpot's real cap: about a minute, as each sandbox search scans every record.
        pytest.param(
            10_000,
            marks=pytest.mark.skipif(
                not os.environ.get("HUBSPOT_FULL_CAP"), reason="set HUBSPOT_FULL_CAP=1"
            ),
        ),
    ],
)
def test_poll_past_the_search_cap_with_one_timestamp_neither_skips_nor_loops(
    client: HubSpotClient,
    sync_sandbox: Sandbox,
    sync_clock: ManualClock,
    cap: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The sandbox answers 400 past `cap` results, as HubSpot does past 10,000.
    monkeypatch.setattr(search, "MAX_RESULTS", cap)
    total = cap + cap // 4
    # The clock stands still while seeding: every company is stamped with one instant.
    ids = portfolio(sync_sandbox, companies=total, deals_per_company=0)
    stamps = {r.properties["hs_lastmodifieddate"] for r in sync_sandbox.store.ordered("companies")}
    assert len(stamps) == 1

    run = _poll(client, cap=cap)

    assert run.status == SyncRun.Status.DONE
    assert Account.objects.filter(hubspot_id__isnull=False).count() == total
    # Each record was written once: the by-id pass over the instant skips those seen.
    assert (run.records_done, run.created) == (total, total)

    # A month-end bulk edit of 300 at a later instant, and one edit after it.
    sync_clock.advance(seconds=60)
    bulk_edit(
        sync_sandbox.store,
        "companies",
        ids=list(ids["companies"].values())[:300],
        values={"annualrevenue": "2000"},
        source=UI,
    )
    sync_clock.advance(seconds=1)
    last = sync_sandbox.store.find("companies", ids["companies"][f"c{total - 1}"])
    sync_sandbox.store.update(last, {"name": "Renamed"}, source=UI)

    second = _poll(client, cap=cap)
    assert (second.records_done, second.updated) == (301, 301)
    assert Account.objects.filter(arr=Decimal("2000.00")).count() == 300
    assert SyncChange.objects.filter(source=SyncSource.POLL, field="arr").count() == 300
    assert Account.objects.get(hubspot_id=last.id).name == "Renamed"

    assert _poll(client, cap=cap).records_done == 0  # nothing new: nothing read again
    cursor = SyncCursor.objects.get(object_type="companies")
    assert cursor.last_id == int(last.id) and cursor.since_ms > last.updated_ms


def test_pager_restarts_at_a_small_cap_by_instant_then_by_id(
    client: HubSpotClient, sync_sandbox: Sandbox, sync_clock: ManualClock
) -> None:
    portfolio(sync_sandbox, companies=7, deals_per_company=0)
    sync_clock.advance(seconds=5)
    portfolio(sync_sandbox, companies=9, deals_per_company=0)
    sync_clock.advance(seconds=5)
    portfolio(sync_sandbox, companies=2, deals_per_company=0)

    # A cap of 6 with pages of 3 forces restarts inside both crowded instants.
    pages = list(
        changed_pages(client, "companies", since_ms=0, properties=["name"], page_size=3, cap=6)
    )
    seen = [r["id"] for page in pages for r in page]
    assert len(seen) == len(set(seen)) == 18


def test_archived_sweep_archives_accounts_deleted_in_hubspot(
    client: HubSpotClient, sync_sandbox: Sandbox
) -> None:
    ids = portfolio(sync_sandbox, companies=3, deals_per_company=0)
    _poll(client)
    gone = sync_sandbox.store.find("companies", ids["companies"]["c1"])
    sync_sandbox.store.archive(gone)

    run = archived_sweep(SyncRun.objects.create(kind=SyncRun.Kind.ARCHIVED), client=client)

    assert run.updated == 1
    account = Account.objects.get(hubspot_id=gone.id)
    assert account.status == Account.Status.ARCHIVED
    assert Account.objects.filter(status=Account.Status.ACTIVE).count() == 2
    change = SyncChange.objects.get(account=account, field="status")
    assert (change.old_value, change.new_value) == ("active", "archived")


def test_a_deal_deleted_in_hubspot_is_archived_out_of_arr_and_back_when_restored(
    client: HubSpotClient, sync_sandbox: Sandbox, sync_clock: ManualClock
) -> None:
    from django.test import override_settings

    from accounts import selectors
    from accounts.hubspot import webhooks
    from accounts.hubspot.inbound.events import events_apply
    from accounts.hubspot.rules.mapping import mapping_config

    ids = portfolio(sync_sandbox, companies=1, deals_per_company=2)
    with override_settings(HUBSPOT_ARR_SOURCE="won_deals"):
        config = mapping_config()
        poll_run(SyncRun.objects.create(kind=SyncRun.Kind.POLL), client=client, config=config)
        account = Account.objects.get()
        assert account.arr == Decimal("1000.00")  # two won deals of 500
        gone = sync_sandbox.store.find("deals", ids["deals"]["d0-0"])
        sync_sandbox.store.archive(gone)
        archived_sweep(
            SyncRun.objects.create(kind=SyncRun.Kind.ARCHIVED), client=client, config=config
        )
        deal = Deal.objects.get(hubspot_id=gone.id)
        assert deal.archived_at is not None  # kept, for what may point at it
        assert list(selectors.account_deals(account=account)) == [
            Deal.objects.get(hubspot_id=ids["deals"]["d0-1"])
        ]
        account.refresh_from_db()
        assert account.arr == Decimal("500.00")
        assert SyncChange.objects.filter(hubspot_id=gone.id, field="archived").count() == 1
        # A second sweep changes nothing; a restore in HubSpot brings it back.
        archived_sweep(
            SyncRun.objects.create(kind=SyncRun.Kind.ARCHIVED), client=client, config=config
        )
        assert SyncChange.objects.filter(hubspot_id=gone.id, field="archived").count() == 1
        sync_sandbox.store.restore(sync_sandbox.store.find("deals", gone.id, archived=True))
        webhooks.events_store(
            [
                {
                    "eventId": 1,
                    "subscriptionId": 1,
                    "portalId": 424242,
                    "appId": 4242,
                    "occurredAt": sync_clock.now_ms(),
                    "subscriptionType": "deal.restore",
                    "attemptNumber": 0,
                    "objectId": int(gone.id),
                    "changeSource": "CRM_UI",
                }
            ]
        )
        events_apply(client=client, config=config)
        deal.refresh_from_db()
        account.refresh_from_db()
        assert deal.archived_at is None and account.arr == Decimal("1000.00")

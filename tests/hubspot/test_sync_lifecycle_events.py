# ruff: noqa: F811 -- fixtures from sync_support are used as test arguments
"""Deletions, restores and merges applied from HubSpot's current state (issue 15,
defects 4, 5 and 8): late and missed webhooks, merges seen only by polling, CS data
moving to the survivor, and deleted Lifecycle deals that stay deleted."""

from __future__ import annotations

import json
import time
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from accounts.hubspot import twoway
from accounts.hubspot.inbound.importer import import_run, run_start
from accounts.hubspot.inbound.page_context import SyncContext
from accounts.hubspot.inbound.poller import archived_sweep
from accounts.hubspot.inbound.writers import PAGE_WRITERS
from accounts.hubspot.models import SyncChange, SyncIssue, SyncRun, SyncSource
from accounts.hubspot.sandbox import Sandbox, signature_v3
from accounts.hubspot.sandbox.errors import SandboxError
from accounts.hubspot.sandbox.operations import merge
from accounts.hubspot.sandbox.store import Source
from accounts.hubspot.transport.client import HubSpotClient
from accounts.models import Account, Deal, Event, Pipeline, UsageSnapshot
from accounts.services import account_cs_fields_update
from success.models import BusinessReview, Renewal, SuccessPlan
from success.selectors.renewals import renewals_pipeline
from success.services.renewals import renewal_create, renewal_forecast_change
from tests.factories import (
    BusinessReviewFactory,
    RenewalFactory,
    SuccessPlanFactory,
    UsageSnapshotFactory,
)

from .sync_support import (  # noqa: F401
    SECRET,
    client,
    clock_of,
    hubspot_settings,
    poll,
    portfolio,
    sync_clock,
    sync_sandbox,
    sync_server,
)

pytestmark = pytest.mark.django_db
URL = "/hubspot/webhooks/"
UI = Source(source_type="CRM_UI", change_source="CRM_UI", user_id="7")


def _post(events: list[dict[str, Any]]) -> None:
    body = json.dumps(events)
    stamp = str(int(time.time() * 1000))
    signature = signature_v3(
        secret=SECRET, method="POST", uri=f"http://testserver{URL}", body=body, timestamp=stamp
    )
    headers = {"X-HubSpot-Signature-v3": signature, "X-HubSpot-Request-Timestamp": stamp}
    answer = Client().post(URL, body, content_type="application/json", headers=headers)
    assert answer.status_code == 204


def _event(kind: str, object_id: str, at: int, **extra: Any) -> dict[str, Any]:
    return {
        "eventId": 1,
        "subscriptionId": 1,
        "portalId": 424242,
        "appId": 4242,
        "occurredAt": at,
        "subscriptionType": kind,
        "attemptNumber": 0,
        "objectId": int(object_id),
        "changeSource": "CRM_UI",
        **extra,
    }


@pytest.fixture
def linked(
    client: HubSpotClient, sync_sandbox: Sandbox, hubspot_settings: None
) -> dict[str, dict[str, str]]:
    """Three companies imported and their accounts pushed once (our id on each)."""
    ids = portfolio(sync_sandbox, companies=3, deals_per_company=1)
    twoway.provision(client)
    import_run(run_start(SyncRun.Kind.IMPORT), client=client)
    clock_of(sync_sandbox).advance(seconds=3600)
    twoway.push_pass(client)
    return ids


def _account(hid: str) -> Account:
    return Account.objects.get(hubspot_id=hid)


def _health_in_hubspot(sandbox: Sandbox, hid: str) -> str:
    record = sandbox.store.records["companies"][hid]  # live or deleted
    return record.properties.get("lifecycle_health_score", "")


# -- defect 4: deletions and restores from the record's current state ----------------------


def test_defect4_a_deletion_retried_after_the_restore_leaves_the_account_live_and_pushing(
    client: HubSpotClient, sync_sandbox: Sandbox, linked: dict[str, dict[str, str]]
) -> None:
    hid = linked["companies"]["c0"]
    store = sync_sandbox.store
    record = store.find("companies", hid)
    store.archive(record, source=UI)
    deleted_at = record.archived_ms or 0
    clock_of(sync_sandbox).advance(seconds=2)
    store.restore(record, source=UI)
    _post([_event("company.restore", hid, clock_of(sync_sandbox).now_ms())])
    assert _account(hid).status == Account.Status.ACTIVE

    # Webhooks are at-least-once and unordered: the deletion's retry comes last.
    _post([_event("company.deletion", hid, deleted_at, attemptNumber=1)])

    account = _account(hid)
    assert account.status == Account.Status.ACTIVE
    assert not SyncChange.objects.filter(account=account, new_value="archived").exists()
    account_cs_fields_update(account=account, health_score=37)
    twoway.push_pass(client)
    assert _health_in_hubspot(sync_sandbox, hid) == "37"


def test_defect4_a_missed_restore_webhook_is_healed_by_the_archived_sweep(
    client: HubSpotClient, sync_sandbox: Sandbox, linked: dict[str, dict[str, str]]
) -> None:
    hid = linked["companies"]["c1"]
    store = sync_sandbox.store
    record = store.find("companies", hid)
    store.archive(record, source=UI)
    _post([_event("company.deletion", hid, record.archived_ms or 0)])
    account = _account(hid)
    assert account.status == Account.Status.ARCHIVED
    account_cs_fields_update(account=account, health_score=61)  # made while archived
    assert _health_in_hubspot(sync_sandbox, hid) == ""

    store.restore(record, source=UI)  # its webhook never comes
    archived_sweep(run_start(SyncRun.Kind.ARCHIVED), client=client)

    account = _account(hid)
    assert account.status == Account.Status.ACTIVE
    restored = SyncChange.objects.get(account=account, field="status", new_value="active")
    assert (restored.old_value, restored.source) == ("archived", SyncSource.POLL)
    twoway.push_pass(client)
    assert _health_in_hubspot(sync_sandbox, hid) == "61"  # the edit made meanwhile goes out
    # A second sweep finds nothing to do.
    run = archived_sweep(run_start(SyncRun.Kind.ARCHIVED), client=client)
    assert _account(hid).status == Account.Status.ACTIVE
    assert run.updated == 0


def test_a_deletion_event_for_a_record_that_is_gone_still_archives_it(
    sync_sandbox: Sandbox, linked: dict[str, dict[str, str]]
) -> None:
    hid = linked["companies"]["c2"]
    record = sync_sandbox.store.find("companies", hid)
    sync_sandbox.store.archive(record, source=UI)
    _post([_event("company.deletion", hid, record.archived_ms or 0)])
    assert _account(hid).status == Account.Status.ARCHIVED


# -- defect 5: merges seen by polling move everything to the survivor ----------------------


def _cs_data(account: Account) -> None:
    """A renewal, a current success plan, a review, usage and a note."""
    Account.objects.filter(pk=account.pk).update(renewal_date=date.today() + timedelta(days=40))
    account.refresh_from_db()
    RenewalFactory.create(account=account)
    SuccessPlanFactory.create(account=account)
    BusinessReviewFactory.create(account=account)
    UsageSnapshotFactory.create(account=account, date=date.today())
    Event.objects.create(account=account, kind=Event.Kind.NOTE, summary="Call with the CFO")


def test_defect5_polling_sees_a_merge_and_moves_the_cs_data_to_the_survivor(
    client: HubSpotClient, sync_sandbox: Sandbox, linked: dict[str, dict[str, str]]
) -> None:
    primary, gone = linked["companies"]["c0"], linked["companies"]["c1"]
    keeper, other = _account(primary), _account(gone)
    _cs_data(other)
    SuccessPlanFactory.create(account=keeper)  # the survivor has its own current plan
    clock_of(sync_sandbox).advance(seconds=1)
    merge(sync_sandbox.store, "companies", primary_id=primary, merged_id=gone, source=UI)

    poll(client, sync_sandbox)  # no webhook at all

    other.refresh_from_db()
    assert (other.status, other.hubspot_id) == (Account.Status.ARCHIVED, None)
    assert _account(primary).pk == keeper.pk
    assert Renewal.objects.get().account_id == keeper.pk
    assert BusinessReview.objects.get().account_id == keeper.pk
    assert UsageSnapshot.objects.get().account_id == keeper.pk
    assert Event.objects.get(kind=Event.Kind.NOTE).account_id == keeper.pk
    assert Deal.objects.filter(account=keeper).count() == 2
    # One current plan per account: the survivor keeps its own, the other stays behind.
    assert SuccessPlan.objects.get(account=keeper, replaced_at__isnull=True)
    assert SuccessPlan.objects.filter(account=other).count() == 1
    moved = Event.objects.get(account=keeper, data__merged_account=other.pk)
    assert moved.data["moved"]["renewals"] == 1
    assert moved.data["kept"] == {"success plans": 1}
    assert "1 renewals" in moved.summary and "1 success plans" in moved.summary
    assert list(renewals_pipeline()) == [Renewal.objects.get()]

    # Each push writes the survivor's values only, once.
    account_cs_fields_update(account=keeper, health_score=83)
    account_cs_fields_update(account=other, health_score=34)
    twoway.push_pass(client)
    assert _health_in_hubspot(sync_sandbox, primary) == "83"
    assert twoway.push_pass(client).calls == 0
    assert _health_in_hubspot(sync_sandbox, primary) == "83"


def test_defect5_a_merge_that_gives_the_survivor_a_new_id_keeps_the_primarys_account(
    client: HubSpotClient, sync_sandbox: Sandbox, linked: dict[str, dict[str, str]]
) -> None:
    primary, gone = linked["companies"]["c0"], linked["companies"]["c1"]
    keeper, other = _account(primary), _account(gone)
    survivor = merge(
        sync_sandbox.store,
        "companies",
        primary_id=primary,
        merged_id=gone,
        new_id=True,
        source=UI,
    )
    assert set(survivor.properties["hs_merged_object_ids"].split(";")) == {primary, gone}

    poll(client, sync_sandbox)

    keeper.refresh_from_db()
    other.refresh_from_db()
    # The survivor carries the primary's lifecycle_account_id: that account keeps it.
    assert keeper.hubspot_id == survivor.id
    assert (other.status, other.hubspot_id) == (Account.Status.ARCHIVED, None)
    assert Account.objects.filter(status=Account.Status.ACTIVE).count() == 2
    assert not SyncIssue.objects.filter(resolved_at__isnull=True).exists()


def test_defect5_the_merge_webhook_moves_renewals_plans_reviews_and_usage_too(
    sync_sandbox: Sandbox, linked: dict[str, dict[str, str]]
) -> None:
    primary, gone = linked["companies"]["c0"], linked["companies"]["c1"]
    keeper, other = _account(primary), _account(gone)
    _cs_data(other)
    survivor = merge(sync_sandbox.store, "companies", primary_id=primary, merged_id=gone)
    _post(
        [
            _event(
                "company.merge",
                survivor.id,
                survivor.updated_ms,
                primaryObjectId=int(primary),
                mergedObjectIds=[int(gone)],
                newObjectId=int(survivor.id),
            )
        ]
    )
    assert Renewal.objects.get().account_id == keeper.pk
    assert SuccessPlan.objects.get().account_id == keeper.pk  # no clash: it moves
    assert BusinessReview.objects.get().account_id == keeper.pk
    assert UsageSnapshot.objects.get().account_id == keeper.pk
    assert Account.objects.get(pk=other.pk).status == Account.Status.ARCHIVED


# -- defect 8: deals deleted in HubSpot stay deleted -----------------------------------------


@pytest.fixture
def renewal(client: HubSpotClient, linked: dict[str, dict[str, str]]) -> Renewal:
    """An open renewal whose deal Lifecycle made and pushed to HubSpot."""
    Pipeline.objects.filter(hubspot_id="default").update(is_renewal=True)
    account = _account(linked["companies"]["c2"])
    Account.objects.filter(pk=account.pk).update(renewal_date=date.today() + timedelta(days=60))
    made = renewal_create(account=account)
    twoway.push_pass(client)
    assert made.deal is not None
    made.deal.refresh_from_db()
    assert made.deal.hubspot_id
    return made


def _live_copies(sandbox: Sandbox, deal: Deal) -> list[str]:
    return [
        r.id
        for r in sandbox.store.records["deals"].values()
        if not r.archived and r.properties.get("lifecycle_deal_id") == str(deal.pk)
    ]


def test_defect8_a_deleted_renewal_deal_stays_deleted_until_a_person_recreates_it(
    client: HubSpotClient,
    sync_sandbox: Sandbox,
    renewal: Renewal,
    leader: Any,
) -> None:
    deal = renewal.deal
    assert deal is not None
    first = deal.hubspot_id or ""
    store = sync_sandbox.store
    original = store.find("deals", first)
    store.archive(original, source=UI)  # a rep deletes it
    _post([_event("deal.deletion", first, original.archived_ms or 0)])
    deal.refresh_from_db()
    assert deal.archived_at is not None

    renewal_forecast_change(
        renewal=renewal,
        category="at_risk",
        forecast_arr=Decimal("900"),
        reason="Budget cut",
        by=None,
    )
    twoway.push_pass(client)
    poll(client, sync_sandbox)
    assert _live_copies(sync_sandbox, deal) == []  # not re-created
    deal.refresh_from_db()
    assert (deal.archived_at is not None, deal.hubspot_id) == (True, first)

    web = Client()
    web.force_login(leader)
    page = web.get(renewal.get_absolute_url()).content.decode()
    assert "Deal deleted in HubSpot" in page and "Recreate the deal in HubSpot" in page
    web.post(f"{renewal.get_absolute_url()}deal/recreate/")
    twoway.push_pass(client)
    deal.refresh_from_db()
    second = deal.hubspot_id or ""
    assert (deal.archived_at, _live_copies(sync_sandbox, deal)) == (None, [second])
    assert second != first
    assert store.find("deals", second).properties["amount"] == "900"

    # The rep restores the original: HubSpot refuses, the unique id is taken.
    with pytest.raises(SandboxError) as refused:
        store.restore(store.find("deals", first, archived=True), source=UI)
    assert refused.value.status == 409
    poll(client, sync_sandbox)
    archived_sweep(run_start(SyncRun.Kind.ARCHIVED), client=client)
    deal.refresh_from_db()
    assert (deal.hubspot_id, deal.archived_at) == (second, None)


def test_defect8_a_second_hubspot_deal_with_our_id_never_takes_the_link(
    client: HubSpotClient, sync_sandbox: Sandbox, renewal: Renewal
) -> None:
    deal = renewal.deal
    assert deal is not None
    ours = sync_sandbox.store.find("deals", deal.hubspot_id or "")
    found = client.batch_read("deals", [ours.id], properties=["dealname", "lifecycle_deal_id"])
    # The same record as HubSpot would send a copy under another id (a portal whose
    # property lost its uniqueness, an import...): ours keeps its link, the copy waits.
    copy = {**found.results[0], "id": "999999"}
    ctx = SyncContext(source=SyncSource.POLL).load()
    result = PAGE_WRITERS["deals"]([copy], ctx)
    deal.refresh_from_db()
    assert deal.hubspot_id == ours.id
    assert result.quarantined == 1
    issue = SyncIssue.objects.get(object_type="deals", hubspot_id="999999")
    assert f"lifecycle_deal_id {deal.pk}" in issue.reason
    assert not Deal.objects.filter(hubspot_id="999999").exists()


def test_a_deal_deleted_then_restored_in_hubspot_comes_back_with_our_later_edits_pushed(
    client: HubSpotClient, sync_sandbox: Sandbox, renewal: Renewal
) -> None:
    deal = renewal.deal
    assert deal is not None
    store = sync_sandbox.store
    record = store.find("deals", deal.hubspot_id or "")
    store.archive(record, source=UI)
    _post([_event("deal.deletion", record.id, record.archived_ms or 0)])
    renewal_forecast_change(
        renewal=renewal, category="likely", forecast_arr=Decimal("1234"), reason="Upsell", by=None
    )
    store.restore(record, source=UI)
    _post([_event("deal.restore", record.id, clock_of(sync_sandbox).now_ms())])
    deal.refresh_from_db()
    assert (deal.archived_at, deal.hubspot_id) == (None, record.id)
    twoway.push_pass(client)
    assert record.properties["amount"] == "1234"
    assert _live_copies(sync_sandbox, deal) == [record.id]

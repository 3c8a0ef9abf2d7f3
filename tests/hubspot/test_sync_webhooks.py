# ruff: noqa: F811 -- fixtures from sync_support are used as test arguments
"""The webhook receiver and event apply: signatures, duplicates, order, merges, deletions."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from django.test import Client

from accounts.hubspot.inbound.importer import import_run, run_start
from accounts.hubspot.models import SyncChange, SyncRun, SyncSource, WebhookEvent
from accounts.hubspot.sandbox import Sandbox, signature_v1, signature_v3
from accounts.hubspot.sandbox.operations import merge
from accounts.hubspot.sandbox.store import Source
from accounts.hubspot.transport.client import HubSpotClient
from accounts.models import Account, Deal

from .sync_support import (  # noqa: F401
    SECRET,
    capture,
    client,
    hubspot_settings,
    portfolio,
    sync_clock,
    sync_sandbox,
    sync_server,
)

pytestmark = pytest.mark.django_db
URL = "/hubspot/webhooks/"
UI = Source(source_type="CRM_UI", change_source="CRM_UI", user_id="7")


def _signed(body: str, *, secret: str = SECRET, age_ms: int = 0, uri: str = "") -> dict[str, str]:
    stamp = str(int(time.time() * 1000) - age_ms)
    signature = signature_v3(
        secret=secret,
        method="POST",
        uri=uri or f"http://testserver{URL}",
        body=body,
        timestamp=stamp,
    )
    return {"X-HubSpot-Signature-v3": signature, "X-HubSpot-Request-Timestamp": stamp}


def _post(web: Client, events: Any, **sign: Any) -> Any:
    body = events if isinstance(events, str) else json.dumps(events)
    return web.post(URL, body, content_type="application/json", headers=_signed(body, **sign))


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
def synced(client: HubSpotClient, sync_sandbox: Sandbox, hubspot_settings: None) -> dict[str, Any]:
    ids = portfolio(sync_sandbox, companies=3, deals_per_company=1)
    import_run(run_start(SyncRun.Kind.IMPORT), client=client)
    return ids


@pytest.mark.parametrize(
    ("case", "status"),
    [
        ("valid", 204),
        ("tampered body", 401),
        ("wrong secret", 401),
        ("stale", 401),
        ("missing headers", 401),
        ("malformed JSON", 400),
        ("not a list of events", 400),
    ],
)
def test_signature_and_body_checks(
    case: str, status: int, hubspot_settings: None, caplog: pytest.LogCaptureFixture
) -> None:
    web = Client()
    body = json.dumps([_event("company.creation", "999999", 1)])
    headers = _signed(body)
    if case == "tampered body":
        body = body.replace("999999", "999998")
    elif case == "wrong secret":
        headers = _signed(body, secret="not-the-secret")
    elif case == "stale":
        headers = _signed(body, age_ms=5 * 60 * 1000 + 1_000)
    elif case == "missing headers":
        headers = {}
    elif case == "malformed JSON":
        body = body[:-3]
        headers = _signed(body)
    elif case == "not a list of events":
        body = json.dumps({"objectId": 1})
        headers = _signed(body)
    response = web.post(URL, body, content_type="application/json", headers=headers)
    assert response.status_code == status
    assert WebhookEvent.objects.count() == (1 if status == 204 else 0)
    if status != 204:
        assert "webhook rejected" in caplog.text


def test_v1_signature_is_accepted(hubspot_settings: None) -> None:
    body = json.dumps([_event("company.creation", "999999", 1)])
    headers = {
        "X-HubSpot-Signature": signature_v1(secret=SECRET, body=body),
        "X-HubSpot-Signature-Version": "v1",
    }
    response = Client().post(URL, body, content_type="application/json", headers=headers)
    assert response.status_code == 204


def test_a_real_sandbox_delivery_verifies_and_applies(
    synced: dict[str, Any], sync_sandbox: Sandbox, capture: dict[str, Any]
) -> None:
    settings = sync_sandbox.webhooks.settings
    settings.target_url = f"http://127.0.0.1:{capture['port']}{URL}"
    settings.client_secret = SECRET
    settings.batch_window_s = 0.01
    sync_sandbox.webhooks.subscribe("company.propertyChange", "name")
    record = sync_sandbox.store.find("companies", synced["companies"]["c0"])
    sync_sandbox.store.update(record, {"name": "Acme Renamed"}, source=UI)
    assert sync_sandbox.webhooks.wait_idle()
    headers, raw = capture["requests"][0]

    response = Client().post(
        URL,
        raw,
        content_type="application/json",
        headers={k: v for k, v in headers.items() if k.lower().startswith("x-hubspot")},
        SERVER_NAME="127.0.0.1",
        SERVER_PORT=str(capture["port"]),
    )

    assert response.status_code == 204
    account = Account.objects.get(hubspot_id=record.id)
    assert account.name == "Acme Renamed"
    change = SyncChange.objects.get(account=account, field="name")
    assert (change.old_value, change.new_value) == ("Company 0", "Acme Renamed")
    assert (change.source, change.change_source) == (SyncSource.WEBHOOK, "CRM_UI")
    assert WebhookEvent.objects.get().processed_at is not None


def test_duplicates_are_stored_once_and_out_of_order_events_end_in_the_latest_state(
    synced: dict[str, Any], sync_sandbox: Sandbox
) -> None:
    web = Client()
    record = sync_sandbox.store.find("companies", synced["companies"]["c1"])
    sync_sandbox.store.update(record, {"name": "Globex 2"}, source=UI)
    changed_at = record.updated_ms
    sync_sandbox.store.archive(record, source=UI)
    change = _event(
        "company.propertyChange",
        record.id,
        changed_at,
        propertyName="name",
        propertyValue="Globex 2",
    )
    deletion = _event("company.deletion", record.id, changed_at + 1000)

    # The deletion arrives first, then the older change twice (a retry with a new
    # eventId and attemptNumber), then the deletion again.
    assert _post(web, [deletion]).status_code == 204
    assert _post(web, [change, {**change, "eventId": 99, "attemptNumber": 1}]).status_code == 204
    assert _post(web, [deletion]).status_code == 204

    assert WebhookEvent.objects.count() == 2
    account = Account.objects.get(hubspot_id=record.id)
    assert account.status == Account.Status.ARCHIVED
    assert SyncChange.objects.filter(account=account, field="status").count() == 1


def test_deletion_archives_and_restore_reactivates_keeping_cs_data(
    synced: dict[str, Any], sync_sandbox: Sandbox
) -> None:
    web = Client()
    hid = synced["companies"]["c2"]
    Account.objects.filter(hubspot_id=hid).update(health_score=42)
    record = sync_sandbox.store.find("companies", hid)
    sync_sandbox.store.archive(record, source=UI)
    _post(web, [_event("company.deletion", hid, record.archived_ms or 0)])

    account = Account.objects.get(hubspot_id=hid)
    assert (account.status, account.health_score) == (Account.Status.ARCHIVED, 42)
    assert Deal.objects.filter(account=account).count() == 1

    sync_sandbox.store.restore(record, source=UI)
    _post(web, [_event("company.restore", hid, int(time.time() * 1000))])
    assert Account.objects.get(hubspot_id=hid).status == Account.Status.ACTIVE


def test_merge_points_our_account_at_the_survivor_and_keeps_cs_data(
    synced: dict[str, Any], sync_sandbox: Sandbox
) -> None:
    web = Client()
    primary, merged = synced["companies"]["c0"], synced["companies"]["c1"]
    Account.objects.filter(hubspot_id=primary).update(health_score=80)
    Account.objects.filter(hubspot_id=merged).update(health_score=30)
    keeper_pk = Account.objects.get(hubspot_id=primary).pk
    other_pk = Account.objects.get(hubspot_id=merged).pk
    survivor = merge(
        sync_sandbox.store, "companies", primary_id=primary, merged_id=merged, new_id=True
    )
    event = _event(
        "company.merge",
        survivor.id,
        survivor.updated_ms,
        primaryObjectId=int(primary),
        mergedObjectIds=[int(merged)],
        newObjectId=int(survivor.id),
    )

    assert _post(web, [event]).status_code == 204

    keeper = Account.objects.get(pk=keeper_pk)
    assert (keeper.hubspot_id, keeper.health_score) == (survivor.id, 80)
    other = Account.objects.get(pk=other_pk)
    assert (other.hubspot_id, other.status, other.health_score) == (
        None,
        Account.Status.ARCHIVED,
        30,
    )
    # HubSpot moved the merged company's deal to the survivor; so did we.
    assert Deal.objects.filter(account=keeper).count() == 2
    assert SyncChange.objects.filter(account_id=other_pk, field="merged_into").exists()


def test_a_delivery_is_stored_in_one_insert_that_drops_repeats(
    django_assert_num_queries: Any,
) -> None:
    from accounts.hubspot.webhooks import events_store

    events = [
        _event("deal.propertyChange", str(1000 + i), 5, propertyName="amount") for i in range(50)
    ]
    with django_assert_num_queries(1):
        assert events_store(events + events[:10]) == 50
    with django_assert_num_queries(1):
        assert events_store(events[:20]) == 0
    assert WebhookEvent.objects.count() == 50

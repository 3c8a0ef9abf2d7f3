"""Webhooks from the sandbox: subscriptions, batching, signatures, retries, user edits."""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from hubspot import HubSpot
from hubspot.crm.objects import SimplePublicObjectInput, SimplePublicObjectInputForCreate
from hubspot.utils.signature import Signature

from accounts.hubspot.sandbox import Sandbox, SandboxServer, signature_v3

from .conftest import Receiver

SECRET = "sandbox-client-secret"


@pytest.fixture
def subscribed(sandbox: Sandbox, receiver: Receiver) -> Iterator[Sandbox]:
    settings = sandbox.webhooks.settings
    settings.target_url = receiver.url
    settings.client_secret = SECRET
    settings.retry_delays = [0.05, 0.05, 0.05]
    settings.batch_window_s = 0.01
    for kind in ("company.creation", "company.deletion", "company.merge", "deal.associationChange"):
        sandbox.webhooks.subscribe(kind)
    sandbox.webhooks.subscribe("company.propertyChange", "name")
    yield sandbox
    sandbox.webhooks.stop()  # before the receiver goes away


def _wait_for(receiver: Receiver, count: int, timeout: float = 10.0) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if len(receiver.events()) >= count:
            return receiver.events()
        time.sleep(0.01)
    return receiver.events()


def _create(hubspot: HubSpot, **props: str) -> str:
    body = SimplePublicObjectInputForCreate(properties=props)
    return hubspot.crm.objects.basic_api.create("companies", body).id


def test_api_writes_fire_creation_and_subscribed_property_changes(
    hubspot: HubSpot, subscribed: Sandbox, receiver: Receiver
) -> None:
    rid = _create(hubspot, name="Acme", domain="acme.com")
    events = _wait_for(receiver, 2)
    kinds = sorted((e["subscriptionType"], e.get("propertyName")) for e in events)
    # domain has no subscription, so it sends nothing.
    assert kinds == [("company.creation", None), ("company.propertyChange", "name")]
    change = next(e for e in events if e.get("propertyName") == "name")
    assert change["objectId"] == int(rid) and change["propertyValue"] == "Acme"
    assert change["attemptNumber"] == 0 and change["changeSource"] == "INTEGRATION"
    assert {"eventId", "subscriptionId", "portalId", "appId", "occurredAt", "sourceId"} <= set(
        change
    )


def test_deliveries_are_signed_v3_and_v1(
    hubspot: HubSpot, subscribed: Sandbox, receiver: Receiver
) -> None:
    _create(hubspot, name="Acme")
    _wait_for(receiver, 2)
    request = receiver.received[0]
    headers = {k.lower(): v for k, v in request.headers.items()}
    assert Signature.is_valid(
        signature=headers["x-hubspot-signature-v3"],
        client_secret=SECRET,
        request_body=request.body,
        http_uri=receiver.url,
        http_method="POST",
        signature_version="v3",
        timestamp=headers["x-hubspot-request-timestamp"],
    )
    assert Signature.is_valid(
        signature=headers["x-hubspot-signature"],
        client_secret=SECRET,
        request_body=request.body,
        signature_version="v1",
    )
    forged = signature_v3(
        secret="other",
        method="POST",
        uri=receiver.url,
        body=request.body,
        timestamp=headers["x-hubspot-request-timestamp"],
    )
    assert forged != headers["x-hubspot-signature-v3"]


def test_failed_delivery_is_retried_with_a_higher_attempt_number(
    hubspot: HubSpot, subscribed: Sandbox, receiver: Receiver
) -> None:
    receiver.statuses = [500]
    _create(hubspot, name="Acme")
    assert subscribed.webhooks.wait_idle(10)
    attempts = [sorted(e["attemptNumber"] for e in r.events) for r in receiver.received]
    assert attempts[0] == [0, 0] and attempts[-1] == [1, 1]
    assert len(receiver.received) == 2


def test_events_are_batched_up_to_100_per_post(
    hubspot: HubSpot, subscribed: Sandbox, receiver: Receiver
) -> None:
    subscribed.webhooks.settings.batch_window_s = 0.05
    store = subscribed.store
    with store.lock:
        for i in range(130):
            store.create("companies", {"name": f"C{i}"})
    assert subscribed.webhooks.wait_idle(10)
    sizes = [len(r.events) for r in receiver.received]
    assert sum(sizes) == 260 and max(sizes) == 100


def test_duplicates_and_reordering_can_be_switched_on(
    hubspot: HubSpot, subscribed: Sandbox, receiver: Receiver
) -> None:
    subscribed.webhooks.settings.duplicate_rate = 1.0
    subscribed.webhooks.settings.reorder = True
    subscribed.webhooks.settings.batch_window_s = 0.2
    for i in range(5):
        _create(hubspot, name=f"C{i}")
    assert subscribed.webhooks.wait_idle(10)
    events = receiver.events()
    assert len(events) == 20
    assert len({json.dumps(e, sort_keys=True) for e in events}) == 10
    names = [e["propertyValue"] for e in events if e["subscriptionType"].endswith("Change")]
    assert names != sorted(names)


def _control(server: SandboxServer, method: str, path: str, body: Any = None) -> Any:
    request = urllib.request.Request(
        f"{server.url}{path}",
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request) as response:
        raw = response.read()
        return json.loads(raw) if raw else None


def test_acting_as_a_user_fires_webhooks_from_crm_ui(
    server: SandboxServer, subscribed: Sandbox, receiver: Receiver, hubspot: HubSpot
) -> None:
    created = _control(
        server, "POST", "/_sandbox/objects/companies", {"properties": {"name": "Acme"}, "userId": 7}
    )
    rid = created["id"]
    _control(server, "PATCH", f"/_sandbox/objects/companies/{rid}", {"properties": {"name": "B"}})
    other = _create(hubspot, name="Twin")
    _control(
        server,
        "POST",
        "/_sandbox/objects/companies/merge",
        {"primaryObjectId": rid, "objectIdToMerge": other},
    )
    _control(server, "DELETE", f"/_sandbox/objects/companies/{rid}")
    assert subscribed.webhooks.wait_idle(10)
    ui = [e for e in receiver.events() if e["changeSource"] == "CRM_UI"]
    kinds = [e["subscriptionType"] for e in sorted(ui, key=lambda e: e["occurredAt"])]
    assert set(kinds) == {
        "company.creation",
        "company.propertyChange",
        "company.merge",
        "company.deletion",
    }
    merge = next(e for e in ui if e["subscriptionType"] == "company.merge")
    assert merge["mergedObjectIds"] == [int(other)] and merge["primaryObjectId"] == int(rid)
    creation = next(e for e in ui if e["subscriptionType"] == "company.creation")
    assert creation["sourceId"] == "userId:7"


def test_updates_from_the_api_are_echoed_too(
    hubspot: HubSpot, subscribed: Sandbox, receiver: Receiver
) -> None:
    rid = _create(hubspot, name="Acme")
    hubspot.crm.objects.basic_api.update(
        "companies", rid, SimplePublicObjectInput(properties={"name": "Acme 2"})
    )
    events = _wait_for(receiver, 3)
    values = [str(e.get("propertyValue")) for e in events if e.get("propertyName") == "name"]
    assert sorted(values) == ["Acme", "Acme 2"]


def test_deliveries_run_concurrently_up_to_the_in_flight_cap(
    hubspot: HubSpot, subscribed: Sandbox, receiver: Receiver
) -> None:
    receiver.delay = 0.2
    settings = subscribed.webhooks.settings
    settings.max_batch, settings.max_in_flight = 1, 3
    with subscribed.store.lock:
        for i in range(4):  # 8 events, one per POST
            subscribed.store.create("companies", {"name": f"C{i}"})
    assert subscribed.webhooks.wait_idle(10)
    assert len(receiver.received) == 8
    assert 2 <= receiver.max_active <= 3  # concurrent, but never past the cap


def test_timestamp_offset_makes_a_stale_signature(
    hubspot: HubSpot, subscribed: Sandbox, receiver: Receiver
) -> None:
    from hubspot.exceptions import InvalidSignatureTimestampError

    subscribed.webhooks.settings.timestamp_offset_s = -600
    _create(hubspot, name="Acme")
    _wait_for(receiver, 1)
    request = receiver.received[0]
    headers = {k.lower(): v for k, v in request.headers.items()}
    with pytest.raises(InvalidSignatureTimestampError):
        Signature.is_valid(
            signature=headers["x-hubspot-signature-v3"],
            client_secret=SECRET,
            request_body=request.body,
            http_uri=receiver.url,
            signature_version="v3",
            timestamp=headers["x-hubspot-request-timestamp"],
        )


def test_webhooks_are_configured_over_http(
    server: SandboxServer, sandbox: Sandbox, receiver: Receiver, hubspot: HubSpot
) -> None:
    configured = _control(
        server,
        "PUT",
        "/_sandbox/webhooks",
        {
            "targetUrl": receiver.url,
            "clientSecret": "s3cret",
            "subscriptions": [{"subscriptionType": "deal.creation"}],
        },
    )
    assert configured["subscriptions"][0]["subscriptionType"] == "deal.creation"
    hubspot.crm.objects.basic_api.create("deals", SimplePublicObjectInputForCreate(properties={}))
    hubspot.crm.objects.basic_api.create(
        "companies", SimplePublicObjectInputForCreate(properties={})
    )
    assert sandbox.webhooks.wait_idle(10)
    assert [e["subscriptionType"] for e in receiver.events()] == ["deal.creation"]


def test_an_association_fires_association_change_on_both_sides(
    hubspot: HubSpot, subscribed: Sandbox, receiver: Receiver
) -> None:
    subscribed.webhooks.subscribe("company.associationChange")
    company = _create(hubspot, name="Acme")
    deal = hubspot.crm.objects.basic_api.create(
        "deals", SimplePublicObjectInputForCreate(properties={})
    ).id
    hubspot.crm.associations.v4.basic_api.create_default("deals", deal, "companies", company)
    assert subscribed.webhooks.wait_idle(10)
    changes = {
        (e["subscriptionType"], e["fromObjectId"], e["toObjectId"], e["associationType"])
        for e in receiver.events()
        if e["subscriptionType"].endswith("associationChange")
    }
    assert changes == {
        ("deal.associationChange", int(deal), int(company), "DEAL_TO_COMPANY"),
        ("company.associationChange", int(company), int(deal), "COMPANY_TO_DEAL"),
    }
    assert all(
        e["associationRemoved"] is False for e in receiver.events() if "associationRemoved" in e
    )


def test_a_slow_answer_counts_as_a_failure_and_is_retried(
    hubspot: HubSpot, subscribed: Sandbox, receiver: Receiver
) -> None:
    subscribed.webhooks.settings.timeout_s = 0.1  # HubSpot gives up after 5 s
    receiver.delay = 0.3
    _create(hubspot, name="Acme")
    deadline = time.monotonic() + 10
    while len(subscribed.webhooks.deliveries) < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    receiver.delay = 0.0
    first = subscribed.webhooks.deliveries[0]
    assert first.status == 0 and "timed out" in first.error
    assert subscribed.webhooks.deliveries[1].events[0]["attemptNumber"] == 1

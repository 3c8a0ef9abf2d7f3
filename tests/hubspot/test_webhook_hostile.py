# ruff: noqa: F811 -- fixtures from sync_support are used as test arguments
"""Hostile webhook deliveries: no input answers 500, a malformed event is set aside
with its reason while the rest of its delivery is kept, and an event that cannot be
applied is quarantined alone instead of blocking every event behind it."""

from __future__ import annotations

import json
import string
import time
from typing import Any

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.hubspot.inbound.events import events_apply
from accounts.hubspot.inbound.importer import import_run, run_start
from accounts.hubspot.models import SyncIssue, SyncRun, WebhookEvent
from accounts.hubspot.sandbox import Sandbox, signature_v3
from accounts.hubspot.sandbox.store import Source
from accounts.hubspot.transport.client import HubSpotClient
from accounts.hubspot.webhooks import events_store
from accounts.models import Account

from .sync_support import (  # noqa: F401
    SECRET,
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


def _headers(body: str, *, stamp: str | None = None) -> dict[str, str]:
    stamp = stamp if stamp is not None else str(int(time.time() * 1000))
    signature = signature_v3(
        secret=SECRET, method="POST", uri=f"http://testserver{URL}", body=body, timestamp=stamp
    )
    return {"X-HubSpot-Signature-v3": signature, "X-HubSpot-Request-Timestamp": stamp}


def _post(body: str, **kwargs: Any) -> Any:
    return Client().post(
        URL, body, content_type="application/json", headers=_headers(body, **kwargs)
    )


def _event(kind: str = "company.propertyChange", object_id: Any = 101, **extra: Any) -> dict:
    return {
        "eventId": 1,
        "subscriptionId": 1,
        "portalId": 424242,
        "occurredAt": 1_700_000_000_000,
        "subscriptionType": kind,
        "attemptNumber": 0,
        "objectId": object_id,
        "changeSource": "CRM_UI",
        "propertyName": "name",
        "propertyValue": "Acme",
        **extra,
    }


def test_a_non_ascii_digit_timestamp_is_refused_before_any_signature_check(
    hubspot_settings: None,
) -> None:
    body = json.dumps([_event()])
    response = _post(body, stamp="²")
    assert response.status_code == 401
    assert WebhookEvent.objects.count() == 0


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        ({"occurredAt": 10**20}, "occurredAt"),
        ({"objectId": int("9" * 41)}, "objectId"),
        ({"subscriptionType": "company.propertyChange\x00"}, "subscriptionType"),
        ({"propertyValue": "Ac\x00me"}, "NUL"),
        ({"mergedObjectIds": 5, "subscriptionType": "company.merge"}, "mergedObjectIds"),
    ],
)
def test_a_malformed_event_is_quarantined_and_its_valid_neighbours_are_kept(
    bad: dict[str, Any], reason: str, hubspot_settings: None, caplog: pytest.LogCaptureFixture
) -> None:
    valid = _event(object_id=202)
    body = json.dumps([valid, _event(**bad)])

    response = _post(body)
    # Accepted: a 4xx or 5xx would make HubSpot resend the valid event forever.
    assert response.status_code == 204
    stored = WebhookEvent.objects.get()
    assert stored.object_id == "202"
    issue = SyncIssue.objects.get(object_type="webhook")
    assert reason in issue.reason
    assert "webhook event refused" in caplog.text

    # The same delivery again (HubSpot's retry) adds nothing but an attempt.
    assert _post(body).status_code == 204
    assert WebhookEvent.objects.count() == 1
    assert SyncIssue.objects.get(object_type="webhook").attempts == 2


def test_the_issues_page_shows_a_refused_event(admin_user: Any, hubspot_settings: None) -> None:
    _post(json.dumps([_event(occurredAt=10**20, account="not-an-id")]))
    web = Client()
    web.force_login(admin_user)
    response = web.get("/hubspot/issues/")
    assert response.status_code == 200
    assert "Webhook event refused: occurredAt" in response.content.decode()


def test_a_poison_event_is_quarantined_alone_and_the_edits_behind_it_apply(
    client: HubSpotClient, sync_sandbox: Sandbox, hubspot_settings: None
) -> None:
    ids = portfolio(sync_sandbox, companies=2, deals_per_company=0)
    import_run(run_start(SyncRun.Kind.IMPORT), client=client)
    hid = ids["companies"]["c0"]
    record = sync_sandbox.store.find("companies", hid)
    sync_sandbox.store.update(record, {"name": "Renamed in HubSpot"}, source=UI)
    # Stored by an older receiver that did not check merge events: it cannot be applied.
    poison = _event("company.merge", object_id=int(hid), occurredAt=1, mergedObjectIds=5)
    edit = _event(object_id=int(hid), occurredAt=record.updated_ms, propertyValue="Renamed")
    assert events_store([poison, edit]) == 2

    assert events_apply(client=client) == 2

    assert Account.objects.get(hubspot_id=hid).name == "Renamed in HubSpot"
    assert not WebhookEvent.objects.filter(processed_at__isnull=True).exists()
    quarantined = WebhookEvent.objects.get(subscription_type="company.merge")
    assert quarantined.outcome.startswith("quarantined:")
    issue = SyncIssue.objects.get(object_type="webhook", hubspot_id=f"event-{quarantined.pk}")
    assert "could not be applied" in issue.reason


EDGE_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=False),
    st.text(max_size=30),
    st.sampled_from(["", "²", "٣", "1e3", "0x10", "\x00", "9" * 41, "company.merge"]),
    st.lists(st.integers(min_value=-5, max_value=2**64), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
)
EVENT_KEYS = st.sampled_from(
    [
        "objectId",
        "occurredAt",
        "subscriptionType",
        "propertyName",
        "propertyValue",
        "mergedObjectIds",
        "primaryObjectId",
        "newObjectId",
        "fromObjectId",
        "toObjectId",
        "associationType",
        "changeSource",
        "portalId",
        "account",
    ]
)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    events=st.lists(
        st.one_of(
            st.builds(
                lambda extra: {**_event(), **extra}, st.dictionaries(EVENT_KEYS, EDGE_VALUES)
            ),
            EDGE_VALUES,
        ),
        min_size=0,
        max_size=4,
    ),
    stamp=st.one_of(st.none(), st.text(alphabet=string.digits + "²٣-+ ", max_size=16)),
)
def test_fuzzed_signed_deliveries_never_answer_500(
    events: list[Any], stamp: str | None, hubspot_settings: None
) -> None:
    body = json.dumps(events)
    response = _post(body, stamp=stamp)
    assert response.status_code in (204, 400, 401)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    body=st.binary(max_size=200),
    headers=st.dictionaries(
        st.sampled_from(
            [
                "X-HubSpot-Signature-v3",
                "X-HubSpot-Request-Timestamp",
                "X-HubSpot-Signature",
                "X-HubSpot-Signature-Version",
            ]
        ),
        st.text(
            alphabet=string.ascii_letters + string.digits + string.punctuation + " ²", max_size=40
        ),
    ),
)
def test_fuzzed_raw_requests_never_answer_500(
    body: bytes, headers: dict[str, str], hubspot_settings: None
) -> None:
    response = Client().post(URL, body, content_type="application/json", headers=headers)
    assert response.status_code in (400, 401)

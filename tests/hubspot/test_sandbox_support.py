"""The sandbox's tickets, feedback submissions and engagements behave as HubSpot's do,
through the real client: ticket pipelines and stages, closed dates, the read-only survey
responses, engagements on companies and contacts (associations v4), search, and the
webhooks each object fires (legacy `ticket.*`, generic `object.*` for the rest)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from hubspot import HubSpot
from hubspot.crm.objects import (
    ApiException,
    PublicObjectSearchRequest,
    SimplePublicObjectInput,
    SimplePublicObjectInputForCreate,
)

from accounts.hubspot.sandbox import ManualClock, Sandbox, SandboxServer
from accounts.hubspot.transport.client import HubSpotClient

from .conftest import TOKEN, Receiver, error_body
from .test_sandbox_webhooks import _control


def _create(hubspot: HubSpot, object_type: str, **props: Any) -> str:
    body = SimplePublicObjectInputForCreate(properties=props)
    return hubspot.crm.objects.basic_api.create(object_type, body).id


def test_ticket_pipelines_list_stages_with_ticket_state(hubspot: HubSpot) -> None:
    pipelines = hubspot.crm.pipelines.pipelines_api.get_all("tickets").results
    assert [p.id for p in pipelines] == ["0"]
    states = {s.label: s.metadata["ticketState"] for s in pipelines[0].stages}
    assert states == {
        "New": "OPEN",
        "Waiting on contact": "OPEN",
        "Waiting on us": "OPEN",
        "Closed": "CLOSED",
    }


def test_a_ticket_needs_a_stage_of_its_pipeline(hubspot: HubSpot) -> None:
    with pytest.raises(ApiException) as missing:
        _create(hubspot, "tickets", subject="No stage")
    assert missing.value.status == 400
    assert error_body(missing.value)["category"] == "VALIDATION_ERROR"
    with pytest.raises(ApiException) as wrong:
        _create(hubspot, "tickets", subject="Bad", hs_pipeline="0", hs_pipeline_stage="closedwon")
    assert "closedwon" in error_body(wrong.value)["message"]


def test_closing_a_ticket_stamps_closed_date_and_reopening_clears_it(
    hubspot: HubSpot, clock: ManualClock
) -> None:
    api = hubspot.crm.objects.basic_api
    tid = _create(
        hubspot, "tickets", subject="Login broken", hs_pipeline_stage="1", hs_ticket_priority="HIGH"
    )
    clock.advance(seconds=3600)
    api.update("tickets", tid, SimplePublicObjectInput(properties={"hs_pipeline_stage": "4"}))
    closed = api.get_by_id("tickets", tid, properties=["closed_date", "createdate"])
    assert closed.properties["closed_date"] > closed.properties["createdate"]
    api.update("tickets", tid, SimplePublicObjectInput(properties={"hs_pipeline_stage": "2"}))
    reopened = api.get_by_id("tickets", tid, properties=["closed_date"])
    assert not reopened.properties.get("closed_date")


def test_a_ticket_returns_hubspots_default_properties(hubspot: HubSpot) -> None:
    tid = _create(hubspot, "tickets", subject="Export fails", hs_pipeline_stage="1")
    record = hubspot.crm.objects.basic_api.get_by_id("tickets", tid)
    assert {"subject", "hs_pipeline", "hs_pipeline_stage", "createdate"} <= set(record.properties)
    assert record.properties["hs_pipeline"] is None or record.properties["hs_pipeline"] == "0"


def test_feedback_submissions_are_read_only(server: SandboxServer, hubspot: HubSpot) -> None:
    with pytest.raises(ApiException) as refused:
        _create(hubspot, "feedback_submissions", hs_survey_type="NPS", hs_value="3")
    assert refused.value.status == 403
    assert error_body(refused.value)["category"] == "MISSING_SCOPES"
    answered = _control(
        server,
        "POST",
        "/_sandbox/objects/feedback_submissions",
        {"properties": {"hs_survey_type": "NPS", "hs_value": "3", "hs_content": "Too slow"}},
    )
    api = hubspot.crm.objects.basic_api
    record = api.get_by_id("feedback_submissions", answered["id"], properties=["hs_value"])
    assert record.properties["hs_value"] == "3" and record.properties["hs_createdate"]
    with pytest.raises(ApiException) as update:
        api.update(
            "feedback_submissions",
            answered["id"],
            SimplePublicObjectInput(properties={"hs_value": "9"}),
        )
    assert update.value.status == 403
    with pytest.raises(ApiException) as delete:
        api.archive("feedback_submissions", answered["id"])
    assert delete.value.status == 403


def _client(server: SandboxServer) -> HubSpotClient:
    return HubSpotClient(access_token=TOKEN, base_url=server.url)


def test_engagements_link_to_companies_and_contacts_by_v4_type_ids(
    hubspot: HubSpot, server: SandboxServer
) -> None:
    company = _create(hubspot, "companies", name="Acme")
    contact = _create(hubspot, "contacts", email="ann@acme.com")
    note = _create(hubspot, "notes", hs_timestamp="2026-01-05T10:00:00Z", hs_note_body="Upsell?")
    assoc = hubspot.crm.associations.v4.basic_api
    assoc.create_default("notes", note, "companies", company)
    assoc.create_default("notes", note, "contacts", contact)
    links = _client(server).read_associations("notes", "companies", [note])[note]
    assert [
        (link["toObjectId"], [t["typeId"] for t in link["associationTypes"]]) for link in links
    ] == [(int(company), [190])]
    back = assoc.get_page("companies", company, "notes").results
    assert [(str(r.to_object_id), [t.type_id for t in r.association_types]) for r in back] == [
        (note, [189])
    ]


def test_a_ticket_has_one_primary_company(hubspot: HubSpot, server: SandboxServer) -> None:
    first = _create(hubspot, "companies", name="A")
    second = _create(hubspot, "companies", name="B")
    ticket = _create(hubspot, "tickets", subject="T", hs_pipeline_stage="1")
    for company in (first, second):
        _client(server).create_associations("tickets", "companies", [(ticket, company, 26)])
    links = hubspot.crm.associations.v4.basic_api.get_page("tickets", ticket, "companies").results
    types = {str(r.to_object_id): sorted(t.type_id for t in r.association_types) for r in links}
    assert types == {first: [339], second: [26, 339]}


def test_engagements_are_searchable_by_modified_date(hubspot: HubSpot, clock: ManualClock) -> None:
    for i in range(3):
        _create(hubspot, "calls", hs_timestamp="2026-01-05T10:00:00Z", hs_call_title=f"Call {i}")
        clock.advance(seconds=1)
    page = hubspot.crm.objects.search_api.do_search(
        "calls",
        PublicObjectSearchRequest(
            filter_groups=[
                {
                    "filters": [
                        {"propertyName": "hs_lastmodifieddate", "operator": "GTE", "value": "0"}
                    ]
                }
            ],
            sorts=[{"propertyName": "hs_lastmodifieddate", "direction": "ASCENDING"}],
            properties=["hs_call_title"],
            limit=2,
        ),
    )
    assert page.total == 3
    assert [r.properties["hs_call_title"] for r in page.results] == ["Call 0", "Call 1"]


@pytest.fixture
def listening(sandbox: Sandbox, receiver: Receiver) -> Iterator[Sandbox]:
    settings = sandbox.webhooks.settings
    settings.target_url = receiver.url
    settings.retry_delays = [0.05]
    settings.batch_window_s = 0.01
    for kind in ("ticket.creation", "ticket.deletion"):
        sandbox.webhooks.subscribe(kind)
    sandbox.webhooks.subscribe("ticket.propertyChange", "hs_pipeline_stage")
    for kind in ("object.creation", "object.deletion"):
        sandbox.webhooks.subscribe(kind, object_name="note")
    sandbox.webhooks.subscribe("object.propertyChange", "hs_note_body", object_name="note")
    yield sandbox
    sandbox.webhooks.stop()


def test_tickets_fire_legacy_events_and_engagements_generic_ones(
    hubspot: HubSpot, listening: Sandbox, receiver: Receiver
) -> None:
    api = hubspot.crm.objects.basic_api
    ticket = _create(hubspot, "tickets", subject="T", hs_pipeline_stage="1")
    api.update("tickets", ticket, SimplePublicObjectInput(properties={"hs_pipeline_stage": "4"}))
    note = _create(hubspot, "notes", hs_timestamp="2026-01-05T10:00:00Z", hs_note_body="Hi")
    api.update("notes", note, SimplePublicObjectInput(properties={"hs_note_body": "Hello"}))
    api.archive("notes", note)
    _create(hubspot, "calls", hs_timestamp="2026-01-05T10:00:00Z")  # not subscribed
    assert listening.webhooks.wait_idle(10)
    time.sleep(0.05)
    seen = sorted(
        (e["subscriptionType"], e.get("objectTypeId", ""), str(e["objectId"]))
        for e in receiver.events()
    )
    assert seen == sorted(
        [
            ("ticket.creation", "", ticket),
            # Values given at creation fire their property changes too.
            ("ticket.propertyChange", "", ticket),
            ("ticket.propertyChange", "", ticket),
            ("object.creation", "0-46", note),
            ("object.propertyChange", "0-46", note),
            ("object.propertyChange", "0-46", note),
            ("object.deletion", "0-46", note),
        ]
    )

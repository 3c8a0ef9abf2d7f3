# ruff: noqa: F811 -- fixtures from sync_support are used as test arguments
"""The contract: for one full import, one push pass and one webhook round, every request
the sync sends and every answer the sandbox gives match docs/hubspot-openapi.yaml (our
description of HubSpot's endpoints, from HubSpot's public reference), and so does every
webhook delivery. A sandbox answer or a sync request HubSpot would not produce fails it."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from accounts.hubspot import twoway
from accounts.hubspot.inbound.importer import import_run, run_start
from accounts.hubspot.models import SyncRun, WebhookEvent
from accounts.hubspot.sandbox import Sandbox
from accounts.hubspot.sandbox.app import Exchange
from accounts.hubspot.sandbox.store import Source
from accounts.hubspot.transport.client import HubSpotClient
from accounts.models import Account, Deal, PipelineStage
from accounts.services import account_cs_fields_update, deal_save
from tests.factories import AccountFactory

from .contract import exchange_problems, webhook_problems
from .sync_support import (  # noqa: F401
    SECRET,
    capture,
    client,
    clock_of,
    hubspot_settings,
    portfolio,
    sync_clock,
    sync_sandbox,
    sync_server,
)

pytestmark = pytest.mark.django_db
URL = "/hubspot/webhooks/"
UI = Source(source_type="CRM_UI", change_source="CRM_UI", user_id="7")


def _exchange(method: str, path: str, body: Any, status: int, response: Any) -> Exchange:
    return Exchange(method, path, {}, {"authorization": "Bearer t"}, body, status, response, {})


def test_the_description_catches_a_sandbox_answer_hubspot_would_not_give() -> None:
    """The check can fail: epoch milliseconds where HubSpot returns ISO, a missing
    `hidden` on an option, a record without `archived`."""
    record = {
        "id": "1",
        "properties": {"hs_lastmodifieddate": "1717000000000"},
        "createdAt": "2024-05-29T16:26:40.000Z",
        "updatedAt": "2024-05-29T16:26:40.000Z",
        "archived": False,
    }
    option = {"label": "Gold", "value": "gold", "displayOrder": 0}
    definition = {
        "name": "tier",
        "label": "Tier",
        "type": "enumeration",
        "fieldType": "select",
        "groupName": "companyinformation",
        "options": [option],
    }
    problems = exchange_problems(
        [
            _exchange("GET", "/crm/v3/objects/companies/1", None, 200, record),
            _exchange("POST", "/crm/v3/properties/companies", definition, 201, None),
            _exchange("GET", "/crm/v3/schemas", None, 404, {"message": "no route"}),
        ]
    )
    assert any("GET /crm/v3/objects/companies/1" in p and "'1717000000000'" in p for p in problems)
    assert any("request POST /crm/v3/properties/companies" in p and "hidden" in p for p in problems)
    assert any("GET /crm/v3/schemas -> 404" in p for p in problems)


def test_import_push_and_webhook_round_match_the_description(
    client: HubSpotClient,
    sync_sandbox: Sandbox,
    hubspot_settings: None,
    capture: dict[str, Any],
    django_capture_on_commit_callbacks: Any,
) -> None:
    sync_sandbox.exchanges = []
    ids = portfolio(
        sync_sandbox, companies=3, deals_per_company=1, contacts_per_company=1, owner_email=""
    )
    # A deal whose primary company is not its first.
    sync_sandbox.store.associate(
        "deals", ids["deals"]["d0-0"], "companies", ids["companies"]["c1"], [5]
    )

    # One full import.
    twoway.provision(client)
    import_run(run_start(SyncRun.Kind.IMPORT), client=client)
    assert Deal.objects.count() == 3

    # One push pass: CS fields, an account made in Lifecycle, a renewal deal.
    clock_of(sync_sandbox).advance(seconds=3600)
    account = Account.objects.get(hubspot_id=ids["companies"]["c0"])
    account_cs_fields_update(account=account, health_score=42, health_band="red")
    AccountFactory.create(name="Made here", domain="made-here.example")
    stage = PipelineStage.objects.filter(pipeline__hubspot_id="default", is_closed=False).first()
    assert stage is not None
    deal_save(
        account=account,
        by=None,
        data={
            "name": "Renewal",
            "pipeline": stage.pipeline,
            "stage": stage,
            "amount": Decimal("1200.50"),
            "kind": "renewal",
        },
    )
    twoway.push_pass(client)
    twoway.deals_push_pass(client)
    assert Account.objects.get(name="Made here").hubspot_id
    assert Deal.objects.get(name="Renewal").hubspot_id

    # One webhook round: people edit a company and a deal in HubSpot.
    settings = sync_sandbox.webhooks.settings
    settings.target_url = f"http://127.0.0.1:{capture['port']}{URL}"
    settings.client_secret = SECRET
    settings.batch_window_s = 0.01
    sync_sandbox.webhooks.subscribe("company.propertyChange", "name")
    sync_sandbox.webhooks.subscribe("deal.propertyChange", "amount")
    store = sync_sandbox.store
    store.update(store.find("companies", ids["companies"]["c2"]), {"name": "Renamed"}, source=UI)
    store.update(store.find("deals", ids["deals"]["d2-0"]), {"amount": "777"}, source=UI)
    assert sync_sandbox.webhooks.wait_idle()
    assert capture["requests"]
    with django_capture_on_commit_callbacks(execute=True):
        for headers, raw in capture["requests"]:
            response = Client().post(
                URL,
                raw,
                content_type="application/json",
                headers={k: v for k, v in headers.items() if k.lower().startswith("x-hubspot")},
                SERVER_NAME="127.0.0.1",
                SERVER_PORT=str(capture["port"]),
            )
            assert response.status_code == 204
    assert not WebhookEvent.objects.filter(processed_at__isnull=True).exists()
    assert Account.objects.get(hubspot_id=ids["companies"]["c2"]).name == "Renamed"
    assert Deal.objects.get(hubspot_id=ids["deals"]["d2-0"]).amount == Decimal("777")

    exchanges = sync_sandbox.exchanges
    called = {(e.method, e.path.split("/")[3]) for e in exchanges}
    assert {("GET", "objects"), ("POST", "objects"), ("POST", "associations")} <= called
    problems = exchange_problems(exchanges)
    for headers, raw in capture["requests"]:
        problems += webhook_problems(headers, raw)
    assert problems == [], "\n".join(problems)


def test_support_objects_import_and_webhooks_match_the_description(
    client: HubSpotClient,
    sync_sandbox: Sandbox,
    hubspot_settings: None,
    capture: dict[str, Any],
) -> None:
    """Tickets (and their pipelines), feedback submissions and engagements: the import's
    lists and v4 association reads, and the legacy `ticket.*` and generic `object.*`
    deliveries, all as the description says."""
    from accounts.hubspot.sandbox import seed
    from accounts.support.models import Engagement, FeedbackSubmission, Ticket

    sync_sandbox.exchanges = []
    ids = portfolio(sync_sandbox, companies=2, deals_per_company=0, contacts_per_company=1)
    company, contact = ids["companies"]["c0"], ids["contacts"]["p0-0"]
    seed(
        sync_sandbox,
        {
            "tickets": [{"key": "t", "properties": {"subject": "Slow", "hs_pipeline_stage": "1"}}],
            "feedback_submissions": [
                {"key": "f", "properties": {"hs_survey_type": "CSAT", "hs_value": "4"}}
            ],
            "notes": [{"key": "n", "properties": {"hs_timestamp": "2026-01-02T10:00:00Z"}}],
            "associations": [
                {"from": "tickets", "fromKey": "t", "to": "companies", "toId": company},
                {"from": "tickets", "fromKey": "t", "to": "contacts", "toId": contact},
                {"from": "feedback_submissions", "fromKey": "f", "to": "contacts", "toId": contact},
                {"from": "notes", "fromKey": "n", "to": "companies", "toId": company},
            ],
        },
    )
    import_run(run_start(SyncRun.Kind.IMPORT), client=client)
    assert (Ticket.objects.count(), FeedbackSubmission.objects.count()) == (1, 1)

    settings = sync_sandbox.webhooks.settings
    settings.target_url = f"http://127.0.0.1:{capture['port']}{URL}"
    settings.client_secret = SECRET
    settings.batch_window_s = 0.01
    sync_sandbox.webhooks.subscribe("ticket.creation")
    sync_sandbox.webhooks.subscribe("object.creation", object_name="call")
    store = sync_sandbox.store
    ticket = store.create("tickets", {"subject": "Down", "hs_pipeline_stage": "1"}, source=UI)
    store.associate("tickets", ticket.id, "companies", company, [26])
    call = store.create("calls", {"hs_timestamp": "2026-01-03T10:00:00Z"}, source=UI)
    store.associate("calls", call.id, "companies", company, [182])
    assert sync_sandbox.webhooks.wait_idle()
    for headers, raw in capture["requests"]:
        response = Client().post(
            URL,
            raw,
            content_type="application/json",
            headers={k: v for k, v in headers.items() if k.lower().startswith("x-hubspot")},
            SERVER_NAME="127.0.0.1",
            SERVER_PORT=str(capture["port"]),
        )
        assert response.status_code == 204
    assert Ticket.objects.filter(hubspot_id=ticket.id).exists()
    assert Engagement.objects.filter(kind="call", hubspot_id=call.id).exists()

    paths = {e.path for e in sync_sandbox.exchanges}
    assert {"/crm/v3/pipelines/tickets", "/crm/v3/objects/feedback_submissions"} <= paths
    # The import lists support objects with their links inline; the webhook path reads
    # the new call's from associations v4.
    assert "/crm/v4/associations/calls/companies/batch/read" in paths
    problems = exchange_problems(sync_sandbox.exchanges)
    for headers, raw in capture["requests"]:
        problems += webhook_problems(headers, raw)
    assert problems == [], "\n".join(problems)

# ruff: noqa: F811 -- fixtures from sync_support are used as test arguments
"""Tickets, feedback submissions and engagements come in through the same engine as
companies and deals: full import, incremental poll, webhooks, journal, quarantine,
replay and deletions, against the sandbox through the real client."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from accounts.hubspot.inbound.importer import import_run, run_start
from accounts.hubspot.inbound.writers import PAGE_WRITERS, SyncContext
from accounts.hubspot.models import SyncChange, SyncIssue, SyncRun, SyncSource
from accounts.hubspot.repair.reconcile import replay_run
from accounts.hubspot.sandbox import Sandbox, seed
from accounts.hubspot.sandbox.clock import iso_from_ms
from accounts.hubspot.sandbox.store import Source
from accounts.hubspot.transport.client import HubSpotClient
from accounts.models import Account, Contact
from accounts.support.models import Engagement, FeedbackSubmission, Ticket
from tests.factories import UserFactory

from .sync_support import (  # noqa: F401
    SECRET,
    capture,
    catch_up,
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


def _support(sandbox: Sandbox, ids: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
    """Tickets, survey answers and engagements around the portfolio's companies."""
    now = clock_of(sandbox).now_ms()
    day = 86_400_000
    c0, c1 = ids["companies"]["c0"], ids["companies"]["c1"]
    contact = ids["contacts"]["p1-0"]
    data: dict[str, Any] = {
        "tickets": [
            {
                "key": "open",
                "properties": {
                    "subject": "Export fails",
                    "hs_pipeline": "0",
                    "hs_pipeline_stage": "1",
                    "hs_ticket_priority": "HIGH",
                    "hs_ticket_category": "PRODUCT_ISSUE",
                    "createdate": iso_from_ms(now - 3 * day),
                    "hubspot_owner_id": "501",
                },
            },
            {
                "key": "closed",
                "properties": {
                    "subject": "Invoice question",
                    "hs_pipeline_stage": "4",
                    "hs_ticket_priority": "LOW",
                    "createdate": iso_from_ms(now - 10 * day),
                    "closed_date": iso_from_ms(now - 8 * day),
                },
            },
            # Neither a company nor a contact: out of scope.
            {"key": "prospect", "properties": {"subject": "Pricing?", "hs_pipeline_stage": "1"}},
            {"key": "lost", "properties": {"subject": "Odd stage", "hs_pipeline_stage": "99"}},
        ],
        "feedback_submissions": [
            {
                "key": "nps",
                "properties": {
                    "hs_survey_type": "NPS",
                    "hs_value": "3",
                    "hs_content": "Support is slow",
                    "hs_submission_timestamp": iso_from_ms(now - day),
                },
            }
        ],
        "notes": [
            {
                "key": "note",
                "properties": {
                    "hs_timestamp": iso_from_ms(now - 2 * day),
                    "hs_note_body": "<p>Asked about <b>more seats</b></p>",
                    "hubspot_owner_id": "501",
                },
            }
        ],
        "calls": [
            {
                "key": "missed",
                "properties": {
                    "hs_timestamp": iso_from_ms(now - day),
                    "hs_call_title": "Check-in",
                    "hs_call_status": "NO_ANSWER",
                    "hs_call_direction": "OUTBOUND",
                    "hubspot_owner_id": "501",
                },
            }
        ],
        "tasks": [
            {
                "key": "task",
                "properties": {
                    "hs_timestamp": iso_from_ms(now + day),
                    "hs_task_subject": "Send QBR deck",
                    "hubspot_owner_id": "501",
                },
            }
        ],
        "associations": [
            {"from": "tickets", "fromKey": "open", "to": "companies", "toId": c0, "types": [26]},
            {"from": "tickets", "fromKey": "closed", "to": "companies", "toId": c0},
            {"from": "tickets", "fromKey": "lost", "to": "companies", "toId": c1},
            # The survey answer names only its contact: the account is the contact's.
            {"from": "feedback_submissions", "fromKey": "nps", "to": "contacts", "toId": contact},
            {"from": "notes", "fromKey": "note", "to": "companies", "toId": c0},
            {"from": "calls", "fromKey": "missed", "to": "companies", "toId": c0},
            {"from": "tasks", "fromKey": "task", "to": "companies", "toId": c0},
        ],
    }
    return seed(sandbox, data)


@pytest.fixture
def imported(client: HubSpotClient, sync_sandbox: Sandbox) -> dict[str, Any]:
    UserFactory.create(email="owner@example.com")
    ids = portfolio(
        sync_sandbox,
        companies=2,
        deals_per_company=0,
        contacts_per_company=1,
        owner_email="owner@example.com",
    )
    support = _support(sync_sandbox, ids)
    run = import_run(run_start(SyncRun.Kind.IMPORT), client=client)
    return {"ids": ids, "support": support, "run": run}


def test_full_import_brings_tickets_surveys_and_engagements_onto_their_accounts(
    imported: dict[str, Any],
) -> None:
    ids, support = imported["ids"], imported["support"]
    acme = Account.objects.get(hubspot_id=ids["companies"]["c0"])
    other = Account.objects.get(hubspot_id=ids["companies"]["c1"])
    tickets = {t.subject: t for t in Ticket.objects.select_related("stage")}
    assert set(tickets) == {"Export fails", "Invoice question"}
    open_ticket, closed = tickets["Export fails"], tickets["Invoice question"]
    assert (open_ticket.account, open_ticket.priority, open_ticket.is_closed) == (
        acme,
        "HIGH",
        False,
    )
    assert open_ticket.owner is not None and open_ticket.owner.email == "owner@example.com"
    assert open_ticket.category == "PRODUCT_ISSUE" and open_ticket.stage.label == "New"
    assert closed.is_closed and closed.closed_at is not None and closed.closed_at > closed.opened_at

    answer = FeedbackSubmission.objects.get()
    assert answer.account == other and answer.contact == Contact.objects.get(account=other)
    assert (answer.survey_type, answer.score, answer.response_group) == ("NPS", 3, "DETRACTOR")
    assert answer.comment == "Support is slow"

    kinds = {e.kind: e for e in Engagement.objects.all()}
    assert set(kinds) == {"note", "call", "task"}
    assert kinds["note"].subject == "Asked about more seats" and kinds["note"].is_touch
    assert not kinds["call"].is_touch  # nobody answered
    assert not kinds["task"].is_touch and kinds["task"].direction == ""
    assert kinds["call"].direction == "outbound"
    acme.refresh_from_db()
    assert acme.last_activity_at == kinds["note"].occurred_at

    issue = SyncIssue.objects.get(object_type="tickets")
    assert issue.hubspot_id == support["tickets"]["lost"] and "99" in issue.reason
    journal = SyncChange.objects.filter(object_type="ticket", field="created")
    assert {c.new_value for c in journal} == {"Export fails", "Invoice question"}
    run = imported["run"]
    assert (run.status, run.quarantined) == (SyncRun.Status.DONE, 1)


def test_poll_takes_new_and_closed_tickets_and_fixed_stages(
    imported: dict[str, Any], client: HubSpotClient, sync_sandbox: Sandbox
) -> None:
    ids, support = imported["ids"], imported["support"]
    store = sync_sandbox.store
    catch_up(clock_of(sync_sandbox))  # edits come after the import started
    store.update(store.find("tickets", support["tickets"]["open"]), {"hs_pipeline_stage": "4"})
    fresh = store.create("tickets", {"subject": "SSO broken", "hs_pipeline_stage": "1"}, source=UI)
    store.associate("tickets", fresh.id, "companies", ids["companies"]["c1"], [339])
    # The stage was fixed in HubSpot: the quarantined ticket maps on the next poll.
    store.update(store.find("tickets", support["tickets"]["lost"]), {"hs_pipeline_stage": "2"})

    poll(client, sync_sandbox)

    closed = Ticket.objects.get(hubspot_id=support["tickets"]["open"])
    assert closed.is_closed and closed.closed_at is not None
    assert Ticket.objects.get(hubspot_id=fresh.id).account.hubspot_id == ids["companies"]["c1"]
    assert Ticket.objects.get(hubspot_id=support["tickets"]["lost"]).stage.label == (
        "Waiting on contact"
    )
    assert SyncIssue.objects.get(object_type="tickets").resolved_at is not None
    change = SyncChange.objects.get(object_type="ticket", field="is_closed")
    assert (change.old_value, change.new_value, change.source) == ("False", "True", SyncSource.POLL)


def _deliver(sandbox: Sandbox, capture: dict[str, Any]) -> list[Any]:
    assert sandbox.webhooks.wait_idle()
    responses = []
    for headers, raw in capture["requests"]:
        responses.append(
            Client().post(
                URL,
                raw,
                content_type="application/json",
                headers={k: v for k, v in headers.items() if k.lower().startswith("x-hubspot")},
                SERVER_NAME="127.0.0.1",
                SERVER_PORT=str(capture["port"]),
            )
        )
    capture["requests"].clear()
    return responses


@pytest.fixture
def listening(sync_sandbox: Sandbox, capture: dict[str, Any], hubspot_settings: None) -> Sandbox:
    settings = sync_sandbox.webhooks.settings
    settings.target_url = f"http://127.0.0.1:{capture['port']}{URL}"
    settings.client_secret = SECRET
    settings.batch_window_s = 0.01
    for kind in ("ticket.creation", "ticket.deletion"):
        sync_sandbox.webhooks.subscribe(kind)
    sync_sandbox.webhooks.subscribe("ticket.propertyChange", "hs_pipeline_stage")
    for name in ("note", "meeting", "feedback_submission"):
        for kind in ("object.creation", "object.deletion", "object.restore"):
            sync_sandbox.webhooks.subscribe(kind, object_name=name)
    return sync_sandbox


def test_webhooks_create_close_and_delete_support_records(
    imported: dict[str, Any], listening: Sandbox, capture: dict[str, Any]
) -> None:
    ids, support = imported["ids"], imported["support"]
    store = listening.store
    ticket = store.create(
        "tickets", {"subject": "Data missing", "hs_pipeline_stage": "1"}, source=UI
    )
    store.associate("tickets", ticket.id, "companies", ids["companies"]["c0"], [26])
    meeting = store.create(
        "meetings",
        {
            "hs_timestamp": iso_from_ms(clock_of(listening).now_ms()),
            "hs_meeting_title": "QBR",
            "hs_meeting_outcome": "COMPLETED",
            "hubspot_owner_id": "501",
        },
        source=UI,
    )
    store.associate("meetings", meeting.id, "companies", ids["companies"]["c1"], [188])
    assert all(r.status_code == 204 for r in _deliver(listening, capture))
    assert Ticket.objects.get(hubspot_id=ticket.id).subject == "Data missing"
    qbr = Engagement.objects.get(kind="meeting", hubspot_id=meeting.id)
    assert qbr.is_touch and qbr.account.hubspot_id == ids["companies"]["c1"]

    store.archive(store.find("notes", support["notes"]["note"]), source=UI)
    store.archive(store.find("tickets", ticket.id), source=UI)
    _deliver(listening, capture)
    note = Engagement.objects.get(kind="note")
    assert note.archived_at is not None
    assert Ticket.objects.get(hubspot_id=ticket.id).archived_at is not None

    store.restore(store.find("notes", support["notes"]["note"], archived=True), source=UI)
    _deliver(listening, capture)
    note.refresh_from_db()
    assert note.archived_at is None


def test_an_engagement_never_collides_with_another_kind_of_the_same_id(
    imported: dict[str, Any],
) -> None:
    """Notes and calls are separate HubSpot types: one id may name one of each."""
    acme = Account.objects.get(hubspot_id=imported["ids"]["companies"]["c0"])
    note = Engagement.objects.get(kind="note")
    record = {
        "id": note.hubspot_id,
        "properties": {
            "hs_timestamp": "2026-01-02T10:00:00Z",
            "hs_call_title": "Same id, other type",
            "hubspot_owner_id": "501",
        },
        "associations": {"companies": {"results": [{"id": acme.hubspot_id, "typeIds": [182]}]}},
    }
    ctx = SyncContext(source=SyncSource.WEBHOOK).load()
    result = PAGE_WRITERS["calls"]([record], ctx)
    assert result.created == 1
    assert Engagement.objects.filter(hubspot_id=note.hubspot_id).count() == 2
    note.refresh_from_db()
    assert note.subject == "Asked about more seats"


def test_replay_of_a_window_rebuilds_a_lost_ticket(
    imported: dict[str, Any], client: HubSpotClient, sync_sandbox: Sandbox
) -> None:
    support = imported["support"]
    Ticket.objects.filter(hubspot_id=support["tickets"]["closed"]).delete()
    now_ms = clock_of(sync_sandbox).now_ms()
    run = SyncRun.objects.create(
        kind=SyncRun.Kind.REPLAY,
        cursors={"since_ms": now_ms - 3_600_000, "until_ms": now_ms + 1000},
    )
    replay_run(run, client=client)
    again = Ticket.objects.get(hubspot_id=support["tickets"]["closed"])
    assert again.subject == "Invoice question" and again.is_closed


def test_a_ticket_page_costs_a_fixed_number_of_queries(
    imported: dict[str, Any], django_assert_num_queries: Any
) -> None:
    acme = Account.objects.get(hubspot_id=imported["ids"]["companies"]["c0"])
    now = timezone.now()

    def ticket(i: int) -> dict[str, Any]:
        return {
            "id": str(900_000 + i),
            "properties": {
                "subject": f"Bulk {i}",
                "hs_pipeline": "0",
                "hs_pipeline_stage": "1",
                "createdate": (now - timedelta(hours=i)).isoformat(),
            },
            "associations": {
                "companies": {"results": [{"id": acme.hubspot_id, "typeIds": [26]}]},
                "contacts": {"results": []},
            },
        }

    ctx = SyncContext(source=SyncSource.POLL).load()
    PAGE_WRITERS["tickets"]([ticket(0)], ctx)  # loads the run's ticket stages once
    # accounts, (no contacts asked), existing tickets, savepoint, insert, journal,
    # resolve issues, release savepoint
    for size in (5, 50):
        with django_assert_num_queries(7):
            result = PAGE_WRITERS["tickets"]([ticket(i) for i in range(1, size + 1)], ctx)
    assert result.created == 45 and result.unchanged == 5


def test_a_ticket_created_in_hubspot_shows_on_its_account_page_within_seconds(
    imported: dict[str, Any], listening: Sandbox, capture: dict[str, Any], leader: Any
) -> None:
    """The webhook path, end to end: a person logs a ticket on the company in HubSpot,
    HubSpot delivers the event, and the delivery itself applies it (no poll waited
    for), so the account page shows the ticket as soon as HubSpot sends."""
    from django.urls import reverse

    company = imported["ids"]["companies"]["c1"]
    account = Account.objects.get(hubspot_id=company)
    ticket = listening.store.create(
        "tickets",
        {"subject": "Cannot log in", "hs_pipeline_stage": "1", "hs_ticket_priority": "URGENT"},
        source=UI,
    )
    listening.store.associate("tickets", ticket.id, "companies", company, [26])
    assert all(r.status_code == 204 for r in _deliver(listening, capture))
    web = Client()
    web.force_login(leader)
    page = web.get(reverse("account", args=[account.pk])).content.decode()
    panel = page[page.index('id="support"') :]
    assert "Cannot log in" in panel and "1 escalated" in panel
    assert not SyncRun.objects.filter(kind=SyncRun.Kind.POLL).exists()


def test_links_past_the_100_listed_inline_are_read_from_v4_for_that_record_only(
    client: HubSpotClient, sync_sandbox: Sandbox
) -> None:
    """HubSpot lists 100 links of a type inline and pages the rest: a note on 111
    contacts, of which we hold only the last, still lands on that contact's account; the
    v4 read asks for that note alone."""
    ids = portfolio(sync_sandbox, companies=1, deals_per_company=0)
    strangers = [
        {"key": f"s{i}", "properties": {"email": f"s{i}@else.example"}} for i in range(110)
    ]
    when = iso_from_ms(clock_of(sync_sandbox).now_ms())
    seeded = seed(
        sync_sandbox,
        {
            "contacts": [*strangers, {"key": "pat", "properties": {"email": "pat@co0.example"}}],
            "notes": [
                {"key": key, "properties": {"hs_timestamp": when, "hs_note_body": key}}
                for key in ("webinar", "call notes")
            ],
            "associations": [
                {
                    "from": "contacts",
                    "fromKey": "pat",
                    "to": "companies",
                    "toId": ids["companies"]["c0"],
                },
                *(
                    {"from": "notes", "fromKey": "webinar", "to": "contacts", "toKey": c}
                    for c in [*(s["key"] for s in strangers), "pat"]
                ),
                {"from": "notes", "fromKey": "call notes", "to": "contacts", "toKey": "pat"},
            ],
        },
    )
    sync_sandbox.exchanges = []

    import_run(run_start(SyncRun.Kind.IMPORT), client=client)

    pat = Contact.objects.get(email="pat@co0.example")
    notes = {e.subject: e for e in Engagement.objects.select_related("contact")}
    assert {k: (e.account_id, e.contact) for k, e in notes.items()} == {
        "webinar": (pat.account_id, pat),
        "call notes": (pat.account_id, pat),
    }
    reads = [x for x in sync_sandbox.exchanges if x.path.startswith("/crm/v4/")]
    assert [(x.path, x.body) for x in reads] == [
        (
            "/crm/v4/associations/notes/contacts/batch/read",
            {"inputs": [{"id": seeded["notes"]["webinar"]}]},
        )
    ]

# ruff: noqa: F811 -- fixtures from sync_support are used as test arguments
"""Issue 18's done-when, through the sandbox and the real client: a detractor survey
answer opens an alert for the account's owner, and a support note (or ticket) with an
expansion hint raises a 24-hour support signal, as soon as sync writes them (the
SUPPORT_SYNCED_HOOKS hook), not at the next daily run; a re-sync adds nothing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from hubspot import HubSpot
from hubspot.crm.properties import OptionInput, PropertyUpdate

from accounts.hubspot.inbound.importer import import_run, run_start
from accounts.hubspot.models import SyncRun
from accounts.hubspot.sandbox import Sandbox, seed
from accounts.hubspot.sandbox.clock import iso_from_ms
from accounts.hubspot.transport.client import HubSpotClient
from accounts.models import Account
from accounts.support.models import Engagement, FeedbackSubmission, Ticket
from lifecycle.notifications.models import Notification
from success.alerts.models import Alert, AlertRule, ExpansionHint, ExpansionSignal, RuleKind
from tests.factories import UserFactory

from .sync_support import (  # noqa: F401
    TOKEN,
    catch_up,
    client,
    clock_of,
    poll,
    portfolio,
    sync_clock,
    sync_sandbox,
    sync_server,
)

pytestmark = pytest.mark.django_db
DAY = 86_400_000


def _add_category(url: str, value: str) -> None:
    """The portal's admin adds a ticket category in HubSpot (options go as a whole)."""
    core = HubSpot(access_token=TOKEN, host=url).crm.properties.core_api
    prop = core.get_by_name("tickets", "hs_ticket_category")
    options = [
        OptionInput(label=o.label, value=o.value, display_order=o.display_order, hidden=False)
        for o in prop.options
    ]
    options.append(
        OptionInput(label="Upgrade request", value=value, display_order=len(options), hidden=False)
    )
    core.update("tickets", "hs_ticket_category", PropertyUpdate(options=options))


def test_detractor_survey_opens_an_alert_for_the_owner_and_a_hinted_note_a_24_hour_signal(
    client: HubSpotClient,
    sync_sandbox: Sandbox,
    sync_server: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    owner = UserFactory.create(email="owner@example.com")
    # The install's default rule (a flushed test database has none: made again).
    rule = AlertRule.objects.filter(kind=RuleKind.DETRACTOR).first() or (
        AlertRule.objects.create(name="Detractor", kind=RuleKind.DETRACTOR, days=30)
    )
    ExpansionHint.objects.create(ticket_categories="UPGRADE_REQUEST", keywords="more seats")
    ids = portfolio(
        sync_sandbox,
        companies=1,
        deals_per_company=0,
        contacts_per_company=1,
        owner_email="owner@example.com",
    )
    now = clock_of(sync_sandbox).now_ms()
    company, contact = ids["companies"]["c0"], ids["contacts"]["p0-0"]
    seeded = seed(
        sync_sandbox,
        {
            "feedback_submissions": [
                {
                    "key": "nps",
                    "properties": {
                        "hs_survey_type": "NPS",
                        "hs_value": "2",
                        "hs_content": "Nobody follows up on our outage",
                        "hs_submission_timestamp": iso_from_ms(now - DAY),
                    },
                }
            ],
            "notes": [
                {
                    "key": "note",
                    "properties": {
                        "hs_timestamp": iso_from_ms(now - 2 * 3_600_000),
                        "hs_note_body": "<p>Champion asked about <b>more seats</b> for EMEA</p>",
                        "hubspot_owner_id": "501",
                    },
                }
            ],
            "associations": [
                {
                    "from": "feedback_submissions",
                    "fromKey": "nps",
                    "to": "contacts",
                    "toId": contact,
                },
                {"from": "notes", "fromKey": "note", "to": "companies", "toId": company},
            ],
        },
    )
    with django_capture_on_commit_callbacks(execute=True):
        import_run(run_start(SyncRun.Kind.IMPORT), client=client)

    account = Account.objects.get(hubspot_id=company)
    assert account.owner == owner
    answer = FeedbackSubmission.objects.get(hubspot_id=seeded["feedback_submissions"]["nps"])
    alert = Alert.objects.get()
    assert (alert.account, alert.owner, alert.rule, alert.feedback) == (
        account,
        owner,
        rule,
        answer,
    )
    assert "answered the NPS survey with 2 out of 10" in alert.message
    assert "Nobody follows up on our outage" in alert.message
    assert Notification.objects.filter(recipient=owner, kind="alert").count() == 1

    note = Engagement.objects.get(hubspot_id=seeded["notes"]["note"])
    signal = ExpansionSignal.objects.get()
    assert (signal.account, signal.source, signal.engagement) == (account, "support", note)
    assert signal.follow_up_by - signal.raised_at == timedelta(hours=24)
    assert "mentions “more seats”" in signal.note
    assert Notification.objects.filter(recipient=owner, kind="expansion_signal").count() == 1

    # A ticket in the hint's category arrives by the poll: its own signal, once. The note
    # edited in HubSpot syncs again and raises no second one.
    _add_category(sync_server.url, "UPGRADE_REQUEST")
    store = sync_sandbox.store
    catch_up(clock_of(sync_sandbox))
    ticket = store.create(
        "tickets",
        {
            "subject": "Quote for the Enterprise plan",
            "hs_pipeline_stage": "1",
            "hs_ticket_category": "UPGRADE_REQUEST",
        },
    )
    store.associate("tickets", ticket.id, "companies", company, [26])
    store.update(
        store.find("notes", seeded["notes"]["note"]),
        {"hs_note_body": "<p>Champion asked about more seats for EMEA and APAC</p>"},
    )
    with django_capture_on_commit_callbacks(execute=True):
        poll(client, sync_sandbox)
    assert "APAC" in Engagement.objects.get(pk=note.pk).text
    hinted = Ticket.objects.get(hubspot_id=ticket.id)
    assert set(ExpansionSignal.objects.values_list("engagement_id", "ticket_id")) == {
        (note.pk, None),
        (None, hinted.pk),
    }
    assert Alert.objects.count() == 1

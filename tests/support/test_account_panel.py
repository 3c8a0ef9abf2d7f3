"""The account page's support panel and the engagements on its timeline."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.support.models import Engagement, FeedbackSubmission, Ticket
from tests.factories import AccountFactory, ContactFactory
from tests.support.factories import (
    EngagementFactory,
    FeedbackSubmissionFactory,
    TicketFactory,
)

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("rows", [3, 30])
def test_support_panel_costs_the_same_queries_for_any_number_of_records(
    client: Any, leader: Any, rows: int, django_assert_num_queries: Any, settings: Any
) -> None:
    settings.HUBSPOT_PORTAL_ID = "424242"
    account = AccountFactory.create(owner=leader)  # a person named: their names' query
    contact = ContactFactory.create(account=account)
    for i in range(rows):
        TicketFactory.create(account=account, contact=contact, subject=f"Ticket {i}")
        FeedbackSubmissionFactory.create(account=account, contact=contact, comment=f"Said {i}")
        EngagementFactory.create(account=account, contact=contact, subject=f"Touch {i}")
    client.force_login(leader)
    # as tests/lifecycle/test_portfolio.py counts the page (5; no sync conflicts for an
    # unlinked account: 4): support is tickets and survey answers, each read once for
    # its figures and its list, in the page's one round trip; the last touches come
    # with the timeline's engagements
    with django_assert_num_queries(4):
        response = client.get(reverse("account", args=[account.pk]))
    page = response.content.decode()
    assert page.count('href="https://app.hubspot.com/contacts/424242/record/0-5/') == min(rows, 10)
    assert f"{rows} open" not in page and "Open tickets" in page


def test_panel_shows_escalations_detractor_comments_and_touches(client: Any, leader: Any) -> None:
    account = AccountFactory.create()
    now = timezone.now()
    TicketFactory.create(account=account, subject="Data loss", priority=Ticket.Priority.URGENT)
    TicketFactory.create(account=account, subject="Closed one", is_closed=True)
    FeedbackSubmissionFactory.create(
        account=account,
        score=3,
        response_group=FeedbackSubmission.Group.DETRACTOR,
        comment="Nobody answers our tickets",
    )
    EngagementFactory.create(
        account=account,
        kind=Engagement.Kind.MEETING,
        subject="Escalation call with CTO",
        occurred_at=now - timedelta(hours=3),
    )
    client.force_login(leader)
    page = client.get(reverse("account", args=[account.pk])).content.decode()
    panel = page[page.index('id="support"') :]
    assert "Data loss" in panel and "1 escalated" in panel and "Closed one" not in panel
    assert "Nobody answers our tickets" in panel and "Detractor" in panel
    assert "Escalation call with CTO" in panel
    assert "NPS (90 d)</dt><dd>-100" in panel
    timeline = page[page.index('id="timeline"') :]
    assert "Meeting: Escalation call with CTO" in timeline and "Meeting (CRM)" in timeline


def test_timeline_merges_events_and_engagements_newest_first(client: Any, leader: Any) -> None:
    from accounts.services import event_record

    account = AccountFactory.create()
    now = timezone.now()
    event_record(
        account=account, kind="note", summary="Kickoff held", occurred_at=now - timedelta(days=2)
    )
    EngagementFactory.create(
        account=account,
        kind=Engagement.Kind.CALL,
        subject="Follow-up",
        occurred_at=now - timedelta(days=1),
    )
    client.force_login(leader)
    page = client.get(reverse("account", args=[account.pk])).content.decode()
    timeline = page[page.index('id="timeline"') :]
    assert timeline.index("Follow-up") < timeline.index("Kickoff held")

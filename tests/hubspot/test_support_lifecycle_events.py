"""Support records through main's deletions, restores and merges from current state
(inbound/lifecycle_events.py): deletions archive through their spec, only tickets
merge, and the archived sweep knows the support models."""

from __future__ import annotations

import pytest

from accounts.hubspot.inbound.lifecycle_events import record_merge, records_archive
from accounts.hubspot.inbound.page_context import SyncContext
from accounts.hubspot.inbound.restores import archived_here
from accounts.hubspot.inbound.writers import PAGE_WRITERS
from accounts.hubspot.models import SyncSource
from accounts.support.models import Ticket
from tests.support.factories import FeedbackSubmissionFactory, TicketFactory

pytestmark = pytest.mark.django_db


def test_every_support_writer_is_registered_like_the_core_ones() -> None:
    for object_type in ("tickets", "feedback_submissions"):
        assert object_type in PAGE_WRITERS
        assert PAGE_WRITERS[object_type].__name__.endswith("page_write")


def test_a_deleted_ticket_is_archived_and_listed_for_the_restore_sweep() -> None:
    ticket = TicketFactory.create()
    ctx = SyncContext(source=SyncSource.WEBHOOK)
    assert records_archive("tickets", [str(ticket.hubspot_id)], ctx) == 1
    ticket.refresh_from_db()
    assert ticket.archived_at is not None
    assert archived_here("tickets") == [str(ticket.hubspot_id)]


def test_merged_tickets_keep_one_link_and_survey_answers_never_merge() -> None:
    keeper, other = TicketFactory.create(), TicketFactory.create()
    ctx = SyncContext(source=SyncSource.WEBHOOK)
    record_merge(
        "tickets",
        survivor_id="999",
        merged_ids=[str(keeper.hubspot_id), str(other.hubspot_id)],
        ctx=ctx,
    )
    keeper.refresh_from_db()
    other.refresh_from_db()
    assert keeper.hubspot_id == "999"
    assert other.hubspot_id is None and other.archived_at is not None
    answer = FeedbackSubmissionFactory.create()
    record_merge(
        "feedback_submissions", survivor_id="1", merged_ids=[str(answer.hubspot_id)], ctx=ctx
    )
    answer.refresh_from_db()
    assert answer.hubspot_id != "1"
    assert Ticket.objects.filter(hubspot_id="999").count() == 1

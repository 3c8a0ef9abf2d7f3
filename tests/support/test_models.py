"""The support records' constraints: what the database itself refuses."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import IntegrityError, transaction

from accounts.support.models import Engagement, Ticket
from tests.support.factories import EngagementFactory, TicketFactory, TicketStageFactory


def test_engagements_of_two_kinds_may_share_a_hubspot_id(db: Any) -> None:
    note = EngagementFactory.create(kind=Engagement.Kind.NOTE, hubspot_id="42")
    call = EngagementFactory.create(kind=Engagement.Kind.CALL, hubspot_id="42")
    assert {note.pk, call.pk} == set(
        Engagement.objects.filter(hubspot_id="42").values_list("pk", flat=True)
    )


def test_one_engagement_per_kind_and_hubspot_id(db: Any) -> None:
    EngagementFactory.create(kind=Engagement.Kind.NOTE, hubspot_id="42")
    with pytest.raises(IntegrityError), transaction.atomic():
        EngagementFactory.create(kind=Engagement.Kind.NOTE, hubspot_id="42")


def test_one_ticket_per_hubspot_id(db: Any) -> None:
    TicketFactory.create(hubspot_id="9")
    with pytest.raises(IntegrityError), transaction.atomic():
        TicketFactory.create(hubspot_id="9")


def test_a_stage_in_use_cannot_be_deleted(db: Any) -> None:
    from django.db.models import ProtectedError

    stage = TicketStageFactory.create()
    TicketFactory.create(stage=stage)
    with pytest.raises(ProtectedError):
        stage.delete()


def test_high_and_urgent_tickets_are_escalated(db: Any) -> None:
    flags = {p: TicketFactory.build(priority=p).is_escalated for p in Ticket.Priority.values}
    assert flags == {"LOW": False, "MEDIUM": False, "HIGH": True, "URGENT": True}

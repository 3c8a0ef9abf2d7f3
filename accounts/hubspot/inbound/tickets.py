"""HubSpot tickets: their pipelines and stages (by internal ids, the stage's
`ticketState` telling open from closed), and the page writer."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import transaction

from accounts.hubspot.inbound.page_context import PageResult, SyncContext
from accounts.hubspot.inbound.support_pages import SupportSpec, support_page_write
from accounts.hubspot.rules.mapping import Record
from accounts.hubspot.rules.support_mapping import (
    ContactRef,
    TicketStageRef,
    ticket_fields,
    ticket_stage_fields,
)
from accounts.hubspot.transport.client import HubSpotClient
from accounts.support.models import Ticket, TicketPipeline, TicketStage
from accounts.support.services import support_synced_notify

TICKET_FIELDS = (
    "account_id",
    "contact_id",
    "owner_id",
    "subject",
    "pipeline_id",
    "stage_id",
    "priority",
    "category",
    "source",
    "opened_at",
    "closed_at",
    "is_closed",
    "archived_at",
)


def ticket_pipelines_import(client: HubSpotClient) -> int:
    """Ticket pipelines and their stages, by HubSpot's ids. A stage whose state changed
    (open <-> closed) carries its tickets' `is_closed` along."""
    count = 0
    with transaction.atomic():
        for data in client.pipelines("tickets"):
            pipeline, _ = TicketPipeline.objects.update_or_create(
                hubspot_id=str(data["id"]),
                defaults={
                    "label": str(data.get("label", ""))[:200],
                    "display_order": max(int(data.get("displayOrder") or 0), 0),
                },
            )
            stages = [
                TicketStage(pipeline=pipeline, hubspot_id=str(s["id"]), **ticket_stage_fields(s))
                for s in data.get("stages") or []
            ]
            if stages:
                TicketStage.objects.bulk_create(
                    stages,
                    update_conflicts=True,
                    unique_fields=["pipeline", "hubspot_id"],
                    update_fields=["label", "display_order", "is_closed"],
                )
            for is_closed in (True, False):
                Ticket.objects.filter(stage__pipeline=pipeline, stage__is_closed=is_closed).exclude(
                    is_closed=is_closed
                ).update(is_closed=is_closed)
            count += len(stages)
    return count


def ticket_stages_load() -> dict[tuple[str, str], TicketStageRef]:
    """(pipeline id, stage id) -> our stage, for the run's ticket pages."""
    return {
        (s.pipeline.hubspot_id or "", s.hubspot_id or ""): TicketStageRef(
            pipeline_pk=s.pipeline_id, stage_pk=s.pk, is_closed=s.is_closed
        )
        for s in TicketStage.objects.select_related("pipeline").filter(
            hubspot_id__isnull=False, pipeline__hubspot_id__isnull=False
        )
    }


def _map(
    record: Record, ctx: SyncContext, accounts: dict[str, int], contacts: dict[str, ContactRef]
) -> dict[str, Any] | None:
    if ctx.ticket_stages is None:
        ctx.ticket_stages = ticket_stages_load()
    return ticket_fields(
        record, stages=ctx.ticket_stages, accounts=accounts, contacts=contacts, owners=ctx.owners
    )


TICKETS = SupportSpec(
    object_type="tickets",
    model=Ticket,
    fields=TICKET_FIELDS,
    mapper=_map,
    title_field="subject",
    # Expansion hints in tickets raise signals soon after they arrive.
    after=lambda ids: support_synced_notify(object_type="tickets", account_ids=ids),
)


def tickets_page_write(records: Sequence[Record], ctx: SyncContext) -> PageResult:
    """Upsert tickets by hubspot_id; stage by internal pipeline and stage ids; account by
    the (primary) company, else the contact's."""
    return support_page_write(records, ctx, TICKETS)

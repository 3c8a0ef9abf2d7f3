"""Restores whose webhook never came: the archived sweep lists what HubSpot holds
deleted; a local twin archived for a deletion that HubSpot no longer lists is re-read,
and written if HubSpot answers it live (which makes it active again), so a missed
restore heals by itself. Search cannot show it: a restore need not move the record's
modified date."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db.models import QuerySet

from accounts.hubspot.inbound.objects import OBJECT_ORDER, properties_for, with_associations
from accounts.hubspot.inbound.writers import PAGE_WRITERS, SUPPORT_SPECS, SyncContext
from accounts.hubspot.transport.client import HubSpotClient
from accounts.models import Account, Contact, Deal

READ_BATCH = 100


def archived_here(object_type: str) -> list[str]:
    """HubSpot ids of our records archived because HubSpot deleted them (still linked:
    a merged-away account has no id left)."""
    rows: QuerySet[Any]
    if object_type == "companies":
        rows = Account.objects.filter(status=Account.Status.ARCHIVED, hubspot_id__isnull=False)
    elif object_type in SUPPORT_SPECS:
        spec = SUPPORT_SPECS[object_type]
        rows = spec.model._default_manager.filter(
            archived_at__isnull=False, hubspot_id__isnull=False, **spec.kind
        )
    else:
        model: type[Deal] | type[Contact] = Deal if object_type == "deals" else Contact
        rows = model.objects.filter(archived_at__isnull=False, hubspot_id__isnull=False)
    return [str(h) for h in rows.values_list("hubspot_id", flat=True)]


def restores_heal(
    *, client: HubSpotClient, ctx: SyncContext, archived_there: Mapping[str, set[str]]
) -> int:
    """Re-read our archived records that HubSpot does not list as archived; write the
    live ones (restored here). Returns how many HubSpot answered live."""
    live = 0
    loaded = False
    for object_type in OBJECT_ORDER:
        gone = archived_there.get(object_type, set())
        ids = [h for h in archived_here(object_type) if h not in gone]
        for start in range(0, len(ids), READ_BATCH):
            if not loaded:
                ctx.load()
                loaded = True
            found = client.batch_read(
                object_type,
                ids[start : start + READ_BATCH],
                properties=properties_for(object_type, ctx.config),
            )
            records = with_associations(client, object_type, found.results)
            if records:
                PAGE_WRITERS[object_type](records, ctx)
                live += len(records)
    return live

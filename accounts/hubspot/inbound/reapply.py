"""Re-read quarantined records from HubSpot and write them again: each incremental sync
re-applies a bounded number (a fixed owner or stage mapping takes effect within one poll
interval), and the quarantine retry (repair/quarantine.py) all of them."""

from __future__ import annotations

from django.db.models import F
from django.utils import timezone

from accounts.hubspot.inbound.objects import OBJECT_ORDER, properties_for, with_associations
from accounts.hubspot.inbound.owner_issues import owner_issues_reapply
from accounts.hubspot.inbound.writers import PAGE_WRITERS, PageResult, SyncContext
from accounts.hubspot.models import SyncIssue, SyncSource
from accounts.hubspot.transport.client import HubSpotClient

POLL_RETRY_LIMIT = 500


def issues_reapply(
    *, client: HubSpotClient, ctx: SyncContext, limit: int | None = None
) -> PageResult:
    """Re-read and re-write open issues, companies first (deals and contacts need their
    account). Records HubSpot no longer has are resolved as such. Owners an admin has
    mapped since apply to their companies first."""
    total = PageResult()
    total.add(owner_issues_reapply(client=client, ctx=ctx))
    for object_type in OBJECT_ORDER:
        # Failed pushes are not HubSpot records to re-read: the push pass retries them
        # once their record changes.
        open_issues = (
            SyncIssue.objects.filter(object_type=object_type, resolved_at__isnull=True)
            .exclude(source=SyncSource.PUSH)
            .order_by("last_seen_at", "pk")
        )
        ids = list(open_issues.values_list("hubspot_id", flat=True)[:limit])
        if not ids:
            continue
        SyncIssue.objects.filter(object_type=object_type, hubspot_id__in=ids).update(
            attempts=F("attempts") + 1
        )
        for start in range(0, len(ids), 100):
            chunk = ids[start : start + 100]
            found = client.batch_read(
                object_type, chunk, properties=properties_for(object_type, ctx.config)
            )
            records = with_associations(client, object_type, found.results)
            if records:
                total.add(PAGE_WRITERS[object_type](records, ctx))
            returned = {str(r["id"]) for r in records}
            SyncIssue.objects.filter(
                object_type=object_type,
                hubspot_id__in=[i for i in chunk if i not in returned],
                resolved_at__isnull=True,
            ).update(resolved_at=timezone.now(), reason="no longer in HubSpot (deleted or merged)")
    return total

"""Retry quarantined records: re-read them from HubSpot and write them again, after
owners and pipelines are refreshed (the usual fixes are a mapped owner or a stage).
Each incremental sync also retries a bounded number of them, so a fixed mapping takes
effect within one poll interval without anyone pressing a button."""

from __future__ import annotations

from django.db.models import F
from django.utils import timezone

from .. import mapping
from ..client import HubSpotClient
from ..models import SyncIssue, SyncRun, SyncSource
from .importer import OBJECT_ORDER, owners_import, pipelines_import, properties_for
from .poller import with_associations
from .writers import PAGE_WRITERS, PageResult, SyncContext

POLL_RETRY_LIMIT = 500


def issues_reapply(
    *, client: HubSpotClient, ctx: SyncContext, limit: int | None = None
) -> PageResult:
    """Re-read and re-write open issues, companies first (deals and contacts need their
    account). Records HubSpot no longer has are resolved as such."""
    total = PageResult()
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


def issues_retry(
    run: SyncRun, *, client: HubSpotClient, config: mapping.MappingConfig | None = None
) -> SyncRun:
    """Every open issue, after refreshing owners and pipelines."""
    config = config or mapping.MappingConfig()
    now = timezone.now()
    SyncRun.objects.filter(pk=run.pk).update(
        status=SyncRun.Status.RUNNING, started_at=now, heartbeat_at=now
    )
    try:
        owners_import(client)
        pipelines_import(client)
        ctx = SyncContext(source=SyncSource.POLL, run=run, config=config).load()
        total = issues_reapply(client=client, ctx=ctx)
        SyncRun.objects.filter(pk=run.pk).update(
            records_done=total.seen,
            created=total.created,
            updated=total.updated,
            quarantined=total.quarantined,
        )
    except BaseException as exc:
        SyncRun.objects.filter(pk=run.pk).update(
            status=SyncRun.Status.FAILED,
            error=f"{type(exc).__name__}: {exc}"[:2000],
            finished_at=timezone.now(),
        )
        raise
    SyncRun.objects.filter(pk=run.pk).update(status=SyncRun.Status.DONE, finished_at=timezone.now())
    run.refresh_from_db()
    return run

"""Retry quarantined records: re-read them from HubSpot and write them again, after
owners and pipelines are refreshed (the usual fixes are a mapped owner or a stage), and
push again what HubSpot refused from us (push_retry.py).
Each incremental sync also retries a bounded number of them, so a fixed mapping takes
effect within one poll interval without anyone pressing a button."""

from __future__ import annotations

from django.utils import timezone

from accounts.hubspot.inbound.importer import owners_import, pipelines_import
from accounts.hubspot.inbound.reapply import issues_reapply
from accounts.hubspot.inbound.writers import SyncContext
from accounts.hubspot.models import SyncRun, SyncSource
from accounts.hubspot.repair.push_retry import push_retry
from accounts.hubspot.rules import mapping
from accounts.hubspot.runs import run_tracked
from accounts.hubspot.transport.client import HubSpotClient


def issues_retry(
    run: SyncRun, *, client: HubSpotClient, config: mapping.MappingConfig | None = None
) -> SyncRun:
    """Every open issue, after refreshing owners and pipelines."""
    config = config or mapping.MappingConfig()
    with run_tracked(run):
        owners_import(client)
        pipelines_import(client)
        ctx = SyncContext(source=SyncSource.POLL, run=run, config=config).load()
        total = issues_reapply(client=client, ctx=ctx)
        SyncRun.objects.filter(pk=run.pk).update(phase="pushes")
        pushed = push_retry(client=client, now=timezone.now())
        SyncRun.objects.filter(pk=run.pk).update(
            records_done=total.seen + pushed.pushed + pushed.failed,
            created=total.created,
            updated=total.updated + pushed.pushed,
            quarantined=total.quarantined + pushed.quarantined,
        )
    run.refresh_from_db()
    return run

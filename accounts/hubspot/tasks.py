"""django-q2 tasks of the HubSpot sync: thin, take ids, call one engine function."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.utils import timezone

from .engine import client_from_settings, mapping_config
from .engine.events import events_apply
from .engine.importer import import_run
from .engine.poller import archived_sweep, poll_run
from .engine.retry import issues_retry
from .models import SyncRun

logger = logging.getLogger(__name__)
STALE_AFTER = timedelta(minutes=15)


def _busy(kind: str) -> bool:
    """Another run of this kind is alive (its heartbeat is recent)."""
    recent = timezone.now() - STALE_AFTER
    return SyncRun.objects.filter(
        kind=kind, status=SyncRun.Status.RUNNING, heartbeat_at__gte=recent
    ).exists()


def hubspot_import(run_id: int) -> None:
    """Run or resume the full import `run_id` (the admin page or hubspot_import queues it)."""
    run = SyncRun.objects.filter(pk=run_id, kind=SyncRun.Kind.IMPORT).first()
    if run is None or run.status == SyncRun.Status.DONE:
        return
    import_run(run, client=client_from_settings(), config=mapping_config())


def hubspot_poll(run_id: int | None = None) -> None:
    """Incremental sync (scheduled every HUBSPOT_POLL_MINUTES); skipped while an
    import or another sync is running, since they would write the same rows."""
    if run_id is None:
        if _busy(SyncRun.Kind.POLL) or _busy(SyncRun.Kind.IMPORT):
            logger.info("HubSpot sync skipped: another run is in progress")
            return
        run = SyncRun.objects.create(kind=SyncRun.Kind.POLL)
    else:
        found = SyncRun.objects.filter(pk=run_id, kind=SyncRun.Kind.POLL).first()
        if found is None or found.status != SyncRun.Status.QUEUED:
            return
        run = found
    client = client_from_settings()
    poll_run(run, client=client, config=mapping_config())
    # Webhook events a failed apply left behind (HubSpot was down, say) go in now.
    events_apply(client=client, config=mapping_config())


def hubspot_archived_sweep() -> None:
    """List archived records and archive their local twins (missed deletion webhooks)."""
    run = SyncRun.objects.create(kind=SyncRun.Kind.ARCHIVED)
    archived_sweep(run, client=client_from_settings())


def hubspot_events_apply() -> None:
    """Apply stored webhook events (queued by the webhook view)."""
    events_apply(client=client_from_settings(), config=mapping_config())


def hubspot_issues_retry(run_id: int) -> None:
    run = SyncRun.objects.filter(pk=run_id, kind=SyncRun.Kind.RETRY).first()
    if run is None:
        return
    issues_retry(run, client=client_from_settings(), config=mapping_config())

"""Writes the HubSpot admin page makes: queue runs, map owners."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django_q.tasks import async_task

from accounts.models import OwnerLink, User

from .models import SyncIssue, SyncRun

# A running run whose heartbeat is older than this is taken to have crashed.
STALE_AFTER = timedelta(minutes=15)

TASKS = {
    SyncRun.Kind.IMPORT: "accounts.hubspot.tasks.hubspot_import",
    SyncRun.Kind.POLL: "accounts.hubspot.tasks.hubspot_poll",
    SyncRun.Kind.RETRY: "accounts.hubspot.tasks.hubspot_issues_retry",
    SyncRun.Kind.REPLAY: "accounts.hubspot.tasks.hubspot_replay",
    SyncRun.Kind.RECONCILE: "accounts.hubspot.tasks.hubspot_reconcile",
}


def run_is_alive(run: SyncRun) -> bool:
    recent = timezone.now() - STALE_AFTER
    return run.status == SyncRun.Status.RUNNING and bool(
        run.heartbeat_at and run.heartbeat_at >= recent
    )


def sync_run_queue(*, kind: str, cursors: dict[str, object] | None = None) -> SyncRun:
    """Create a queued run and enqueue its task after commit. A full import resumes
    the unfinished one instead of starting over."""
    run = None
    if kind == SyncRun.Kind.IMPORT:
        from .engine.importer import resumable_import

        run = resumable_import()
        if run is not None and run_is_alive(run):
            return run  # already importing: do not start a second worker on it
    if run is None:
        run = SyncRun.objects.create(kind=kind, cursors=cursors or {})
    task = TASKS[SyncRun.Kind(kind)]
    transaction.on_commit(lambda: async_task(task, run.pk, task_name=f"hubspot-{kind}-{run.pk}"))
    return run


@transaction.atomic
def owner_link_map(*, link: OwnerLink, user: User | None) -> OwnerLink:
    """Map a HubSpot owner to a user by hand; records quarantined for it are retried by
    the next sync or a retry from the issues page."""
    link.user = user
    link.save(update_fields=["user"])
    return link


def open_issue_count() -> int:
    return SyncIssue.objects.filter(resolved_at__isnull=True).count()

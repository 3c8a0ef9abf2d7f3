"""Writes the HubSpot admin page makes: queue runs, map owners."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts.hubspot.models import SyncIssue, SyncRun, SyncSource
from accounts.hubspot.rules.mapping import MappingConfig
from accounts.hubspot.transport.client import HubSpotClient
from accounts.models import Account, OwnerLink, User
from ops.queues import SYNC, enqueue

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
        from accounts.hubspot.inbound.importer import resumable_import

        run = resumable_import()
        if run is not None and run_is_alive(run):
            return run  # already importing: do not start a second worker on it
    if run is None:
        run = SyncRun.objects.create(kind=kind, cursors=cursors or {})
    task = TASKS[SyncRun.Kind(kind)]
    # The sync queue: an import that runs for minutes never holds a webhook's worker.
    transaction.on_commit(
        lambda: enqueue(task, run.pk, queue_name=SYNC, task_name=f"hubspot-{kind}-{run.pk}")
    )
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


def _company_read(client: HubSpotClient, hubspot_id: str) -> list[dict[str, Any]]:
    from accounts.hubspot.inbound.objects import properties_for, with_associations

    found = client.batch_read(
        "companies", [hubspot_id], properties=properties_for("companies", MappingConfig())
    )
    return with_associations(client, "companies", found.results)


def issue_link(*, issue: SyncIssue, account: Account, client: HubSpotClient) -> None:
    """A person says the quarantined company is this (unlinked) account: link it and
    apply HubSpot's values as sync would."""
    from accounts.hubspot.inbound.writers import SyncContext, companies_page_write

    records = _company_read(client, issue.hubspot_id)
    if not records:
        raise ValueError("HubSpot no longer has this company (deleted or merged).")
    with transaction.atomic():
        linked = Account.objects.filter(pk=account.pk, hubspot_id__isnull=True).update(
            hubspot_id=issue.hubspot_id
        )
        if not linked:
            raise ValueError(f"{account.name} is already linked to another HubSpot company.")
        companies_page_write(records, SyncContext(source=SyncSource.MATCH).load())


def issue_create_new(*, issue: SyncIssue, client: HubSpotClient) -> None:
    """A person says the quarantined company is none of the candidates: a new account."""
    from accounts.hubspot.inbound.writers import SyncContext, companies_page_write

    records = _company_read(client, issue.hubspot_id)
    if not records:
        raise ValueError("HubSpot no longer has this company (deleted or merged).")
    ctx = SyncContext(source=SyncSource.MATCH, create_new={issue.hubspot_id}).load()
    with transaction.atomic():
        companies_page_write(records, ctx)

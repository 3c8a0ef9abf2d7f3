"""Writes the HubSpot admin page makes: queue runs, map owners."""

from __future__ import annotations

from typing import Any

from django.core.cache import cache
from django.db import transaction
from django_q.tasks import async_task

from accounts.hubspot.inbound.page_context import PageResult
from accounts.hubspot.models import SyncIssue, SyncRun, SyncSource
from accounts.hubspot.rules.mapping import MappingConfig
from accounts.hubspot.runs import advisory_lock, run_alive, runs_recover
from accounts.hubspot.transport.client import HubSpotClient
from accounts.models import Account, User
from lifecycle.ops.queues import SYNC, enqueue

TASKS = {
    SyncRun.Kind.IMPORT: "accounts.hubspot.tasks.hubspot_import",
    SyncRun.Kind.POLL: "accounts.hubspot.tasks.hubspot_poll",
    SyncRun.Kind.RETRY: "accounts.hubspot.tasks.hubspot_issues_retry",
    SyncRun.Kind.REPLAY: "accounts.hubspot.tasks.hubspot_replay",
    SyncRun.Kind.RECONCILE: "accounts.hubspot.tasks.hubspot_reconcile",
}


def sync_run_queue(*, kind: str, cursors: dict[str, object] | None = None) -> SyncRun:
    """Create a queued run and enqueue its task after commit. A full import resumes
    the unfinished one instead of starting over; a RUNNING one whose worker died (its
    lock is free) is resumed at once, not after a heartbeat window."""
    run = None
    if kind == SyncRun.Kind.IMPORT:
        from accounts.hubspot.inbound.importer import resumable_import

        run = resumable_import()
        if run is not None and run_alive(run):
            return run  # already importing: do not start a second worker on it
    if run is None:
        run = SyncRun.objects.create(kind=kind, cursors=cursors or {})
    task = TASKS[SyncRun.Kind(kind)]
    # The sync queue: an import that runs for minutes never holds a webhook's worker.
    transaction.on_commit(
        lambda: enqueue(task, run.pk, queue_name=SYNC, task_name=f"hubspot-{kind}-{run.pk}")
    )
    return run


def runs_recover_queue() -> list[SyncRun]:
    """Resume the runs whose worker died (their lock is free while they say RUNNING):
    each is marked interrupted and its task queued again, an import resuming from its
    last committed page. Kinds without a run task (the archived sweep) are left FAILED
    for their schedule to run again."""
    recovered = runs_recover(resumable=set(TASKS))
    for run in recovered:
        if run.status == SyncRun.Status.QUEUED:
            # On the sync queue, as the page queues it: a resumed import never holds
            # the workers that apply webhooks. Outside a transaction: the ORM broker of
            # another cluster closes the connection (`recovered` is a list, not a cursor).
            enqueue(
                TASKS[SyncRun.Kind(run.kind)],
                run.pk,
                queue_name=SYNC,
                task_name=f"hubspot-{run.kind}-{run.pk}",
            )
    return recovered


# Webhook events are applied by one task at a time, and at most one more waits in the
# queue: 2,635 deliveries make one pending task, not 2,220 (issue 23).
APPLY_QUEUED_KEY = "hubspot:apply-queued"
# A pending task normally clears the key within seconds; should it be lost with its
# worker, the next enqueue after this long queues another (the poll applies meanwhile).
APPLY_QUEUED_SECONDS = 120
EVENTS_LOCK = (0x4C434556, 0)  # "LCEV": the advisory lock of the applier


def events_apply_soon() -> bool:
    """Queue the apply task unless one is already pending; True if this call queued it."""
    if not cache.add(APPLY_QUEUED_KEY, True, timeout=APPLY_QUEUED_SECONDS):
        return False
    with transaction.atomic():  # see push_soon: the ORM broker outside one
        async_task("accounts.hubspot.tasks.hubspot_events_apply", task_name="hubspot-events")
    return True


def events_apply_locked(*, client: HubSpotClient, config: MappingConfig) -> int | None:
    """Apply pending webhook events under the applier's lock; None, at once, if another
    worker holds it (its worker slot is given back). The holder looks again for pending
    events after letting go and queues a task if some came in, so an event stored while
    a turned-away task returned is never stranded: it was stored before the holder let
    go, hence before the holder looked."""
    from accounts.hubspot.inbound.events import events_apply, events_pending

    with advisory_lock(*EVENTS_LOCK) as taken:
        if not taken:
            return None
        applied = events_apply(client=client, config=config)
    if events_pending():
        events_apply_soon()
    return applied


def owner_map(*, hubspot_owner_id: str, user: User, client: HubSpotClient) -> PageResult:
    """An admin maps a HubSpot owner to a user (status page or issues page, one path):
    the companies it owns that synced without an owner get it now
    (inbound/owner_issues.py)."""
    from accounts.hubspot.inbound import owner_issues

    return owner_issues.owner_map(hubspot_owner_id=hubspot_owner_id, user=user, client=client)


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

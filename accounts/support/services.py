"""Writes of the support app that are not row-by-row sync (the HubSpot plug-in writes
the rows themselves, page by page, as it does deals and contacts)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import partial

from django.conf import settings
from django.db import transaction
from django.db.models import Max, OuterRef, Subquery
from django.utils import timezone
from django.utils.module_loading import import_string

from accounts.models import Account

from .models import Engagement


def accounts_last_touch_bump(*, account_ids: Iterable[int]) -> int:
    """Move each account's last activity up to its latest touch (a note, call, meeting
    or email a person had with the customer, up to now): what a person did with the
    customer in HubSpot counts as they do in Lifecycle. Never moves it back (a
    Lifecycle activity may be later). One UPDATE on the touch index; returns the
    number of accounts whose last activity moved."""
    latest = (
        Engagement.objects.filter(
            account=OuterRef("pk"),
            is_touch=True,
            archived_at__isnull=True,
            occurred_at__lte=timezone.now(),
        )
        .order_by()
        .values("account")
        .annotate(latest=Max("occurred_at"))
        .values("latest")
    )
    touched = (
        Account.objects.filter(pk__in=list(account_ids))
        .annotate(touch=Subquery(latest))
        .filter(touch__isnull=False)
    )
    moved = touched.exclude(last_activity_at__gte=Subquery(latest))
    return Account.objects.filter(pk__in=moved.values("pk")).update(
        last_activity_at=Subquery(latest)
    )


# HubSpot's task statuses: what Lifecycle writes (a task is open or done; HubSpot's
# IN_PROGRESS, WAITING and DEFERRED read as open).
TASK_OPEN = "NOT_STARTED"
TASK_DONE = "COMPLETED"


@dataclass(frozen=True)
class CrmTask:
    """A task Lifecycle opens in the CRM (a playbook's task step)."""

    account_id: int
    owner_id: int | None
    subject: str
    body: str
    due: date


def crm_tasks_enabled() -> bool:
    """Tasks go to a CRM only when a CRM plug-in listens (CRM_TASKS_CHANGED_HOOKS):
    without one they would be rows nobody pushes."""
    return bool(settings.CRM_TASKS_CHANGED_HOOKS)


def due_at(due: date) -> datetime:
    """A due date as HubSpot's `hs_timestamp`: noon UTC keeps the calendar day the same
    from UTC-11 to UTC+11, where HubSpot shows it in each user's zone."""
    return datetime.combine(due, time(12, 0), tzinfo=UTC)


def crm_tasks_open(*, tasks: Sequence[CrmTask]) -> list[Engagement]:
    """Open tasks in the CRM: one insert, each marked as owed to HubSpot; the push
    (queued once the caller commits) creates them there. Returns the rows in order."""
    now = timezone.now()
    rows = Engagement.objects.bulk_create(
        [
            Engagement(
                kind=Engagement.Kind.TASK,
                account_id=task.account_id,
                owner_id=task.owner_id,
                occurred_at=due_at(task.due),
                subject=task.subject[:500],
                text=task.body[: Engagement.NOTE_TEXT_MAX],
                status=TASK_OPEN,
                push_wanted_at=now,
            )
            for task in tasks
        ],
        batch_size=2000,
    )
    crm_tasks_changed_notify(account_ids={t.account_id for t in tasks})
    return rows


def crm_tasks_update(
    *, engagements: Sequence[Engagement], done: bool | None = None, shift: timedelta | None = None
) -> int:
    """Complete (or reopen) CRM tasks and/or move their due time, marking them owed to
    HubSpot; rows already as asked are left alone. One UPDATE per kind of change."""
    now = timezone.now()
    changed: list[Engagement] = []
    for row in engagements:
        status = row.status
        if done is not None:
            status = TASK_DONE if done else TASK_OPEN
        if status == row.status and not shift:
            continue
        row.status = status
        if shift:
            row.occurred_at += shift
        row.push_wanted_at = now
        changed.append(row)
    if changed:
        Engagement.objects.bulk_update(changed, ["status", "occurred_at", "push_wanted_at"])
        crm_tasks_changed_notify(account_ids={row.account_id for row in changed})
    return len(changed)


def crm_tasks_changed_notify(*, account_ids: Iterable[int]) -> None:
    """Once committed, tell the CRM plug-in (CRM_TASKS_CHANGED_HOOKS: HubSpot's push)
    that tasks of these accounts are owed to it. Dotted paths: accounts imports no
    integration."""
    ids = sorted(set(account_ids))
    for path in settings.CRM_TASKS_CHANGED_HOOKS if ids else ():
        transaction.on_commit(partial(import_string(path), ids), robust=True)


def crm_tasks_synced_notify(*, account_ids: Iterable[int]) -> None:
    """Once committed, tell the apps whose work is a CRM task (CRM_TASKS_SYNCED_HOOKS:
    playbooks) that the CRM changed tasks of these accounts (sync wrote them)."""
    ids = sorted(set(account_ids))
    for path in settings.CRM_TASKS_SYNCED_HOOKS if ids else ():
        transaction.on_commit(partial(import_string(path), ids), robust=True)


def support_synced_notify(*, object_type: str, account_ids: Iterable[int]) -> int:
    """Once committed, tell the apps that act on support records (SUPPORT_SYNCED_HOOKS:
    alerts, for detractor answers and expansion hints) that sync wrote records of
    `object_type` (tickets, feedback_submissions, notes, ...) of these accounts. Dotted
    paths: accounts imports no app above it."""
    ids = sorted(set(account_ids))
    for path in settings.SUPPORT_SYNCED_HOOKS if ids else ():
        transaction.on_commit(partial(import_string(path), object_type, ids), robust=True)
    return len(ids)

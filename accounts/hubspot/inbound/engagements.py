"""HubSpot notes, calls, meetings, emails and tasks: one spec and page writer per type,
rows in `Engagement` keyed by (kind, hubspot_id). Metadata only: never an email's body.
A page that brings touches moves its accounts' last activity up (one UPDATE)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

from accounts.hubspot.inbound.page_context import PageResult, SyncContext
from accounts.hubspot.inbound.support_pages import SupportSpec, support_page_write
from accounts.hubspot.rules.mapping import Record
from accounts.hubspot.rules.support_mapping import (
    ENGAGEMENT_KIND,
    ENGAGEMENT_TYPES,
    ContactRef,
    engagement_fields,
)
from accounts.support.models import Engagement
from accounts.support.services import (
    accounts_last_touch_bump,
    crm_tasks_synced_notify,
    support_synced_notify,
)

ENGAGEMENT_FIELDS = (
    "account_id",
    "contact_id",
    "owner_id",
    "occurred_at",
    "subject",
    "text",
    "direction",
    "status",
    "duration_seconds",
    "is_touch",
    "archived_at",
)

TASK_FIELDS = tuple(name for name in ENGAGEMENT_FIELDS if name != "text")


def _map(
    object_type: str,
    record: Record,
    ctx: SyncContext,
    accounts: dict[str, int],
    contacts: dict[str, ContactRef],
) -> dict[str, Any] | None:
    return engagement_fields(
        object_type, record, accounts=accounts, contacts=contacts, owners=ctx.owners
    )


def _bump(object_type: str, account_ids: set[int]) -> int:
    """Touches move the accounts' last activity up; the apps acting on support
    records (expansion hints in notes) hear of them once committed."""
    support_synced_notify(object_type=object_type, account_ids=account_ids)
    return accounts_last_touch_bump(account_ids=account_ids)


def _tasks_synced(account_ids: set[int]) -> int:
    """Tasks are no touches; apps whose work is a HubSpot task (playbooks) follow."""
    crm_tasks_synced_notify(account_ids=account_ids)
    return len(account_ids)


ENGAGEMENTS = {
    object_type: SupportSpec(
        object_type=object_type,
        model=Engagement,
        # A task's text is the guidance Lifecycle wrote (a playbook's): sync never reads
        # task bodies, so it leaves the text alone.
        fields=ENGAGEMENT_FIELDS if object_type != "tasks" else TASK_FIELDS,
        mapper=partial(_map, object_type),
        title_field="subject",
        kind={"kind": ENGAGEMENT_KIND[object_type]},
        after=_tasks_synced if object_type == "tasks" else partial(_bump, object_type),
    )
    for object_type in ENGAGEMENT_TYPES
}


def _writer(object_type: str) -> Callable[[Sequence[Record], SyncContext], PageResult]:
    spec = ENGAGEMENTS[object_type]

    def write(records: Sequence[Record], ctx: SyncContext) -> PageResult:
        return support_page_write(records, ctx, spec)

    write.__name__ = f"{object_type}_page_write"
    return write


ENGAGEMENT_WRITERS = {object_type: _writer(object_type) for object_type in ENGAGEMENT_TYPES}

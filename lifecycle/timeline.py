"""The account timeline: Lifecycle's own events and the customer's engagements from
the CRM (notes, calls, meetings, emails, tasks), newest first, in one list."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from accounts.models import Account
from accounts.selectors import account_timeline
from accounts.support.selectors import account_engagements


@dataclass(frozen=True)
class TimelineEntry:
    occurred_at: datetime
    summary: str
    link: str
    kind: str
    actor: Any


def account_timeline_entries(*, account: Account, limit: int = 50) -> list[TimelineEntry]:
    """The latest `limit` entries of both sources (two queries)."""
    entries = [
        TimelineEntry(e.occurred_at, e.summary, e.link, e.get_kind_display(), e.actor)
        for e in account_timeline(account=account, limit=limit)
    ]
    for g in account_engagements(account_id=account.pk, limit=limit):
        direction = f" ({g.get_direction_display().lower()})" if g.direction else ""
        summary = f"{g.get_kind_display()}{direction}: {g.subject or 'no subject'}"
        if g.contact is not None:
            summary += f" · with {g.contact.name}"
        kind = f"{g.get_kind_display()} (CRM)"
        entries.append(TimelineEntry(g.occurred_at, summary[:500], g.hubspot_url, kind, g.owner))
    entries.sort(key=lambda entry: entry.occurred_at, reverse=True)
    return entries[:limit]

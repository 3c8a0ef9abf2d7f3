"""Support records drive alerts and expansion: the hook sync calls once it wrote
tickets, survey answers or engagements (SUPPORT_SYNCED_HOOKS, a dotted path in
settings: accounts imports nothing of success), and the expansion hints read from
tickets and notes.

A ticket whose category is one the admin picked, or whose subject holds one of the
keywords, and a note whose subject or text (as synced; email bodies never are) holds
one, raise one expansion signal with source "support", linked to the record, due 24
hours after it was seen. Only records of the last `HINT_WINDOW_DAYS` days count, so
a first import of years of tickets does not flood the signal page."""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from accounts.models import Account, Event, Stage
from accounts.support.models import Engagement, Ticket

from .hooks import hooks_run
from .models import ExpansionHint, ExpansionSignal, RuleKind
from .services import alerts_evaluate

HINT_WINDOW_DAYS = 7
# Any number that is ours alone: raisers of support signals take turns.
_LOCK = 18_0002


def expansion_hint() -> ExpansionHint | None:
    """The admin's hints, when active and saying something."""
    hint = ExpansionHint.objects.filter(is_active=True).order_by("pk").first()
    if hint is None or not (hint.category_list or hint.keyword_list):
        return None
    return hint


def keyword_pattern(keywords: Sequence[str]) -> str:
    r"""A regular expression matching any keyword as whole words, in the database's own
    dialect: PostgreSQL's word bounds are `\m`/`\M`; SQLite (trying the app) runs
    Python's `re`, whose are `\b`."""
    alternatives = "|".join(re.escape(k) for k in keywords)
    if connection.vendor == "postgresql":
        return rf"\m({alternatives})\M"
    return rf"\b({alternatives})\b"


def _matched(keywords: Sequence[str], *texts: str) -> str:
    for keyword in keywords:
        if any(re.search(rf"\b{re.escape(keyword)}\b", t or "", re.IGNORECASE) for t in texts):
            return keyword
    return ""


def _live(qs_account_field: str) -> Q:
    return Q(**{f"{qs_account_field}__status": Account.Status.ACTIVE}) & ~Q(
        **{f"{qs_account_field}__stage": Stage.CHURNED}
    )


@transaction.atomic
def support_expansion_raise(
    *,
    account_ids: Collection[int] | None = None,
    now: datetime | None = None,
    read: Collection[str] = ("tickets", "notes"),
) -> list[ExpansionSignal]:
    """Raise a support expansion signal for each ticket and note with a hint that has
    none yet (of `account_ids`, else the portfolio; `read` narrows to the tickets or
    the notes a sync page brought): two reads and two inserts for any number of
    records."""
    hint = expansion_hint()
    if hint is None:
        return []
    now = now or timezone.now()
    since = now - timedelta(days=HINT_WINDOW_DAYS)
    keywords = hint.keyword_list
    pattern = keyword_pattern(keywords) if keywords else ""
    if connection.vendor == "postgresql":
        # Two sync pages at once would both find a record without its signal; SQLite
        # (trying the app) lets one writer at a time in anyway.
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK])
    ticket_hint = Q(category__in=hint.category_list) if hint.category_list else Q(pk__in=[])
    if pattern:
        ticket_hint |= Q(subject__iregex=pattern)
    tickets = Ticket.objects.none()
    if "tickets" in read:
        tickets = Ticket.objects.filter(
            _live("account"), ticket_hint, archived_at__isnull=True, opened_at__gte=since
        ).exclude(Exists(ExpansionSignal.objects.filter(ticket=OuterRef("pk"))))
    notes = Engagement.objects.none()
    if pattern and "notes" in read:
        notes = Engagement.objects.filter(
            _live("account"),
            Q(subject__iregex=pattern) | Q(text__iregex=pattern),
            kind=Engagement.Kind.NOTE,
            archived_at__isnull=True,
            occurred_at__gte=since,
            occurred_at__lte=now,
        ).exclude(Exists(ExpansionSignal.objects.filter(engagement=OuterRef("pk"))))
    if account_ids is not None:
        tickets = tickets.filter(account_id__in=list(account_ids))
        notes = notes.filter(account_id__in=list(account_ids))
    due = now + timedelta(hours=24)
    categories = set(hint.category_list)
    fresh: list[ExpansionSignal] = []
    for ticket in tickets.only("pk", "account_id", "subject", "category"):
        why = (
            f"category {ticket.category}"
            if ticket.category in categories
            else f"“{_matched(keywords, ticket.subject)}” in the subject"
        )
        fresh.append(
            ExpansionSignal(
                account_id=ticket.account_id,
                ticket=ticket,
                source=ExpansionSignal.Source.SUPPORT,
                note=f"Support ticket “{ticket.subject[:200]}” hints at expansion ({why}).",
                raised_at=now,
                follow_up_by=due,
            )
        )
    for note in notes.select_related("owner"):
        by = f" by {note.owner.get_full_name() or note.owner.username}" if note.owner else ""
        fresh.append(
            ExpansionSignal(
                account_id=note.account_id,
                engagement=note,
                source=ExpansionSignal.Source.SUPPORT,
                note=(
                    f"Note{by} mentions “{_matched(keywords, note.subject, note.text)}”: "
                    f"“{(note.subject or note.text)[:200]}”"
                ),
                raised_at=now,
                follow_up_by=due,
            )
        )
    if not fresh:
        return []
    signals = ExpansionSignal.objects.bulk_create(fresh, batch_size=2000)
    Event.objects.bulk_create(
        [
            Event(
                account_id=s.account_id,
                kind=Event.Kind.EXPANSION,
                occurred_at=now,
                summary=f"Expansion signal (Support): {s.note}"[:500],
                data={"signal": s.pk},
            )
            for s in signals
        ],
        batch_size=2000,
    )
    hooks_run("EXPANSION_SIGNALS_RAISED_HOOKS", signals=signals)
    return signals


def support_synced(object_type: str, account_ids: Sequence[int]) -> None:
    """SUPPORT_SYNCED_HOOKS entry, once sync committed records of `object_type`
    (tickets, feedback_submissions, notes, ...) of these accounts: survey answers run
    the detractor rules over those accounts, tickets and notes the expansion hints,
    so both are news within seconds of the sync, not at the next daily run."""
    if object_type == "feedback_submissions":
        alerts_evaluate(
            today=timezone.localdate(), account_ids=account_ids, kinds=[RuleKind.DETRACTOR]
        )
    elif object_type in ("tickets", "notes"):
        support_expansion_raise(account_ids=account_ids, read=[object_type])

"""Writes of the support app that are not row-by-row sync (the HubSpot plug-in writes
the rows themselves, page by page, as it does deals and contacts)."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Max, OuterRef, Subquery
from django.utils import timezone

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

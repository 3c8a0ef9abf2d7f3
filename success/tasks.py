"""django-q2 jobs for success. Thin: they call one service."""

from __future__ import annotations

from django.utils import timezone

from .services import renewals_create_due


def renewals_open_due() -> str:
    """Daily: open a renewal (and its renewal deal) for every account whose
    renewal date comes within SUCCESS_RENEWAL_LEAD_DAYS. Idempotent: a second
    run the same day opens nothing."""
    made = renewals_create_due(today=timezone.localdate())
    return f"{made} renewal(s) opened"

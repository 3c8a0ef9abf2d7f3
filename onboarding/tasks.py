"""django-q2 jobs for onboarding. Thin: they call one service."""

from __future__ import annotations

from .services import plans_refresh_all


def onboarding_statuses_refresh() -> str:
    """Daily: dates move plans from on track to at risk to late without anyone
    touching them. Re-derive every running plan and record the changes.
    Idempotent: a second run the same day finds nothing to change."""
    changed = plans_refresh_all()
    return f"{changed} plan(s) changed status"

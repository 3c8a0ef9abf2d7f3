"""django-q2 entry points for health scoring. Thin: ids in, one service call."""

from __future__ import annotations

from django.utils import timezone

from .services import health_scores_compute


def score_portfolio() -> str:
    """Daily: score every active account with the active model."""
    run = health_scores_compute(today=timezone.localdate())
    return (
        f"scored {run.scored}, no data {run.without_data}, "
        f"accounts updated {run.accounts_written}, flagged {len(run.flagged)}"
    )


def score_account(account_id: int) -> str:
    """On demand, after one account's inputs changed."""
    run = health_scores_compute(today=timezone.localdate(), account_ids=[account_id])
    return f"scored {run.scored}"

"""django-q2 entry points for health scoring. Thin: ids in, one service call."""

from __future__ import annotations

from django.utils import timezone

from ops.queues import SCORING, enqueue

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


def enqueue_rescore(account_ids: list[int]) -> None:
    """USAGE_INGESTED_HOOKS entry: rescore the accounts whose usage just
    arrived, in the worker rather than in the API request."""
    if account_ids:
        enqueue("success.health.tasks.score_accounts", list(account_ids), queue_name=SCORING)


def score_accounts(account_ids: list[int]) -> str:
    """Rescore these accounts today (ids of deleted accounts are skipped by the
    scorer, which only reads accounts that exist)."""
    run = health_scores_compute(today=timezone.localdate(), account_ids=account_ids)
    return f"scored {run.scored}, no data {run.without_data}"

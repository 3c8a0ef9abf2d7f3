"""django-q2 entry points for health scoring. Thin: ids in, one service call."""

from __future__ import annotations

from django.utils import timezone
from django_q.conf import Conf

from lifecycle.ops.jobs import resumable
from lifecycle.ops.queues import SCORING, enqueue

from .inputs import scorable_accounts
from .services import health_scores_compute

# The daily job scores a large portfolio in chunks of this many accounts, one task each.
SCORE_CHUNK = 5000


@resumable(SCORING)  # killed mid-job, it runs again within a minute (idempotent for a day)
def score_portfolio(chunk: int = SCORE_CHUNK) -> str:
    """Daily: score every active account with the active model. A portfolio larger than
    one chunk is cut into ranges of ids; every range but the first is queued as a
    score_account_range task on the scoring queue, so every scoring worker on every host
    takes a share (scores of one account never depend on another's), and this task
    scores the first range itself: the job's second worker starts as soon as the
    ranges are queued, rather than after this task has returned and been taken again.
    A chunk is a range of ids, not a list: every query that scores it reads the range
    from the id index, where a list of thousands of ids made each chunk cost half as
    much again as its share of the whole job (docs/performance.md, "Scale-out")."""
    if not Conf.SYNC:
        ids = list(scorable_accounts().order_by("pk").values_list("pk", flat=True))
        if len(ids) > chunk:
            ranges = [
                (ids[start], ids[min(start + chunk, len(ids)) - 1])
                for start in range(0, len(ids), chunk)
            ]
            for first, last in ranges[1:]:
                enqueue(
                    "success.health.tasks.score_account_range",
                    first,
                    last,
                    queue_name=SCORING,
                    group="health-daily",
                )
            run = health_scores_compute(today=timezone.localdate(), id_range=ranges[0])
            return (
                f"scored {run.scored} of the first {chunk} accounts, no data "
                f"{run.without_data}; queued the other {len(ids) - chunk} of {len(ids)} "
                f"in {len(ranges) - 1} chunks of {chunk}"
            )
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


@resumable(SCORING)
def score_account_range(first_id: int, last_id: int) -> str:
    """Rescore today the scorable accounts with ids from first_id to last_id: a chunk of
    the daily job (an account created in the range since the chunk was cut is scored
    too, as the unsplit job would)."""
    run = health_scores_compute(today=timezone.localdate(), id_range=(first_id, last_id))
    return f"scored {run.scored}, no data {run.without_data}"


@resumable(SCORING)
def score_accounts(account_ids: list[int]) -> str:
    """Rescore these accounts today (ids of deleted accounts are skipped by the
    scorer, which only reads accounts that exist)."""
    run = health_scores_compute(today=timezone.localdate(), account_ids=account_ids)
    return f"scored {run.scored}, no data {run.without_data}"

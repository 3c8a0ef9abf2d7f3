"""Health inputs that come from success plans and business reviews, read in
bulk for the whole set of accounts being scored (three queries in all)."""

from __future__ import annotations

from datetime import date

from django.db.models import Count, Max, Q, QuerySet

from accounts.models import Account
from success.models import BusinessReview, Objective, ObjectiveStatus, Sentiment

from .scoring import Input

SENTIMENT_SCORE: dict[str, float] = {
    Sentiment.POSITIVE: 100.0,
    Sentiment.NEUTRAL: 50.0,
    Sentiment.NEGATIVE: 0.0,
}


def success_inputs(accounts: QuerySet[Account], today: date) -> dict[int, dict[str, float]]:
    out: dict[int, dict[str, float]] = {}
    held = BusinessReview.objects.filter(
        account__in=accounts, status=BusinessReview.Status.HELD, held_on__lte=today
    )
    for pk, last in held.values_list("account_id").annotate(last=Max("held_on")):
        out.setdefault(pk, {})[Input.DAYS_SINCE_REVIEW] = float((today - last).days)
    latest_sentiment = (
        held.exclude(sentiment="")
        .order_by("account_id", "-held_on", "-id")
        .values_list("account_id", "sentiment")
    )
    seen: set[int] = set()
    for pk, sentiment in latest_sentiment.iterator(chunk_size=20_000):
        if pk not in seen:
            seen.add(pk)
            out.setdefault(pk, {})[Input.CSM_SENTIMENT] = SENTIMENT_SCORE.get(sentiment, 50.0)
    objectives = (
        Objective.objects.filter(plan__account__in=accounts, plan__replaced_at__isnull=True)
        .values_list("plan__account_id")
        .annotate(
            total=Count("id"), achieved=Count("id", filter=Q(status=ObjectiveStatus.ACHIEVED))
        )
    )
    for pk, total, achieved in objectives:
        if total:
            out.setdefault(pk, {})[Input.OBJECTIVE_ACHIEVEMENT] = 100.0 * achieved / total
    return out

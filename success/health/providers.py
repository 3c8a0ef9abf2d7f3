"""Health inputs that come from other apps, read in bulk for the whole set of
accounts being scored: success plans and business reviews (three queries), and
the support records synced from HubSpot (three queries: tickets, survey answers,
touches)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.db.models import Count, Max, Q, QuerySet
from django.utils import timezone

from accounts.models import Account
from accounts.selectors import within
from accounts.support.selectors import support_health_figures
from success.models import BusinessReview, Objective, ObjectiveStatus, Sentiment

from .scoring import Input

SENTIMENT_SCORE: dict[str, float] = {
    Sentiment.POSITIVE: 100.0,
    Sentiment.NEUTRAL: 50.0,
    Sentiment.NEGATIVE: 0.0,
}


def success_inputs(
    accounts: QuerySet[Account], today: date, *, id_range: tuple[int, int] | None = None
) -> dict[int, dict[str, float]]:
    out: dict[int, dict[str, float]] = {}
    held = BusinessReview.objects.filter(
        within(id_range),
        account__in=accounts,
        status=BusinessReview.Status.HELD,
        held_on__lte=today,
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
        Objective.objects.filter(
            within(id_range, "plan__account__pk"),
            plan__account__in=accounts,
            plan__replaced_at__isnull=True,
        )
        .values_list("plan__account_id")
        .annotate(
            total=Count("id"), achieved=Count("id", filter=Q(status=ObjectiveStatus.ACHIEVED))
        )
    )
    for pk, total, achieved in objectives:
        if total:
            out.setdefault(pk, {})[Input.OBJECTIVE_ACHIEVEMENT] = 100.0 * achieved / total
    return out


def _end_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day + timedelta(days=1), time.min)) - timedelta(
        microseconds=1
    )


def support_inputs(
    accounts: QuerySet[Account], today: date, *, id_range: tuple[int, int] | None = None
) -> dict[int, dict[str, float]]:
    """Tickets, survey answers and touches as they stood at the end of `today`.

    Ticket inputs exist for accounts with any ticket by then (no ticket on record
    is no data, not a perfect zero: the weight goes to the other measures, and a
    usage snapshot's typed count, if any, stays); CSAT and NPS for accounts with
    answers in the last 90 days; days since the last touch for accounts touched at
    least once. What is given here wins over the usage snapshot's number."""
    out: dict[int, dict[str, float]] = {}
    zone = timezone.get_current_timezone()  # once, not once per account (a context lookup)
    for pk, f in support_health_figures(
        accounts=accounts, now=_end_of(today), id_range=id_range
    ).items():
        values = out.setdefault(pk, {})
        if f.has_tickets:
            values[Input.OPEN_TICKETS] = float(f.open_tickets)
            values[Input.ESCALATED_TICKETS] = float(f.escalated_open)
            values[Input.TICKETS_OPENED_30D] = float(f.opened_30d)
            trend = f.opened_trend_pct
            if trend is not None:
                values[Input.TICKET_TREND_30D] = round(trend, 1)
        if f.csat is not None:
            values[Input.CSAT] = f.csat
        if f.nps is not None:
            values[Input.NPS] = float(f.nps)
        if f.last_touch_at is not None:
            touched = f.last_touch_at.astimezone(zone).date()
            values[Input.DAYS_SINCE_TOUCH] = float(max(0, (today - touched).days))
    return out

"""Reads of support records: the per-account figures (health, alerts and the account
page use them), the account page's support panel and the engagements on the timeline.

Figures for many accounts at once (`support_figures`) cost the same few grouped
queries for 1 account or 10,000: ticket counts in one aggregate, close times in one
list, survey figures in one aggregate, last touches in one aggregate.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from django.db.models import Avg, Count, Max, Q, QuerySet
from django.utils import timezone

from accounts.models import Account
from accounts.selectors import within

from .models import Engagement, FeedbackSubmission, Ticket

TREND_WEEKS = 8
SURVEY_DAYS = 90
CLOSE_DAYS = 90


@dataclass
class SupportFigures:
    """What support says about one account. None where there is nothing to say (no
    surveys answered, no tickets closed): a missing input, never a zero."""

    open_tickets: int = 0
    escalated_open: int = 0
    opened_30d: int = 0
    opened_prev_30d: int = 0
    # Tickets opened per week, oldest first (TREND_WEEKS weeks ending now).
    weekly_opened: list[int] = field(default_factory=lambda: [0] * TREND_WEEKS)
    median_close_hours: float | None = None
    nps: int | None = None
    nps_responses: int = 0
    csat: Decimal | None = None
    csat_responses: int = 0
    detractors: int = 0
    last_touch_at: datetime | None = None

    @property
    def opened_trend_pct(self) -> int | None:
        """Tickets opened in the last 30 days against the 30 before, in percent."""
        if not self.opened_prev_30d:
            return None
        return round((self.opened_30d - self.opened_prev_30d) * 100 / self.opened_prev_30d)

    @property
    def has_support_data(self) -> bool:
        return bool(
            self.open_tickets
            or self.opened_30d
            or self.opened_prev_30d
            or self.nps_responses
            or self.csat_responses
            or self.last_touch_at
        )


def _ticket_counts(ids: list[int], now: datetime) -> dict[int, dict[str, int]]:
    open_q = Q(is_closed=False)
    windows = {
        "open_tickets": open_q,
        "escalated_open": open_q & Q(priority__in=Ticket.ESCALATED),
        "opened_30d": Q(opened_at__gt=now - timedelta(days=30)),
        "opened_prev_30d": Q(
            opened_at__gt=now - timedelta(days=60), opened_at__lte=now - timedelta(days=30)
        ),
    }
    for week in range(TREND_WEEKS):
        end = now - timedelta(weeks=TREND_WEEKS - 1 - week)
        windows[f"week_{week}"] = Q(opened_at__gt=end - timedelta(weeks=1), opened_at__lte=end)
    rows = (
        Ticket.objects.filter(account_id__in=ids, archived_at__isnull=True)
        .filter(Q(is_closed=False) | Q(opened_at__gt=now - timedelta(days=60)))
        .values("account_id")
        .annotate(**{name: Count("pk", filter=q) for name, q in windows.items()})
    )
    return {int(row["account_id"]): {k: int(str(v)) for k, v in row.items()} for row in rows}


def _close_medians(ids: list[int], now: datetime) -> dict[int, float]:
    """Median hours from open to close of the tickets closed in the last CLOSE_DAYS."""
    hours: dict[int, list[float]] = defaultdict(list)
    rows = Ticket.objects.filter(
        account_id__in=ids,
        archived_at__isnull=True,
        closed_at__isnull=False,
        closed_at__gt=now - timedelta(days=CLOSE_DAYS),
    ).values_list("account_id", "opened_at", "closed_at")
    for account_id, opened, closed in rows:
        if closed is None:
            continue
        hours[account_id].append(max((closed - opened).total_seconds(), 0) / 3600)
    return {a: round(statistics.median(v), 1) for a, v in hours.items()}


def _survey_figures(ids: list[int], now: datetime) -> dict[int, dict[str, object]]:
    nps = Q(survey_type=FeedbackSubmission.SurveyType.NPS)
    csat = Q(survey_type=FeedbackSubmission.SurveyType.CSAT, score__isnull=False)
    group = FeedbackSubmission.Group
    rows = (
        FeedbackSubmission.objects.filter(
            account_id__in=ids,
            archived_at__isnull=True,
            submitted_at__gt=now - timedelta(days=SURVEY_DAYS),
        )
        .values("account_id")
        .annotate(
            nps_responses=Count("pk", filter=nps & ~Q(response_group="")),
            promoters=Count("pk", filter=nps & Q(response_group=group.PROMOTER)),
            nps_detractors=Count("pk", filter=nps & Q(response_group=group.DETRACTOR)),
            detractors=Count("pk", filter=Q(response_group=group.DETRACTOR)),
            csat_responses=Count("pk", filter=csat),
            csat=Avg("score", filter=csat),
        )
    )
    return {int(row["account_id"]): dict(row) for row in rows}


def _last_touches(ids: list[int], now: datetime) -> dict[int, datetime]:
    rows = (
        Engagement.objects.filter(
            account_id__in=ids, is_touch=True, archived_at__isnull=True, occurred_at__lte=now
        )
        .values("account_id")
        .annotate(latest=Max("occurred_at"))
        .values_list("account_id", "latest")
    )
    return dict(rows)


def support_figures(
    *, account_ids: Iterable[int], now: datetime | None = None
) -> dict[int, SupportFigures]:
    """SupportFigures per account (every id asked gets one), in four queries."""
    ids = list(dict.fromkeys(account_ids))
    now = now or timezone.now()
    figures = {pk: SupportFigures() for pk in ids}
    if not ids:
        return figures
    for pk, counts in _ticket_counts(ids, now).items():
        f = figures[pk]
        f.open_tickets, f.escalated_open = counts["open_tickets"], counts["escalated_open"]
        f.opened_30d, f.opened_prev_30d = counts["opened_30d"], counts["opened_prev_30d"]
        f.weekly_opened = [counts[f"week_{w}"] for w in range(TREND_WEEKS)]
    for pk, median in _close_medians(ids, now).items():
        figures[pk].median_close_hours = median
    for pk, row in _survey_figures(ids, now).items():
        f = figures[pk]
        f.nps_responses = int(str(row["nps_responses"]))
        if f.nps_responses:
            net = int(str(row["promoters"])) - int(str(row["nps_detractors"]))
            f.nps = round(net * 100 / f.nps_responses)
        f.csat_responses = int(str(row["csat_responses"]))
        if row["csat"] is not None:
            f.csat = Decimal(str(row["csat"])).quantize(Decimal("0.01"))
        f.detractors = int(str(row["detractors"]))
    for pk, latest in _last_touches(ids, now).items():
        figures[pk].last_touch_at = latest
    return figures


def account_support_figures(*, account_id: int, now: datetime | None = None) -> SupportFigures:
    return support_figures(account_ids=[account_id], now=now)[account_id]


def account_open_tickets(*, account_id: int, limit: int = 10) -> list[Ticket]:
    """Open tickets, escalated first, then the oldest (they have waited longest)."""
    tickets = list(
        Ticket.objects.filter(account_id=account_id, is_closed=False, archived_at__isnull=True)
        .select_related("stage", "contact", "owner")
        .order_by("opened_at", "pk")[:200]
    )
    tickets.sort(key=lambda t: (not t.is_escalated, t.opened_at))
    return tickets[:limit]


def account_survey_responses(*, account_id: int, limit: int = 5) -> QuerySet[FeedbackSubmission]:
    """The latest survey answers, newest first."""
    return FeedbackSubmission.objects.filter(
        account_id=account_id, archived_at__isnull=True
    ).select_related("contact")[:limit]


def account_last_touches(
    *, account_id: int, limit: int = 5, now: datetime | None = None
) -> QuerySet[Engagement]:
    """The latest touches (what people did with the customer), newest first."""
    return Engagement.objects.filter(
        account_id=account_id,
        is_touch=True,
        archived_at__isnull=True,
        occurred_at__lte=now or timezone.now(),
    ).select_related("owner", "contact")[:limit]


def account_engagements(*, account_id: int, limit: int = 50) -> QuerySet[Engagement]:
    """Engagements for the account timeline, newest first."""
    return Engagement.objects.filter(
        account_id=account_id, archived_at__isnull=True
    ).select_related("owner", "contact")[:limit]


def support_snapshot(*, account_id: int, now: datetime | None = None) -> dict[str, object]:
    """The account's support figures in JSON-safe form, frozen into a held business
    review's snapshot (success.services.reviews.review_snapshot)."""
    f = account_support_figures(account_id=account_id, now=now)
    return {
        "open_tickets": f.open_tickets,
        "escalated_open": f.escalated_open,
        "opened_30d": f.opened_30d,
        "opened_prev_30d": f.opened_prev_30d,
        "median_close_hours": f.median_close_hours,
        "nps": f.nps,
        "nps_responses": f.nps_responses,
        "csat": None if f.csat is None else str(f.csat),
        "csat_responses": f.csat_responses,
        "detractors": f.detractors,
        "last_touch_at": f.last_touch_at.isoformat() if f.last_touch_at else None,
    }


@dataclass
class HealthFigures:
    """What support says about one account on a day, for health scoring: the figures
    of `SupportFigures` as they stood at `now` (a past day's tickets open then, its
    answers and touches up to then). `has_tickets`: the account had any ticket by
    then, so its ticket counts are figures (zeros included), not missing."""

    has_tickets: bool = False
    open_tickets: int = 0
    escalated_open: int = 0
    opened_30d: int = 0
    opened_prev_30d: int = 0
    nps: int | None = None
    csat: float | None = None
    last_touch_at: datetime | None = None

    @property
    def opened_trend_pct(self) -> float | None:
        if not self.opened_prev_30d:
            return None
        return (self.opened_30d - self.opened_prev_30d) * 100 / self.opened_prev_30d


def support_health_figures(
    *, accounts: QuerySet[Account], now: datetime, id_range: tuple[int, int] | None = None
) -> dict[int, HealthFigures]:
    """HealthFigures of the accounts that have any support record by `now`, in three
    grouped queries for the whole set (tickets, survey answers, touches); the set is a
    subquery, never a list of ids. Accounts with nothing are left out. `id_range`: the
    account ids the set lies within, if known (a chunk of the daily health job): each
    query then reads that part of its table's account index instead of every row."""
    figures: dict[int, HealthFigures] = defaultdict(HealthFigures)
    in_range = within(id_range)
    open_then = Q(is_closed=False) | Q(closed_at__gt=now)
    tickets = (
        Ticket.objects.filter(
            in_range, account__in=accounts, archived_at__isnull=True, opened_at__lte=now
        )
        .order_by()
        .values("account_id")
        .annotate(
            total=Count("pk"),
            open=Count("pk", filter=open_then),
            escalated=Count("pk", filter=open_then & Q(priority__in=Ticket.ESCALATED)),
            opened_30d=Count("pk", filter=Q(opened_at__gt=now - timedelta(days=30))),
            opened_prev_30d=Count(
                "pk",
                filter=Q(
                    opened_at__gt=now - timedelta(days=60),
                    opened_at__lte=now - timedelta(days=30),
                ),
            ),
        )
    )
    for row in tickets:
        f = figures[int(row["account_id"])]
        f.has_tickets = bool(row["total"])
        f.open_tickets, f.escalated_open = int(row["open"]), int(row["escalated"])
        f.opened_30d, f.opened_prev_30d = int(row["opened_30d"]), int(row["opened_prev_30d"])
    nps = Q(survey_type=FeedbackSubmission.SurveyType.NPS) & ~Q(response_group="")
    csat = Q(survey_type=FeedbackSubmission.SurveyType.CSAT, score__isnull=False)
    group = FeedbackSubmission.Group
    surveys = (
        FeedbackSubmission.objects.filter(
            in_range,
            account__in=accounts,
            archived_at__isnull=True,
            submitted_at__gt=now - timedelta(days=SURVEY_DAYS),
            submitted_at__lte=now,
        )
        .filter(nps | csat)
        .order_by()
        .values("account_id")
        .annotate(
            nps_responses=Count("pk", filter=nps),
            promoters=Count("pk", filter=nps & Q(response_group=group.PROMOTER)),
            detractors=Count("pk", filter=nps & Q(response_group=group.DETRACTOR)),
            csat=Avg("score", filter=csat),
        )
    )
    for answers in surveys:
        f = figures[int(answers["account_id"])]
        if answers["nps_responses"]:
            net = int(answers["promoters"]) - int(answers["detractors"])
            f.nps = round(net * 100 / int(answers["nps_responses"]))
        if answers["csat"] is not None:
            f.csat = round(float(answers["csat"]), 2)
    touches = (
        Engagement.objects.filter(
            in_range,
            account__in=accounts,
            is_touch=True,
            archived_at__isnull=True,
            occurred_at__lte=now,
        )
        .order_by()
        .values("account_id")
        .annotate(latest=Max("occurred_at"))
        .values_list("account_id", "latest")
    )
    for pk, latest in touches:
        figures[pk].last_touch_at = latest
    return dict(figures)

"""Figures other than ARR, one query per family for all periods at once
(conditional aggregation: one filtered COUNT per period).

Definitions (docs/domain.md "Metrics", made precise for a period):
- Logo retention: accounts whose renewal was decided in the period (a renewal
  or churn movement in the ARR ledger dated in it, so far for a running
  period) that renewed / all of those accounts. An account that churned in
  the period counts as not renewed even if it renewed earlier in it. Read
  from the same ledger as churned ARR, so every churned account on that
  figure is in this one's denominator for the same period. Decided rather
  than "due so far": a running quarter's early renewals and announced churns
  (renewals dated later in the quarter but closed already) are its real
  outcomes, and a renewal still open past its date is not an outcome yet (it
  counts in the period it closes in, and shows in the renewals pipeline).
- Adoption rate: accounts with an adoption checkpoint milestone due in the
  period (and already due) that completed every such checkpoint by its due
  date / those accounts. Skipped checkpoints do not count.
- Success rate: accounts with success-plan objectives due in the period (and
  already due) whose objectives are all achieved / those accounts.
- Engagement quality: business reviews held in the period with a positive
  sentiment / all reviews held in the period.
- TTV: median and distribution of plans' time to value, by the day first
  value was reached.
- Health distribution: accounts per band on the last scoring day of the period.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import Aggregate, Count, F, FloatField, Q, Sum
from django.utils import timezone

from accounts.models import Account, ForecastCategory, HealthBand
from onboarding.models import Milestone, MilestoneKind, OnboardingPlan
from onboarding.selectors import TTV_BUCKETS
from success.health.models import HealthScore
from success.models import ArrMovement, BusinessReview, Objective, ObjectiveStatus, Sentiment

from .ledger import money
from .periods import Period
from .scope import Scope


@dataclass
class Ratio:
    numerator: int
    denominator: int

    @property
    def percent(self) -> Decimal | None:
        if not self.denominator:
            return None
        return Decimal(self.numerator) / self.denominator * 100


def _in(period: Period, field_name: str, today: date | None = None) -> Q:
    """Rows whose `field_name` falls in the period (and, with `today`, not after it)."""
    end = min(period.end, today) if today else period.end
    return Q(**{f"{field_name}__gte": period.start, f"{field_name}__lte": end})


def _ratios(row: dict[str, Any], n: int) -> list[Ratio]:
    return [Ratio(int(row[f"num{i}"] or 0), int(row[f"den{i}"] or 0)) for i in range(n)]


def logo_retention(*, scope: Scope, periods: Sequence[Period], today: date) -> list[Ratio]:
    decided = [ArrMovement.Kind.RENEWAL, ArrMovement.Kind.CHURN]
    columns: dict[str, Any] = {}
    for i, p in enumerate(periods):
        in_period = _in(p, "date", today)
        columns[f"den{i}"] = Count("account", filter=in_period, distinct=True)
        columns[f"churned{i}"] = Count(
            "account", filter=in_period & Q(kind=ArrMovement.Kind.CHURN), distinct=True
        )
    row = ArrMovement.objects.filter(scope.q("account__"), kind__in=decided).aggregate(**columns)
    return [
        Ratio(int(row[f"den{i}"]) - int(row[f"churned{i}"]), int(row[f"den{i}"]))
        for i in range(len(periods))
    ]


def _all_met(
    qs: Any, account_path: str, periods: Sequence[Period], date_field: str, missed: Q, today: date
) -> list[Ratio]:
    """Accounts with rows due in each period, and those with none missed."""
    columns: dict[str, Any] = {}
    for i, p in enumerate(periods):
        due = _in(p, date_field, today)
        columns[f"den{i}"] = Count(account_path, filter=due, distinct=True)
        columns[f"miss{i}"] = Count(account_path, filter=due & missed, distinct=True)
    row = qs.aggregate(**columns)
    return [
        Ratio(int(row[f"den{i}"]) - int(row[f"miss{i}"]), int(row[f"den{i}"]))
        for i in range(len(periods))
    ]


def adoption_rate(*, scope: Scope, periods: Sequence[Period], today: date) -> list[Ratio]:
    qs = Milestone.objects.filter(
        scope.q("plan__account__"),
        kind=MilestoneKind.ADOPTION_CHECKPOINT,
        skipped_on__isnull=True,
        due_date__lt=today,
    )
    missed = Q(completed_on__isnull=True) | Q(completed_on__gt=F("due_date"))
    return _all_met(qs, "plan__account", periods, "due_date", missed, today)


def success_rate(*, scope: Scope, periods: Sequence[Period], today: date) -> list[Ratio]:
    qs = Objective.objects.filter(scope.q("plan__account__"), due_date__isnull=False)
    missed = ~Q(status=ObjectiveStatus.ACHIEVED)
    return _all_met(qs, "plan__account", periods, "due_date", missed, today)


def engagement_quality(*, scope: Scope, periods: Sequence[Period]) -> list[Ratio]:
    columns: dict[str, Any] = {}
    for i, p in enumerate(periods):
        held = _in(p, "held_on")
        columns[f"den{i}"] = Count("pk", filter=held)
        columns[f"num{i}"] = Count("pk", filter=held & Q(sentiment=Sentiment.POSITIVE))
    row = BusinessReview.objects.filter(
        scope.q("account__"), status=BusinessReview.Status.HELD
    ).aggregate(**columns)
    return _ratios(row, len(periods))


class Median(Aggregate):
    """PostgreSQL's exact median; FILTER works with ordered-set aggregates."""

    function = "PERCENTILE_CONT"
    name = "median"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)%(filter)s"
    output_field = FloatField()


@dataclass
class Ttv:
    medians: list[float | None]
    counts: list[int]
    buckets: list[tuple[str, int]] = field(default_factory=list)  # selected period


def time_to_value(*, scope: Scope, periods: Sequence[Period]) -> Ttv:
    """Median TTV per period and the distribution in the last one. One query on
    PostgreSQL; elsewhere (SQLite in development) the values are fetched."""
    qs = OnboardingPlan.objects.filter(
        scope.q("account__"),
        ttv_days__isnull=False,
        first_value_on__gte=periods[0].start,
        first_value_on__lte=periods[-1].end,
    )
    last = _in(periods[-1], "first_value_on")
    columns: dict[str, Any] = {}
    for i, p in enumerate(periods):
        columns[f"n{i}"] = Count("pk", filter=_in(p, "first_value_on"))
    for j, (_label, low, high) in enumerate(TTV_BUCKETS):
        bucket = Q(ttv_days__gte=low) if high is None else Q(ttv_days__range=(low, high))
        columns[f"b{j}"] = Count("pk", filter=last & bucket)
    postgres = connection.vendor == "postgresql"
    if postgres:
        for i, p in enumerate(periods):
            columns[f"m{i}"] = Median("ttv_days", filter=_in(p, "first_value_on"))
    row = qs.aggregate(**columns)
    if postgres:
        medians = [row[f"m{i}"] for i in range(len(periods))]
    else:
        values: list[list[int]] = [[] for _ in periods]
        for day, ttv in qs.values_list("first_value_on", "ttv_days"):
            for i, p in enumerate(periods):
                if day is not None and ttv is not None and p.contains(day):
                    values[i].append(ttv)
        medians = [float(statistics.median(v)) if v else None for v in values]
    return Ttv(
        medians=[None if m is None else float(m) for m in medians],
        counts=[int(row[f"n{i}"]) for i in range(len(periods))],
        buckets=[(label, int(row[f"b{j}"])) for j, (label, _l, _h) in enumerate(TTV_BUCKETS)],
    )


@dataclass
class HealthDistribution:
    period: Period
    scored_on: date | None
    counts: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def health_distribution(*, scope: Scope, periods: Sequence[Period]) -> list[HealthDistribution]:
    """Accounts per band on each period's last scoring day. Two queries: the
    last scoring day of each period, then the counts on those days."""
    # One scalar subquery per period: each is a short backward walk of the
    # (date, band) index instead of a pass over every score in the window.
    table = HealthScore._meta.db_table
    probe = f"(SELECT MAX(date) FROM {table} WHERE date >= %s AND date <= %s)"
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT " + ", ".join([probe] * len(periods)),
            [
                connection.ops.adapt_datefield_value(day)
                for p in periods
                for day in (p.start, p.end)
            ],
        )
        found = cursor.fetchone()
    chosen: list[date | None] = [date.fromisoformat(d) if isinstance(d, str) else d for d in found]
    counts: dict[tuple[date, str], int] = {}
    wanted = [d for d in chosen if d is not None]
    if wanted:
        rows = (
            HealthScore.objects.filter(scope.q("account__"), date__in=wanted)
            .order_by()
            .values_list("date", "band")
            .annotate(n=Count("pk"))
        )
        counts = {(d, band): n for d, band, n in rows}
    return [
        HealthDistribution(
            period=p,
            scored_on=day,
            counts={b.value: counts.get((day, b.value), 0) for b in HealthBand} if day else {},
        )
        for p, day in zip(periods, chosen, strict=True)
    ]


AT_RISK_FORECASTS = [ForecastCategory.AT_RISK, ForecastCategory.CHURN]


def at_risk_q() -> Q:
    return Q(health_band=HealthBand.RED) | Q(renewal_forecast_category__in=AT_RISK_FORECASTS)


@dataclass
class AtRisk:
    arr: Decimal
    accounts: int
    scored_accounts: int
    forecast_accounts: int

    @property
    def has_data(self) -> bool:
        return bool(self.scored_accounts or self.forecast_accounts)


def at_risk_now(*, scope: Scope) -> AtRisk:
    """ARR of accounts in the red band or forecast at risk / churn, today."""
    row = Account.objects.filter(scope.q()).aggregate(
        arr=Sum("arr", filter=at_risk_q()),
        n=Count("pk", filter=at_risk_q()),
        scored=Count("pk", filter=~Q(health_band="")),
        forecast=Count("pk", filter=~Q(renewal_forecast_category="")),
    )
    return AtRisk(
        arr=money(row["arr"]),
        accounts=int(row["n"]),
        scored_accounts=int(row["scored"]),
        forecast_accounts=int(row["forecast"]),
    )


def local_today() -> date:
    return timezone.localdate()

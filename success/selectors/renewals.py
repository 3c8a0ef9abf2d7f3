"""Reads for renewals: one renewal with its history, the renewal pipeline
with its totals per month or quarter, and the API's renewal list."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, NamedTuple

from django.db.models import Count, Prefetch, Q, QuerySet, Sum
from django.db.models.functions import TruncMonth, TruncQuarter

from accounts.models import Account, ForecastCategory, HealthBand
from accounts.plain_sql import probes_priced_for_memory

from ..models import ForecastChange, Renewal


def open_renewal(*, account: Account) -> Renewal | None:
    return (
        Renewal.objects.filter(account=account, status=Renewal.Status.OPEN)
        .select_related("deal__stage")
        .first()
    )


def renewal_detail(*, pk: int) -> Renewal:
    return Renewal.objects.select_related(
        "account__owner", "deal__stage", "churn_reason", "closed_by"
    ).get(pk=pk)


def renewal_history(*, renewal: Renewal) -> QuerySet[Any]:
    return renewal.forecast_changes.select_related("changed_by")


def renewals_pipeline() -> QuerySet[Renewal]:
    """Open renewals of live accounts: a merged-away or deleted (archived) account's
    renewal is not in the pipeline nor the forecast."""
    return (
        Renewal.objects.filter(status=Renewal.Status.OPEN)
        .exclude(account__status=Account.Status.ARCHIVED)
        .select_related("account__owner")
    )


AT_RISK_CATEGORIES = (ForecastCategory.AT_RISK, ForecastCategory.CHURN)


@dataclass
class PeriodTotals:
    period: date
    label: str
    count: int = 0
    up_for_renewal: Decimal = Decimal(0)
    forecast: Decimal = Decimal(0)
    at_risk: Decimal = Decimal(0)
    by_category: dict[str, Decimal] = field(default_factory=dict)

    @property
    def category_cells(self) -> list[Decimal]:
        """ARR up for renewal per category, in CATEGORY_KEYS order (for tables)."""
        return [self.by_category.get(k, Decimal(0)) for k in CATEGORY_KEYS]


CATEGORY_KEYS = [*ForecastCategory.values, "none"]
CATEGORY_LABELS = [*ForecastCategory.labels, "Not forecast"]


def _period_label(day: date, group: str) -> str:
    if group == "quarter":
        return f"Q{(day.month - 1) // 3 + 1} {day.year}"
    return day.strftime("%b %Y")


def renewals_totals(*, renewals: QuerySet[Renewal], group: str = "month") -> list[PeriodTotals]:
    """Totals per month or quarter and forecast category, computed in one
    query. At-risk ARR counts renewals forecast at risk or churn, and those
    on red-health accounts whatever their forecast."""
    trunc = TruncQuarter if group == "quarter" else TruncMonth
    at_risk = Q(forecast_category__in=AT_RISK_CATEGORIES) | Q(account__health_band=HealthBand.RED)
    rows = (
        renewals.order_by()
        .annotate(period=trunc("renewal_date"))
        .values("period", "forecast_category")
        .annotate(
            n=Count("id"),
            up=Sum("current_arr"),
            forecast=Sum("forecast_arr"),
            risk=Sum("current_arr", filter=at_risk),
        )
        .order_by("period", "forecast_category")
    )
    periods: dict[date, PeriodTotals] = {}
    # A few hundred open renewals joined to every account by key: probed, not a read
    # of the whole account table (accounts.plain_sql.probes_priced_for_memory).
    with probes_priced_for_memory():
        fetched = list(rows)
    for row in fetched:
        period = row["period"]
        totals = periods.setdefault(period, PeriodTotals(period, _period_label(period, group)))
        totals.count += row["n"]
        totals.up_for_renewal += row["up"] or 0
        totals.forecast += row["forecast"] or 0
        totals.at_risk += row["risk"] or 0
        key = row["forecast_category"] or "none"
        totals.by_category[key] = totals.by_category.get(key, Decimal(0)) + (row["up"] or 0)
    return list(periods.values())


def grand_totals(periods: list[PeriodTotals]) -> PeriodTotals:
    total = PeriodTotals(date.min, "Total")
    by_category: dict[str, Decimal] = defaultdict(Decimal)
    for p in periods:
        total.count += p.count
        total.up_for_renewal += p.up_for_renewal
        total.forecast += p.forecast
        total.at_risk += p.at_risk
        for k, v in p.by_category.items():
            by_category[k] += v
    total.by_category = dict(by_category)
    return total


def renewals_list() -> QuerySet[Renewal]:
    """Every renewal with its account, churn reason and forecast history."""
    return Renewal.objects.select_related("account__owner", "churn_reason").prefetch_related(
        Prefetch("forecast_changes", queryset=ForecastChange.objects.select_related("changed_by"))
    )


class RenewalRow(NamedTuple):
    """What a row of the renewals page shows, read as values: not the renewal's
    and account's other columns (the account's JSON of field change times) nor
    the owner's password hash, and no model instances to build."""

    pk: int
    account_id: int
    renewal_date: date
    current_arr: Decimal
    forecast_category: str
    forecast_arr: Decimal | None
    account_name: str
    segment: str
    currency: str
    health_score: int | None
    health_band: str
    owner_first_name: str | None
    owner_last_name: str | None
    owner_username: str | None


def renewals_page_rows(renewals: QuerySet[Renewal]) -> QuerySet[Any]:
    """The renewals page's rows (RenewalRow) of a filtered pipeline, in its order."""
    return (
        renewals.select_related(None)
        .order_by("renewal_date", "pk")
        .values_list(
            "pk",
            "account_id",
            "renewal_date",
            "current_arr",
            "forecast_category",
            "forecast_arr",
            "account__name",
            "account__segment",
            "account__currency",
            "account__health_score",
            "account__health_band",
            "account__owner__first_name",
            "account__owner__last_name",
            "account__owner__username",
        )
    )

"""The leaders' dashboard: every figure for a period and the eleven before it.

A fixed number of queries whatever the portfolio size: one for the ARR
ledger (with new accounts and onboarding plans), one each for renewals,
adoption, objectives, reviews and TTV, two for health, one for at-risk ARR and
three for the selected period's renewal rate by CSAT band and NPS category.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cached_property
from typing import Literal

from accounts.models import HealthBand

from . import families, ledger, satisfaction
from .charts import ColumnChart, StackedBar, column_chart, stacked_share_chart
from .db import reporting
from .periods import Period, trailing_periods
from .scope import Scope

Unit = Literal["money", "percent", "days", "count"]
Value = Decimal | float | None


def counted(n: int, noun: str) -> str:
    """'1 plan', '3 plans'."""
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def format_value(value: Value, unit: Unit) -> str:
    if value is None:
        return "no data yet"
    if unit == "money":
        return f"{Decimal(value):,.0f}"
    if unit == "percent":
        return f"{Decimal(value):.1f}%"
    if unit == "days":
        return f"{float(value):g} days"
    return f"{value:,}"


def format_change(current: Value, previous: Value, unit: Unit) -> str:
    if current is None or previous is None:
        return ""
    diff = Decimal(str(current)) - Decimal(str(previous))
    if diff == 0:
        return "no change"
    word = "up" if diff > 0 else "down"
    size = abs(diff)
    if unit == "money":
        return f"{word} {size:,.0f}"
    if unit == "percent":
        return f"{word} {size:.1f} pts"
    if unit == "days":
        return f"{word} {float(size):g} days"
    return f"{word} {size:,}"


@dataclass
class Metric:
    key: str
    label: str
    unit: Unit
    values: list[Value]
    help: str
    detail: list[str]  # per period, e.g. "12 of 15 accounts"
    higher_is_better: bool = True
    drill: bool = True

    @property
    def current(self) -> Value:
        return self.values[-1]

    @property
    def previous(self) -> Value:
        return self.values[-2] if len(self.values) > 1 else None

    @property
    def display(self) -> str:
        return format_value(self.current, self.unit)

    @property
    def previous_display(self) -> str:
        return format_value(self.previous, self.unit)

    @property
    def change(self) -> str:
        return format_change(self.current, self.previous, self.unit)

    @cached_property
    def texts(self) -> list[str]:
        return [format_value(v, self.unit) for v in self.values]

    @property
    def arrow(self) -> str:
        if self.current is None or self.previous is None or self.current == self.previous:
            return ""
        return "▲" if self.current > self.previous else "▼"

    @property
    def change_is_good(self) -> bool | None:
        if self.current is None or self.previous is None or self.current == self.previous:
            return None
        return (self.current > self.previous) == self.higher_is_better

    def chart(self, labels: list[str]) -> ColumnChart:
        return column_chart(self.values, labels, self.texts)


HEALTH_KEYS = [
    (str(b.value), str(b.label)) for b in (HealthBand.GREEN, HealthBand.YELLOW, HealthBand.RED)
]


@dataclass
class Dashboard:
    periods: list[Period]
    scope: Scope
    metrics: list[Metric]
    arr: list[ledger.ArrFigures]
    ttv: families.Ttv
    health: list[families.HealthDistribution]
    at_risk: families.AtRisk
    satisfaction: satisfaction.Satisfaction

    @property
    def period(self) -> Period:
        return self.periods[-1]

    @cached_property
    def labels(self) -> list[str]:
        return [p.short_label for p in self.periods]

    def metric(self, key: str) -> Metric:
        return next(m for m in self.metrics if m.key == key)

    @cached_property
    def charts(self) -> list[tuple[Metric, ColumnChart]]:
        return [(m, m.chart(self.labels)) for m in self.metrics]

    @cached_property
    def health_chart(self) -> list[StackedBar]:
        return stacked_share_chart([h.counts for h in self.health], HEALTH_KEYS, self.labels)

    @property
    def has_health(self) -> bool:
        return any(h.scored_on for h in self.health)

    @property
    def ttv_widest(self) -> int:
        return max((n for _label, n in self.ttv.buckets), default=0)


def _ratio_metric(
    key: str, label: str, ratios: list[families.Ratio], help: str, noun: str
) -> Metric:
    return Metric(
        key=key,
        label=label,
        unit="percent",
        values=[r.percent for r in ratios],
        help=help,
        detail=[f"{r.numerator:,} of {r.denominator:,} {noun}" for r in ratios],
    )


def dashboard(*, scope: Scope, period: Period, today: date) -> Dashboard:
    with reporting():
        return _dashboard(scope=scope, period=period, today=today)


def _dashboard(*, scope: Scope, period: Period, today: date) -> Dashboard:
    periods = trailing_periods(period)
    arr = ledger.arr_figures(scope=scope, periods=periods)

    def money_values(attr: str) -> list[Value]:
        # A period before any customer has no ARR data at all.
        return [getattr(f, attr) if (f.start or f.end) else None for f in arr]

    accounts = [f"{counted(f.cohort_accounts, 'account')} at start" for f in arr]
    ttv = families.time_to_value(scope=scope, periods=periods)
    metrics = [
        Metric(
            "grr",
            "Gross revenue retention",
            "percent",
            [f.grr for f in arr],
            "(ARR at start − contraction − churned ARR) / ARR at start",
            accounts,
        ),
        Metric(
            "nrr",
            "Net revenue retention",
            "percent",
            [f.nrr for f in arr],
            "(ARR at start + expansion − contraction − churned ARR) / ARR at start",
            accounts,
        ),
        _ratio_metric(
            "logo_retention",
            "Logo retention",
            families.logo_retention(scope=scope, periods=periods, today=today),
            "Accounts renewed / accounts whose renewal was decided (renewed or churned)"
            " in the period so far; a renewal still open counts when it closes",
            "renewals decided",
        ),
        Metric(
            "churn",
            "Churned ARR",
            "money",
            money_values("churn"),
            "ARR lost by accounts that left, from churn movements",
            [counted(f.churned_accounts, "account") for f in arr],
            higher_is_better=False,
        ),
        Metric(
            "expansion",
            "Expansion ARR",
            "money",
            money_values("expansion"),
            "ARR added by existing accounts",
            accounts,
        ),
        Metric(
            "contraction",
            "Contraction ARR",
            "money",
            money_values("contraction"),
            "ARR given up by accounts that stayed",
            accounts,
            higher_is_better=False,
        ),
        Metric(
            "new_arr",
            "New ARR",
            "money",
            money_values("new"),
            "ARR at end of accounts that had none at the start (new or won back)",
            [counted(f.new_accounts, "new account") for f in arr],
        ),
        Metric(
            "arr_start",
            "ARR at start",
            "money",
            money_values("start"),
            "Sum of the ledger before the first day",
            accounts,
        ),
        Metric(
            "arr_end",
            "ARR at end",
            "money",
            money_values("end"),
            "ARR at start + new + expansion − contraction − churn",
            ["" for _ in arr],
        ),
        _ratio_metric(
            "onboard_rate",
            "Onboard rate",
            [families.Ratio(f.onboarded_accounts, f.new_accounts) for f in arr],
            "New accounts with an onboarding plan / new accounts",
            "new accounts",
        ),
        _ratio_metric(
            "adoption_rate",
            "Adoption rate",
            families.adoption_rate(scope=scope, periods=periods, today=today),
            "Accounts that met their adoption checkpoints on time / accounts past the due date",
            "accounts",
        ),
        _ratio_metric(
            "success_rate",
            "Success rate",
            families.success_rate(scope=scope, periods=periods, today=today),
            "Accounts whose objectives due in the period were all achieved"
            " / accounts with objectives due",
            "accounts",
        ),
        _ratio_metric(
            "engagement",
            "Engagement quality",
            families.engagement_quality(scope=scope, periods=periods),
            "Business reviews with a positive outcome / all reviews held",
            "reviews",
        ),
        Metric(
            "ttv",
            "Time to value (median)",
            "days",
            list(ttv.medians),
            "Median days from plan start to the first-value milestone",
            [counted(n, "plan") for n in ttv.counts],
            higher_is_better=False,
        ),
    ]
    return Dashboard(
        periods=periods,
        scope=scope,
        metrics=metrics,
        arr=arr,
        ttv=ttv,
        health=families.health_distribution(scope=scope, periods=periods),
        at_risk=families.at_risk_now(scope=scope),
        satisfaction=satisfaction.renewal_by_satisfaction(
            scope=scope, period=periods[-1], today=today
        ),
    )

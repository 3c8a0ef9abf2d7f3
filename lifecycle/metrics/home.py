"""The few numbers that matter this week, for the home page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.apps import apps
from django.db.models import Count, Sum

from accounts.models import ForecastCategory
from onboarding.models import OnboardingPlan, PlanStatus
from success.models import Renewal

from .families import AtRisk, at_risk_now
from .ledger import money
from .scope import Scope

RENEWAL_WINDOW_DAYS = 90


@dataclass
class ForecastRow:
    category: str
    label: str
    renewals: int
    current_arr: Decimal
    forecast_arr: Decimal


@dataclass
class Week:
    at_risk: AtRisk
    renewals: list[ForecastRow]
    late_onboarding: int
    open_alerts: int | None  # None when the alerts app is not installed
    window_end: date

    @property
    def renewals_total(self) -> int:
        return sum(r.renewals for r in self.renewals)

    @property
    def renewals_arr(self) -> Decimal:
        return sum((r.current_arr for r in self.renewals), Decimal("0"))


def _open_alerts(scope: Scope) -> int | None:
    if not apps.is_installed("success.alerts"):
        return None
    alert: Any = apps.get_model("alerts", "Alert")
    return int(
        alert.objects.filter(scope.q("account__"), status__in=["open", "acknowledged"]).count()
    )


def week_figures(*, scope: Scope, today: date) -> Week:
    """At-risk ARR, renewals due in the next 90 days by forecast category, late
    onboarding plans and open alerts. Four queries whatever the book size."""
    window_end = today + timedelta(days=RENEWAL_WINDOW_DAYS)
    rows = (
        Renewal.objects.filter(
            scope.q("account__"),
            status=Renewal.Status.OPEN,
            renewal_date__gte=today,
            renewal_date__lte=window_end,
        )
        .order_by()
        .values("forecast_category")
        .annotate(n=Count("pk"), arr=Sum("current_arr"), forecast=Sum("forecast_arr"))
    )
    by_category: dict[str, dict[str, Any]] = {r["forecast_category"]: dict(r) for r in rows}
    renewals = []
    for value, label in [*ForecastCategory.choices, ("", "Not forecast")]:
        r = by_category.get(value, {})
        renewals.append(
            ForecastRow(
                category=value or "none",
                label=str(label),
                renewals=int(r.get("n", 0)),
                current_arr=money(r.get("arr")),
                forecast_arr=money(r.get("forecast")),
            )
        )
    late = OnboardingPlan.objects.filter(
        scope.q("account__"), finished_on__isnull=True, status=PlanStatus.LATE
    ).count()
    return Week(
        at_risk=at_risk_now(scope=scope),
        renewals=renewals,
        late_onboarding=late,
        open_alerts=_open_alerts(scope),
        window_end=window_end,
    )

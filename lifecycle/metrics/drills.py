"""The accounts behind each figure: one list per metric and period.

Each drill-down yields rows of (account id, cells); the view attaches the
accounts in one query per page of rows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db.models import Count, F, Max, Q, Sum

from accounts.models import Account, HealthBand
from onboarding.models import Milestone, MilestoneKind, OnboardingPlan
from success.health.models import HealthScore
from success.models import ArrMovement, BusinessReview, Objective, ObjectiveStatus

from . import families, ledger, satisfaction
from .periods import Period
from .scope import Scope

Row = tuple[int, list[Any]]
Rows = Callable[[Scope, Period, date, int | None], Iterator[Row]]


@dataclass(frozen=True)
class Drill:
    title: str
    columns: list[str]
    rows: Rows
    money_columns: tuple[int, ...] = ()


ARR_COLUMNS = ["ARR at start", "Expansion", "Contraction", "Churned ARR", "ARR at end"]


def _arr(metric: str) -> Rows:
    def rows(scope: Scope, period: Period, today: date, limit: int | None) -> Iterator[Row]:
        for r in ledger.arr_drill_rows(scope=scope, period=period, metric=metric, limit=limit):
            yield r.account_id, [r.start, r.expansion, r.contraction, r.churn, r.end]

    return rows


def _limited(qs: Any, limit: int | None) -> Any:
    return qs if limit is None else qs[:limit]


def _new_accounts(scope: Scope, period: Period, today: date, limit: int | None) -> Iterator[Row]:
    for r in ledger.new_account_rows(scope=scope, period=period, limit=limit):
        yield r.account_id, [r.became_customer, "yes" if r.has_plan else "no", r.end]


def _renewals(scope: Scope, period: Period, today: date, limit: int | None) -> Iterator[Row]:
    """One row per account whose renewal was decided in the period (as the logo
    retention figure counts them): churned first, then by ARR."""
    kind = ArrMovement.Kind
    qs = (
        ArrMovement.objects.filter(
            scope.q("account__"),
            kind__in=[kind.RENEWAL, kind.CHURN],
            date__gte=period.start,
            date__lte=min(period.end, today),
        )
        .order_by()
        .values("account_id")
        .annotate(
            decided_on=Max("date"),
            churned=Count("pk", filter=Q(kind=kind.CHURN)),
            kept=Sum("amount", filter=Q(kind=kind.RENEWAL)),
            lost=Sum("amount", filter=Q(kind=kind.CHURN)),
        )
        .order_by("-churned", "-decided_on", "account_id")
    )
    for r in _limited(qs, limit):
        churned = bool(r["churned"])
        yield (
            r["account_id"],
            [
                r["decided_on"],
                "churned" if churned else "renewed",
                r["lost"] if churned else r["kept"],
            ],
        )


def _adoption(scope: Scope, period: Period, today: date, limit: int | None) -> Iterator[Row]:
    qs = (
        Milestone.objects.filter(
            scope.q("plan__account__"),
            kind=MilestoneKind.ADOPTION_CHECKPOINT,
            skipped_on__isnull=True,
            due_date__gte=period.start,
            due_date__lte=period.end,
            due_date__lt=today,
        )
        .annotate(account_id=F("plan__account_id"))
        .order_by("due_date", "pk")
    )
    for m in _limited(qs, limit):
        met = m.completed_on is not None and m.completed_on <= m.due_date
        yield m.account_id, [m.title, m.due_date, m.completed_on or "", "met" if met else "missed"]


def _objectives(scope: Scope, period: Period, today: date, limit: int | None) -> Iterator[Row]:
    qs = (
        Objective.objects.filter(
            scope.q("plan__account__"),
            due_date__gte=period.start,
            due_date__lte=min(period.end, today),
        )
        .annotate(account_id=F("plan__account_id"))
        .order_by("due_date", "pk")
    )
    for o in _limited(qs, limit):
        achieved = o.status == ObjectiveStatus.ACHIEVED
        yield (
            o.account_id,
            [o.title, o.due_date, o.get_status_display(), "yes" if achieved else "no"],
        )


def _reviews(scope: Scope, period: Period, today: date, limit: int | None) -> Iterator[Row]:
    qs = BusinessReview.objects.filter(
        scope.q("account__"),
        status=BusinessReview.Status.HELD,
        held_on__gte=period.start,
        held_on__lte=period.end,
    ).order_by("held_on", "pk")
    for r in _limited(qs, limit):
        yield r.account_id, [r.held_on, r.get_kind_display(), r.get_sentiment_display() or "—"]


def _ttv(scope: Scope, period: Period, today: date, limit: int | None) -> Iterator[Row]:
    qs = (
        OnboardingPlan.objects.filter(
            scope.q("account__"),
            ttv_days__isnull=False,
            first_value_on__gte=period.start,
            first_value_on__lte=period.end,
        )
        .select_related("template")
        .order_by("ttv_days", "pk")
    )
    for p in _limited(qs, limit):
        yield p.account_id, [p.template.name, p.start_date, p.first_value_on, p.ttv_days]


def _at_risk(scope: Scope, period: Period, today: date, limit: int | None) -> Iterator[Row]:
    qs = (
        Account.objects.filter(scope.q())
        .filter(families.at_risk_q())
        .order_by("-arr", "pk")
        .values_list("pk", "arr", "health_band", "renewal_forecast_category", "renewal_date")
    )
    for pk, arr, band, forecast, renewal in _limited(qs, limit):
        yield pk, [arr, band or "—", forecast.replace("_", " ") or "—", renewal or ""]


def _health(band: str) -> Rows:
    def rows(scope: Scope, period: Period, today: date, limit: int | None) -> Iterator[Row]:
        day = (
            HealthScore.objects.filter(date__gte=period.start, date__lte=period.end)
            .order_by("-date")
            .values_list("date", flat=True)
            .first()
        )
        if day is None:
            return
        qs = (
            HealthScore.objects.filter(scope.q("account__"), date=day, band=band)
            .order_by("score", "account_id")
            .values_list("account_id", "date", "score")
        )
        for pk, scored_on, score in _limited(qs, limit):
            yield pk, [scored_on, score]

    return rows


DRILLS: dict[str, Drill] = {
    "grr": Drill("Retention cohort (GRR)", ARR_COLUMNS, _arr("retention"), (0, 1, 2, 3, 4)),
    "nrr": Drill("Retention cohort (NRR)", ARR_COLUMNS, _arr("retention"), (0, 1, 2, 3, 4)),
    "arr_start": Drill("ARR at start", ARR_COLUMNS, _arr("arr_start"), (0, 1, 2, 3, 4)),
    "arr_end": Drill("ARR at end", ARR_COLUMNS, _arr("arr_end"), (0, 1, 2, 3, 4)),
    "new_arr": Drill("New ARR", ARR_COLUMNS, _arr("new_arr"), (0, 1, 2, 3, 4)),
    "expansion": Drill("Expansion ARR", ARR_COLUMNS, _arr("expansion"), (0, 1, 2, 3, 4)),
    "contraction": Drill("Contraction ARR", ARR_COLUMNS, _arr("contraction"), (0, 1, 2, 3, 4)),
    "churn": Drill("Churned ARR", ARR_COLUMNS, _arr("churn"), (0, 1, 2, 3, 4)),
    "onboard_rate": Drill(
        "New accounts and their onboarding plans",
        ["Became a customer", "Onboarding plan", "ARR at end"],
        _new_accounts,
        (2,),
    ),
    "logo_retention": Drill(
        "Renewals decided",
        ["Decided on", "Outcome", "ARR renewed or lost"],
        _renewals,
        (2,),
    ),
    "adoption_rate": Drill(
        "Adoption checkpoints due", ["Checkpoint", "Due", "Completed", "Result"], _adoption
    ),
    "success_rate": Drill(
        "Objectives due", ["Objective", "Due", "Status", "Achieved"], _objectives
    ),
    "engagement": Drill("Business reviews held", ["Held on", "Kind", "Sentiment"], _reviews),
    "ttv": Drill("Time to value", ["Template", "Plan start", "First value", "Days"], _ttv),
    "at_risk": Drill(
        "ARR at risk today",
        ["ARR", "Health band", "Renewal forecast", "Renewal date"],
        _at_risk,
        (0,),
    ),
    **{
        f"health_{b.value}": Drill(f"{b.label} health band", ["Scored on", "Score"], _health(b))
        for b in HealthBand
    },
}

RENEWAL_COLUMNS = ["Decided on", "Outcome", "ARR renewed or lost"]
DRILLS.update(
    {
        f"renewal_csat_{key}": Drill(
            f"Renewals decided: {label}",
            [*RENEWAL_COLUMNS, "CSAT (1-5)", "CSAT from"],
            satisfaction.csat_rows(key),
            (2,),
        )
        for key, label in satisfaction.CSAT_BANDS
    }
)
DRILLS.update(
    {
        f"renewal_nps_{key}": Drill(
            f"Renewals decided: {label}",
            [*RENEWAL_COLUMNS, "Latest NPS answer", "Answered on"],
            satisfaction.nps_rows(key),
            (2,),
        )
        for key, label in satisfaction.NPS_CATEGORIES
    }
)

# Figures that describe today, whatever period is chosen.
TODAY_ONLY = {"at_risk"}

"""Renewal rate by CSAT band and by NPS category (docs/domain.md, "Metrics").

The renewals are the ones logo retention counts: accounts with a renewal or churn
movement in the period (so far for a running period), churned when any of those is a
churn, decided on the latest of their dates. Each is put in a group by what the
customer said before it was decided:

- CSAT band, from the average of the account's CSAT survey answers (1-5) in the 90
  days up to the decision day; an account without answers falls back to the latest
  CSAT typed into a usage snapshot in those 90 days (customers without HubSpot Service
  Hub). Satisfied: 4 and above; neutral: 3 to under 4; dissatisfied: under 3.
- NPS category, from the account's latest NPS survey answer (0-10) up to the decision
  day: promoter 9-10, passive 7-8, detractor 0-6.

Renewals with nothing to go on are a group of their own, so the groups add up to logo
retention's denominator. Three queries whatever the number of renewals: the decided
renewals, their accounts' survey answers, their accounts' usage-snapshot CSAT.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Count, Max, Q, Sum
from django.utils import timezone

from accounts.models import UsageSnapshot
from accounts.support.models import FeedbackSubmission
from success.models import ArrMovement

from .families import Ratio
from .periods import Period
from .scope import Scope

CSAT_DAYS = 90
SATISFIED_MIN = Decimal("4")
NEUTRAL_MIN = Decimal("3")
NONE = "none"
CSAT_BANDS: list[tuple[str, str]] = [
    ("satisfied", "Satisfied (CSAT 4 or more)"),
    ("neutral", "Neutral (CSAT 3 to under 4)"),
    ("dissatisfied", "Dissatisfied (CSAT under 3)"),
    (NONE, "No CSAT"),
]
NPS_CATEGORIES: list[tuple[str, str]] = [
    ("promoter", "Promoters (9–10)"),
    ("passive", "Passives (7–8)"),
    ("detractor", "Detractors (0–6)"),
    (NONE, "No NPS answer"),
]
SURVEYS = "HubSpot surveys"
SNAPSHOT = "usage snapshot"


def csat_band(csat: Decimal | None) -> str:
    if csat is None:
        return NONE
    if csat >= SATISFIED_MIN:
        return "satisfied"
    if csat >= NEUTRAL_MIN:
        return "neutral"
    return "dissatisfied"


def nps_category(score: Decimal | None) -> str:
    if score is None:
        return NONE
    if score >= 9:
        return "promoter"
    if score >= 7:
        return "passive"
    return "detractor"


@dataclass
class DecidedRenewal:
    account_id: int
    decided_on: date
    churned: bool
    arr: Decimal | None  # renewed (kept) or lost
    csat: Decimal | None = None
    csat_source: str = ""
    nps: Decimal | None = None
    nps_on: date | None = None

    @property
    def csat_band(self) -> str:
        return csat_band(self.csat)

    @property
    def nps_category(self) -> str:
        return nps_category(self.nps)


@dataclass
class Group:
    key: str
    label: str
    ratio: Ratio


@dataclass
class Satisfaction:
    period: Period
    csat: list[Group]
    nps: list[Group]

    @property
    def decided(self) -> int:
        return sum(g.ratio.denominator for g in self.csat)


def _end_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day + timedelta(days=1), time.min))


def decided_renewals(*, scope: Scope, period: Period, today: date) -> list[DecidedRenewal]:
    """Every renewal decided in the period with what the customer said before it,
    churned first, then the latest decided, as the renewals drill lists them."""
    kind = ArrMovement.Kind
    movements = ArrMovement.objects.filter(
        scope.q("account__"),
        kind__in=[kind.RENEWAL, kind.CHURN],
        date__gte=period.start,
        date__lte=min(period.end, today),
    )
    rows = (
        movements.order_by()
        .values("account_id")
        .annotate(
            decided_on=Max("date"),
            churned=Count("pk", filter=Q(kind=kind.CHURN)),
            kept=Sum("amount", filter=Q(kind=kind.RENEWAL)),
            lost=Sum("amount", filter=Q(kind=kind.CHURN)),
        )
        .order_by("-churned", "-decided_on", "account_id")
    )
    renewals = [
        DecidedRenewal(
            account_id=r["account_id"],
            decided_on=r["decided_on"],
            churned=bool(r["churned"]),
            arr=r["lost"] if r["churned"] else r["kept"],
        )
        for r in rows
    ]
    if not renewals:
        return []
    first = min(r.decided_on for r in renewals)
    last = max(r.decided_on for r in renewals)
    accounts = movements.values("account_id")
    answers: dict[int, list[tuple[datetime, str, Decimal]]] = defaultdict(list)
    survey = FeedbackSubmission.SurveyType
    for pk, when, kind_of, score in (
        FeedbackSubmission.objects.filter(
            account_id__in=accounts,
            archived_at__isnull=True,
            score__isnull=False,
            submitted_at__lt=_end_of(last),
        )
        .filter(
            Q(survey_type=survey.NPS)
            | Q(survey_type=survey.CSAT, submitted_at__gte=_end_of(first - timedelta(CSAT_DAYS)))
        )
        .order_by("account_id", "submitted_at", "pk")
        .values_list("account_id", "submitted_at", "survey_type", "score")
    ):
        if score is not None:
            answers[pk].append((when, kind_of, score))
    typed: dict[int, list[tuple[date, Decimal]]] = defaultdict(list)
    for pk, day, csat in (
        UsageSnapshot.objects.filter(
            account_id__in=accounts,
            csat__isnull=False,
            date__gt=first - timedelta(CSAT_DAYS),
            date__lte=last,
        )
        .order_by("account_id", "date")
        .values_list("account_id", "date", "csat")
    ):
        if csat is not None:
            typed[pk].append((day, csat))
    for r in renewals:
        _attach(r, answers.get(r.account_id, []), typed.get(r.account_id, []))
    return renewals


def _attach(
    r: DecidedRenewal,
    answers: list[tuple[datetime, str, Decimal]],
    typed: list[tuple[date, Decimal]],
) -> None:
    until = _end_of(r.decided_on)
    since = _end_of(r.decided_on - timedelta(CSAT_DAYS))
    csat = [s for when, k, s in answers if k == "CSAT" and since <= when < until]
    if csat:
        r.csat = (sum(csat, Decimal(0)) / len(csat)).quantize(Decimal("0.01"))
        r.csat_source = SURVEYS
    else:
        window = [
            c for day, c in typed if r.decided_on - timedelta(CSAT_DAYS) < day <= r.decided_on
        ]
        if window:
            r.csat, r.csat_source = window[-1], SNAPSHOT
    nps = [(when, s) for when, k, s in answers if k == "NPS" and when < until]
    if nps:
        when, r.nps = nps[-1]
        r.nps_on = timezone.localtime(when).date()


def _groups(renewals: list[DecidedRenewal], keys: list[tuple[str, str]], attr: str) -> list[Group]:
    decided: dict[str, int] = defaultdict(int)
    renewed: dict[str, int] = defaultdict(int)
    for r in renewals:
        key = getattr(r, attr)
        decided[key] += 1
        renewed[key] += not r.churned
    return [Group(key, label, Ratio(renewed[key], decided[key])) for key, label in keys]


def renewal_by_satisfaction(*, scope: Scope, period: Period, today: date) -> Satisfaction:
    renewals = decided_renewals(scope=scope, period=period, today=today)
    return Satisfaction(
        period=period,
        csat=_groups(renewals, CSAT_BANDS, "csat_band"),
        nps=_groups(renewals, NPS_CATEGORIES, "nps_category"),
    )


def _outcome(r: DecidedRenewal) -> list[Any]:
    return [r.decided_on, "churned" if r.churned else "renewed", r.arr]


def csat_rows(band: str) -> Any:
    def rows(scope: Scope, period: Period, today: date, limit: int | None) -> Iterator[Any]:
        chosen = (
            r
            for r in decided_renewals(scope=scope, period=period, today=today)
            if r.csat_band == band
        )
        for i, r in enumerate(chosen):
            if limit is not None and i >= limit:
                return
            yield r.account_id, [*_outcome(r), r.csat if r.csat is not None else "", r.csat_source]

    return rows


def nps_rows(category: str) -> Any:
    def rows(scope: Scope, period: Period, today: date, limit: int | None) -> Iterator[Any]:
        chosen = (
            r
            for r in decided_renewals(scope=scope, period=period, today=today)
            if r.nps_category == category
        )
        for i, r in enumerate(chosen):
            if limit is not None and i >= limit:
                return
            score = "" if r.nps is None else f"{r.nps.normalize():f}"
            yield r.account_id, [*_outcome(r), score, r.nps_on or ""]

    return rows

"""Every read the onboarding pages need, with what they show already joined."""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any, NamedTuple

from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)

from accounts.models import Account, Segment

from .models import Milestone, OnboardingPlan, OnboardingTemplate, PlanStatus

# Late first, then at risk, then the rest; finished plans last.
STATUS_RANK = Case(
    When(status=PlanStatus.LATE, then=Value(0)),
    When(status=PlanStatus.AT_RISK, then=Value(1)),
    When(status=PlanStatus.NOT_STARTED, then=Value(2)),
    When(status=PlanStatus.ON_TRACK, then=Value(3)),
    default=Value(4),
    output_field=IntegerField(),
)

TTV_BUCKETS: list[tuple[str, int, int | None]] = [
    ("0–14 days", 0, 14),
    ("15–30 days", 15, 30),
    ("31–60 days", 31, 60),
    ("61–90 days", 61, 90),
    ("Over 90 days", 91, None),
]


def _open_milestones() -> QuerySet[Milestone]:
    return Milestone.objects.filter(
        plan=OuterRef("pk"), completed_on__isnull=True, skipped_on__isnull=True
    ).order_by("due_date", "position", "id")


def plans_list() -> QuerySet[OnboardingPlan]:
    """Plans with account, owner, template and next open milestone in one query."""
    nxt = _open_milestones()
    return (
        OnboardingPlan.objects.select_related("account__owner", "template")
        .annotate(
            status_rank=STATUS_RANK,
            next_title=Subquery(nxt.values("title")[:1]),
            next_due=Subquery(nxt.values("due_date")[:1]),
        )
        .order_by("status_rank", "next_due", "account__name", "pk")
    )


def plans_with_milestones() -> QuerySet[OnboardingPlan]:
    """Every plan (running and finished) with what plans_list joins, plus its
    milestones: the API's plan rows, two queries for any page size."""
    return plans_list().prefetch_related(
        Prefetch("milestones", queryset=Milestone.objects.select_related("assignee"))
    )


def milestone_detail() -> QuerySet[Milestone]:
    return Milestone.objects.select_related("plan__account__owner", "plan__template", "assignee")


def plan_detail() -> QuerySet[OnboardingPlan]:
    return OnboardingPlan.objects.select_related("account__owner", "template", "started_by")


def plan_milestones(*, plan: OnboardingPlan) -> QuerySet[Milestone]:
    return plan.milestones.select_related("assignee")


def plan_history(*, plan: OnboardingPlan, limit: int = 100) -> QuerySet:
    return plan.history.select_related("actor", "milestone")[:limit]


def account_plans(*, account: Account) -> list[OnboardingPlan]:
    """The account's plans, running one first, each with its milestones."""
    if not account.onboarding_status:
        # Starting a plan always writes onboarding_status, so an account
        # without one has no plan: the account page pays no query for it.
        return []
    return list(
        account.onboarding_plans.select_related("template")
        .prefetch_related(
            Prefetch("milestones", queryset=Milestone.objects.select_related("assignee"))
        )
        .order_by(F("finished_on").desc(nulls_first=True), "-start_date")
    )


def templates_admin_list() -> QuerySet[OnboardingTemplate]:
    return OnboardingTemplate.objects.annotate(
        milestone_count=Count("milestones", distinct=True),
        running_plans=Count("plans", filter=Q(plans__finished_on__isnull=True), distinct=True),
    ).order_by("archived_at", "-is_active", "name")


def template_with_milestones() -> QuerySet[OnboardingTemplate]:
    return OnboardingTemplate.objects.prefetch_related("milestones")


def templates_for_start(*, account: Account) -> list[OnboardingTemplate]:
    """Active templates, the ones suiting the account's segment first."""
    templates = list(OnboardingTemplate.objects.filter(is_active=True).order_by("name"))
    return sorted(templates, key=lambda t: account.segment not in (t.segments or []))


def template_outdated_plans(*, template: OnboardingTemplate) -> QuerySet[OnboardingPlan]:
    """Running plans on an older version where no milestone is done or skipped yet."""
    started = Milestone.objects.filter(plan=OuterRef("pk")).filter(
        Q(completed_on__isnull=False) | Q(skipped_on__isnull=False)
    )
    return (
        OnboardingPlan.objects.filter(
            template=template,
            finished_on__isnull=True,
            template_version__lt=template.version,
        )
        .exclude(Exists(started))
        .select_related("account", "template")
    )


# --- Leader insights -------------------------------------------------------


@dataclass
class TemplateStats:
    template: str
    milestones_done: int = 0
    milestones_on_time: int = 0
    plans: int = 0
    ttv: list[int] = field(default_factory=list)

    @property
    def on_time_rate(self) -> int | None:
        if not self.milestones_done:
            return None
        return round(100 * self.milestones_on_time / self.milestones_done)

    @property
    def ttv_median(self) -> float | None:
        return statistics.median(self.ttv) if self.ttv else None


@dataclass
class TtvGroup:
    label: str
    values: list[int]
    buckets: list[tuple[str, int, int]]  # label, count, percent of the widest bar

    @property
    def median(self) -> float | None:
        return statistics.median(self.values) if self.values else None


def _buckets(values: list[int], widest: int) -> list[tuple[str, int, int]]:
    out = []
    for label, low, high in TTV_BUCKETS:
        count = sum(1 for v in values if v >= low and (high is None or v <= high))
        out.append((label, count, round(100 * count / widest) if widest else 0))
    return out


def _groups(values_by_label: dict[str, list[int]]) -> list[TtvGroup]:
    counts = [
        sum(1 for v in vs if v >= lo and (hi is None or v <= hi))
        for vs in values_by_label.values()
        for _, lo, hi in TTV_BUCKETS
    ]
    widest = max(counts, default=0)
    return [
        TtvGroup(label=label, values=sorted(vs), buckets=_buckets(vs, widest))
        for label, vs in sorted(values_by_label.items())
    ]


@dataclass
class Insights:
    per_template: list[TemplateStats]
    ttv_by_template: list[TtvGroup]
    ttv_by_segment: list[TtvGroup]
    late_now: list[OnboardingPlan]


def onboarding_insights() -> Insights:
    """On-time rate and TTV per template and segment, and the plans late now.
    Three queries whatever the number of plans."""
    per_template: dict[str, TemplateStats] = {}
    rows = (
        Milestone.objects.filter(completed_on__isnull=False)
        .values("plan__template__name")
        .annotate(
            done=Count("pk"),
            in_time=Count("pk", filter=Q(completed_on__lte=F("due_date"))),
        )
    )
    for row in rows:
        name = row["plan__template__name"]
        stats = per_template.setdefault(name, TemplateStats(template=name))
        stats.milestones_done = row["done"]
        stats.milestones_on_time = row["in_time"]

    by_template: dict[str, list[int]] = defaultdict(list)
    by_segment: dict[str, list[int]] = defaultdict(list)
    for name, segment, ttv in OnboardingPlan.objects.values_list(
        "template__name", "account__segment", "ttv_days"
    ):
        stats = per_template.setdefault(name, TemplateStats(template=name))
        stats.plans += 1
        if ttv is not None:
            stats.ttv.append(ttv)
            by_template[name].append(ttv)
            by_segment[Segment(segment).label if segment in Segment.values else segment].append(ttv)
    late_now = list(plans_list().filter(status=PlanStatus.LATE, finished_on__isnull=True)[:100])
    return Insights(
        per_template=sorted(per_template.values(), key=lambda s: s.template),
        ttv_by_template=_groups(by_template),
        ttv_by_segment=_groups(by_segment),
        late_now=late_now,
    )


class PlanRow(NamedTuple):
    """What a row of the onboarding list shows, read as values (no plan, account,
    owner and template instances per row, nor their other columns)."""

    pk: int
    status: str
    progress: int
    start_date: date
    template_version: int
    next_title: str | None
    next_due: date | None
    account_name: str
    template_name: str
    owner_username: str | None
    owner_first_name: str | None
    owner_last_name: str | None


def plan_list_rows(plans: QuerySet[OnboardingPlan]) -> QuerySet[Any]:
    """PlanRow tuples (`PlanRow._make`) of `plans_list()`, filtered, in its order."""
    return plans.select_related(None).values_list(  # type: ignore[misc]  # annotations
        "pk",
        "status",
        "progress",
        "start_date",
        "template_version",
        "next_title",
        "next_due",
        "account__name",
        "template__name",
        "account__owner__username",
        "account__owner__first_name",
        "account__owner__last_name",
    )

"""Every read the success pages need, with what they show already joined, so
a page costs the same few queries for 5 rows or 5,000."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import Count, Prefetch, Q, QuerySet, Sum
from django.db.models.functions import TruncMonth, TruncQuarter
from django.urls import reverse

from accounts.formats import money_display
from accounts.models import Account, ForecastCategory, HealthBand, User

from .models import (
    BusinessReview,
    ForecastChange,
    Objective,
    ObjectiveUpdate,
    Renewal,
    SuccessPlan,
    SuccessTask,
)
from .models.plans import objective_progress


def _open_tasks() -> QuerySet[SuccessTask]:
    return SuccessTask.objects.filter(done_at__isnull=True).select_related(
        "assignee_user", "assignee_contact", "objective", "review"
    )


def current_plan(*, account: Account) -> SuccessPlan | None:
    """The account's current plan with objectives, their tasks and history."""
    return (
        SuccessPlan.objects.filter(account=account, replaced_at__isnull=True)
        .prefetch_related(
            Prefetch(
                "objectives",
                queryset=Objective.objects.prefetch_related(
                    Prefetch(
                        "tasks",
                        queryset=SuccessTask.objects.select_related(
                            "assignee_user", "assignee_contact"
                        ),
                    ),
                    Prefetch("updates", queryset=ObjectiveUpdate.objects.select_related("by")),
                ),
            )
        )
        .first()
    )


def shared_plan(*, token: str) -> SuccessPlan | None:
    """The current plan behind a customer link, or None once revoked or replaced."""
    if not token:
        return None
    return (
        SuccessPlan.objects.filter(share_token=token, replaced_at__isnull=True)
        .select_related("account")
        .prefetch_related(
            Prefetch(
                "objectives",
                queryset=Objective.objects.prefetch_related(
                    Prefetch(
                        "tasks",
                        queryset=SuccessTask.objects.select_related(
                            "assignee_user", "assignee_contact"
                        ),
                    )
                ),
            )
        )
        .first()
    )


def plan_history(*, account: Account) -> QuerySet[SuccessPlan]:
    return SuccessPlan.objects.filter(account=account, replaced_at__isnull=False).select_related(
        "created_by"
    )


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


def reviews_for(*, account: Account) -> QuerySet[BusinessReview]:
    return BusinessReview.objects.filter(account=account).select_related("owner")


@dataclass
class AccountSuccess:
    """What the account page shows of plans, reviews and the renewal."""

    plan: SuccessPlan | None
    upcoming_reviews: list[BusinessReview]
    past_reviews: list[BusinessReview]
    renewal: Renewal | None
    open_tasks: list[SuccessTask]


def account_success(*, account: Account) -> AccountSuccess:
    reviews = list(reviews_for(account=account).exclude(status=BusinessReview.Status.CANCELLED))
    return AccountSuccess(
        plan=SuccessPlan.objects.filter(account=account, replaced_at__isnull=True)
        .prefetch_related("objectives")
        .first(),
        upcoming_reviews=sorted(
            (r for r in reviews if r.status == BusinessReview.Status.SCHEDULED),
            key=lambda r: r.scheduled_for,
        ),
        past_reviews=[r for r in reviews if r.status == BusinessReview.Status.HELD][:5],
        renewal=open_renewal(account=account),
        open_tasks=list(_open_tasks().filter(account=account)[:10]),
    )


# ---- Review pack ----


@dataclass
class ObjectiveMovement:
    title: str
    metric: str
    baseline: Decimal
    target: Decimal
    value: Decimal
    status: str
    progress: int
    previous_value: Decimal | None
    previous_progress: int | None

    @property
    def change(self) -> Decimal | None:
        return None if self.previous_value is None else self.value - self.previous_value

    @property
    def progress_change(self) -> int | None:
        return None if self.previous_progress is None else self.progress - self.previous_progress

    @property
    def status_label(self) -> str:
        from .models import ObjectiveStatus

        return ObjectiveStatus(self.status).label if self.status else ""


@dataclass
class ReviewPack:
    review: BusinessReview
    snapshot: dict[str, Any]
    is_live: bool
    previous: BusinessReview | None
    objectives: list[ObjectiveMovement]
    action_items: list[SuccessTask]
    open_tasks: list[SuccessTask]
    renewal: Renewal | None
    attendee_users: list[User] = field(default_factory=list)
    attendee_contacts: list[Any] = field(default_factory=list)

    @property
    def arr_change(self) -> Decimal | None:
        if not self.previous or "arr" not in self.previous.snapshot:
            return None
        return Decimal(self.snapshot["arr"]) - Decimal(self.previous.snapshot["arr"])

    @property
    def health_change(self) -> int | None:
        before = self.previous.snapshot.get("health_score") if self.previous else None
        now = self.snapshot.get("health_score")
        return None if before is None or now is None else now - before


def review_pack(*, review: BusinessReview) -> ReviewPack:
    """A held review shows its frozen snapshot; a scheduled one shows the
    account as it is now. Both compare with the last review held before it."""
    from .services.reviews import review_snapshot

    review = (
        BusinessReview.objects.select_related("account__owner", "owner")
        .prefetch_related("attendee_users", "attendee_contacts")
        .get(pk=review.pk)
    )
    account = review.account
    is_live = not review.is_held
    snapshot = review_snapshot(account=account) if is_live else review.snapshot
    earlier = BusinessReview.objects.filter(account=account, status=BusinessReview.Status.HELD)
    if review.is_held and review.held_on:
        earlier = earlier.filter(
            Q(held_on__lt=review.held_on) | Q(held_on=review.held_on, pk__lt=review.pk)
        )
    previous = earlier.exclude(pk=review.pk).order_by("-held_on", "-pk").first()
    before = {o["id"]: o for o in (previous.snapshot.get("objectives", []) if previous else [])}
    movements = []
    for o in snapshot.get("objectives", []):
        prior = before.get(o["id"])
        baseline, target, value = (
            Decimal(o["baseline"]),
            Decimal(o["target"]),
            Decimal(o["current_value"]),
        )
        movements.append(
            ObjectiveMovement(
                title=o["title"],
                metric=o["metric"],
                baseline=baseline,
                target=target,
                value=value,
                status=o["status"],
                progress=objective_progress(baseline, target, value),
                previous_value=Decimal(prior["current_value"]) if prior else None,
                previous_progress=prior["progress"] if prior else None,
            )
        )
    return ReviewPack(
        review=review,
        snapshot=snapshot,
        is_live=is_live,
        previous=previous,
        objectives=movements,
        action_items=list(review.action_items.select_related("assignee_user", "assignee_contact")),
        open_tasks=list(_open_tasks().filter(account=account)),
        renewal=open_renewal(account=account),
        attendee_users=list(review.attendee_users.all()),
        attendee_contacts=list(review.attendee_contacts.all()),
    )


# ---- Renewals pipeline ----


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
    for row in rows:
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


# ---- My work ----


@dataclass(frozen=True)
class WorkItem:
    kind: str
    title: str
    account: Account
    due: date | None
    url: str
    detail: str
    overdue: bool
    task_id: int | None = None

    @property
    def kind_label(self) -> str:
        return WORK_KINDS[self.kind]


WORK_KINDS = {
    "task": "Task",
    "action": "Action item",
    "review": "Review",
    "renewal": "Renewal",
    "playbook": "Playbook step",
}


def my_work(*, user: User, today: date) -> list[WorkItem]:
    """Everything due for one person, overdue first, then by date (undated last).
    Tasks and action items assigned to them, reviews they prepare, and open
    renewals on the accounts they own. Four queries whatever the count."""
    items: list[WorkItem] = []
    tasks = (
        SuccessTask.objects.filter(assignee_user=user, done_at__isnull=True)
        .select_related(
            "account",
            "objective",
            "review",
            "playbook_step__step",
            "playbook_step__run__playbook",
        )
        .order_by("due_date", "pk")
    )
    for t in tasks:
        is_action = t.review_id is not None
        play = getattr(t, "playbook_step", None)
        if play is not None:
            items.append(
                WorkItem(
                    kind="playbook",
                    title=play.step.title,
                    account=t.account,
                    due=t.due_date,
                    url=reverse("playbooks:run", args=[play.run_id]),
                    detail=f"Playbook: {play.run.playbook.name}"
                    + (f" — {play.step.guidance}" if play.step.guidance else ""),
                    overdue=bool(t.due_date and t.due_date < today),
                    task_id=t.pk,
                )
            )
            continue
        items.append(
            WorkItem(
                kind="action" if is_action else "task",
                title=t.title,
                account=t.account,
                due=t.due_date,
                url=t.review.get_absolute_url()
                if t.review
                else f"{t.account.get_absolute_url()}#success-plan",
                detail=(
                    f"Action item from {t.review.get_kind_display()} {t.review.held_on or ''}"
                    if t.review
                    else f"Objective: {t.objective.title}"
                    if t.objective
                    else "Task"
                ),
                overdue=bool(t.due_date and t.due_date < today),
                task_id=t.pk,
            )
        )
    reviews = BusinessReview.objects.filter(
        owner=user, status=BusinessReview.Status.SCHEDULED
    ).select_related("account")
    for r in reviews:
        items.append(
            WorkItem(
                kind="review",
                title=f"Prepare the {r.get_kind_display()}",
                account=r.account,
                due=r.scheduled_for,
                url=r.get_absolute_url(),
                detail="Review pack and agenda",
                overdue=r.scheduled_for < today,
            )
        )
    renewals = (
        Renewal.objects.filter(account__owner=user, status=Renewal.Status.OPEN)
        .exclude(account__status=Account.Status.ARCHIVED)
        .select_related("account")
    )
    for n in renewals:
        items.append(
            WorkItem(
                kind="renewal",
                title="Forecast the renewal"
                if not n.forecast_category
                else f"Renewal: {n.get_forecast_category_display()}",
                account=n.account,
                due=n.renewal_date,
                url=n.get_absolute_url(),
                detail=f"{money_display(n.current_arr, n.account.currency)} up for renewal",
                overdue=n.renewal_date < today,
            )
        )
    items.sort(key=lambda i: (not i.overdue, i.due is None, i.due or date.max, i.kind))
    return items


# ---- API lists ----


def success_plans_list() -> QuerySet[SuccessPlan]:
    """Every plan (current and replaced) with its account, author and objectives."""
    return SuccessPlan.objects.select_related("account__owner", "created_by").prefetch_related(
        "objectives"
    )


def objective_detail() -> QuerySet[Objective]:
    return Objective.objects.select_related("plan__account__owner")


def reviews_list() -> QuerySet[BusinessReview]:
    return BusinessReview.objects.select_related("account__owner", "owner").prefetch_related(
        "attendee_users", "attendee_contacts"
    )


def renewals_list() -> QuerySet[Renewal]:
    """Every renewal with its account, churn reason and forecast history."""
    return Renewal.objects.select_related("account__owner", "churn_reason").prefetch_related(
        Prefetch("forecast_changes", queryset=ForecastChange.objects.select_related("changed_by"))
    )

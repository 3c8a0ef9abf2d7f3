"""Reads that gather plans, reviews and renewals for one page: the success
section of the account page and a person's My work list."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from accounts.formats import money_display
from accounts.links import url_for_ids
from accounts.models import Account, ForecastCategory, User

from ..models import (
    BusinessReview,
    Renewal,
    ReviewKind,
    SuccessPlan,
    SuccessTask,
)
from .plans import open_tasks
from .renewals import open_renewal
from .reviews import reviews_for


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
        open_tasks=list(open_tasks().filter(account=account)[:10]),
    )


@dataclass(frozen=True, slots=True)
class WorkItem:
    kind: str
    title: str
    account_id: int
    account_name: str
    account_url: str
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

_REVIEW_KINDS = dict(ReviewKind.choices)
_FORECASTS = dict(ForecastCategory.choices)


def my_work(*, user: User, today: date) -> list[WorkItem]:
    """Everything due for one person, overdue first, then by date (undated last).
    Tasks and action items assigned to them, reviews they prepare, and open
    renewals on the accounts they own. Three queries whatever the count; rows are
    read as values, not models (a CSM's book is a thousand rows and more: building
    a model per joined row cost more than the page's SQL, docs/performance.md)."""
    items: list[WorkItem] = []
    account_url = url_for_ids("account")
    review_url = url_for_ids("success:review")
    run_url = url_for_ids("playbooks:run")
    renewal_url = url_for_ids("success:renewal")
    tasks = (
        SuccessTask.objects.filter(assignee_user=user, done_at__isnull=True)
        .order_by("due_date", "pk")
        .values_list(
            "pk",
            "title",
            "due_date",
            "account_id",
            "account__name",
            "review_id",
            "review__kind",
            "review__held_on",
            "objective_id",
            "objective__title",
            "playbook_step__run_id",
            "playbook_step__step__title",
            "playbook_step__step__guidance",
            "playbook_step__run__playbook__name",
        )
    )
    for (
        pk,
        title,
        due,
        account_id,
        account_name,
        review_id,
        review_kind,
        held_on,
        objective_id,
        objective_title,
        run_id,
        step_title,
        guidance,
        playbook_name,
    ) in tasks:
        url = account_url(account_id)
        overdue = bool(due and due < today)
        if run_id is not None:
            items.append(
                WorkItem(
                    kind="playbook",
                    title=step_title,
                    account_id=account_id,
                    account_name=account_name,
                    account_url=url,
                    due=due,
                    url=run_url(run_id),
                    detail=f"Playbook: {playbook_name}" + (f" — {guidance}" if guidance else ""),
                    overdue=overdue,
                    task_id=pk,
                )
            )
            continue
        items.append(
            WorkItem(
                kind="action" if review_id is not None else "task",
                title=title,
                account_id=account_id,
                account_name=account_name,
                account_url=url,
                due=due,
                url=review_url(review_id) if review_id is not None else f"{url}#success-plan",
                detail=(
                    f"Action item from {_REVIEW_KINDS.get(review_kind, review_kind)} "
                    f"{held_on or ''}"
                    if review_id is not None
                    else f"Objective: {objective_title}"
                    if objective_id is not None
                    else "Task"
                ),
                overdue=overdue,
                task_id=pk,
            )
        )
    reviews = BusinessReview.objects.filter(
        owner=user, status=BusinessReview.Status.SCHEDULED
    ).values_list("pk", "kind", "scheduled_for", "account_id", "account__name")
    for pk, kind, scheduled_for, account_id, account_name in reviews:
        items.append(
            WorkItem(
                kind="review",
                title=f"Prepare the {_REVIEW_KINDS.get(kind, kind)}",
                account_id=account_id,
                account_name=account_name,
                account_url=account_url(account_id),
                due=scheduled_for,
                url=review_url(pk),
                detail="Review pack and agenda",
                overdue=scheduled_for < today,
            )
        )
    renewals = (
        Renewal.objects.filter(account__owner=user, status=Renewal.Status.OPEN)
        .exclude(account__status=Account.Status.ARCHIVED)
        .values_list(
            "pk",
            "forecast_category",
            "renewal_date",
            "current_arr",
            "account_id",
            "account__name",
            "account__currency",
        )
    )
    for pk, forecast, renewal_date, arr, account_id, account_name, currency in renewals:
        items.append(
            WorkItem(
                kind="renewal",
                title="Forecast the renewal"
                if not forecast
                else f"Renewal: {_FORECASTS.get(forecast, forecast)}",
                account_id=account_id,
                account_name=account_name,
                account_url=account_url(account_id),
                due=renewal_date,
                url=renewal_url(pk),
                detail=f"{money_display(arr, currency)} up for renewal",
                overdue=renewal_date < today,
            )
        )
    items.sort(key=lambda i: (not i.overdue, i.due is None, i.due or date.max, i.kind))
    return items

"""Reads that gather plans, reviews and renewals for one page: the success
section of the account page and a person's My work list."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.urls import reverse

from accounts.formats import money_display
from accounts.models import Account, User

from ..models import BusinessReview, Renewal, SuccessPlan, SuccessTask
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

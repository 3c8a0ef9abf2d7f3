"""Reads for success plans, their objectives and tasks: the plan page, the
customer's shared link and the API's plan list."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from accounts.models import Account

from ..models import Objective, ObjectiveUpdate, SuccessPlan, SuccessTask


def open_tasks() -> QuerySet[SuccessTask]:
    """Tasks not yet done, with what a task row shows (account pages, review packs)."""
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


def success_plans_list() -> QuerySet[SuccessPlan]:
    """Every plan (current and replaced) with its account, author and objectives."""
    return SuccessPlan.objects.select_related("account__owner", "created_by").prefetch_related(
        "objectives"
    )


def objective_detail() -> QuerySet[Objective]:
    return Objective.objects.select_related("plan__account__owner")

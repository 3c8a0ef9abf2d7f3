"""Writes to success plans, objectives and tasks."""

from __future__ import annotations

import secrets
from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import Account, Contact, Event, User
from accounts.services import event_record

from ..models import (
    BusinessReview,
    Objective,
    ObjectiveStatus,
    ObjectiveUpdate,
    SuccessPlan,
    SuccessTask,
)


@transaction.atomic
def plan_create(
    *, account: Account, desired_outcomes: str, by: User | None, internal_notes: str = ""
) -> SuccessPlan:
    """Start a success plan. A current plan is kept as history, not deleted,
    and its share link stops working (the customer sees the new plan only
    once it is shared again)."""
    now = timezone.now()
    previous = (
        SuccessPlan.objects.select_for_update()
        .filter(account=account, replaced_at__isnull=True)
        .first()
    )
    if previous:
        previous.replaced_at = now
        previous.share_token = None
        previous.save(update_fields=["replaced_at", "share_token", "updated_at"])
    plan = SuccessPlan(
        account=account,
        desired_outcomes=desired_outcomes.strip(),
        internal_notes=internal_notes.strip(),
        created_by=by,
    )
    plan.full_clean()
    plan.save()
    event_record(
        account=account,
        kind=Event.Kind.SUCCESS,
        summary="Replaced the success plan" if previous else "Started a success plan",
        actor=by,
        link=plan.get_absolute_url(),
    )
    return plan


@transaction.atomic
def plan_update(
    *, plan: SuccessPlan, desired_outcomes: str, internal_notes: str, by: User | None
) -> SuccessPlan:
    """Edit the outcomes and internal notes of a current plan."""
    if not plan.is_current:
        raise ValidationError("This plan was replaced; edit the current one.")
    plan.desired_outcomes = desired_outcomes.strip()
    plan.internal_notes = internal_notes.strip()
    plan.full_clean()
    plan.save(update_fields=["desired_outcomes", "internal_notes", "updated_at"])
    event_record(
        account=plan.account,
        kind=Event.Kind.SUCCESS,
        summary="Updated the success plan's outcomes",
        actor=by,
        link=plan.get_absolute_url(),
    )
    return plan


@transaction.atomic
def plan_share(*, plan: SuccessPlan, by: User | None) -> SuccessPlan:
    """Give the plan a new unguessable link for the customer. Sharing again
    issues a new link, so an old one that leaked stops working."""
    if not plan.is_current:
        raise ValidationError("Only the current plan can be shared.")
    plan.share_token = secrets.token_urlsafe(32)
    plan.shared_at = timezone.now()
    plan.save(update_fields=["share_token", "shared_at", "updated_at"])
    event_record(
        account=plan.account,
        kind=Event.Kind.SUCCESS,
        summary="Shared the success plan with the customer",
        actor=by,
        link=plan.get_absolute_url(),
    )
    return plan


@transaction.atomic
def plan_share_revoke(*, plan: SuccessPlan, by: User | None) -> SuccessPlan:
    """The customer's link stops working at once."""
    if not plan.share_token:
        return plan
    plan.share_token = None
    plan.shared_at = None
    plan.save(update_fields=["share_token", "shared_at", "updated_at"])
    event_record(
        account=plan.account,
        kind=Event.Kind.SUCCESS,
        summary="Revoked the customer's link to the success plan",
        actor=by,
        link=plan.get_absolute_url(),
    )
    return plan


@transaction.atomic
def objective_create(
    *,
    plan: SuccessPlan,
    title: str,
    metric: str,
    baseline: Decimal,
    target: Decimal,
    current_value: Decimal | None = None,
    due_date: date | None = None,
    by: User | None,
) -> Objective:
    """Add an objective. Its current value starts at the baseline unless given."""
    if not plan.is_current:
        raise ValidationError("This plan was replaced; add objectives to the current one.")
    objective = Objective(
        plan=plan,
        title=title.strip(),
        metric=metric.strip(),
        baseline=baseline,
        target=target,
        current_value=baseline if current_value is None else current_value,
        due_date=due_date,
        display_order=plan.objectives.count(),
    )
    objective.full_clean()
    objective.save()
    ObjectiveUpdate.objects.create(
        objective=objective,
        to_value=objective.current_value,
        to_status=objective.status,
        note="Created",
        by=by,
    )
    event_record(
        account=plan.account,
        kind=Event.Kind.SUCCESS,
        summary=f"Added objective {objective.title}",
        actor=by,
        link=plan.get_absolute_url(),
    )
    return objective


@transaction.atomic
def objective_value_record(
    *, objective: Objective, value: Decimal, by: User | None, note: str = ""
) -> Objective:
    """Record a new current value; the old one stays in the objective's history."""
    old = objective.current_value
    if old == value:
        return objective
    objective.current_value = value
    objective.save(update_fields=["current_value", "updated_at"])
    ObjectiveUpdate.objects.create(
        objective=objective, from_value=old, to_value=value, note=note.strip(), by=by
    )
    event_record(
        account=objective.plan.account,
        kind=Event.Kind.SUCCESS,
        summary=f"{objective.title}: {objective.metric} {old:g} → {value:g}",
        actor=by,
        link=objective.plan.get_absolute_url(),
    )
    return objective


@transaction.atomic
def objective_status_set(
    *, objective: Objective, status: str, note: str, by: User | None
) -> Objective:
    """Set an objective's status by hand. A note says why."""
    note = (note or "").strip()
    if status not in ObjectiveStatus.values:
        raise ValidationError({"status": f"Unknown status {status!r}."})
    if not note:
        raise ValidationError({"note": "Say why the status changes."})
    old = objective.status
    if old == status:
        raise ValidationError({"status": "The objective already has this status."})
    objective.status = status
    objective.status_note = note
    objective.save(update_fields=["status", "status_note", "updated_at"])
    ObjectiveUpdate.objects.create(
        objective=objective, from_status=old, to_status=status, note=note, by=by
    )
    event_record(
        account=objective.plan.account,
        kind=Event.Kind.SUCCESS,
        summary=f"{objective.title}: {ObjectiveStatus(old).label} → "
        f"{ObjectiveStatus(status).label}: {note}",
        actor=by,
        link=objective.plan.get_absolute_url(),
    )
    return objective


@transaction.atomic
def objective_progress_record(
    *,
    objective: Objective,
    by: User | None,
    value: Decimal | None = None,
    status: str | None = None,
    note: str = "",
) -> Objective:
    """Where an objective stands: a new current value, a new status, or both,
    in one transaction (a refused status leaves the value untouched). The
    note goes with each change; a status change needs one, as on the page.
    Sending the status it already has beside a new value changes only the value."""
    if not objective.plan.is_current:
        raise ValidationError("This plan was replaced; record progress on the current one.")
    if value is None and status is None:
        raise ValidationError("Send a new current value, a new status, or both.")
    if value is not None:
        objective_value_record(objective=objective, value=value, by=by, note=note)
    if status is not None and (value is None or status != objective.status):
        objective_status_set(objective=objective, status=status, note=note, by=by)
    return objective


@transaction.atomic
def task_create(
    *,
    account: Account,
    title: str,
    by: User | None,
    objective: Objective | None = None,
    review: BusinessReview | None = None,
    assignee_user: User | None = None,
    assignee_contact: Contact | None = None,
    due_date: date | None = None,
) -> SuccessTask:
    """Add a task under an objective, or an action item from a review."""
    if objective and objective.plan.account_id != account.pk:
        raise ValidationError({"objective": "That objective belongs to another account."})
    if review and review.account_id != account.pk:
        raise ValidationError({"review": "That review belongs to another account."})
    task = SuccessTask(
        account=account,
        objective=objective,
        review=review,
        title=title.strip(),
        assignee_user=assignee_user,
        assignee_contact=assignee_contact,
        due_date=due_date,
        created_by=by,
    )
    task.full_clean()
    task.save()
    return task


@transaction.atomic
def task_set_done(*, task: SuccessTask, done: bool, by: User | None) -> SuccessTask:
    """Tick a task off, or reopen it."""
    if done == task.done:
        return task
    task.done_at = timezone.now() if done else None
    task.save(update_fields=["done_at", "updated_at"])
    event_record(
        account=task.account,
        kind=Event.Kind.SUCCESS,
        summary=f"{'Done' if done else 'Reopened'}: {task.title}",
        actor=by,
    )
    if done:
        # A playbook's task: its step (and the step's HubSpot task) follows at once.
        from success.playbooks.services import run_step_task_done

        run_step_task_done(task=task, by=by)
    return task

"""Writes to plans and their milestones (CSMs, leaders, the daily job)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from accounts.formats import date_display
from accounts.models import Account, Event, Stage, User
from accounts.roles import sees_all_writes
from accounts.services import account_cs_fields_update, account_stage_change, event_record

from ..models import (
    Milestone,
    MilestoneKind,
    OnboardingPlan,
    OnboardingTemplate,
    OwnerSide,
    PlanHistory,
    PlanStatus,
)
from ..status import plan_derive

ADHOC_FIELDS = ("title", "description", "kind", "owner_side", "required", "due_date")


# --- Plans -----------------------------------------------------------------


def _history(
    plan: OnboardingPlan,
    *,
    action: str,
    summary: str,
    by: User | None,
    milestone: Milestone | None = None,
    data: Mapping[str, Any] | None = None,
) -> None:
    PlanHistory.objects.create(
        plan=plan,
        milestone=milestone,
        action=action,
        summary=summary[:500],
        actor=by,
        data=dict(data or {}),
    )
    event_record(
        account=plan.account,
        kind=Event.Kind.ONBOARDING,
        summary=f"Onboarding: {summary}",
        actor=by,
        link=plan.get_absolute_url(),
        data={"plan": plan.pk, "action": action, **(data or {})},
    )


def _copy_milestones(plan: OnboardingPlan, template: OnboardingTemplate) -> None:
    from datetime import timedelta

    Milestone.objects.bulk_create(
        Milestone(
            plan=plan,
            source=m,
            title=m.title,
            description=m.description,
            kind=m.kind,
            owner_side=m.owner_side,
            required=m.required,
            is_first_value=m.is_first_value,
            position=m.position,
            due_date=plan.start_date + timedelta(days=m.due_offset_days),
        )
        for m in template.milestones.all()
    )


@transaction.atomic
def plan_refresh(
    *, plan: OnboardingPlan, by: User | None, today: date | None = None
) -> OnboardingPlan:
    """Re-derive status, progress and time to value; copy them to the account;
    finish the plan (and move the account to adoption) when it completes.

    Writes a history row and an event only when the status really changes, so
    calling it twice in a row changes nothing the second time.
    """
    today = today or timezone.localdate()
    milestones = list(plan.milestones.all())
    derived = plan_derive(milestones, today)

    first_values = sorted(
        m.completed_on for m in milestones if m.is_first_value and m.completed_on is not None
    )
    first_value_on = first_values[0] if first_values else None
    account = plan.account
    origin = account.contract_start or plan.start_date
    ttv_days = (first_value_on - origin).days if first_value_on else None

    old_status = plan.status
    changed = {
        field: value
        for field, value in {
            "status": derived.status,
            "progress": derived.progress,
            "first_value_on": first_value_on,
            "ttv_days": ttv_days,
        }.items()
        if getattr(plan, field) != value
    }
    finishing = derived.complete and plan.finished_on is None
    if finishing:
        done_dates = [m.completed_on or m.skipped_on for m in milestones if m.required]
        changed["finished_on"] = max(d for d in done_dates if d is not None)
    if changed:
        for field, value in changed.items():
            setattr(plan, field, value)
        plan.save(update_fields=[*changed, "updated_at"])
    if "first_value_on" in changed and first_value_on is not None:
        _history(
            plan,
            action=PlanHistory.Action.COMPLETED,
            summary=f"first value reached on {date_display(first_value_on)}, "
            f"time to value {ttv_days} days",
            by=by,
            data={"ttv_days": ttv_days},
        )
    if "status" in changed and not finishing:
        _history(
            plan,
            action=PlanHistory.Action.STATUS_CHANGED,
            summary=f"{plan.template.name} is now {PlanStatus(derived.status).label.lower()}"
            f" ({derived.progress}% done)",
            by=by,
            data={"from": old_status, "to": derived.status},
        )
    if finishing:
        _history(
            plan,
            action=PlanHistory.Action.FINISHED,
            summary=f"{plan.template.name} completed",
            by=by,
        )
    account_cs_fields_update(
        account=account,
        onboarding_status=PlanStatus(plan.status).label.lower(),
        onboarding_progress=plan.progress,
    )
    if finishing and account.stage == Stage.ONBOARDING:
        account_stage_change(
            account=account, to_stage=Stage.ADOPTION, reason="Onboarding completed", by=by
        )
    return plan


@transaction.atomic
def plan_start(
    *, account: Account, template: OnboardingTemplate, start_date: date, by: User | None
) -> OnboardingPlan:
    """Apply an active template to an account: copy its milestones with due
    dates = start + offset, and record which template version was used."""
    if not template.is_active:
        raise ValidationError({"template": "Only an active template can start a plan."})
    if OnboardingPlan.objects.filter(account=account, finished_on__isnull=True).exists():
        raise ValidationError("This account already has an onboarding plan running.")
    plan = OnboardingPlan(
        account=account,
        template=template,
        template_version=template.version,
        start_date=start_date,
        started_by=by,
    )
    try:
        with transaction.atomic():
            plan.save()
    except IntegrityError as exc:  # a concurrent start won the race
        raise ValidationError("This account already has an onboarding plan running.") from exc
    _copy_milestones(plan, template)
    _history(
        plan,
        action=PlanHistory.Action.STARTED,
        summary=f"started {template.name} (v{template.version}) on {date_display(start_date)}",
        by=by,
        data={"template": template.pk, "version": template.version},
    )
    return plan_refresh(plan=plan, by=by)


def _require_running(milestone: Milestone) -> OnboardingPlan:
    plan = milestone.plan
    if not plan.is_active:
        raise ValidationError("This plan is finished; it stays as history.")
    return plan


@transaction.atomic
def milestone_complete(
    *, milestone: Milestone, by: User | None, on: date, note: str = ""
) -> Milestone:
    """Mark a milestone done on a date; a first-value milestone records TTV."""
    plan = _require_running(milestone)
    if milestone.is_done:
        raise ValidationError("This milestone is already done.")
    if on > timezone.localdate():
        raise ValidationError({"on": "A milestone cannot be completed in the future."})
    milestone.completed_on = on
    milestone.completion_note = note.strip()
    milestone.skipped_on = None
    milestone.skip_reason = ""
    milestone.full_clean()
    milestone.save()
    days_late = (on - milestone.due_date).days
    late = "" if days_late <= 0 else f", {days_late} day{'s' if days_late > 1 else ''} late"
    _history(
        plan,
        milestone=milestone,
        action=PlanHistory.Action.COMPLETED,
        summary=f"completed “{milestone.title}” on {date_display(on)}{late}",
        by=by,
        data={"milestone": milestone.pk, "on": on.isoformat(), "note": milestone.completion_note},
    )
    plan_refresh(plan=plan, by=by)
    return milestone


@transaction.atomic
def milestone_reopen(*, milestone: Milestone, by: User | None) -> Milestone:
    """Undo a completion or a skip."""
    plan = _require_running(milestone)
    if milestone.is_open:
        raise ValidationError("This milestone is already open.")
    was = "completed" if milestone.is_done else "skipped"
    milestone.completed_on = None
    milestone.completion_note = ""
    milestone.skipped_on = None
    milestone.skip_reason = ""
    milestone.save()
    _history(
        plan,
        milestone=milestone,
        action=PlanHistory.Action.REOPENED,
        summary=f"reopened “{milestone.title}” (was {was})",
        by=by,
        data={"milestone": milestone.pk},
    )
    plan_refresh(plan=plan, by=by)
    return milestone


@transaction.atomic
def milestone_skip(*, milestone: Milestone, by: User | None, reason: str) -> Milestone:
    """Skip a milestone with a reason. Required milestones only by a leader or admin."""
    plan = _require_running(milestone)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say why this milestone is skipped."})
    if milestone.required and not sees_all_writes(by):
        raise ValidationError(
            "Only a CS leader or an admin can skip a required milestone; optional ones are yours."
        )
    if not milestone.is_open:
        raise ValidationError("Reopen this milestone before skipping it.")
    milestone.skipped_on = timezone.localdate()
    milestone.skip_reason = reason
    milestone.full_clean()
    milestone.save()
    _history(
        plan,
        milestone=milestone,
        action=PlanHistory.Action.SKIPPED,
        summary=f"skipped “{milestone.title}”: {reason}",
        by=by,
        data={"milestone": milestone.pk, "reason": reason},
    )
    plan_refresh(plan=plan, by=by)
    return milestone


@transaction.atomic
def milestone_due_change(
    *, milestone: Milestone, by: User | None, due_date: date, reason: str
) -> Milestone:
    """Move a milestone's due date; the reason is kept in the history."""
    plan = _require_running(milestone)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say why the due date moves."})
    if due_date == milestone.due_date:
        raise ValidationError({"due_date": "That is already the due date."})
    old = milestone.due_date
    milestone.due_date = due_date
    milestone.save(update_fields=["due_date", "updated_at"])
    _history(
        plan,
        milestone=milestone,
        action=PlanHistory.Action.DUE_CHANGED,
        summary=f"moved “{milestone.title}” from {old:%b %-d} to {date_display(due_date)}: "
        f"{reason}",
        by=by,
        data={
            "milestone": milestone.pk,
            "from": old.isoformat(),
            "to": due_date.isoformat(),
            "reason": reason,
        },
    )
    plan_refresh(plan=plan, by=by)
    return milestone


@transaction.atomic
def milestone_reassign(
    *, milestone: Milestone, by: User | None, owner_side: str, assignee: User | None
) -> Milestone:
    """Give the milestone to another side (CSM, customer, implementation) or person."""
    plan = _require_running(milestone)
    if owner_side not in OwnerSide.values:
        raise ValidationError({"owner_side": f"Unknown owner {owner_side!r}."})
    if owner_side == milestone.owner_side and assignee == milestone.assignee:
        return milestone
    before = f"{OwnerSide(milestone.owner_side).label}" + (
        f" ({milestone.assignee})" if milestone.assignee else ""
    )
    milestone.owner_side = owner_side
    milestone.assignee = assignee
    milestone.save(update_fields=["owner_side", "assignee", "updated_at"])
    after = f"{OwnerSide(owner_side).label}" + (f" ({assignee})" if assignee else "")
    _history(
        plan,
        milestone=milestone,
        action=PlanHistory.Action.REASSIGNED,
        summary=f"“{milestone.title}” now owned by {after} (was {before})",
        by=by,
        data={"milestone": milestone.pk, "owner_side": owner_side},
    )
    return milestone


@transaction.atomic
def milestone_add(*, plan: OnboardingPlan, by: User | None, data: Mapping[str, Any]) -> Milestone:
    """An ad-hoc milestone for this plan only; the template is untouched."""
    if not plan.is_active:
        raise ValidationError("This plan is finished; it stays as history.")
    last = plan.milestones.aggregate(m=Max("position"))["m"]
    milestone = Milestone(
        plan=plan,
        is_adhoc=True,
        position=0 if last is None else last + 1,
        **{f: data[f] for f in ADHOC_FIELDS},
    )
    milestone.is_first_value = milestone.kind == MilestoneKind.FIRST_VALUE
    milestone.full_clean()
    milestone.save()
    _history(
        plan,
        milestone=milestone,
        action=PlanHistory.Action.ADDED,
        summary=f"added “{milestone.title}” due {date_display(milestone.due_date)}",
        by=by,
        data={"milestone": milestone.pk},
    )
    plan_refresh(plan=plan, by=by)
    return milestone


@transaction.atomic
def template_version_apply(*, template: OnboardingTemplate, by: User | None) -> int:
    """Move plans on an older version that have not started any milestone to
    the template's current milestones. Ad-hoc milestones stay. Returns how
    many plans changed."""
    from ..selectors import template_outdated_plans

    plans = list(template_outdated_plans(template=template).select_for_update())
    for plan in plans:
        old_version = plan.template_version
        plan.milestones.filter(is_adhoc=False).delete()
        plan.template_version = template.version
        plan.save(update_fields=["template_version", "updated_at"])
        _copy_milestones(plan, template)
        _history(
            plan,
            action=PlanHistory.Action.VERSION_APPLIED,
            summary=f"{template.name} moved from v{old_version} to v{template.version}",
            by=by,
            data={"from": old_version, "to": template.version},
        )
        plan_refresh(plan=plan, by=by)
    return len(plans)


def plans_refresh_all(*, today: date | None = None) -> int:
    """Re-derive every running plan (dates move statuses overnight). Each plan
    in its own transaction so one bad row does not hold up the rest. Returns
    how many plans changed status."""
    today = today or timezone.localdate()
    changed = 0
    ids = list(OnboardingPlan.objects.filter(finished_on__isnull=True).values_list("pk", flat=True))
    for pk in ids:
        with transaction.atomic():
            plan = (
                OnboardingPlan.objects.select_for_update()
                .select_related("account", "template")
                .filter(pk=pk, finished_on__isnull=True)
                .first()
            )
            if plan is None:
                continue
            before = plan.status
            plan_refresh(plan=plan, by=None, today=today)
            changed += plan.status != before
    return changed

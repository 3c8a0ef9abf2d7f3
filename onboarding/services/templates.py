"""Writes to onboarding templates and their milestones (admins)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from accounts.models import User

from ..models import (
    MilestoneKind,
    MilestoneTemplate,
    OnboardingTemplate,
)

TEMPLATE_FIELDS = ("name", "description", "segments")
MILESTONE_TEMPLATE_FIELDS = (
    "title",
    "description",
    "kind",
    "due_offset_days",
    "owner_side",
    "required",
    "is_first_value",
)


# --- Templates -------------------------------------------------------------


def template_problems(*, template: OnboardingTemplate) -> list[str]:
    """Why the template cannot be active, in words an admin can act on."""
    milestones = list(template.milestones.all())
    problems = []
    if not milestones:
        problems.append("Add at least one milestone.")
    if milestones and not any(m.required for m in milestones):
        problems.append("Mark at least one milestone as required, or no plan could ever finish.")
    if sum(1 for m in milestones if m.kind == MilestoneKind.GO_LIVE) > 1:
        problems.append("A template can have only one go-live milestone.")
    if milestones and not any(m.is_first_value for m in milestones):
        problems.append(
            "Mark a milestone as first value before activating: time to value is measured there."
        )
    return problems


def _require_editable(template: OnboardingTemplate) -> None:
    if template.is_archived:
        raise ValidationError("This template is archived; duplicate it to change it.")


def _template_touch(template: OnboardingTemplate) -> None:
    """A new version once some plan has copied the current one (drafting a
    template nobody used yet is not worth a version); plans keep theirs."""
    if template.plans.filter(template_version=template.version).exists():
        template.version += 1
        template.save(update_fields=["version", "updated_at"])


@transaction.atomic
def template_create(*, by: User | None, data: Mapping[str, Any]) -> OnboardingTemplate:
    """A new template starts inactive: it has no milestones yet."""
    template = OnboardingTemplate(created_by=by, **{f: data[f] for f in TEMPLATE_FIELDS})
    template.full_clean()
    template.save()
    return template


@transaction.atomic
def template_update(
    *, template: OnboardingTemplate, by: User | None, data: Mapping[str, Any]
) -> OnboardingTemplate:
    """Change name, description or segments; a real change is a new version."""
    _require_editable(template)
    changed = [f for f in TEMPLATE_FIELDS if getattr(template, f) != data[f]]
    if not changed:
        return template
    for field in changed:
        setattr(template, field, data[field])
    template.full_clean()
    template.save(update_fields=[*changed, "updated_at"])
    _template_touch(template)
    return template


@transaction.atomic
def template_activate(*, template: OnboardingTemplate, by: User | None) -> OnboardingTemplate:
    """Make the template available to start plans, once it is complete."""
    if template.is_archived:
        raise ValidationError("Archived templates cannot be activated; duplicate it instead.")
    problems = template_problems(template=template)
    if problems:
        raise ValidationError(problems)
    if not template.is_active:
        template.is_active = True
        template.save(update_fields=["is_active", "updated_at"])
    return template


@transaction.atomic
def template_deactivate(*, template: OnboardingTemplate, by: User | None) -> OnboardingTemplate:
    """No new plans from this template; running plans carry on."""
    if template.is_active:
        template.is_active = False
        template.save(update_fields=["is_active", "updated_at"])
    return template


@transaction.atomic
def template_archive(*, template: OnboardingTemplate, by: User | None) -> OnboardingTemplate:
    """Retire a template. Its plans keep running and keep their history."""
    if template.archived_at is None:
        template.is_active = False
        template.archived_at = timezone.now()
        template.save(update_fields=["is_active", "archived_at", "updated_at"])
    return template


@transaction.atomic
def template_duplicate(*, template: OnboardingTemplate, by: User | None) -> OnboardingTemplate:
    """An inactive copy with the same milestones, to change without touching the original."""
    copy = OnboardingTemplate.objects.create(
        name=f"{template.name} (copy)"[:200],
        description=template.description,
        segments=list(template.segments),
        created_by=by,
    )
    MilestoneTemplate.objects.bulk_create(
        MilestoneTemplate(
            template=copy, **{f: getattr(m, f) for f in (*MILESTONE_TEMPLATE_FIELDS, "position")}
        )
        for m in template.milestones.all()
    )
    return copy


def _check_milestone_rules(milestone: MilestoneTemplate) -> None:
    if milestone.kind == MilestoneKind.FIRST_VALUE:
        milestone.is_first_value = True
    if (
        milestone.kind == MilestoneKind.GO_LIVE
        and MilestoneTemplate.objects.filter(
            template=milestone.template, kind=MilestoneKind.GO_LIVE
        )
        .exclude(pk=milestone.pk)
        .exists()
    ):
        raise ValidationError({"kind": "This template already has a go-live milestone."})


@transaction.atomic
def milestone_template_save(
    *,
    template: OnboardingTemplate,
    by: User | None,
    data: Mapping[str, Any],
    milestone: MilestoneTemplate | None = None,
) -> MilestoneTemplate:
    """Add a milestone to the end of the template, or change one."""
    _require_editable(template)
    if milestone is None:
        last = template.milestones.aggregate(m=Max("position"))["m"]
        milestone = MilestoneTemplate(template=template, position=0 if last is None else last + 1)
    for field in MILESTONE_TEMPLATE_FIELDS:
        setattr(milestone, field, data[field])
    _check_milestone_rules(milestone)
    milestone.full_clean()
    milestone.save()
    _template_touch(template)
    if template.is_active:
        problems = template_problems(template=template)
        if problems:
            raise ValidationError(problems)
    return milestone


@transaction.atomic
def milestone_template_delete(*, milestone: MilestoneTemplate, by: User | None) -> None:
    """Remove a milestone; an active template must stay valid."""
    template = milestone.template
    _require_editable(template)
    milestone.delete()
    _template_touch(template)
    if template.is_active:
        problems = template_problems(template=template)
        if problems:
            raise ValidationError(problems)


@transaction.atomic
def milestone_template_move(
    *, milestone: MilestoneTemplate, direction: str, by: User | None
) -> MilestoneTemplate:
    """Swap the milestone with its neighbour above ('up') or below ('down')."""
    _require_editable(milestone.template)
    if direction not in ("up", "down"):
        raise ValidationError(f"Unknown direction {direction!r}.")
    siblings = list(milestone.template.milestones.select_for_update().order_by("position", "id"))
    index = next(i for i, m in enumerate(siblings) if m.pk == milestone.pk)
    other = index - 1 if direction == "up" else index + 1
    if not 0 <= other < len(siblings):
        return milestone
    siblings[index], siblings[other] = siblings[other], siblings[index]
    for position, item in enumerate(siblings):
        item.position = position
    MilestoneTemplate.objects.bulk_update(siblings, ["position"])
    _template_touch(milestone.template)
    milestone.position = other
    return milestone

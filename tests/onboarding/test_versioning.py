"""Editing a template never changes running plans unless the admin applies it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from onboarding import selectors, services
from onboarding.models import MilestoneKind, OnboardingTemplate, OwnerSide, PlanHistory
from tests.factories import MilestoneFactory, OnboardingPlanFactory, OnboardingTemplateFactory

pytestmark = pytest.mark.django_db

NEW_MILESTONE = {
    "title": "Security review",
    "description": "",
    "kind": MilestoneKind.CONFIGURATION,
    "due_offset_days": 7,
    "owner_side": OwnerSide.CUSTOMER,
    "required": True,
    "is_first_value": False,
}


def _edit(template: OnboardingTemplate, admin: Any) -> None:
    services.milestone_template_save(template=template, by=admin, data=NEW_MILESTONE)
    template.refresh_from_db()


def test_editing_an_active_template_leaves_running_plans_alone(admin_user: Any) -> None:
    plan = OnboardingPlanFactory.create()
    template = plan.template
    before = list(plan.milestones.values_list("title", "due_date"))
    _edit(template, admin_user)
    assert template.version == 2
    plan.refresh_from_db()
    assert plan.template_version == 1
    assert list(plan.milestones.values_list("title", "due_date")) == before


def test_drafting_a_template_no_plan_uses_makes_no_version(admin_user: Any) -> None:
    template = OnboardingTemplateFactory.create(is_active=False)
    _edit(template, admin_user)
    assert template.version == 1


def test_every_kind_of_template_change_is_a_new_version(admin_user: Any) -> None:
    template = OnboardingTemplateFactory.create()
    data = {"name": "Renamed", "description": "", "segments": ["smb"]}
    changes = [
        lambda: services.milestone_template_move(
            milestone=template.milestones.all()[1], direction="up", by=admin_user
        ),
        lambda: services.template_update(template=template, by=admin_user, data=data),
        lambda: services.milestone_template_save(
            template=template, by=admin_user, data=NEW_MILESTONE
        ),
        lambda: services.milestone_template_delete(
            milestone=template.milestones.get(title="Security review"), by=admin_user
        ),
    ]
    for expected, change in enumerate(changes, start=2):
        OnboardingPlanFactory.create(template=template)  # someone uses the current version
        change()
        template.refresh_from_db()
        assert template.version == expected
    OnboardingPlanFactory.create(template=template)
    services.template_update(template=template, by=admin_user, data=data)
    template.refresh_from_db()
    assert template.version == 5  # nothing changed, no new version


def test_changes_before_anyone_uses_a_version_stay_in_that_version(admin_user: Any) -> None:
    template = OnboardingTemplateFactory.create()
    OnboardingPlanFactory.create(template=template)
    _edit(template, admin_user)
    services.template_update(
        template=template,
        by=admin_user,
        data={"name": "Renamed", "description": "", "segments": ["smb"]},
    )
    template.refresh_from_db()
    assert template.version == 2


def test_outdated_plans_are_those_on_older_versions_with_nothing_done(
    admin_user: Any, csm: Any
) -> None:
    template = OnboardingTemplateFactory.create()
    untouched = OnboardingPlanFactory.create(template=template)
    started = OnboardingPlanFactory.create(template=template)
    kickoff = started.milestones.get(kind=MilestoneKind.KICKOFF)
    services.milestone_complete(milestone=kickoff, by=csm, on=timezone.localdate(), note="")
    assert list(selectors.template_outdated_plans(template=template)) == []
    _edit(template, admin_user)
    fresh = OnboardingPlanFactory.create(template=template)  # already on version 2
    outdated = list(selectors.template_outdated_plans(template=template))
    assert outdated == [untouched]
    assert fresh not in outdated


def test_apply_moves_only_unstarted_plans_and_keeps_adhoc_milestones(
    admin_user: Any, csm: Any
) -> None:
    template = OnboardingTemplateFactory.create()
    start = timezone.localdate() - timedelta(days=1)
    untouched = OnboardingPlanFactory.create(template=template, start_date=start)
    MilestoneFactory.create(plan=untouched, title="Custom data import")
    started = OnboardingPlanFactory.create(template=template)
    services.milestone_complete(
        milestone=started.milestones.get(kind=MilestoneKind.KICKOFF),
        by=csm,
        on=timezone.localdate(),
        note="",
    )
    started_titles = set(started.milestones.values_list("title", flat=True))
    _edit(template, admin_user)

    assert services.template_version_apply(template=template, by=admin_user) == 1

    untouched.refresh_from_db()
    assert untouched.template_version == 2
    due = dict(untouched.milestones.values_list("title", "due_date"))
    assert due["Security review"] == start + timedelta(days=7)
    assert "Custom data import" in due
    assert untouched.history.filter(action=PlanHistory.Action.VERSION_APPLIED).count() == 1
    started.refresh_from_db()
    assert started.template_version == 1
    assert set(started.milestones.values_list("title", flat=True)) == started_titles
    # Applying again finds nothing left to move.
    assert services.template_version_apply(template=template, by=admin_user) == 0


def test_apply_page_shows_how_many_plans_it_touches_before_confirming(
    client: Any, admin_user: Any
) -> None:
    template = OnboardingTemplateFactory.create()
    OnboardingPlanFactory.create(template=template)
    OnboardingPlanFactory.create(template=template)
    _edit(template, admin_user)
    client.force_login(admin_user)
    url = reverse("onboarding:template_apply", args=[template.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert "2 plans" in page.content.decode()
    assert template.plans.filter(template_version=1).count() == 2  # GET changed nothing
    client.post(url)
    assert template.plans.filter(template_version=2).count() == 2

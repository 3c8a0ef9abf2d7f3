from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.utils import timezone

from accounts.models import Event, Stage, StageChange
from onboarding import services
from onboarding.models import (
    Milestone,
    MilestoneKind,
    MilestoneTemplate,
    OnboardingPlan,
    OwnerSide,
    PlanHistory,
    PlanStatus,
)
from tests.factories import AccountFactory, OnboardingPlanFactory, OnboardingTemplateFactory

pytestmark = pytest.mark.django_db


def today() -> Any:
    return timezone.localdate()


def _milestone(plan: OnboardingPlan, kind: str) -> Milestone:
    return plan.milestones.get(kind=kind)


# --- Templates ---------------------------------------------------------------


def test_template_without_milestones_cannot_be_activated(admin_user: Any) -> None:
    template = OnboardingTemplateFactory.create(is_active=False, milestones=[])
    with pytest.raises(ValidationError, match="at least one milestone"):
        services.template_activate(template=template, by=admin_user)


def test_template_without_first_value_cannot_be_activated(admin_user: Any) -> None:
    template = OnboardingTemplateFactory.create(
        is_active=False,
        milestones=[{"title": "Kickoff", "kind": MilestoneKind.KICKOFF, "due_offset_days": 0}],
    )
    with pytest.raises(ValidationError, match="first value"):
        services.template_activate(template=template, by=admin_user)
    template.refresh_from_db()
    assert not template.is_active


def test_complete_template_activates(admin_user: Any) -> None:
    template = OnboardingTemplateFactory.create(is_active=False)
    services.template_activate(template=template, by=admin_user)
    template.refresh_from_db()
    assert template.is_active


def test_second_go_live_milestone_is_refused(admin_user: Any) -> None:
    template = OnboardingTemplateFactory.create()
    data = {
        "title": "Second go-live",
        "description": "",
        "kind": MilestoneKind.GO_LIVE,
        "due_offset_days": 40,
        "owner_side": OwnerSide.CSM,
        "required": True,
        "is_first_value": False,
    }
    with pytest.raises(ValidationError, match="already has a go-live"):
        services.milestone_template_save(template=template, by=admin_user, data=data)
    assert template.milestones.filter(kind=MilestoneKind.GO_LIVE).count() == 1


def test_database_refuses_two_go_live_milestones_too() -> None:
    template = OnboardingTemplateFactory.create()
    with pytest.raises(IntegrityError):
        MilestoneTemplate.objects.create(
            template=template, title="Again", kind=MilestoneKind.GO_LIVE, due_offset_days=1
        )


def test_negative_offset_is_refused(admin_user: Any) -> None:
    template = OnboardingTemplateFactory.create(is_active=False, milestones=[])
    data = {
        "title": "Kickoff",
        "description": "",
        "kind": MilestoneKind.KICKOFF,
        "due_offset_days": -1,
        "owner_side": OwnerSide.CSM,
        "required": True,
        "is_first_value": False,
    }
    with pytest.raises(ValidationError):
        services.milestone_template_save(template=template, by=admin_user, data=data)


def test_removing_the_only_first_value_from_an_active_template_is_refused(
    admin_user: Any,
) -> None:
    template = OnboardingTemplateFactory.create()
    first_value = template.milestones.get(is_first_value=True)
    pk = first_value.pk
    with pytest.raises(ValidationError, match="first value"):
        services.milestone_template_delete(milestone=first_value, by=admin_user)
    assert template.milestones.filter(pk=pk).exists()


def test_move_swaps_neighbours_and_stops_at_the_ends(admin_user: Any) -> None:
    template = OnboardingTemplateFactory.create()
    titles = list(template.milestones.values_list("title", flat=True))
    second = template.milestones.get(title=titles[1])
    services.milestone_template_move(milestone=second, direction="up", by=admin_user)
    assert list(template.milestones.values_list("title", flat=True))[:2] == [titles[1], titles[0]]
    services.milestone_template_move(
        milestone=template.milestones.get(title=titles[1]), direction="up", by=admin_user
    )
    assert template.milestones.values_list("title", flat=True).first() == titles[1]


def test_duplicate_copies_milestones_inactive(admin_user: Any) -> None:
    template = OnboardingTemplateFactory.create(name="Enterprise")
    copy = services.template_duplicate(template=template, by=admin_user)
    assert copy.name == "Enterprise (copy)"
    assert not copy.is_active
    assert list(copy.milestones.values_list("title", "due_offset_days", "position")) == list(
        template.milestones.values_list("title", "due_offset_days", "position")
    )


def test_archived_template_starts_no_plan(admin_user: Any, csm: Any) -> None:
    template = OnboardingTemplateFactory.create()
    services.template_archive(template=template, by=admin_user)
    with pytest.raises(ValidationError, match="active template"):
        services.plan_start(
            account=AccountFactory.create(owner=csm), template=template, start_date=today(), by=csm
        )


# --- Plans ---------------------------------------------------------------------


def test_plan_start_copies_milestones_with_due_dates_from_offsets(csm: Any) -> None:
    template = OnboardingTemplateFactory.create()
    account = AccountFactory.create(owner=csm, stage=Stage.ONBOARDING)
    start = today() - timedelta(days=1)
    plan = services.plan_start(account=account, template=template, start_date=start, by=csm)
    assert plan.template_version == template.version
    due = dict(plan.milestones.values_list("title", "due_date"))
    assert due["Kickoff call"] == start + timedelta(days=3)
    assert due["Go-live"] == start + timedelta(days=30)
    assert plan.status == PlanStatus.AT_RISK  # kickoff due in two days
    account.refresh_from_db()
    assert account.onboarding_status == "at risk"
    assert account.onboarding_progress == 0
    assert Event.objects.filter(account=account, kind=Event.Kind.ONBOARDING).exists()
    assert plan.history.filter(action=PlanHistory.Action.STARTED).count() == 1


def test_second_running_plan_for_an_account_is_refused(csm: Any) -> None:
    plan = OnboardingPlanFactory.create()
    with pytest.raises(ValidationError, match="already has an onboarding plan"):
        services.plan_start(
            account=plan.account, template=plan.template, start_date=today(), by=csm
        )


def test_database_allows_one_running_plan_per_account_only() -> None:
    plan = OnboardingPlanFactory.create()
    with pytest.raises(IntegrityError):
        OnboardingPlan.objects.create(
            account=plan.account, template=plan.template, template_version=1, start_date=today()
        )


def test_complete_writes_history_and_timeline_event(csm: Any) -> None:
    plan = OnboardingPlanFactory.create(start_date=today() - timedelta(days=5))
    kickoff = _milestone(plan, MilestoneKind.KICKOFF)
    services.milestone_complete(milestone=kickoff, by=csm, on=today(), note="Great call")
    kickoff.refresh_from_db()
    assert kickoff.completed_on == today()
    assert kickoff.completion_note == "Great call"
    history = plan.history.get(action=PlanHistory.Action.COMPLETED)
    assert history.milestone == kickoff
    assert history.actor == csm
    assert Event.objects.filter(
        account=plan.account, kind=Event.Kind.ONBOARDING, summary__contains="Kickoff call"
    ).exists()


def test_completing_first_value_records_ttv_from_contract_start(csm: Any) -> None:
    account = AccountFactory.create(
        owner=csm, stage=Stage.ONBOARDING, contract_start=today() - timedelta(days=40)
    )
    plan = OnboardingPlanFactory.create(account=account, start_date=today() - timedelta(days=30))
    first_value = _milestone(plan, MilestoneKind.FIRST_VALUE)
    services.milestone_complete(
        milestone=first_value, by=csm, on=today() - timedelta(days=2), note=""
    )
    plan.refresh_from_db()
    assert plan.ttv_days == 38
    assert plan.first_value_on == today() - timedelta(days=2)


def test_ttv_counts_from_plan_start_without_contract_start(csm: Any) -> None:
    account = AccountFactory.create(owner=csm, stage=Stage.ONBOARDING, contract_start=None)
    plan = OnboardingPlanFactory.create(account=account, start_date=today() - timedelta(days=12))
    services.milestone_complete(
        milestone=_milestone(plan, MilestoneKind.FIRST_VALUE), by=csm, on=today(), note=""
    )
    plan.refresh_from_db()
    assert plan.ttv_days == 12


def test_reopening_first_value_clears_ttv(csm: Any) -> None:
    plan = OnboardingPlanFactory.create(start_date=today() - timedelta(days=12))
    first_value = _milestone(plan, MilestoneKind.FIRST_VALUE)
    services.milestone_complete(milestone=first_value, by=csm, on=today(), note="")
    services.milestone_reopen(milestone=first_value, by=csm)
    plan.refresh_from_db()
    assert plan.ttv_days is None
    assert plan.history.filter(action=PlanHistory.Action.REOPENED).count() == 1


def test_completing_every_required_milestone_finishes_plan_and_moves_stage(csm: Any) -> None:
    plan = OnboardingPlanFactory.create(start_date=today() - timedelta(days=40))
    for milestone in plan.milestones.filter(required=True):
        services.milestone_complete(milestone=milestone, by=csm, on=today(), note="")
    plan.refresh_from_db()
    assert plan.status == PlanStatus.COMPLETED
    assert plan.finished_on == today()
    assert plan.progress == 100
    account = plan.account
    account.refresh_from_db()
    assert account.stage == Stage.ADOPTION
    assert account.onboarding_status == "completed"
    assert account.onboarding_progress == 100
    change = StageChange.objects.filter(account=account).first()
    assert change is not None
    assert change.reason == "Onboarding completed"
    # The finished plan stays as history and a new one can start.
    again = services.plan_start(account=account, template=plan.template, start_date=today(), by=csm)
    assert again.pk != plan.pk


def test_finished_plan_refuses_further_actions(csm: Any) -> None:
    plan = OnboardingPlanFactory.create(start_date=today() - timedelta(days=40))
    for milestone in plan.milestones.filter(required=True):
        services.milestone_complete(milestone=milestone, by=csm, on=today(), note="")
    optional = plan.milestones.get(required=False)
    with pytest.raises(ValidationError, match="finished"):
        services.milestone_complete(milestone=optional, by=csm, on=today(), note="")


def test_completion_in_the_future_is_refused(csm: Any) -> None:
    plan = OnboardingPlanFactory.create()
    with pytest.raises(ValidationError, match="future"):
        services.milestone_complete(
            milestone=_milestone(plan, MilestoneKind.KICKOFF),
            by=csm,
            on=today() + timedelta(days=1),
            note="",
        )


def test_csm_may_skip_an_optional_milestone_with_a_reason(csm: Any) -> None:
    plan = OnboardingPlanFactory.create()
    optional = plan.milestones.get(required=False)
    with pytest.raises(ValidationError, match="Say why"):
        services.milestone_skip(milestone=optional, by=csm, reason="  ")
    services.milestone_skip(milestone=optional, by=csm, reason="Customer trains itself")
    optional.refresh_from_db()
    assert optional.skipped_on == today()
    assert optional.skip_reason == "Customer trains itself"


def test_csm_may_not_skip_a_required_milestone_but_a_leader_may(csm: Any, leader: Any) -> None:
    plan = OnboardingPlanFactory.create()
    kickoff = _milestone(plan, MilestoneKind.KICKOFF)
    with pytest.raises(ValidationError, match="CS leader"):
        services.milestone_skip(milestone=kickoff, by=csm, reason="No time")
    services.milestone_skip(milestone=kickoff, by=leader, reason="Done in the sales cycle")
    kickoff.refresh_from_db()
    assert kickoff.is_skipped


def test_due_change_keeps_the_reason_and_moves_status(csm: Any) -> None:
    plan = OnboardingPlanFactory.create(start_date=today() - timedelta(days=5))
    kickoff = _milestone(plan, MilestoneKind.KICKOFF)  # due 2 days ago: late
    plan.refresh_from_db()
    assert plan.status == PlanStatus.LATE
    services.milestone_due_change(
        milestone=kickoff, by=csm, due_date=today() + timedelta(days=7), reason="Customer on PTO"
    )
    plan.refresh_from_db()
    assert plan.status == PlanStatus.NOT_STARTED
    row = plan.history.get(action=PlanHistory.Action.DUE_CHANGED)
    assert row.data["reason"] == "Customer on PTO"
    with pytest.raises(ValidationError, match="Say why"):
        services.milestone_due_change(
            milestone=kickoff, by=csm, due_date=today() + timedelta(days=9), reason=""
        )


def test_reassign_changes_owner_side_and_person(csm: Any, other_csm: Any) -> None:
    plan = OnboardingPlanFactory.create()
    kickoff = _milestone(plan, MilestoneKind.KICKOFF)
    services.milestone_reassign(
        milestone=kickoff, by=csm, owner_side=OwnerSide.IMPLEMENTATION, assignee=other_csm
    )
    kickoff.refresh_from_db()
    assert kickoff.owner_side == OwnerSide.IMPLEMENTATION
    assert kickoff.assignee == other_csm
    assert plan.history.filter(action=PlanHistory.Action.REASSIGNED).count() == 1


def test_adhoc_milestone_belongs_to_this_plan_only(csm: Any) -> None:
    plan = OnboardingPlanFactory.create()
    services.milestone_add(
        plan=plan,
        by=csm,
        data={
            "title": "SSO with Okta",
            "description": "",
            "kind": MilestoneKind.INTEGRATION,
            "owner_side": OwnerSide.CUSTOMER,
            "required": True,
            "due_date": today() + timedelta(days=20),
        },
    )
    added = plan.milestones.get(title="SSO with Okta")
    assert added.is_adhoc
    assert not plan.template.milestones.filter(title="SSO with Okta").exists()
    plan.refresh_from_db()
    assert plan.progress == 0
    assert plan.history.filter(action=PlanHistory.Action.ADDED).count() == 1


def test_archived_template_cannot_be_edited(admin_user: Any) -> None:
    template = OnboardingTemplateFactory.create()
    services.template_archive(template=template, by=admin_user)
    first = template.milestones.first()
    assert first is not None
    with pytest.raises(ValidationError, match="archived"):
        services.milestone_template_move(milestone=first, direction="down", by=admin_user)
    with pytest.raises(ValidationError, match="archived"):
        services.template_update(
            template=template, by=admin_user, data={"name": "X", "description": "", "segments": []}
        )

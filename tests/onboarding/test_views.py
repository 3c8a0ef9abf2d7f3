from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Stage
from onboarding.models import MilestoneKind, OnboardingPlan, OnboardingTemplate, PlanStatus
from tests.factories import AccountFactory, OnboardingPlanFactory, OnboardingTemplateFactory

pytestmark = pytest.mark.django_db


def today() -> Any:
    return timezone.localdate()


def _accounts(response: Any) -> list[str]:
    return [p.account_name for p in response.context["page"].object_list]


def _plan(owner: Any, name: str, start_days_ago: int = 0, **kw: Any) -> OnboardingPlan:
    account = AccountFactory.create(name=name, owner=owner, stage=Stage.ONBOARDING)
    return OnboardingPlanFactory.create(
        account=account, start_date=today() - timedelta(days=start_days_ago), **kw
    )


# --- My onboarding -----------------------------------------------------------


def test_csm_sees_own_plans_late_first(client: Any, csm: Any, other_csm: Any) -> None:
    _plan(csm, "On time Co", start_days_ago=-10)
    _plan(csm, "Late Co", start_days_ago=8)
    _plan(other_csm, "Not mine Co", start_days_ago=8)
    client.force_login(csm)
    response = client.get(reverse("onboarding:my"))
    assert _accounts(response) == ["Late Co", "On time Co"]
    body = response.content.decode()
    assert "My onboarding" in body
    assert "Kickoff call" in body  # next milestone shown


def test_leader_sees_every_plan_and_filters_by_owner(
    client: Any, leader: Any, csm: Any, other_csm: Any
) -> None:
    _plan(csm, "Mine")
    _plan(other_csm, "Theirs")
    client.force_login(leader)
    assert sorted(_accounts(client.get(reverse("onboarding:my")))) == ["Mine", "Theirs"]
    assert _accounts(client.get(reverse("onboarding:my"), {"owner": other_csm.pk})) == ["Theirs"]


def test_filters_by_template_and_status(client: Any, leader: Any, csm: Any) -> None:
    other_template = OnboardingTemplateFactory.create(name="Enterprise")
    _plan(csm, "Standard late", start_days_ago=8)
    _plan(csm, "Enterprise late", start_days_ago=8, template=other_template)
    _plan(csm, "Enterprise fresh", start_days_ago=-10, template=other_template)
    client.force_login(leader)
    url = reverse("onboarding:my")
    assert sorted(_accounts(client.get(url, {"template": other_template.pk}))) == [
        "Enterprise fresh",
        "Enterprise late",
    ]
    assert _accounts(
        client.get(url, {"template": other_template.pk, "status": PlanStatus.LATE})
    ) == ["Enterprise late"]


def test_finished_plans_leave_the_default_list_but_stay_findable(
    client: Any, leader: Any, csm: Any
) -> None:
    plan = _plan(csm, "Done Co", start_days_ago=40)
    for milestone in plan.milestones.filter(required=True):
        from onboarding.services import milestone_complete

        milestone_complete(milestone=milestone, by=csm, on=today(), note="")
    client.force_login(leader)
    assert _accounts(client.get(reverse("onboarding:my"))) == []
    assert _accounts(client.get(reverse("onboarding:my"), {"status": "completed"})) == ["Done Co"]


@pytest.mark.parametrize("rows", [5, 50])
def test_list_query_count_does_not_grow_with_rows(
    client: Any, leader: Any, csm: Any, rows: int, django_assert_num_queries: Any, settings: Any
) -> None:
    settings.PORTFOLIO_PAGE_SIZE = 100
    template = OnboardingTemplateFactory.create()
    for i in range(rows):
        _plan(csm, f"Account {i:03d}", start_days_ago=i % 12, template=template)
    client.force_login(leader)
    # session, user with their role groups, owner choices, count, page of plans
    # (account, owner, template and next milestone joined in), template choices
    with django_assert_num_queries(6):
        response = client.get(reverse("onboarding:my"))
    assert len(response.context["page"].object_list) == rows


def test_htmx_request_gets_only_the_results_partial(client: Any, csm: Any) -> None:
    _plan(csm, "Partial Co")
    client.force_login(csm)
    response = client.get(reverse("onboarding:my"), headers={"HX-Request": "true"})
    body = response.content.decode()
    assert 'id="results"' in body
    assert "<html" not in body
    assert "Partial Co" in body


# --- Plan page and actions -------------------------------------------------------


def test_plan_page_shows_late_milestones_at_a_glance(client: Any, viewer: Any, csm: Any) -> None:
    plan = _plan(csm, "Glance Co", start_days_ago=5)
    client.force_login(viewer)
    body = client.get(plan.get_absolute_url()).content.decode()
    assert 'badge-red">Late<' in body
    assert "Mark done" not in body  # viewers read only


def test_complete_without_javascript_redirects_back_to_the_plan(client: Any, csm: Any) -> None:
    plan = _plan(csm, "NoJS Co", start_days_ago=5)
    kickoff = plan.milestones.get(kind=MilestoneKind.KICKOFF)
    client.force_login(csm)
    url = reverse("onboarding:milestone_action", args=[plan.pk, kickoff.pk, "complete"])
    response = client.post(url, {"on": today().isoformat(), "note": "Done"})
    assert response.status_code == 302
    assert response["Location"] == plan.get_absolute_url()
    kickoff.refresh_from_db()
    assert kickoff.completed_on == today()


def test_complete_with_htmx_returns_the_checklist(client: Any, csm: Any) -> None:
    plan = _plan(csm, "HTMX Co", start_days_ago=5)
    kickoff = plan.milestones.get(kind=MilestoneKind.KICKOFF)
    client.force_login(csm)
    url = reverse("onboarding:milestone_action", args=[plan.pk, kickoff.pk, "complete"])
    response = client.post(
        url, {"on": today().isoformat(), "note": ""}, headers={"HX-Request": "true"}
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert body.lstrip().startswith('<div id="checklist">')
    assert "Done " in body


def test_csm_skipping_a_required_milestone_sees_why_not(client: Any, csm: Any) -> None:
    plan = _plan(csm, "Skip Co")
    kickoff = plan.milestones.get(kind=MilestoneKind.KICKOFF)
    client.force_login(csm)
    url = reverse("onboarding:milestone_action", args=[plan.pk, kickoff.pk, "skip"])
    response = client.post(url, {"reason": "No time"})
    assert response.status_code == 200
    assert "Only a CS leader or an admin" in response.content.decode()
    kickoff.refresh_from_db()
    assert kickoff.skipped_on is None


def test_other_csm_and_viewer_cannot_act_on_a_plan(
    client: Any, csm: Any, other_csm: Any, viewer: Any
) -> None:
    plan = _plan(csm, "Guarded Co")
    kickoff = plan.milestones.get(kind=MilestoneKind.KICKOFF)
    url = reverse("onboarding:milestone_action", args=[plan.pk, kickoff.pk, "complete"])
    for user in (other_csm, viewer):
        client.force_login(user)
        assert client.post(url, {"on": today().isoformat()}).status_code == 403
    kickoff.refresh_from_db()
    assert kickoff.completed_on is None


def test_leader_can_act_on_any_plan(client: Any, leader: Any, csm: Any) -> None:
    plan = _plan(csm, "Team Co")
    kickoff = plan.milestones.get(kind=MilestoneKind.KICKOFF)
    client.force_login(leader)
    url = reverse("onboarding:milestone_action", args=[plan.pk, kickoff.pk, "skip"])
    assert client.post(url, {"reason": "Done during the sale"}).status_code == 302
    kickoff.refresh_from_db()
    assert kickoff.skip_reason == "Done during the sale"


def test_csm_starts_a_plan_from_the_suggested_template(client: Any, csm: Any) -> None:
    OnboardingTemplateFactory.create(name="A for SMB", segments=["smb"])
    suggested = OnboardingTemplateFactory.create(name="Z for enterprise", segments=["enterprise"])
    account = AccountFactory.create(owner=csm, segment="enterprise", stage=Stage.ONBOARDING)
    client.force_login(csm)
    url = reverse("onboarding:plan_start", args=[account.pk])
    form = client.get(url).context["form"]
    assert form.initial["template"] == suggested.pk
    response = client.post(url, {"template": suggested.pk, "start_date": today().isoformat()})
    plan = OnboardingPlan.objects.get(account=account)
    assert response["Location"] == plan.get_absolute_url()
    again = client.post(url, {"template": suggested.pk, "start_date": today().isoformat()})
    assert "already has an onboarding plan running" in again.content.decode()


def test_account_page_shows_onboarding_and_ttv(client: Any, csm: Any) -> None:
    account = AccountFactory.create(owner=csm, contract_start=today() - timedelta(days=20))
    plan = OnboardingPlanFactory.create(account=account, start_date=today() - timedelta(days=10))
    from onboarding.services import milestone_complete

    milestone_complete(
        milestone=plan.milestones.get(is_first_value=True), by=csm, on=today(), note=""
    )
    client.force_login(csm)
    body = client.get(account.get_absolute_url()).content.decode()
    assert 'id="onboarding"' in body
    assert '<dd id="onboarding-ttv">20 days</dd>' in body


# --- Templates (admin) -----------------------------------------------------------


def test_admin_builds_and_activates_a_template_through_the_pages(
    client: Any, admin_user: Any
) -> None:
    client.force_login(admin_user)
    client.post(
        reverse("onboarding:template_create"),
        {"name": "Pilot", "description": "", "segments": ["smb"]},
    )
    template = OnboardingTemplate.objects.get(name="Pilot")
    activate = reverse("onboarding:template_action", args=[template.pk, "activate"])
    response = client.post(activate, follow=True)
    assert "Add at least one milestone." in response.content.decode()
    client.post(
        reverse("onboarding:template_milestone_create", args=[template.pk]),
        {
            "title": "First win",
            "kind": MilestoneKind.FIRST_VALUE,
            "due_offset_days": 14,
            "owner_side": "customer",
            "required": "on",
        },
    )
    client.post(activate)
    template.refresh_from_db()
    assert template.is_active
    assert template.milestones.get().is_first_value  # first-value kind marks it


def test_negative_offset_is_refused_with_a_message(client: Any, admin_user: Any) -> None:
    template = OnboardingTemplateFactory.create(is_active=False, milestones=[])
    client.force_login(admin_user)
    response = client.post(
        reverse("onboarding:template_milestone_create", args=[template.pk]),
        {"title": "Kickoff", "kind": "kickoff", "due_offset_days": -2, "owner_side": "csm"},
    )
    assert response.status_code == 200
    assert "0 or more" in response.content.decode()
    assert not template.milestones.exists()


def test_reorder_with_htmx_returns_the_milestone_list(client: Any, admin_user: Any) -> None:
    template = OnboardingTemplateFactory.create()
    second = template.milestones.all()[1]
    client.force_login(admin_user)
    url = reverse("onboarding:template_milestone_move", args=[template.pk, second.pk])
    response = client.post(url, {"direction": "up"}, headers={"HX-Request": "true"})
    body = response.content.decode()
    assert body.lstrip().startswith('<section class="panel" id="template-milestones">')
    first = template.milestones.first()
    assert first is not None
    assert first.pk == second.pk
    # Without JavaScript the same form redirects back to the template.
    response = client.post(url, {"direction": "down"})
    assert response.status_code == 302


def test_csm_cannot_configure_templates(client: Any, csm: Any) -> None:
    template = OnboardingTemplateFactory.create()
    client.force_login(csm)
    url = reverse("onboarding:template_action", args=[template.pk, "archive"])
    assert client.post(url).status_code == 403
    template.refresh_from_db()
    assert template.archived_at is None


# --- Leader view -------------------------------------------------------------------


@pytest.mark.parametrize("plans", [5, 50])
def test_insights_show_on_time_and_ttv_in_constant_queries(
    client: Any, leader: Any, csm: Any, plans: int, django_assert_num_queries: Any
) -> None:
    from onboarding.services import milestone_complete

    template = OnboardingTemplateFactory.create(name="Standard")
    for i in range(plans):
        account = AccountFactory.create(owner=csm, contract_start=today() - timedelta(days=30))
        plan = OnboardingPlanFactory.create(
            account=account, template=template, start_date=today() - timedelta(days=30)
        )
        if i % 2 == 0:
            milestone_complete(
                milestone=plan.milestones.get(is_first_value=True), by=csm, on=today(), note=""
            )
    client.force_login(leader)
    # session, user with their role groups, on-time per template, TTV values, plans
    # late now
    with django_assert_num_queries(5):
        response = client.get(reverse("onboarding:insights"))
    stats = response.context["insights"].per_template[0]
    assert stats.template == "Standard"
    assert stats.ttv_median == 30
    assert stats.on_time_rate == 0  # first value due day 21, done day 30
    assert len(response.context["insights"].late_now) == plans
    assert "<svg" in response.content.decode() or "onb-bar" in response.content.decode()


def test_htmx_action_with_errors_shows_them_in_the_row(client: Any, csm: Any) -> None:
    plan = _plan(csm, "Oops Co")
    optional = plan.milestones.get(required=False)
    client.force_login(csm)
    url = reverse("onboarding:milestone_action", args=[plan.pk, optional.pk, "skip"])
    response = client.post(url, {"reason": ""}, headers={"HX-Request": "true"})
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="checklist">')
    assert "Reason: This field is required." in body
    assert "<details open>" in body  # the failed form stays open
    optional.refresh_from_db()
    assert optional.skipped_on is None


def test_reassign_and_add_milestone_through_the_pages(
    client: Any, csm: Any, other_csm: Any
) -> None:
    plan = _plan(csm, "Pages Co")
    kickoff = plan.milestones.get(kind=MilestoneKind.KICKOFF)
    client.force_login(csm)
    url = reverse("onboarding:milestone_action", args=[plan.pk, kickoff.pk, "reassign"])
    assert client.get(url).status_code == 200
    client.post(url, {"owner_side": "implementation", "assignee": other_csm.pk})
    kickoff.refresh_from_db()
    assert (kickoff.owner_side, kickoff.assignee) == ("implementation", other_csm)

    client.post(
        reverse("onboarding:milestone_add", args=[plan.pk]),
        {
            "title": "Data migration",
            "kind": "integration",
            "due_date": (today() + timedelta(days=9)).isoformat(),
            "owner_side": "customer",
            "required": "on",
        },
    )
    assert plan.milestones.get(title="Data migration").is_adhoc


def test_duplicate_and_archive_through_the_pages(client: Any, admin_user: Any) -> None:
    template = OnboardingTemplateFactory.create(name="Standard")
    client.force_login(admin_user)
    response = client.post(reverse("onboarding:template_action", args=[template.pk, "duplicate"]))
    copy = OnboardingTemplate.objects.get(name="Standard (copy)")
    assert response["Location"] == copy.get_absolute_url()
    client.post(reverse("onboarding:template_action", args=[template.pk, "archive"]))
    template.refresh_from_db()
    assert template.is_archived
    assert not template.is_active
    listing = client.get(reverse("onboarding:templates")).content.decode()
    assert "Archived" in listing


def test_plan_page_status_follows_the_date_before_the_nightly_job(client: Any, csm: Any) -> None:
    plan = _plan(csm, "Tomorrow Co", start_days_ago=-1)  # kickoff due in 4 days
    assert plan.status == PlanStatus.NOT_STARTED
    OnboardingPlan.objects.filter(pk=plan.pk).update(start_date=today() - timedelta(days=5))
    plan.milestones.update(due_date=today() - timedelta(days=1))  # the calendar moved on
    client.force_login(csm)
    body = client.get(plan.get_absolute_url()).content.decode()
    assert 'onb-status-late">Late<' in body

"""GET /api/v1/onboarding-plans/ (+ detail), GET /api/v1/onboarding-milestones/{id}/,
POST /api/v1/onboarding-milestones/{id}/complete/."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import Account, Segment, Stage
from onboarding.models import Milestone, OnboardingPlan, PlanHistory
from tests.api.permissions import AccountWriter
from tests.factories import AccountFactory, OnboardingPlanFactory

PLANS = "/api/v1/onboarding-plans/"
MILESTONES = "/api/v1/onboarding-milestones/"


def _plan(owner: Any = None, **account: Any) -> OnboardingPlan:
    return OnboardingPlanFactory.create(
        account=AccountFactory(owner=owner, stage=Stage.ONBOARDING, **account)
    )


def _complete_url(milestone: Milestone) -> str:
    return f"{MILESTONES}{milestone.pk}/complete/"


def _ids(client: APIClient, url: str, params: dict[str, Any] | None = None) -> set[int]:
    response = client.get(url, params or {})
    assert response.status_code == 200, response.content
    return {r["id"] for r in response.json()["results"]}


def test_plans_list_shows_plans_with_their_milestones(csm: Any, api_as: Any) -> None:
    plan = _plan(owner=csm)
    response = api_as(csm).get(PLANS)
    assert response.status_code == 200
    [row] = response.json()["results"]
    assert row["id"] == plan.pk
    assert row["account"]["id"] == plan.account_id
    assert row["account"]["owner"]["id"] == csm.pk
    assert row["template"] == {"id": plan.template_id, "name": plan.template.name}
    assert row["status"] == plan.status and row["progress"] == 0
    titles = [m["title"] for m in row["milestones"]]
    assert titles == list(plan.milestones.values_list("title", flat=True))
    assert len(titles) == 5
    assert api_as(csm).get(f"{PLANS}{plan.pk}/").json() == row


def test_plan_filters(csm: Any, other_csm: Any, viewer: Any, api_as: Any) -> None:
    mine = _plan(owner=csm, segment=Segment.ENTERPRISE)
    theirs = _plan(owner=other_csm)
    OnboardingPlan.objects.filter(pk=theirs.pk).update(
        updated_at=timezone.now() - timedelta(days=5)
    )
    client = api_as(csm)
    assert _ids(client, PLANS, {"owner": "me"}) == {mine.pk}
    assert _ids(client, PLANS, {"owner": other_csm.pk}) == {theirs.pk}
    assert _ids(client, PLANS, {"owner": "none"}) == set()
    assert _ids(client, PLANS, {"segment": "enterprise"}) == {mine.pk}
    assert _ids(client, PLANS, {"account": theirs.account_id}) == {theirs.pk}
    since = (timezone.now() - timedelta(days=1)).isoformat()
    assert _ids(client, PLANS, {"updated_since": since}) == {mine.pk}
    assert _ids(client, PLANS, {"running": "false"}) == set()
    assert _ids(client, PLANS, {"status": mine.status}) == {mine.pk, theirs.pk}
    assert _ids(api_as(viewer), PLANS) == {mine.pk, theirs.pk}


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"owner": "someone"}, "owner"),
        ({"segment": "huge"}, "segment"),
        ({"account": "x"}, "account"),
        ({"status": "dreaming"}, "status"),
        ({"updated_since": "yesterday"}, "updated_since"),
        ({"ordering": "account__name"}, "ordering"),
        ({"cursor": "zzz"}, "cursor"),
    ],
)
def test_bad_plan_filters_are_400(
    viewer: Any, api_as: Any, params: dict[str, Any], field: str
) -> None:
    response = api_as(viewer).get(PLANS, params)
    assert response.status_code == 400
    assert field in response.json()


def test_plan_pages_cover_every_plan_once(viewer: Any, api_as: Any) -> None:
    plans = [_plan() for _ in range(7)]
    client = api_as(viewer)
    seen: list[int] = []
    url: str | None = f"{PLANS}?page_size=3&ordering=-start_date"
    while url:
        body = client.get(url).json()
        assert len(body["results"]) <= 3
        seen += [r["id"] for r in body["results"]]
        url = body["next"]
    assert sorted(seen) == sorted(p.pk for p in plans)


@pytest.mark.parametrize("rows", [5, 50])
def test_plan_list_query_count_does_not_grow_with_page_size(
    viewer: Any, api_as: Any, django_assert_num_queries: Any, rows: int
) -> None:
    template = OnboardingPlanFactory().template
    for _ in range(rows - 1):
        OnboardingPlanFactory(
            account=AccountFactory(owner=viewer, stage=Stage.ONBOARDING), template=template
        )
    client = api_as(viewer)
    client.get(PLANS)  # the token's first use writes last_used_at
    # token + user, role, the page of plans (accounts, owners, templates joined),
    # their milestones with assignees
    with django_assert_num_queries(4):
        response = client.get(PLANS, {"page_size": rows})
    assert len(response.json()["results"]) == rows


def test_milestone_detail(viewer: Any, api_as: Any) -> None:
    milestone = _plan().milestones.first()
    assert milestone is not None
    body = api_as(viewer).get(f"{MILESTONES}{milestone.pk}/").json()
    assert body["id"] == milestone.pk and body["plan"] == milestone.plan_id
    assert api_as(viewer).get(f"{MILESTONES}{milestone.pk + 999}/").status_code == 404


# Complete a milestone


def test_owner_completes_a_milestone_and_the_plan_moves(csm: Any, api_as: Any) -> None:
    plan = _plan(owner=csm)
    milestone = plan.milestones.get(kind="kickoff")
    yesterday = timezone.localdate() - timedelta(days=1)
    response = api_as(csm).post(
        _complete_url(milestone), {"on": yesterday.isoformat(), "note": "Great call"}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["completed_on"] == yesterday.isoformat()
    assert response.json()["completion_note"] == "Great call"
    milestone.refresh_from_db()
    assert milestone.completed_on == yesterday
    plan.refresh_from_db()
    assert plan.progress > 0
    assert Account.objects.get(pk=plan.account_id).onboarding_progress == plan.progress
    entry = PlanHistory.objects.get(milestone=milestone, action=PlanHistory.Action.COMPLETED)
    assert entry.actor == csm


def test_completion_date_defaults_to_today(leader: Any, api_as: Any) -> None:
    milestone = _plan().milestones.first()
    assert milestone is not None
    response = api_as(leader).post(_complete_url(milestone), {}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["completed_on"] == timezone.localdate().isoformat()


def test_complete_permissions(api_as: Any, account_writer: AccountWriter) -> None:
    milestone = _plan(owner=account_writer.owner).milestones.first()
    assert milestone is not None
    response = api_as(account_writer.user).post(_complete_url(milestone), {}, format="json")
    assert response.status_code == account_writer.status(200), response.content
    milestone.refresh_from_db()
    assert (milestone.completed_on is not None) is account_writer.allowed


def test_anonymous_gets_401(db: Any) -> None:
    milestone = _plan().milestones.first()
    assert milestone is not None
    assert APIClient().get(PLANS).status_code == 401
    assert APIClient().post(_complete_url(milestone), {}, format="json").status_code == 401


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"on": "someday"}, "on"),
        ({"on": (timezone.localdate() + timedelta(days=2)).isoformat()}, "on"),
        ({"note": "x" * 2001}, "note"),
    ],
)
def test_invalid_completion_is_400_with_field_errors(
    leader: Any, api_as: Any, body: dict[str, Any], field: str
) -> None:
    milestone = _plan().milestones.first()
    assert milestone is not None
    response = api_as(leader).post(_complete_url(milestone), body, format="json")
    assert response.status_code == 400
    assert field in response.json()
    milestone.refresh_from_db()
    assert milestone.completed_on is None


def test_completing_twice_is_400(leader: Any, api_as: Any) -> None:
    milestone = _plan().milestones.first()
    assert milestone is not None
    client = api_as(leader)
    assert client.post(_complete_url(milestone), {}, format="json").status_code == 200
    again = client.post(_complete_url(milestone), {}, format="json")
    assert again.status_code == 400
    assert again.json() == {"non_field_errors": ["This milestone is already done."]}


def test_milestones_of_a_finished_plan_stay_as_history(leader: Any, api_as: Any) -> None:
    plan = _plan()
    OnboardingPlan.objects.filter(pk=plan.pk).update(finished_on=timezone.localdate())
    milestone = plan.milestones.first()
    assert milestone is not None
    response = api_as(leader).post(_complete_url(milestone), {}, format="json")
    assert response.status_code == 400
    assert response.json() == {"non_field_errors": ["This plan is finished; it stays as history."]}
    assert api_as(leader).get(PLANS, {"running": "false"}).json()["results"][0]["id"] == plan.pk


def test_unknown_milestone_is_404_and_get_is_405(leader: Any, api_as: Any) -> None:
    milestone = _plan().milestones.first()
    assert milestone is not None
    client = api_as(leader)
    assert (
        client.post(f"{MILESTONES}{milestone.pk + 999}/complete/", {}, format="json").status_code
        == 404
    )
    assert client.get(_complete_url(milestone)).status_code == 405
    assert client.post(_complete_url(milestone), {"on": "2026-01-01"}).status_code == 415

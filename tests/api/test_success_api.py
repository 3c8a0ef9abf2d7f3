"""Success plans, objectives, business reviews and renewals over /api/v1/."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import Account, Segment
from success.models import ForecastChange, Objective, ObjectiveUpdate, Renewal
from success.services import plan_create, renewal_create
from tests.api.permissions import AccountWriter
from tests.factories import (
    AccountFactory,
    BusinessReviewFactory,
    ContactFactory,
    ObjectiveFactory,
    SuccessPlanFactory,
)

PLANS = "/api/v1/success-plans/"
OBJECTIVES = "/api/v1/objectives/"
REVIEWS = "/api/v1/business-reviews/"
RENEWALS = "/api/v1/renewals/"


def _ids(client: APIClient, url: str, params: dict[str, Any] | None = None) -> set[int]:
    response = client.get(url, params or {})
    assert response.status_code == 200, response.content
    return {r["id"] for r in response.json()["results"]}


def _renewal(owner: Any = None, **account: Any) -> Renewal:
    """Opened the way the daily job opens it (with its deal)."""
    return renewal_create(account=AccountFactory.create(owner=owner, **account))


# --- Success plans -----------------------------------------------------------


def test_plans_list_shows_objectives_but_never_the_share_link(csm: Any, api_as: Any) -> None:
    objective: Any = ObjectiveFactory(plan__account__owner=csm, plan__share_token="secret-link")
    response = api_as(csm).get(PLANS)
    assert response.status_code == 200
    [row] = response.json()["results"]
    assert row["account"]["id"] == objective.plan.account_id
    assert row["is_current"] is True and row["is_shared"] is True
    assert "secret-link" not in response.content.decode()
    [obj] = row["objectives"]
    assert obj["id"] == objective.pk
    assert (obj["baseline"], obj["target"], obj["current_value"]) == ("30.00", "15.00", "30.00")
    assert obj["progress"] == 0
    assert api_as(csm).get(f"{PLANS}{row['id']}/").json() == row


def test_plan_filters(csm: Any, other_csm: Any, leader: Any, api_as: Any) -> None:
    mine: Any = SuccessPlanFactory(account__owner=csm, account__segment=Segment.ENTERPRISE)
    replacement = plan_create(account=mine.account, desired_outcomes="New goals", by=leader)
    theirs: Any = SuccessPlanFactory(account__owner=other_csm)
    client = api_as(csm)
    assert _ids(client, PLANS, {"owner": "me"}) == {mine.pk, replacement.pk}
    assert _ids(client, PLANS, {"owner": "me", "current": "true"}) == {replacement.pk}
    assert _ids(client, PLANS, {"current": "false"}) == {mine.pk}
    assert _ids(client, PLANS, {"segment": "enterprise"}) == {mine.pk, replacement.pk}
    assert _ids(client, PLANS, {"account": theirs.account_id}) == {theirs.pk}


@pytest.mark.parametrize(
    ("url", "params", "field"),
    [
        (PLANS, {"owner": "x"}, "owner"),
        (PLANS, {"current": "maybe"}, "current"),
        (REVIEWS, {"kind": "party"}, "kind"),
        (REVIEWS, {"scheduled_from": "soon"}, "scheduled_from"),
        (RENEWALS, {"forecast_category": "hopeful"}, "forecast_category"),
        (RENEWALS, {"ordering": "account"}, "ordering"),
        (RENEWALS, {"updated_since": "later"}, "updated_since"),
    ],
)
def test_bad_filters_are_400(
    viewer: Any, api_as: Any, url: str, params: dict[str, Any], field: str
) -> None:
    response = api_as(viewer).get(url, params)
    assert response.status_code == 400
    assert field in response.json()


@pytest.mark.parametrize("rows", [5, 50])
def test_plan_list_query_count_does_not_grow_with_page_size(
    viewer: Any, api_as: Any, django_assert_num_queries: Any, rows: int
) -> None:
    for _ in range(rows):
        ObjectiveFactory.create_batch(2, plan=SuccessPlanFactory(account__owner=viewer))
    client = api_as(viewer)
    client.get(PLANS)
    # token + user, role, plans with accounts, owners and authors, their objectives
    with django_assert_num_queries(4):
        response = client.get(PLANS, {"page_size": rows})
    assert len(response.json()["results"]) == rows
    assert all(len(r["objectives"]) == 2 for r in response.json()["results"])


# --- Objective progress ------------------------------------------------------


def _progress(client: APIClient, objective: Any, body: dict[str, Any]) -> Any:
    return client.post(f"{OBJECTIVES}{objective.pk}/progress/", body, format="json")


def test_recording_value_and_status_keeps_both_in_the_history(csm: Any, api_as: Any) -> None:
    objective: Any = ObjectiveFactory(plan__account__owner=csm)
    response = _progress(
        api_as(csm), objective, {"current_value": "20", "status": "at_risk", "note": "Slipping"}
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["current_value"], body["status"], body["progress"]) == ("20.00", "at_risk", 67)
    objective.refresh_from_db()
    assert objective.current_value == Decimal("20") and objective.status == "at_risk"
    updates = ObjectiveUpdate.objects.filter(objective=objective).order_by("id")
    assert [(u.to_value, u.to_status, u.by) for u in updates] == [
        (Decimal("20"), "", csm),
        (None, "at_risk", csm),
    ]


def test_value_alone_needs_no_note(leader: Any, api_as: Any) -> None:
    objective: Any = ObjectiveFactory()
    response = _progress(api_as(leader), objective, {"current_value": "25.5"})
    assert response.status_code == 200, response.content
    assert response.json()["current_value"] == "25.50"
    assert response.json()["status"] == "in_progress"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "non_field_errors"),
        ({"note": "nothing else"}, "non_field_errors"),
        ({"status": "achieved"}, "note"),
        ({"status": "in_progress", "note": "same"}, "status"),
        ({"status": "done", "note": "x"}, "status"),
        ({"current_value": "abc"}, "current_value"),
        ({"current_value": "1" * 15}, "current_value"),
        ({"current_value": "1.234"}, "current_value"),
        ({"current_value": "20", "status": "missed"}, "note"),
    ],
)
def test_invalid_progress_is_400_and_changes_nothing(
    leader: Any, api_as: Any, body: dict[str, Any], field: str
) -> None:
    objective: Any = ObjectiveFactory()
    response = _progress(api_as(leader), objective, body)
    assert response.status_code == 400
    assert field in response.json()
    objective.refresh_from_db()
    assert objective.current_value == Decimal("30") and objective.status == "in_progress"
    assert not ObjectiveUpdate.objects.filter(objective=objective).exists()


def test_objectives_of_a_replaced_plan_no_longer_move(leader: Any, api_as: Any) -> None:
    objective: Any = ObjectiveFactory()
    plan_create(account=objective.plan.account, desired_outcomes="New", by=leader)
    response = _progress(api_as(leader), objective, {"current_value": "10"})
    assert response.status_code == 400
    assert "replaced" in response.json()["non_field_errors"][0]


def test_progress_permissions(api_as: Any, account_writer: AccountWriter) -> None:
    user = account_writer.user
    objective: Any = ObjectiveFactory(plan__account__owner=account_writer.owner)
    response = _progress(api_as(user), objective, {"current_value": "12"})
    assert response.status_code == account_writer.status(200)
    assert Objective.objects.get(pk=objective.pk).current_value == (
        Decimal("12") if account_writer.allowed else Decimal("30")
    )
    assert api_as(user).get(f"{OBJECTIVES}{objective.pk}/").status_code == 200


def test_anonymous_gets_401(db: Any) -> None:
    objective: Any = ObjectiveFactory()
    for url in [PLANS, REVIEWS, RENEWALS, f"{OBJECTIVES}{objective.pk}/"]:
        assert APIClient().get(url).status_code == 401
    response = APIClient().post(f"{OBJECTIVES}{objective.pk}/progress/", {}, format="json")
    assert response.status_code == 401


# --- Business reviews --------------------------------------------------------


def test_reviews_list_with_attendees_and_filters(csm: Any, other_csm: Any, api_as: Any) -> None:
    mine: Any = BusinessReviewFactory(account__owner=csm)
    contact: Any = ContactFactory(account=mine.account)
    mine.attendee_users.add(csm)
    mine.attendee_contacts.add(contact)
    soon = timezone.localdate() + timedelta(days=3)
    theirs: Any = BusinessReviewFactory(account__owner=other_csm, kind="ebr", scheduled_for=soon)
    client = api_as(csm)
    body = client.get(REVIEWS, {"owner": "me"}).json()
    [row] = body["results"]
    assert row["id"] == mine.pk and row["kind"] == "qbr" and row["status"] == "scheduled"
    assert row["owner"]["id"] == csm.pk
    assert (row["attendee_users"], row["attendee_contacts"]) == ([csm.pk], [contact.pk])
    assert row["snapshot"] == {} and row["sentiment"] == ""
    assert _ids(client, REVIEWS, {"kind": "ebr"}) == {theirs.pk}
    assert _ids(client, REVIEWS, {"scheduled_to": soon.isoformat()}) == {theirs.pk}
    assert _ids(client, REVIEWS, {"status": "held"}) == set()
    assert client.get(f"{REVIEWS}{theirs.pk}/").json()["account"]["id"] == theirs.account_id


@pytest.mark.parametrize("rows", [5, 50])
def test_review_list_query_count_does_not_grow_with_page_size(
    viewer: Any, api_as: Any, django_assert_num_queries: Any, rows: int
) -> None:
    for review in BusinessReviewFactory.create_batch(rows, account__owner=viewer):
        review.attendee_users.add(viewer)
    client = api_as(viewer)
    client.get(REVIEWS)
    # token + user, role, reviews with accounts and owners, attendee users, attendee contacts
    with django_assert_num_queries(5):
        response = client.get(REVIEWS, {"page_size": rows})
    assert len(response.json()["results"]) == rows


# --- Renewals ----------------------------------------------------------------


def _forecast(client: APIClient, renewal: Renewal, body: dict[str, Any]) -> Any:
    return client.post(f"{RENEWALS}{renewal.pk}/forecast/", body, format="json")


def test_forecast_change_is_kept_and_reaches_the_account(csm: Any, api_as: Any) -> None:
    renewal = _renewal(owner=csm)
    response = _forecast(
        api_as(csm),
        renewal,
        {"category": "at_risk", "forecast_arr": "30000", "reason": "Champion left"},
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["forecast_category"], body["forecast_arr"]) == ("at_risk", "30000.00")
    [change] = body["forecast_history"]
    assert change["from_category"] == "" and change["to_category"] == "at_risk"
    assert change["reason"] == "Champion left" and change["changed_by"]["id"] == csm.pk
    account = Account.objects.get(pk=renewal.account_id)
    assert account.renewal_forecast_category == "at_risk"
    assert account.renewal_forecast_arr == Decimal("30000.00")
    assert renewal.deal is not None
    renewal.deal.refresh_from_db()
    assert renewal.deal.amount == Decimal("30000.00")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"category": "commit", "forecast_arr": "50000"}, "reason"),
        ({"category": "commit", "forecast_arr": "50000", "reason": "  "}, "reason"),
        ({"category": "hopeful", "forecast_arr": "1", "reason": "x"}, "category"),
        ({"category": "commit", "forecast_arr": "-1", "reason": "x"}, "forecast_arr"),
        ({"category": "commit", "reason": "x"}, "forecast_arr"),
        ({"forecast_arr": "1", "reason": "x"}, "category"),
    ],
)
def test_invalid_forecast_is_400_with_field_errors(
    leader: Any, api_as: Any, body: dict[str, Any], field: str
) -> None:
    renewal = _renewal()
    response = _forecast(api_as(leader), renewal, body)
    assert response.status_code == 400
    assert field in response.json()
    assert not ForecastChange.objects.exists()


def test_forecast_that_changes_nothing_or_on_a_closed_renewal_is_400(
    leader: Any, api_as: Any
) -> None:
    renewal = _renewal()
    client = api_as(leader)
    body = {"category": "commit", "forecast_arr": "50000", "reason": "Signed intent"}
    assert _forecast(client, renewal, body).status_code == 200
    again = _forecast(client, renewal, body)
    assert again.status_code == 400 and "non_field_errors" in again.json()
    Renewal.objects.filter(pk=renewal.pk).update(status=Renewal.Status.RENEWED)
    closed = _forecast(client, renewal, {**body, "category": "likely"})
    assert closed.status_code == 400
    assert ForecastChange.objects.count() == 1


def test_forecast_permissions(api_as: Any, account_writer: AccountWriter) -> None:
    user = account_writer.user
    renewal = _renewal(owner=account_writer.owner)
    body = {"category": "likely", "forecast_arr": "45000", "reason": "Budget cut"}
    assert _forecast(api_as(user), renewal, body).status_code == account_writer.status(200)
    assert ForecastChange.objects.filter(renewal=renewal).exists() is account_writer.allowed
    assert api_as(user).get(f"{RENEWALS}{renewal.pk}/").status_code == 200


def test_renewal_filters(csm: Any, other_csm: Any, api_as: Any) -> None:
    mine = _renewal(owner=csm)
    theirs = _renewal(owner=other_csm)
    Renewal.objects.filter(pk=theirs.pk).update(
        forecast_category="commit", updated_at=timezone.now() - timedelta(days=3)
    )
    client = api_as(csm)
    assert _ids(client, RENEWALS, {"owner": "me"}) == {mine.pk}
    assert _ids(client, RENEWALS, {"forecast_category": "commit"}) == {theirs.pk}
    assert _ids(client, RENEWALS, {"status": "open"}) == {mine.pk, theirs.pk}
    since = (timezone.now() - timedelta(days=1)).isoformat()
    assert _ids(client, RENEWALS, {"updated_since": since}) == {mine.pk}
    day = mine.renewal_date.isoformat()
    assert _ids(client, RENEWALS, {"renewal_from": day, "renewal_to": day}) >= {mine.pk}


def test_renewal_pages_cover_every_renewal_once(viewer: Any, api_as: Any) -> None:
    renewals = [_renewal() for _ in range(7)]
    client = api_as(viewer)
    seen: list[int] = []
    url: str | None = f"{RENEWALS}?page_size=2&ordering=-current_arr"
    while url:
        body = client.get(url).json()
        seen += [r["id"] for r in body["results"]]
        url = body["next"]
    assert sorted(seen) == sorted(r.pk for r in renewals)


@pytest.mark.parametrize("rows", [5, 50])
def test_renewal_list_query_count_does_not_grow_with_page_size(
    viewer: Any, leader: Any, api_as: Any, django_assert_num_queries: Any, rows: int
) -> None:
    from success.services import renewal_forecast_change

    for _ in range(rows):
        renewal_forecast_change(
            renewal=_renewal(owner=viewer),
            category="commit",
            forecast_arr=Decimal("1"),
            reason="Signed",
            by=leader,
        )
    client = api_as(viewer)
    client.get(RENEWALS)
    # token + user, role, renewals with accounts, owners and churn reasons,
    # their forecast changes with who made them
    with django_assert_num_queries(4):
        response = client.get(RENEWALS, {"page_size": rows})
    assert len(response.json()["results"]) == rows
    assert all(len(r["forecast_history"]) == 1 for r in response.json()["results"])

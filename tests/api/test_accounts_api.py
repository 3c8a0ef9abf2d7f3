"""GET /api/v1/accounts/, GET /api/v1/accounts/{id}/, POST /api/v1/accounts/{id}/stage/."""

from __future__ import annotations

import base64
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import Account, Event, Segment, Stage, StageChange
from tests.api.permissions import AccountWriter
from tests.factories import AccountFactory

LIST = "/api/v1/accounts/"


def _stage_url(account: Any) -> str:
    return f"{LIST}{account.pk}/stage/"


def _all_pages(client: APIClient, url: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.content
        rows += response.json()["results"]
        url = response.json()["next"]
    return rows


def test_list_shows_accounts_with_cs_fields(csm: Any, api_as: Any) -> None:
    account: Any = AccountFactory(owner=csm, hubspot_id="901", health_score=72, health_band="green")
    response = api_as(csm).get(LIST)
    assert response.status_code == 200
    body = response.json()
    assert body["next"] is None and body["previous"] is None
    [row] = body["results"]
    assert row["id"] == account.pk
    assert row["hubspot_id"] == "901"
    assert row["owner"] == {
        "id": csm.pk,
        "username": csm.username,
        "email": csm.email,
        "name": csm.get_full_name(),
    }
    assert row["health_score"] == 72 and row["health_band"] == "green"
    assert row["arr"] == "50000.00"
    assert set(row) >= {"stage", "onboarding_status", "renewal_forecast_category", "updated_at"}


def test_detail_and_unknown_ids(viewer: Any, api_as: Any) -> None:
    account: Any = AccountFactory()
    client = api_as(viewer)
    assert client.get(f"{LIST}{account.pk}/").json()["name"] == account.name
    assert client.get(f"{LIST}{account.pk + 1000}/").status_code == 404
    assert client.get(f"{LIST}abc/").status_code == 404
    assert client.get(f"{LIST}{2**70}/").status_code == 404


def test_filters_by_owner_segment_stage_and_status(
    csm: Any, other_csm: Any, leader: Any, api_as: Any
) -> None:
    mine: Any = AccountFactory(owner=csm, segment=Segment.ENTERPRISE, stage=Stage.RENEWAL)
    theirs: Any = AccountFactory(owner=other_csm, segment=Segment.SMB)
    nobody: Any = AccountFactory(owner=None, status=Account.Status.ARCHIVED)
    client = api_as(csm)

    def ids(**params: Any) -> set[int]:
        response = client.get(LIST, params)
        assert response.status_code == 200, response.content
        return {r["id"] for r in response.json()["results"]}

    assert ids(owner="me") == {mine.pk}
    assert ids(owner=other_csm.pk) == {theirs.pk}
    assert ids(owner="none") == set()  # archived accounts are asked for by name
    assert ids(owner="none", archived="true") == {nobody.pk}
    assert ids(segment="enterprise") == {mine.pk}
    assert ids(stage="renewal") == {mine.pk}
    assert ids(status="archived") == {nobody.pk}
    assert ids(domain=f"https://www.{mine.domain}/") == {mine.pk}
    assert ids() == {mine.pk, theirs.pk}
    assert ids(archived="true") == {mine.pk, theirs.pk, nobody.pk}


def test_updated_since_accepts_any_offset_python_does(viewer: Any, api_as: Any) -> None:
    # PostgreSQL refuses offsets beyond ±15:59; the filter sends UTC.
    AccountFactory()
    response = api_as(viewer).get(LIST, {"updated_since": "2020-01-01T00:00:00+17:54"})
    assert response.status_code == 200
    assert len(response.json()["results"]) == 1


def test_unknown_api_paths_answer_json_404(viewer: Any, api_as: Any) -> None:
    for path in ["/api/v1/accounts/1.5/", "/api/v1/nothing/", "/api/v2/accounts/"]:
        response = api_as(viewer).get(path)
        assert response.status_code == 404
        assert response.json() == {"detail": "Not found."}


def test_updated_since_returns_only_changed_accounts(leader: Any, api_as: Any) -> None:
    old: Any = AccountFactory()
    fresh: Any = AccountFactory()
    long_ago = timezone.now() - timedelta(days=3)
    Account.objects.filter(pk=old.pk).update(updated_at=long_ago)
    since = (timezone.now() - timedelta(days=1)).isoformat()
    response = api_as(leader).get(LIST, {"updated_since": since})
    assert [r["id"] for r in response.json()["results"]] == [fresh.pk]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"stage": "limbo"}, "stage"),
        ({"segment": "huge"}, "segment"),
        ({"owner": "someone"}, "owner"),
        ({"owner": "9" * 30}, "owner"),
        ({"updated_since": "yesterday"}, "updated_since"),
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"hubspot_id": "x" * 40}, "hubspot_id"),
        ({"updated_since": "0001-01-01T00:00:00+05:00"}, "updated_since"),
        ({"ordering": "owner__password"}, "ordering"),
        ({"ordering": "name,id"}, "ordering"),
    ],
)
def test_bad_query_parameters_are_400_with_field_errors(
    viewer: Any, api_as: Any, params: dict[str, str], field: str
) -> None:
    response = api_as(viewer).get(LIST, params)
    assert response.status_code == 400
    assert field in response.json()


def test_ordering(viewer: Any, api_as: Any) -> None:
    b: Any = AccountFactory(name="Beta", arr=3)
    a: Any = AccountFactory(name="Alpha", arr=1)
    c: Any = AccountFactory(name="Gamma", arr=2)
    client = api_as(viewer)
    assert [r["id"] for r in _all_pages(client, f"{LIST}?ordering=name")] == [a.pk, b.pk, c.pk]
    assert [r["id"] for r in _all_pages(client, f"{LIST}?ordering=-arr")] == [b.pk, c.pk, a.pk]
    assert [r["id"] for r in _all_pages(client, LIST)] == [b.pk, a.pk, c.pk]


@pytest.mark.parametrize("ordering", ["id", "-updated_at", "name"])
def test_cursor_pages_cover_every_account_once(viewer: Any, api_as: Any, ordering: str) -> None:
    accounts = AccountFactory.create_batch(23)
    client = api_as(viewer)
    rows = _all_pages(client, f"{LIST}?page_size=5&ordering={ordering}")
    assert sorted(r["id"] for r in rows) == sorted(a.pk for a in accounts)
    first = client.get(LIST, {"page_size": 5, "ordering": ordering}).json()
    assert len(first["results"]) == 5 and first["next"]


def test_tampered_cursor_position_is_400_not_500(viewer: Any, api_as: Any) -> None:
    AccountFactory.create_batch(3)
    client = api_as(viewer)
    next_url = client.get(LIST, {"page_size": 1, "ordering": "-updated_at"}).json()["next"]
    query = parse_qs(urlparse(next_url).query)
    for position in ["not-a-date", "2026-13-45", "x\x00y"]:
        cursor = base64.b64encode(urlencode({"o": 0, "p": position}).encode()).decode()
        response = client.get(LIST, {**query, "cursor": cursor})
        assert response.status_code == 400, position
        assert "cursor" in response.json()


@pytest.mark.parametrize("page_size", [5, 50])
def test_list_query_count_does_not_grow_with_page_size(
    viewer: Any, api_as: Any, django_assert_num_queries: Any, page_size: int
) -> None:
    for i in range(page_size):
        AccountFactory(owner=viewer if i % 2 else None)
    client = api_as(viewer)
    client.get(LIST)  # the token's first use writes last_used_at; later ones do not
    # token + user, the user's role (groups), the page of accounts with owners
    with django_assert_num_queries(3):
        response = client.get(LIST, {"page_size": page_size})
    assert len(response.json()["results"]) == page_size


# Stage change


def test_owner_changes_the_stage_with_a_reason(csm: Any, api_as: Any) -> None:
    account: Any = AccountFactory(owner=csm, stage=Stage.ADOPTION)
    response = api_as(csm).post(
        _stage_url(account), {"to_stage": "renewal", "reason": "Renewal in 90 days"}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["stage"] == "renewal"
    change = StageChange.objects.get(account=account, to_stage="renewal")
    assert change.from_stage == "adoption" and change.changed_by == csm
    assert change.reason == "Renewal in 90 days"
    assert Event.objects.filter(account=account, kind=Event.Kind.STAGE_CHANGED).exists()


def test_stage_change_permissions(api_as: Any, account_writer: AccountWriter) -> None:
    account: Any = AccountFactory(owner=account_writer.owner, stage=Stage.ADOPTION)
    response = api_as(account_writer.user).post(
        _stage_url(account), {"to_stage": "at_risk", "reason": "No logins"}, format="json"
    )
    assert response.status_code == account_writer.status(200)
    account.refresh_from_db()
    assert (account.stage == Stage.AT_RISK) is account_writer.allowed


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"to_stage": "renewal"}, "reason"),
        ({"to_stage": "renewal", "reason": "   "}, "reason"),
        ({"to_stage": "limbo", "reason": "x"}, "to_stage"),
        ({"to_stage": "adoption", "reason": "already there"}, "to_stage"),
        ({"reason": "x"}, "to_stage"),
        ({"to_stage": "renewal", "reason": "x" * 2001}, "reason"),
    ],
)
def test_invalid_stage_change_is_400_with_field_errors(
    leader: Any, api_as: Any, body: dict[str, Any], field: str
) -> None:
    account: Any = AccountFactory(stage=Stage.ADOPTION)
    response = api_as(leader).post(_stage_url(account), body, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not StageChange.objects.filter(account=account).exists()


def test_stage_change_protocol_errors(leader: Any, api_as: Any) -> None:
    account: Any = AccountFactory(stage=Stage.ADOPTION)
    client = api_as(leader)
    form = client.post(_stage_url(account), {"to_stage": "renewal", "reason": "x"})
    assert form.status_code == 415
    broken = client.post(_stage_url(account), "{not json", content_type="application/json")
    assert broken.status_code == 400 and "detail" in broken.json()
    assert client.get(_stage_url(account)).status_code == 405
    missing = client.post(
        f"{LIST}{account.pk + 999}/stage/", {"to_stage": "renewal", "reason": "x"}, format="json"
    )
    assert missing.status_code == 404
    assert client.delete(f"{LIST}{account.pk}/").status_code == 405

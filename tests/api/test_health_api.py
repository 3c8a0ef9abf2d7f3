"""GET /api/v1/health-scores/ (+ detail) and GET /api/v1/accounts/{id}/health/."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import Segment
from success.health.models import HealthModel, HealthScore
from success.health.services import health_override_set, health_scores_compute
from tests.factories import AccountFactory, UsageSnapshotFactory

SCORES = "/api/v1/health-scores/"


def _scored(**account: Any) -> Any:
    """An account with usage, scored by the active model today."""
    scored: Any = AccountFactory(**account)
    UsageSnapshotFactory(account=scored, core_features_adopted=5, csat=4.2, nps=30)
    health_scores_compute(today=timezone.localdate(), account_ids=[scored.pk])
    scored.refresh_from_db()
    return scored


def _health_url(account: Any) -> str:
    return f"/api/v1/accounts/{account.pk}/health/"


def test_scores_list_explains_each_score(csm: Any, api_as: Any) -> None:
    account = _scored(owner=csm)
    response = api_as(csm).get(SCORES)
    assert response.status_code == 200
    [row] = response.json()["results"]
    score = HealthScore.objects.get(account=account)
    assert row["id"] == score.pk and row["account"]["id"] == account.pk
    assert (row["score"], row["band"]) == (score.score, score.band)
    assert row["model_version"] == HealthModel.objects.get(status="active").version
    assert row["breakdown"] == score.breakdown and row["breakdown"]
    assert set(row["breakdown"][0]) == {
        "input",
        "value",
        "score",
        "weight",
        "contribution",
        "source",
    }
    assert api_as(csm).get(f"{SCORES}{score.pk}/").json() == row


def test_score_filters(csm: Any, other_csm: Any, viewer: Any, api_as: Any) -> None:
    mine = _scored(owner=csm, segment=Segment.ENTERPRISE)
    theirs = _scored(owner=other_csm)
    old = HealthScore.objects.get(account=theirs)
    HealthScore.objects.filter(pk=old.pk).update(
        computed_at=timezone.now() - timedelta(days=3),
        date=timezone.localdate() - timedelta(days=3),
    )
    client = api_as(viewer)

    def accounts(**params: Any) -> set[int]:
        response = client.get(SCORES, params)
        assert response.status_code == 200, response.content
        return {r["account"]["id"] for r in response.json()["results"]}

    assert accounts(owner=csm.pk) == {mine.pk}
    assert accounts(segment="enterprise") == {mine.pk}
    assert accounts(account=theirs.pk) == {theirs.pk}
    assert accounts(updated_since=(timezone.now() - timedelta(days=1)).isoformat()) == {mine.pk}
    assert accounts(date_to=(timezone.localdate() - timedelta(days=1)).isoformat()) == {theirs.pk}
    assert accounts(band=mine.health_band) >= {mine.pk}


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"band": "purple"}, "band"),
        ({"date_from": "soon"}, "date_from"),
        ({"account": "0"}, "account"),
        ({"ordering": "band"}, "ordering"),
    ],
)
def test_bad_score_filters_are_400(
    viewer: Any, api_as: Any, params: dict[str, Any], field: str
) -> None:
    response = api_as(viewer).get(SCORES, params)
    assert response.status_code == 400
    assert field in response.json()


@pytest.mark.parametrize("rows", [5, 50])
def test_score_list_query_count_does_not_grow_with_page_size(
    viewer: Any, api_as: Any, django_assert_num_queries: Any, rows: int
) -> None:
    model = HealthModel.objects.get(status="active")
    today = timezone.localdate()
    HealthScore.objects.bulk_create(
        HealthScore(
            account=AccountFactory.create(owner=viewer),
            date=today,
            model=model,
            score=50,
            band="yellow",
        )
        for _ in range(rows)
    )
    client = api_as(viewer)
    client.get(SCORES)
    # token + user, role, scores with accounts, owners and model versions
    with django_assert_num_queries(3):
        response = client.get(SCORES, {"page_size": rows})
    assert len(response.json()["results"]) == rows


def test_account_health_shows_effective_score_override_and_breakdown(
    csm: Any, viewer: Any, api_as: Any, django_capture_on_commit_callbacks: Any
) -> None:
    account = _scored(owner=csm)
    computed = HealthScore.objects.get(account=account)
    with django_capture_on_commit_callbacks(execute=True):
        health_override_set(
            account=account,
            score=15,
            reason="Sponsor is leaving",
            expires_on=timezone.localdate() + timedelta(days=10),
            by=csm,
        )
    response = api_as(viewer).get(_health_url(account))
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["account"]["id"] == account.pk
    assert (body["health_score"], body["health_band"]) == (15, "red")
    assert body["override"]["score"] == 15
    assert body["override"]["reason"] == "Sponsor is leaving"
    assert body["override"]["created_by"]["id"] == csm.pk
    assert body["latest"]["score"] == computed.score
    assert body["latest"]["breakdown"] == computed.breakdown
    assert body["explanation"]
    assert [p["score"] for p in body["history"]] == [computed.score]


def test_account_without_score_or_override(viewer: Any, api_as: Any) -> None:
    account: Any = AccountFactory()
    body = api_as(viewer).get(_health_url(account)).json()
    assert body["health_score"] is None and body["health_band"] == ""
    assert body["override"] is None and body["latest"] is None and body["history"] == []
    assert api_as(viewer).get(f"/api/v1/accounts/{account.pk + 999}/health/").status_code == 404
    assert api_as(viewer).get(f"/api/v1/accounts/{2**70}/health/").status_code == 404


def test_account_health_costs_the_same_with_a_long_history(
    viewer: Any, api_as: Any, django_assert_num_queries: Any
) -> None:
    account: Any = AccountFactory()
    model = HealthModel.objects.get(status="active")
    today = timezone.localdate()
    HealthScore.objects.bulk_create(
        HealthScore(
            account=account, date=today - timedelta(days=d), model=model, score=60, band="yellow"
        )
        for d in range(60)
    )
    client = api_as(viewer)
    client.get(_health_url(account))
    # token + user, role, the account with its owner, its scores with models, the override
    with django_assert_num_queries(5):
        response = client.get(_health_url(account))
    assert len(response.json()["history"]) == 60


@pytest.mark.parametrize("role", ["admin_user", "leader", "csm", "viewer"])
def test_every_role_reads_health(request: pytest.FixtureRequest, api_as: Any, role: str) -> None:
    account = _scored(owner=None)
    client = api_as(request.getfixturevalue(role))
    assert client.get(SCORES).status_code == 200
    assert client.get(_health_url(account)).status_code == 200


def test_anonymous_gets_401(db: Any) -> None:
    account: Any = AccountFactory()
    assert APIClient().get(SCORES).status_code == 401
    assert APIClient().get(_health_url(account)).status_code == 401


def test_health_is_read_only(leader: Any, api_as: Any) -> None:
    account: Any = AccountFactory()
    assert api_as(leader).post(SCORES, {}, format="json").status_code == 405
    assert api_as(leader).post(_health_url(account), {}, format="json").status_code == 405

"""GET /api/v1/usage-snapshots/."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.utils import timezone

from accounts.models import UsageSnapshot
from tests.factories import AccountFactory, UsageSnapshotFactory

URL = "/api/v1/usage-snapshots/"


def test_lists_snapshots(viewer: Any, api_as: Any) -> None:
    snapshot: Any = UsageSnapshotFactory(date=date(2026, 11, 2), csat="4.20", nps=30)
    response = api_as(viewer).get(URL)
    assert response.status_code == 200
    [row] = response.json()["results"]
    assert row["id"] == snapshot.pk and row["account"] == snapshot.account_id
    assert (row["date"], row["csat"], row["nps"], row["active_users"]) == (
        "2026-11-02",
        "4.20",
        30,
        40,
    )


def test_filters_by_account_dates_and_updated_since(viewer: Any, api_as: Any) -> None:
    a: Any = AccountFactory()
    b: Any = AccountFactory()
    first: Any = UsageSnapshotFactory(account=a, date=date(2026, 11, 1))
    second: Any = UsageSnapshotFactory(account=a, date=date(2026, 11, 5))
    other: Any = UsageSnapshotFactory(account=b, date=date(2026, 11, 3))
    UsageSnapshot.objects.filter(pk=first.pk).update(updated_at=timezone.now() - timedelta(days=5))
    client = api_as(viewer)

    def ids(**params: Any) -> set[int]:
        response = client.get(URL, params)
        assert response.status_code == 200, response.content
        return {r["id"] for r in response.json()["results"]}

    assert ids(account=a.pk) == {first.pk, second.pk}
    assert ids(date_from="2026-11-02") == {second.pk, other.pk}
    assert ids(date_to="2026-11-03") == {first.pk, other.pk}
    since = (timezone.now() - timedelta(days=1)).isoformat()
    assert ids(updated_since=since) == {second.pk, other.pk}


@pytest.mark.parametrize(
    "params",
    [{"account": "abc"}, {"account": "0"}, {"account": str(2**64)}, {"date_from": "soon"}],
)
def test_bad_filters_are_400(viewer: Any, api_as: Any, params: dict[str, str]) -> None:
    response = api_as(viewer).get(URL, params)
    assert response.status_code == 400
    assert set(response.json()) == set(params)


def test_pages_by_date_cover_every_snapshot_once(viewer: Any, api_as: Any) -> None:
    account: Any = AccountFactory()
    snapshots = [
        UsageSnapshotFactory(account=account, date=date(2026, 10, 1) + timedelta(days=i))
        for i in range(12)
    ]
    client = api_as(viewer)
    url: str | None = f"{URL}?page_size=5&ordering=-date"
    seen: list[str] = []
    while url:
        body = client.get(url).json()
        seen += [r["date"] for r in body["results"]]
        url = body["next"]
    assert seen == sorted((str(s.date) for s in snapshots), reverse=True)


@pytest.mark.parametrize("page_size", [4, 40])
def test_list_query_count_does_not_grow_with_page_size(
    viewer: Any, api_as: Any, django_assert_num_queries: Any, page_size: int
) -> None:
    UsageSnapshotFactory.create_batch(page_size)
    client = api_as(viewer)
    client.get(URL)
    # token + user, the user's role, the page
    with django_assert_num_queries(3):
        response = client.get(URL, {"page_size": page_size})
    assert len(response.json()["results"]) == page_size

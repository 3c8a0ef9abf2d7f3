"""POST /api/v1/usage-snapshots/: many accounts' usage in one request."""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from accounts.models import UsageSnapshot
from tests.factories import AccountFactory, UserFactory

URL = "/api/v1/usage-snapshots/"
DAY = date(2026, 11, 1)


def _row(account: Any, on: date = DAY, **metrics: Any) -> dict[str, Any]:
    return {"account": str(account.pk), "date": on.isoformat(), **metrics}


def test_rows_match_accounts_by_id_hubspot_id_or_domain(leader: Any, api_as: Any) -> None:
    by_id: Any = AccountFactory()
    by_hubspot: Any = AccountFactory(hubspot_id="hs-77")
    by_domain: Any = AccountFactory(domain="acme.example")
    rows = [
        {"account": str(by_id.pk), "date": "2026-11-01", "active_users": 10, "csat": 4.5},
        {"account": "hs-77", "date": "2026-11-01", "seats_purchased": 50, "nps": -20},
        {"account": "https://www.Acme.example/app", "date": "2026-11-01", "logins_30d": 300},
    ]
    response = api_as(leader).post(URL, {"rows": rows}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["stored"], body["rejected"], body["skipped"], body["partial"]) == (3, 0, 0, False)
    assert [r["account_id"] for r in body["rows"]] == [by_id.pk, by_hubspot.pk, by_domain.pk]
    assert {r["status"] for r in body["rows"]} == {"stored"}
    assert UsageSnapshot.objects.get(account=by_id).csat == Decimal("4.50")
    assert UsageSnapshot.objects.get(account=by_hubspot).nps == -20
    assert UsageSnapshot.objects.get(account=by_domain, date=DAY).logins_30d == 300


def test_same_account_and_day_twice_updates_never_duplicates(leader: Any, api_as: Any) -> None:
    account: Any = AccountFactory()
    client = api_as(leader)
    client.post(URL, {"rows": [_row(account, active_users=10, seats_used=3)]}, format="json")
    first = UsageSnapshot.objects.get(account=account)
    response = client.post(URL, {"rows": [_row(account, active_users=12)]}, format="json")
    assert response.status_code == 200
    snapshot = UsageSnapshot.objects.get(account=account)
    assert snapshot.active_users == 12
    assert snapshot.seats_used is None  # a reading replaces the day's reading entirely
    assert snapshot.created_at == first.created_at
    assert snapshot.updated_at > first.updated_at


def test_one_bad_row_stores_nothing_and_says_why(leader: Any, api_as: Any) -> None:
    account: Any = AccountFactory()
    rows = [
        _row(account),
        _row(account, on=DAY + timedelta(days=1), nps=101, seats_used=-1),
        {"account": "nobody.example", "date": "2026-11-01"},
        {"date": "2026-11-01"},
        "not an object",
        None,
    ]
    response = api_as(leader).post(URL, {"rows": rows}, format="json")
    assert response.status_code == 400
    body = response.json()
    assert (body["stored"], body["rejected"], body["skipped"]) == (0, 5, 1)
    statuses = [r["status"] for r in body["rows"]]
    assert statuses == ["skipped", "rejected", "rejected", "rejected", "rejected", "rejected"]
    assert set(body["rows"][1]["errors"]) == {"nps", "seats_used"}
    assert body["rows"][2]["errors"] == {"account": ["No account matches 'nobody.example'."]}
    assert "account" in body["rows"][3]["errors"]
    assert "non_field_errors" in body["rows"][4]["errors"]
    assert "non_field_errors" in body["rows"][5]["errors"]
    assert not UsageSnapshot.objects.exists()


@pytest.mark.parametrize("how", ["query", "body"])
def test_partial_stores_the_valid_rows(leader: Any, api_as: Any, how: str) -> None:
    account: Any = AccountFactory()
    payload: dict[str, Any] = {"rows": [_row(account), {"account": "x", "date": "nope"}]}
    url = URL
    if how == "query":
        url += "?partial=true"
    else:
        payload["partial"] = True
    response = api_as(leader).post(url, payload, format="json")
    assert response.status_code == 200
    body = response.json()
    assert (body["stored"], body["rejected"], body["partial"]) == (1, 1, True)
    assert body["rows"][1]["errors"]["date"]
    assert UsageSnapshot.objects.filter(account=account, date=DAY).count() == 1


def test_partial_with_no_valid_row_is_400(leader: Any, api_as: Any) -> None:
    response = api_as(leader).post(
        f"{URL}?partial=1", {"rows": [{"account": "ghost", "date": "2026-11-01"}]}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["stored"] == 0


def test_the_same_account_and_day_twice_in_one_request_is_rejected(
    leader: Any, api_as: Any
) -> None:
    account: Any = AccountFactory(hubspot_id="hs-1")
    rows = [_row(account, active_users=1), {"account": "hs-1", "date": "2026-11-01"}]
    response = api_as(leader).post(URL, {"rows": rows, "partial": True}, format="json")
    body = response.json()
    assert [r["status"] for r in body["rows"]] == ["stored", "rejected"]
    assert body["rows"][1]["errors"] == {"date": ["Row 0 already has this account and date."]}
    assert UsageSnapshot.objects.get(account=account).active_users == 1


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"rows": []}, "rows"),
        ({}, "rows"),
        ({"rows": "all of them"}, "rows"),
        ({"rows": [{"account": "1", "date": "2026-11-01"}], "partial": "maybe"}, "partial"),
        ([{"account": "1", "date": "2026-11-01"}], "non_field_errors"),
    ],
)
def test_malformed_requests_are_400_with_field_errors(
    leader: Any, api_as: Any, payload: Any, field: str
) -> None:
    response = api_as(leader).post(URL, payload, format="json")
    assert response.status_code == 400
    assert field in response.json()


def test_bad_partial_query_parameter_is_400(leader: Any, api_as: Any) -> None:
    account: Any = AccountFactory()
    response = api_as(leader).post(f"{URL}?partial=perhaps", {"rows": [_row(account)]}, "json")
    assert response.status_code == 400
    assert "partial" in response.json()


def test_too_many_rows_is_400(leader: Any, api_as: Any, settings: Any) -> None:
    settings.API_USAGE_INGEST_MAX_ROWS = 3
    account: Any = AccountFactory()
    rows = [_row(account, on=DAY + timedelta(days=i)) for i in range(4)]
    response = api_as(leader).post(URL, {"rows": rows}, format="json")
    assert response.status_code == 400
    assert "at most 3 rows" in response.json()["rows"][0]
    assert not UsageSnapshot.objects.exists()


def test_body_over_the_size_limit_is_413(leader: Any, api_as: Any, settings: Any) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 200
    account: Any = AccountFactory()
    rows = [_row(account, on=DAY + timedelta(days=i)) for i in range(10)]
    response = api_as(leader).post(URL, {"rows": rows}, format="json")
    assert response.status_code == 413
    assert not UsageSnapshot.objects.exists()


def test_form_encoded_body_is_415(leader: Any, api_as: Any) -> None:
    response = api_as(leader).post(URL, {"rows": "1"})
    assert response.status_code == 415


# Who may write


def test_csm_writes_only_the_accounts_they_own(csm: Any, other_csm: Any, api_as: Any) -> None:
    mine: Any = AccountFactory(owner=csm)
    theirs: Any = AccountFactory(owner=other_csm)
    client = api_as(csm)
    response = client.post(URL, {"rows": [_row(mine), _row(theirs)]}, format="json")
    assert response.status_code == 400
    assert response.json()["rows"][1]["errors"] == {
        "account": ["You may send usage only for accounts you own."]
    }
    response = client.post(
        URL, {"rows": [_row(mine), _row(theirs)], "partial": True}, format="json"
    )
    assert response.status_code == 200
    assert list(UsageSnapshot.objects.values_list("account_id", flat=True)) == [mine.pk]


@pytest.mark.parametrize("role", ["admin_user", "leader"])
def test_admins_and_leaders_write_any_account(
    request: pytest.FixtureRequest, api_as: Any, other_csm: Any, role: str
) -> None:
    account: Any = AccountFactory(owner=other_csm)
    response = api_as(request.getfixturevalue(role)).post(
        URL, {"rows": [_row(account)]}, format="json"
    )
    assert response.status_code == 200


def test_viewers_users_without_role_and_anonymous_cannot_write(viewer: Any, api_as: Any) -> None:
    account: Any = AccountFactory(owner=viewer)
    payload = {"rows": [_row(account)]}
    assert api_as(viewer).post(URL, payload, format="json").status_code == 403
    nobody = UserFactory(username="nobody")
    assert api_as(nobody).post(URL, payload, format="json").status_code == 403
    assert APIClient().post(URL, payload, format="json").status_code == 401
    assert not UsageSnapshot.objects.exists()


# Throttling and cost


@pytest.mark.parametrize("cache", ["memory", "database"])
def test_ingestion_is_throttled_per_token_with_retry_after(
    leader: Any, admin_user: Any, api_as: Any, settings: Any, cache: str
) -> None:
    if cache == "database":  # production's cache without Redis (one upsert a hit)
        settings.CACHES = {
            "default": {
                "BACKEND": "django.core.cache.backends.db.DatabaseCache",
                "LOCATION": "lifecycle_cache",
            }
        }
        call_command("createcachetable", verbosity=0)
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"api": "100/min", "api_ingest": "2/min"},
    }
    account: Any = AccountFactory()
    first, second = api_as(leader), api_as(admin_user)
    payload = {"rows": [_row(account)]}
    assert first.post(URL, payload, format="json").status_code == 200
    assert first.post(URL, payload, format="json").status_code == 200
    throttled = first.post(URL, payload, format="json")
    assert throttled.status_code == 429
    assert 0 < int(throttled["Retry-After"]) <= 60
    assert "throttled" in throttled.json()["detail"]
    # Another token has its own bucket, and reads use the wider "api" bucket.
    assert second.post(URL, payload, format="json").status_code == 200
    assert first.get(URL).status_code == 200


@pytest.mark.parametrize("accounts", [3, 30])
def test_ingestion_query_count_does_not_grow_with_rows(
    leader: Any, api_as: Any, django_assert_num_queries: Any, accounts: int
) -> None:
    batch = AccountFactory.create_batch(accounts)
    rows = [_row(a, on=DAY + timedelta(days=d)) for a in batch for d in range(3)]
    client = api_as(leader)
    client.get(URL)  # first use of the token writes last_used_at
    body = json.dumps({"rows": rows})
    # token + user, role, match accounts, savepoint/insert/release of the upsert
    with django_assert_num_queries(6):
        response = client.post(URL, body, content_type="application/json")
    assert response.json()["stored"] == accounts * 3

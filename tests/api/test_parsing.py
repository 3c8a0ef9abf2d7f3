"""Hostile JSON bodies are 400s in JSON, like any other bad input."""

from __future__ import annotations

from typing import Any

import pytest

from accounts.dates import OUT_OF_RANGE
from accounts.models import UsageSnapshot
from success.alerts.models import ExpansionSignal
from tests.factories import AccountFactory, ObjectiveFactory, RenewalFactory

pytestmark = pytest.mark.django_db

DEPTH = 100_000


def _urls() -> dict[str, str]:
    account = AccountFactory.create()
    return {
        "stage": f"/api/v1/accounts/{account.pk}/stage/",
        "usage": "/api/v1/usage-snapshots/",
        "signal": "/api/v1/expansion-signals/",
        "progress": f"/api/v1/objectives/{ObjectiveFactory.create().pk}/progress/",
        "forecast": f"/api/v1/renewals/{RenewalFactory.create().pk}/forecast/",
    }


@pytest.mark.parametrize("endpoint", ["stage", "usage", "signal", "progress", "forecast"])
@pytest.mark.parametrize("opening", ["[", '{"a":'])
def test_json_nested_too_deep_is_a_json_400(
    leader: Any, api_as: Any, endpoint: str, opening: str
) -> None:
    url = _urls()[endpoint]
    closing = "]" if opening == "[" else "}"
    body = opening * DEPTH + "1" + closing * DEPTH
    response = api_as(leader).post(url, body, content_type="application/json")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert "nested too deeply" in response.json()["detail"]
    assert not UsageSnapshot.objects.exists() and not ExpansionSignal.objects.exists()


@pytest.mark.parametrize(
    ("url", "field"),
    [
        ("/api/v1/usage-snapshots/?date_from=9999-12-31", "date_from"),
        ("/api/v1/usage-snapshots/?date_to=0001-01-01", "date_to"),
        ("/api/v1/accounts/?updated_since=9999-12-31T00:00:00Z", "updated_since"),
        ("/api/v1/renewals/?renewal_from=1899-12-31", "renewal_from"),
        ("/api/v1/business-reviews/?scheduled_to=3000-01-01", "scheduled_to"),
        ("/api/v1/health-scores/?date_from=0001-01-01", "date_from"),
    ],
)
def test_dates_outside_the_accepted_range_are_400_field_errors(
    leader: Any, api_as: Any, url: str, field: str
) -> None:
    response = api_as(leader).get(url)
    assert response.status_code == 400
    assert response.json()[field] == [OUT_OF_RANGE]


def test_a_usage_row_dated_out_of_range_is_refused(leader: Any, api_as: Any) -> None:
    account = AccountFactory.create()
    body = {"rows": [{"account": str(account.pk), "date": "0001-01-01", "active_users": 1}]}
    response = api_as(leader).post("/api/v1/usage-snapshots/", body, format="json")
    assert response.status_code == 400
    assert OUT_OF_RANGE in str(response.json())
    assert not UsageSnapshot.objects.exists()

"""Hostile JSON bodies are 400s in JSON, like any other bad input."""

from __future__ import annotations

from typing import Any

import pytest

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

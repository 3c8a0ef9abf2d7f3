"""Archived accounts (deleted or merged away in HubSpot) stay out of the API lists, the
portfolio, the renewal pipeline and the metrics unless asked for (issue 15, defect 5)."""

from __future__ import annotations

from typing import Any

from django.test import Client
from rest_framework.test import APIClient

from accounts.models import Account, HealthBand
from lifecycle.metrics.families import at_risk_now
from lifecycle.metrics.scope import Scope
from success.services.renewals import renewal_create
from tests.factories import AccountFactory


def _ids(client: APIClient, url: str, **params: Any) -> set[int]:
    response = client.get(url, params)
    assert response.status_code == 200, response.content
    return {r["id"] for r in response.json()["results"]}


def _pair() -> tuple[Account, Account]:
    live: Any = AccountFactory(name="Live", health_band=HealthBand.RED)
    gone: Any = AccountFactory(name="Gone", health_band=HealthBand.RED)
    renewal_create(account=live)
    renewal_create(account=gone)
    Account.objects.filter(pk=gone.pk).update(status=Account.Status.ARCHIVED)
    return live, gone


def test_api_lists_leave_archived_accounts_out_unless_asked(leader: Any, api_as: Any) -> None:
    live, gone = _pair()
    client = api_as(leader)
    assert _ids(client, "/api/v1/accounts/") == {live.pk}
    assert _ids(client, "/api/v1/accounts/", archived="true") == {live.pk, gone.pk}
    assert _ids(client, "/api/v1/accounts/", status="archived") == {gone.pk}
    assert client.get(f"/api/v1/accounts/{gone.pk}/").status_code == 404
    assert client.get(f"/api/v1/accounts/{gone.pk}/", {"archived": "true"}).status_code == 200
    renewals = client.get("/api/v1/renewals/").json()["results"]
    assert [r["account"]["id"] for r in renewals] == [live.pk]
    assert len(_ids(client, "/api/v1/renewals/", archived="true")) == 2
    assert client.get("/api/v1/renewals/", {"archived": "maybe"}).status_code == 400


def test_pages_and_metrics_leave_archived_accounts_out(leader: Any) -> None:
    _live, gone = _pair()
    web = Client()
    web.force_login(leader)
    portfolio = web.get("/accounts/", {"owner": "all"}).content.decode()
    assert "Live" in portfolio and "Gone" not in portfolio
    pipeline = web.get("/renewals/").content.decode()
    assert "Live" in pipeline and "Gone" not in pipeline
    # The archived account's page is still there for whoever follows a link to it.
    assert web.get(gone.get_absolute_url()).status_code == 200
    risk = at_risk_now(scope=Scope())
    assert risk.accounts == 1

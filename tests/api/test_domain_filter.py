"""GET /api/v1/accounts/?domain=: the domain in any URL form, junk refused in words."""

from __future__ import annotations

from typing import Any

import pytest

from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db


def test_the_api_filters_by_domain_in_any_url_form_and_refuses_junk(
    leader: Any, api_as: Any
) -> None:
    acme = AccountFactory.create(domain="acme.com")
    found = api_as(leader).get("/api/v1/accounts/", {"domain": "https://www.ACME.com/about"})
    assert found.status_code == 200
    assert [row["id"] for row in found.json()["results"]] == [acme.pk]
    refused = api_as(leader).get("/api/v1/accounts/", {"domain": "acme"})
    assert refused.status_code == 400
    assert "is not a domain" in refused.json()["domain"][0]

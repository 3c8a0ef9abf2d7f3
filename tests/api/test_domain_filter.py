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


@pytest.mark.parametrize("junk", ["%s", "100%", "%(value)s", "50% off"])
def test_a_percent_sign_in_the_domain_is_refused_in_words_not_answered_500(
    leader: Any, api_as: Any, junk: str
) -> None:
    """DRF formats a filter error's message with `%`; the value must not be inside it
    (schemathesis found `?domain=%s` answering 500)."""
    refused = api_as(leader).get("/api/v1/accounts/", {"domain": junk})
    assert refused.status_code == 400
    assert refused.json()["domain"] == [
        f"{junk!r} is not a domain: type one such as acme.com (a web address such as "
        "https://www.acme.com/ is fine too)."
    ]

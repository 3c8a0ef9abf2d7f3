"""@admin_required (accounts.roles): admins only, and a wrong method is still a 405
for anyone, as when each view called require_admin itself."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("role", "status"), [("admin_user", 200), ("leader", 403), ("csm", 403)])
def test_an_admin_page_opens_for_admins_only(
    client: Client, request: pytest.FixtureRequest, role: str, status: int
) -> None:
    client.force_login(request.getfixturevalue(role))
    response = client.get(reverse("alerts:rules"))
    assert response.status_code == status
    if status == 403:
        assert "This needs the admin role." in response.content.decode()


def test_a_wrong_method_is_405_before_the_role_is_checked(client: Client, csm: Any) -> None:
    client.force_login(csm)
    assert client.post(reverse("alerts:rules")).status_code == 405


def test_the_decorated_view_keeps_its_name() -> None:
    from success.alerts import views

    assert views.rule_list.__name__ == "rule_list"
    assert views.rule_list.__wrapped__.__module__ == "success.alerts.views"  # type: ignore[attr-defined]

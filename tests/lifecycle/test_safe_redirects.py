"""Every view that follows a `next` parameter stays on this site (open redirect)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from success.alerts.models import Alert, AlertRule, RuleKind
from tests.factories import AccountFactory, SuccessTaskFactory

pytestmark = pytest.mark.django_db

OFFSITE = [
    "https://evil.example",
    "//evil.example/path",
    "/\\evil.example",
    "http:evil.example",
    "javascript:alert(1)",
    "https://testserver@evil.example/",
]


def _alert_close(client: Client, csm: Any) -> tuple[str, dict[str, str], str]:
    account = AccountFactory.create(owner=csm)
    rule = AlertRule.objects.create(name="Late", kind=RuleKind.ONBOARDING_LATE)
    alert = Alert.objects.create(
        account=account, rule=rule, owner=csm, message="Call", due_on=date.today()
    )
    client.force_login(csm)
    return reverse("alerts:close", args=[alert.pk]), {"status": "resolved"}, reverse("alerts:list")


def _task_done(client: Client, csm: Any) -> tuple[str, dict[str, str], str]:
    task = SuccessTaskFactory.create(account__owner=csm)
    client.force_login(csm)
    return reverse("success:task_done", args=[task.pk]), {"done": "1"}, reverse("success:my_work")


def _login(client: Client, csm: Any) -> tuple[str, dict[str, str], str]:
    csm.set_password("pw-123456")
    csm.save()
    return reverse("login"), {"username": csm.username, "password": "pw-123456"}, reverse("home")


VIEWS: dict[str, Callable[[Client, Any], tuple[str, dict[str, str], str]]] = {
    "alert_close": _alert_close,
    "task_done": _task_done,
    "login": _login,
}


@pytest.mark.parametrize("target", OFFSITE)
@pytest.mark.parametrize("view", VIEWS)
def test_next_pointing_off_site_falls_back_to_the_default(
    client: Client, csm: Any, view: str, target: str
) -> None:
    url, data, default = VIEWS[view](client, csm)
    response = client.post(url, {**data, "next": target})
    assert response.status_code == 302
    assert response["Location"] == default


@pytest.mark.parametrize("target", ["1e309", "-1", "alerts:list", "accounts"])
@pytest.mark.parametrize("view", ["alert_close", "task_done"])
def test_next_that_is_no_path_falls_back_to_the_default(
    client: Client, csm: Any, view: str, target: str
) -> None:
    """A `next` that is not a path on this site ("1e309" typed into the field) was taken
    for a URL name and answered 500; it is ignored like an off-site one."""
    url, data, default = VIEWS[view](client, csm)
    response = client.post(url, {**data, "next": target})
    assert response.status_code == 302
    assert response["Location"] == default


@pytest.mark.parametrize("view", VIEWS)
def test_next_on_this_site_is_followed(client: Client, csm: Any, view: str) -> None:
    url, data, _ = VIEWS[view](client, csm)
    response = client.post(url, {**data, "next": "/accounts/?q=a"})
    assert response["Location"] == "/accounts/?q=a"

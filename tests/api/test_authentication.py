"""Token and session authentication, and the API tokens page."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import ApiToken
from accounts.services import api_token_create, api_token_revoke, api_token_touch
from tests.factories import AccountFactory, UserFactory

ACCOUNTS = "/api/v1/accounts/"


@pytest.mark.django_db
def test_request_without_credentials_is_401_with_a_bearer_challenge() -> None:
    response = APIClient().get(ACCOUNTS)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


@pytest.mark.parametrize(
    "header",
    ["Bearer lc_nope_nope", "Bearer", "Bearer a b", "Token lc_x_y", "Bearer \u00e9t\u00e9"],
)
@pytest.mark.django_db
def test_wrong_or_malformed_token_is_401(header: str) -> None:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header.encode("utf-8").decode("latin-1"))
    assert client.get(ACCOUNTS).status_code == 401


def test_token_authenticates_as_its_user_and_records_last_use(viewer: Any) -> None:
    token, secret = api_token_create(user=viewer, name="BI export", by=None)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert client.get(ACCOUNTS).status_code == 200
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_token_is_stored_as_a_sha256_with_a_visible_prefix(admin_user: Any) -> None:
    token, secret = api_token_create(user=admin_user, name="Pipeline", by=admin_user)
    assert secret.startswith(f"{token.prefix}_")
    assert token.prefix.startswith("lc_")
    assert token.key_hash == hashlib.sha256(secret.encode()).hexdigest()
    stored = ApiToken.objects.filter(pk=token.pk).values().get()
    assert secret not in {str(v) for v in stored.values()}


def test_revoked_token_and_inactive_user_are_refused(csm: Any) -> None:
    revoked, revoked_secret = api_token_create(user=csm, name="old", by=None)
    api_token_revoke(token=revoked, by=None)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {revoked_secret}")
    assert client.get(ACCOUNTS).status_code == 401

    leaver: Any = UserFactory(username="leaver", role="csm", is_active=False)
    _token, secret = api_token_create(user=leaver, name="leaver", by=None)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert client.get(ACCOUNTS).status_code == 401


def test_last_use_is_written_at_most_once_a_minute(csm: Any) -> None:
    token, _secret = api_token_create(user=csm, name="t", by=None)
    start = timezone.now()
    api_token_touch(token=token, now=start)
    api_token_touch(token=token, now=start + timedelta(seconds=30))
    token.refresh_from_db()
    assert token.last_used_at == start
    api_token_touch(token=token, now=start + timedelta(seconds=61))
    token.refresh_from_db()
    assert token.last_used_at == start + timedelta(seconds=61)


def test_user_without_a_role_is_403(api_as: Any) -> None:
    nobody = UserFactory(username="nobody")
    response = api_as(nobody).get(ACCOUNTS)
    assert response.status_code == 403


def test_session_works_for_reads_and_needs_csrf_for_writes(csm: Any) -> None:
    account: Any = AccountFactory(owner=csm)
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(csm)
    assert client.get(ACCOUNTS).status_code == 200
    response = client.post(
        f"{ACCOUNTS}{account.pk}/stage/", {"to_stage": "renewal", "reason": "x"}, format="json"
    )
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]


def test_token_requests_need_no_csrf(csm: Any, api_as: Any) -> None:
    account: Any = AccountFactory(owner=csm)
    client = api_as(csm)
    client.handler.enforce_csrf_checks = True
    response = client.post(
        f"{ACCOUNTS}{account.pk}/stage/", {"to_stage": "renewal", "reason": "x"}, format="json"
    )
    assert response.status_code == 200


# The API tokens page


def test_admin_creates_a_token_and_sees_the_secret_only_once(
    client: Any, admin_user: Any, csm: Any
) -> None:
    client.force_login(admin_user)
    url = reverse("accounts:api_tokens")
    response = client.post(url, {"name": "Usage pipeline", "user": csm.pk})
    assert response.status_code == 200
    token = ApiToken.objects.get()
    secret = response.context["secret"]
    assert token.user == csm and token.created_by == admin_user
    assert token.key_hash == ApiToken.hash_key(secret)
    assert secret in response.content.decode()
    assert "no-store" in response["Cache-Control"]

    again = client.get(url)
    assert secret not in again.content.decode()
    assert token.prefix in again.content.decode()


def test_admin_revokes_a_token(client: Any, admin_user: Any, csm: Any) -> None:
    token, secret = api_token_create(user=csm, name="t", by=admin_user)
    client.force_login(admin_user)
    response = client.post(reverse("accounts:api_token_revoke", args=[token.pk]))
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None and token.revoked_by == admin_user
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert api.get(ACCOUNTS).status_code == 401


def test_token_form_rejects_a_missing_name(client: Any, admin_user: Any, csm: Any) -> None:
    client.force_login(admin_user)
    response = client.post(reverse("accounts:api_tokens"), {"name": "", "user": csm.pk})
    assert response.status_code == 200
    assert response.context["form"].errors["name"]
    assert not ApiToken.objects.exists()


@pytest.mark.parametrize("role", ["leader", "csm", "viewer"])
def test_only_admins_manage_tokens(
    client: Any, role: str, request: pytest.FixtureRequest, csm: Any
) -> None:
    user = request.getfixturevalue(role)
    token, _ = api_token_create(user=csm, name="t", by=None)
    client.force_login(user)
    assert client.get(reverse("accounts:api_tokens")).status_code == 403
    assert (
        client.post(reverse("accounts:api_tokens"), {"name": "x", "user": csm.pk}).status_code
        == 403
    )
    assert client.post(reverse("accounts:api_token_revoke", args=[token.pk])).status_code == 403
    token.refresh_from_db()
    assert token.revoked_at is None
    assert ApiToken.objects.count() == 1


def test_only_admins_reach_the_api_tokens_page_from_settings(
    client: Any, admin_user: Any, leader: Any
) -> None:
    link = reverse("accounts:api_tokens")
    client.force_login(admin_user)
    assert f'href="{reverse("settings")}"' in client.get(reverse("portfolio")).content.decode()
    assert f'href="{link}"' in client.get(reverse("settings")).content.decode()
    client.force_login(leader)
    assert f'href="{reverse("settings")}"' not in client.get(reverse("portfolio")).content.decode()
    assert client.get(reverse("settings")).status_code == 403

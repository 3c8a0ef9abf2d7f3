"""accounts.backends.RoleReadingBackend: the signed-in user comes with their role in
one statement, and the role is the one accounts.roles.role_of finds on its own."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.backends import RoleReadingBackend
from accounts.roles import Role, role_of
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _role_alone(user: Any) -> Role | None:
    fresh = type(user).objects.get(pk=user.pk)  # no role read with it
    return role_of(fresh)


@pytest.mark.parametrize(
    ("groups", "superuser"),
    [
        ([], False),
        (["csm"], False),
        (["viewer", "leader", "csm"], False),
        (["viewer", "a team that is not a role"], False),
        (["admin"], False),
        ([], True),
        (["csm"], True),
    ],
)
def test_the_user_comes_with_the_role_role_of_would_find(
    groups: list[str], superuser: bool
) -> None:
    user = UserFactory.create(username="u", is_superuser=superuser)
    user.groups.set([Group.objects.get_or_create(name=name)[0] for name in groups])
    with CaptureQueriesContext(connection) as sent:
        read = RoleReadingBackend().get_user(user.pk)
        assert read is not None
        role = role_of(read)
    assert len(sent) == 1
    assert read.pk == user.pk and read.username == "u" and read.password == user.password
    assert not hasattr(read, "lifecycle_group")
    assert role == _role_alone(user)


def test_no_user_for_an_unknown_an_unreadable_or_an_inactive_id() -> None:
    backend = RoleReadingBackend()
    gone = UserFactory.create(username="gone")
    gone_pk = gone.pk
    gone.delete()
    assert backend.get_user(gone_pk) is None
    assert backend.get_user("not a number") is None
    inactive = UserFactory.create(username="off", is_active=False, role=Role.CSM)
    assert backend.get_user(inactive.pk) is None


def test_a_session_signed_in_under_djangos_own_backend_stays_signed_in(
    client: Any, csm: Any
) -> None:
    """Sessions from before this backend name ModelBackend: still listed, still read."""
    client.force_login(csm, backend="django.contrib.auth.backends.ModelBackend")
    response = client.get(reverse("success:my_work"))
    assert response.status_code == 200 and response.wsgi_request.user == csm
    assert role_of(response.wsgi_request.user) == Role.CSM


def test_signing_in_through_the_form_uses_the_role_reading_backend(client: Any, csm: Any) -> None:
    csm.set_password("a long enough password")
    csm.save()
    response = client.post(
        reverse("login"), {"username": "csm", "password": "a long enough password"}
    )
    assert response.status_code == 302
    assert client.session["_auth_user_backend"] == "accounts.backends.RoleReadingBackend"
    with CaptureQueriesContext(connection) as sent:
        client.get(reverse("success:my_work"))
    assert not any("auth_group g INNER JOIN" in q["sql"] for q in sent)  # no role query

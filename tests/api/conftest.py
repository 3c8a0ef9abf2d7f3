from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from accounts.services import api_token_create
from tests.api.permissions import ACCOUNT_WRITE_MATRIX, AccountWriter


@pytest.fixture(autouse=True)
def _fresh_throttle_buckets() -> Iterator[None]:
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _with_default_health_model(default_health_model: Any) -> None:
    """Usage pushed through the API is rescored with the default health model."""


@pytest.fixture
def token_for(db: Any) -> Callable[[Any], str]:
    """A live API token for `user` (issued the way the admin page issues it)."""

    def issue(user: Any) -> str:
        _token, secret = api_token_create(user=user, name=f"{user.username} tests", by=None)
        return secret

    return issue


@pytest.fixture
def api_as(token_for: Callable[[Any], str]) -> Callable[[Any], APIClient]:
    """An APIClient that authenticates with a token of `user`."""

    def client_for(user: Any) -> APIClient:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_for(user)}")
        return client

    return client_for


@pytest.fixture(params=list(ACCOUNT_WRITE_MATRIX.values()), ids=list(ACCOUNT_WRITE_MATRIX))
def account_writer(request: pytest.FixtureRequest, other_csm: Any) -> AccountWriter:
    """Each row of the matrix in turn (one test per row)."""
    role, owns, allowed = request.param
    user = request.getfixturevalue(role)
    return AccountWriter(user=user, owner=user if owns else other_csm, allowed=allowed)

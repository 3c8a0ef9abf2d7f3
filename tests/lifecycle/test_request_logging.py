from __future__ import annotations

import logging
from typing import Any

import pytest
from django.urls import reverse

from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db


def test_a_refused_request_is_one_warning_line_with_its_reason(
    client: Any, viewer: Any, caplog: Any
) -> None:
    account = AccountFactory.create(name="Acme")
    client.force_login(viewer)
    with caplog.at_level(logging.WARNING, logger="django.request"):
        refused = client.get(reverse("accounts:edit", args=[account.pk]))
        missing = client.get("/accounts/999999/")
    assert (refused.status_code, missing.status_code) == (403, 404)
    records = [r for r in caplog.records if r.name == "django.request"]
    assert [r.levelname for r in records] == ["WARNING", "WARNING"]
    assert all(r.exc_info is None for r in records)
    lines = [r.getMessage() for r in records]
    assert lines[0].startswith("Forbidden (Permission denied): /accounts/")
    assert "Only the account's owner, a CS leader or an admin can change Acme." in lines[0]
    assert lines[1].startswith("Not Found: /accounts/999999/")
    assert all("\n" not in line for line in lines)

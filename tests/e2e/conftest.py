from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest


@pytest.fixture
def login(live_server: Any, page: Any) -> Callable[[str, str], None]:
    """Sign in through the real login form."""

    def sign_in(username: str, password: str = "pw") -> None:
        # These tests start from the portfolio: ask the login form to go there, so
        # no second navigation races the redirect after signing in.
        page.goto(f"{live_server.url}/login/?next=/accounts/")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"{live_server.url}/accounts/")

    return sign_in

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest


@pytest.fixture
def login(live_server: Any, page: Any) -> Callable[[str, str], None]:
    """Sign in through the real login form."""

    def sign_in(username: str, password: str = "pw") -> None:
        page.goto(f"{live_server.url}/login/")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(lambda url: "/login/" not in url)
        # Signing in lands on the home page; these tests start from the portfolio.
        page.goto(f"{live_server.url}/accounts/")

    return sign_in

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from accounts.roles import Role
from success.health.models import HealthModel
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_admin_changes_one_weight_and_saves_the_draft_with_blank_rows_left(
    live_server: Any, page: Any, login: Any, default_health_model: Any
) -> None:
    UserFactory.create(username="root", role=Role.ADMIN)
    login("root")
    page.goto(f"{live_server.url}/health/model/")
    page.get_by_role("button", name="Start a new version").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Draft v")

    page.locator("input[name='m-0-weight']").fill("3")
    page.get_by_role("button", name="Save draft and preview").click()

    expect(page.locator(".message-success")).to_contain_text("Saved draft")
    draft = HealthModel.objects.get(status="draft")
    assert draft.measures.count() == HealthModel.objects.get(status="active").measures.count()


def test_a_bad_row_re_renders_the_editor_with_its_message(
    live_server: Any, page: Any, login: Any, default_health_model: Any
) -> None:
    UserFactory.create(username="root", role=Role.ADMIN)
    login("root")
    page.goto(f"{live_server.url}/health/model/")
    page.get_by_role("button", name="Start a new version").click()

    # A half-filled extra row: a weight but no input.
    page.locator("input[name='m-0-weight']").fill("3")
    blank = page.locator("tbody tr").last
    blank.locator("input[name$='-weight']").fill("2")
    page.get_by_role("button", name="Save draft and preview").click()

    expect(page.get_by_role("heading", level=1)).to_contain_text("Draft v")
    expect(blank.locator(".error")).to_contain_text("This field is required.")

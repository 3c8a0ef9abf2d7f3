from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.roles import Role
from success.alerts.models import Alert, AlertRule, RuleKind
from success.playbooks.models import PlaybookRun
from tests.factories import AccountFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_admin_builds_a_playbook_tied_to_an_alert_rule_and_the_csm_works_its_steps(
    live_server: Any, page: Any, login: Any
) -> None:
    UserFactory.create(username="ada", first_name="Ada", role=Role.ADMIN)
    csm = UserFactory.create(username="maya", first_name="Maya", last_name="Okafor", role=Role.CSM)
    rule = AlertRule.objects.create(name="Quiet for 45 days", kind=RuleKind.NO_LOGIN, days=45)
    account = AccountFactory.create(name="Northwind Analytics", owner=csm)
    Alert.objects.create(
        account=account,
        rule=rule,
        owner=csm,
        message="No product login for 45 days",
        due_on=timezone.localdate() + timedelta(days=3),
    )

    login("ada")
    page.goto(f"{live_server.url}/playbooks/new/")
    page.get_by_role("button", name="Save playbook").click()
    expect(page.locator(".form-errors, .error").first).to_be_visible()

    page.get_by_label("Name").fill("Quiet account rescue")
    page.get_by_label("Starts when").select_option("alert_rule")
    page.get_by_label("Alert rule").select_option(label="Quiet for 45 days")
    page.locator("[name=v-objective_kind]").select_option("alert_cleared")
    page.locator("[name=s-0-title]").fill("Call the champion")
    page.locator("[name=s-0-guidance]").fill("Ask what changed since they stopped logging in.")
    page.locator("[name=s-1-title]").fill("Send the re-onboarding invite")
    page.locator("[name=s-1-due_offset_days]").fill("3")
    page.get_by_role("button", name="Save playbook").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Quiet account rescue")
    expect(page.locator("#effectiveness")).to_contain_text("Too few decided cases to tell")

    page.goto(f"{live_server.url}/playbooks/")
    page.get_by_role("button", name="Run triggers now").click()
    expect(page.locator(".message-success")).to_contain_text("Started 1 run(s)")
    page.get_by_role("button", name="Run triggers now").click()
    expect(page.locator(".message-success")).to_contain_text("Started 0 run(s)")
    assert PlaybookRun.objects.filter(account=account).count() == 1

    page.get_by_role("button", name="Sign out").click()
    login("maya")
    page.get_by_role("link", name="My work").click()
    row = page.locator("tr", has_text="Call the champion")
    expect(row).to_contain_text("Playbook: Quiet account rescue")
    expect(row).to_contain_text("Ask what changed")

    page.goto(f"{live_server.url}{account.get_absolute_url()}")
    page.locator("#playbooks").get_by_role("link", name="Quiet account rescue").click()
    step = page.locator("tr", has_text="Send the re-onboarding invite")
    step.get_by_role("button", name="Done").click()
    expect(page.locator(".message-success")).to_contain_text("Done: Send the re-onboarding invite")
    first = page.locator("tr", has_text="Call the champion")
    first.get_by_placeholder("Why skip?").fill("Champion already replied by email")
    first.get_by_role("button", name="Skip").click()
    expect(page.locator("h1")).to_contain_text("Completed")
    page.screenshot(path="test-results/playbook-run-completed.png")

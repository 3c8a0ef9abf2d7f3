# ruff: noqa: F811 -- fixtures from sync_support are used as test arguments
"""Accounts made in Lifecycle get their HubSpot company: linked by domain when HubSpot
has one, else created with an upsert on `lifecycle_account_id`, never twice."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client, override_settings

from accounts.hubspot import twoway
from accounts.hubspot.inbound.importer import import_run, run_start
from accounts.hubspot.models import SyncChange, SyncIssue, SyncRun, SyncState
from accounts.hubspot.outbound import creates
from accounts.hubspot.sandbox import Sandbox
from accounts.hubspot.transport.client import HubSpotClient
from accounts.models import Account
from accounts.services import account_create, account_cs_fields_update, account_update

from .sync_support import (  # noqa: F401
    client,
    clock_of,
    poll,
    portfolio,
    sync_clock,
    sync_sandbox,
    sync_server,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def imported(client: HubSpotClient, sync_sandbox: Sandbox) -> None:
    portfolio(sync_sandbox, companies=2, deals_per_company=0)
    twoway.provision(client)
    import_run(run_start(SyncRun.Kind.IMPORT), client=client)
    clock_of(sync_sandbox).advance(seconds=3600)
    twoway.push_pass(client)


def _companies(sandbox: Sandbox) -> list[Any]:
    return sandbox.store.ordered("companies")


def test_an_account_made_in_lifecycle_becomes_one_hubspot_company(
    client: HubSpotClient, sync_sandbox: Sandbox, imported: None
) -> None:
    account = account_create(by=None, name="Northwind", domain="https://northwind.example/")
    account_cs_fields_update(account=account, health_score=72, renewal_forecast_category="commit")

    outcome = twoway.push_pass(client)

    assert (outcome.pushed, outcome.failed) == (1, 0)
    account.refresh_from_db()
    company = sync_sandbox.store.find("companies", account.hubspot_id or "")
    assert company.properties["name"] == "Northwind"
    assert company.properties["domain"] == "northwind.example"
    assert company.properties["lifecycle_account_id"] == str(account.pk)
    assert company.properties["lifecycle_health_score"] == "72"
    assert company.properties["lifecycle_renewal_forecast"] == "commit"
    assert SyncState.objects.get(account=account).fields["health_score"].base == "72"
    change = SyncChange.objects.get(account=account, field="created in HubSpot")
    assert (change.source, change.new_value) == ("push", "Northwind")
    assert twoway.push_pass(client).calls == 0
    # Its echo comes back through polling: the same account, not a second one.
    poll(client, sync_sandbox)
    assert Account.objects.filter(name="Northwind").count() == 1
    journal = SyncChange.objects.filter(account=account)
    assert list(journal.values_list("field", "old_value", "new_value")) == [
        ("created in HubSpot", "", "Northwind")
    ]
    assert len(_companies(sync_sandbox)) == 3
    assert twoway.push_pass(client).calls == 0


def test_a_company_hubspot_already_has_for_the_domain_is_linked_not_created(
    client: HubSpotClient, sync_sandbox: Sandbox, imported: None
) -> None:
    sync_sandbox.store.create("companies", {"name": "Contoso Ltd", "domain": "contoso.example"})
    clock_of(sync_sandbox).advance(seconds=5)  # HubSpot's search sees it
    account = account_create(by=None, name="Contoso", domain="contoso.example")

    twoway.push_pass(client)

    account.refresh_from_db()
    assert len(_companies(sync_sandbox)) == 3
    company = sync_sandbox.store.find("companies", account.hubspot_id or "")
    assert company.properties["domain"] == "contoso.example"
    assert account.name == "Contoso Ltd"  # HubSpot owns the name by default
    assert company.properties["lifecycle_account_id"] == str(account.pk)
    assert twoway.push_pass(client).calls == 0


@pytest.mark.parametrize("then", ["push", "poll"])
def test_a_crash_after_hubspot_made_the_company_never_makes_a_second(
    client: HubSpotClient, sync_sandbox: Sandbox, imported: None, monkeypatch: Any, then: str
) -> None:
    account = account_create(by=None, name="No Domain Co")

    def killed(*args: Any) -> Any:
        raise RuntimeError("worker killed")

    monkeypatch.setattr(creates, "_agreed_state", killed)
    with pytest.raises(RuntimeError):
        twoway.push_pass(client)
    monkeypatch.undo()
    assert len(_companies(sync_sandbox)) == 3  # HubSpot made it; we never noted its id
    account.refresh_from_db()
    assert account.hubspot_id is None

    if then == "push":
        twoway.push_pass(client)  # the upsert on our id finds the company it made
    else:
        poll(client, sync_sandbox)  # the company carries our id: linked, not imported

    account.refresh_from_db()
    assert len(_companies(sync_sandbox)) == 3
    assert Account.objects.filter(name="No Domain Co").count() == 1
    made = [c for c in _companies(sync_sandbox) if c.properties.get("name") == "No Domain Co"]
    assert [c.id for c in made] == [account.hubspot_id]
    twoway.push_pass(client)
    assert twoway.push_pass(client).calls == 0


def test_a_company_hubspot_refuses_is_quarantined_until_the_account_changes(
    client: HubSpotClient, sync_sandbox: Sandbox, imported: None, admin_user: Any
) -> None:
    account = account_create(by=None, name="Refused Inc")
    sync_sandbox.faults.queue(400)
    outcome = twoway.push_pass(client)
    assert (outcome.pushed, outcome.failed) == (0, 1)
    issue = SyncIssue.objects.get(hubspot_id=creates.issue_key(account))
    assert issue.reason.startswith("Creating the HubSpot company of Refused Inc failed")
    assert issue.resolved_at is None
    assert twoway.push_pass(client).calls == 0  # held, not retried every minute
    web = Client()
    web.force_login(admin_user)
    page = web.get("/hubspot/issues/").content.decode()
    assert "Creating the HubSpot company of Refused Inc failed" in page
    assert f'href="/accounts/{account.pk}/"' in page
    account_update(account=account, by=None, data={"name": "Refused Incorporated"})
    assert twoway.push_pass(client).pushed == 1
    issue.refresh_from_db()
    assert issue.resolved_at is not None
    account.refresh_from_db()
    assert sync_sandbox.store.find("companies", account.hubspot_id or "").properties["name"] == (
        "Refused Incorporated"
    )


def test_nothing_is_created_before_the_first_import_or_when_turned_off(
    client: HubSpotClient, sync_sandbox: Sandbox
) -> None:
    account_create(by=None, name="Early Account")
    twoway.provision(client)
    assert twoway.push_pass(client).calls == 0  # no import yet: it may still link it
    import_run(run_start(SyncRun.Kind.IMPORT), client=client)
    with override_settings(HUBSPOT_CREATE_COMPANIES=False):
        assert twoway.push_pass(client).calls == 0
    assert twoway.push_pass(client).pushed == 1
    assert [c.properties["name"] for c in _companies(sync_sandbox)] == ["Early Account"]

# ruff: noqa: F811 -- fixtures from sync_support are used as test arguments
"""Domains match as HubSpot holds them (issue 15, defect 6): a company whose `domain` is
a web address, or that lists the account's domain among its `hs_additional_domains`,
is the account's company, whether Lifecycle made the account and looks for its company
(outbound/creates.py) or HubSpot's company arrives by import or poll. Never a second
company in HubSpot, never a second account here."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import override_settings

from accounts.hubspot import twoway
from accounts.hubspot.inbound.importer import import_run, run_start
from accounts.hubspot.models import SyncIssue, SyncRun
from accounts.hubspot.sandbox import Sandbox
from accounts.hubspot.transport.client import HubSpotClient
from accounts.models import Account
from accounts.services import account_create

from .sync_support import (  # noqa: F401
    catch_up,
    client,
    clock_of,
    poll,
    portfolio,
    sync_clock,
    sync_sandbox,
    sync_server,
)

pytestmark = pytest.mark.django_db

# How HubSpot may hold the domain contoso.example of the account.
HELD_AS = {
    "url": {"name": "Contoso Ltd", "domain": "https://www.Contoso.example/about"},
    "additional": {
        "name": "Contoso Group",
        "domain": "contoso-group.example",
        "hs_additional_domains": "contoso.io;Contoso.example",
    },
}


def _import(client: HubSpotClient) -> None:
    import_run(run_start(SyncRun.Kind.IMPORT), client=client)


def _companies(sandbox: Sandbox) -> list[Any]:
    return sandbox.store.ordered("companies")


@pytest.fixture
def imported(client: HubSpotClient, sync_sandbox: Sandbox) -> None:
    portfolio(sync_sandbox, companies=2, deals_per_company=0)
    twoway.provision(client)
    _import(client)
    clock_of(sync_sandbox).advance(seconds=3600)
    twoway.push_pass(client)


def _the_one_account(company_id: str, name: str) -> Account:
    """One account for the company, linked to it, and no other with its name or domain."""
    accounts = list(Account.objects.filter(name__startswith="Contoso"))
    assert [(a.hubspot_id, a.name) for a in accounts] == [(company_id, name)]
    return accounts[0]


@pytest.mark.parametrize("held_as", sorted(HELD_AS))
def test_defect6_a_new_account_links_the_company_holding_its_domain_as_url_or_additional(
    client: HubSpotClient, sync_sandbox: Sandbox, imported: None, held_as: str
) -> None:
    company = sync_sandbox.store.create("companies", dict(HELD_AS[held_as]))
    clock_of(sync_sandbox).advance(seconds=5)  # HubSpot's search sees it
    account = account_create(by=None, name="Contoso", domain="contoso.example")

    outcome = twoway.push_pass(client)

    assert outcome.failed == 0
    account.refresh_from_db()
    assert account.hubspot_id == company.id
    assert len(_companies(sync_sandbox)) == 3  # no second company in HubSpot
    assert company.properties["lifecycle_account_id"] == str(account.pk)
    # Its echo and later polls keep one account, linked to that company.
    poll(client, sync_sandbox)
    poll(client, sync_sandbox)
    one = _the_one_account(company.id, HELD_AS[held_as]["name"])
    # HubSpot owns the domain by default: the account takes the company's own.
    assert one.domain == ("contoso.example" if held_as == "url" else "contoso-group.example")
    assert not SyncIssue.objects.filter(resolved_at__isnull=True).exists()
    assert len(_companies(sync_sandbox)) == 3
    twoway.push_pass(client)
    assert twoway.push_pass(client).calls == 0


@pytest.mark.parametrize("path", ["import", "poll"])
@pytest.mark.parametrize("held_as", sorted(HELD_AS))
def test_defect6_hubspots_company_links_the_account_holding_its_domain_on_import_and_poll(
    client: HubSpotClient, sync_sandbox: Sandbox, held_as: str, path: str
) -> None:
    portfolio(sync_sandbox, companies=1, deals_per_company=0)
    if path == "import":
        account = account_create(by=None, name="Contoso", domain="contoso.example")
        company = sync_sandbox.store.create("companies", dict(HELD_AS[held_as]))
        _import(client)
    else:
        twoway.provision(client)  # our properties exist, so the push below is not refused
        _import(client)
        # Made here while creating companies is off, so only the poll can link it.
        with override_settings(HUBSPOT_CREATE_COMPANIES=False):
            account = account_create(by=None, name="Contoso", domain="contoso.example")
            twoway.push_pass(client)
        catch_up(clock_of(sync_sandbox))  # HubSpot's edits come after the import
        company = sync_sandbox.store.create("companies", dict(HELD_AS[held_as]))
        poll(client, sync_sandbox)

    one = _the_one_account(company.id, HELD_AS[held_as]["name"])
    assert one.pk == account.pk
    assert not SyncIssue.objects.filter(resolved_at__isnull=True).exists()
    assert len(_companies(sync_sandbox)) == 2


def test_an_account_whose_domain_another_accounts_company_lists_is_held_not_created(
    client: HubSpotClient, sync_sandbox: Sandbox, imported: None
) -> None:
    """The company is already another account's: a person decides, nothing is made."""
    company = sync_sandbox.store.create("companies", dict(HELD_AS["additional"]))
    poll(client, sync_sandbox)
    group = Account.objects.get(hubspot_id=company.id)
    twoway.push_pass(client)  # the new account's CS fields
    account = account_create(by=None, name="Contoso", domain="contoso.example")

    outcome = twoway.push_pass(client)

    assert (outcome.pushed, outcome.failed) == (0, 1)
    issue = SyncIssue.objects.get(hubspot_id=f"lifecycle-account:{account.pk}")
    assert f"HubSpot company {company.id} has the domain contoso.example" in issue.reason
    assert len(_companies(sync_sandbox)) == 3
    assert Account.objects.get(pk=group.pk).hubspot_id == company.id
    assert Account.objects.get(pk=account.pk).hubspot_id is None
    assert twoway.push_pass(client).calls == 0  # held until the account changes


def test_the_sandbox_stores_additional_domains_and_finds_them_by_token(
    client: HubSpotClient, sync_sandbox: Sandbox
) -> None:
    made = client.create(
        "companies",
        properties={
            "name": "Contoso Group",
            "domain": "https://www.contoso-group.example/",
            "hs_additional_domains": "contoso.io;contoso.example",
        },
    )
    company_id = str(made["id"])
    clock_of(sync_sandbox).advance(seconds=5)
    found = client.batch_read(
        "companies", [company_id], properties=["domain", "hs_additional_domains"]
    ).results[0]
    assert found["properties"]["domain"] == "https://www.contoso-group.example/"  # as sent
    assert found["properties"]["hs_additional_domains"] == "contoso.io;contoso.example"

    def ids(prop: str, operator: str, value: str) -> list[str]:
        page = client.search_page(
            "companies",
            filter_groups=[
                {"filters": [{"propertyName": prop, "operator": operator, "value": value}]}
            ],
        )
        return [str(r["id"]) for r in page.results]

    assert ids("hs_additional_domains", "CONTAINS_TOKEN", "contoso.example") == [company_id]
    assert ids("hs_additional_domains", "CONTAINS_TOKEN", "*Contoso.io") == [company_id]
    assert ids("domain", "CONTAINS_TOKEN", "*contoso-group.example") == [company_id]
    # `domain` is matched exactly (any case), not as a host: a URL is not its host.
    assert ids("domain", "EQ", "contoso-group.example") == []
    assert ids("domain", "EQ", "HTTPS://WWW.contoso-group.example/") == [company_id]

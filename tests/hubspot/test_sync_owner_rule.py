# ruff: noqa: F811 -- fixtures from sync_support are used as test arguments
"""The owner is a field with a rule like the others (issue 15, defect 7): HubSpot-owned
by default, compared three ways, never copied from a record as it comes (so the echo
of our own push cannot set it back); an owner Lifecycle cannot name leaves the account
without one, with an issue an admin resolves by mapping it, and holds nothing else."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from accounts.hubspot import twoway
from accounts.hubspot.inbound.importer import import_run, run_start
from accounts.hubspot.models import SyncChange, SyncIssue, SyncRun
from accounts.hubspot.rules import fields as fieldspecs
from accounts.hubspot.rules.field_rules import rule_save, rules_load
from accounts.hubspot.sandbox import Sandbox
from accounts.hubspot.sandbox.meta_api import add_owner
from accounts.hubspot.transport.client import HubSpotClient
from accounts.models import Account
from accounts.services import account_create, account_cs_fields_update, account_reassign
from tests.factories import UserFactory

from .sync_support import (  # noqa: F401
    catch_up,
    client,
    clock_of,
    hubspot_settings,
    poll,
    portfolio,
    sync_clock,
    sync_sandbox,
    sync_server,
)

pytestmark = pytest.mark.django_db


def _owner(sandbox: Sandbox, owner_id: str, email: str) -> None:
    add_owner(sandbox.store, email=email, first_name="O", last_name=owner_id, owner_id=owner_id)


def _import(client: HubSpotClient) -> None:
    import_run(run_start(SyncRun.Kind.IMPORT), client=client)


def test_owner_is_a_hubspot_owned_field_with_a_rule() -> None:
    owner = next(r for r in rules_load() if r.key == "owner")
    assert (owner.owner, owner.property) == (fieldspecs.HUBSPOT, "hubspot_owner_id")
    assert fieldspecs.BY_KEY["owner"].owners == fieldspecs.ALL


def test_defect7a_an_unknown_owner_leaves_the_owner_empty_and_the_rename_still_applies(
    client: HubSpotClient,
    sync_sandbox: Sandbox,
    sync_clock: Any,
    hubspot_settings: None,
    admin_user: Any,
) -> None:
    ann = UserFactory.create(email="ann@ours.example")
    ids = portfolio(sync_sandbox, companies=2, deals_per_company=0, owner_email=ann.email)
    twoway.provision(client)
    _import(client)
    company_id = ids["companies"]["c0"]
    assert Account.objects.get(hubspot_id=company_id).owner == ann

    # In HubSpot a new rep, whom Lifecycle does not know yet, takes the company and
    # renames it in the same edit.
    catch_up(sync_clock)
    _owner(sync_sandbox, "777", "zed@elsewhere.example")
    company = sync_sandbox.store.find("companies", company_id)
    sync_sandbox.store.update(company, {"name": "Company 0 Renamed", "hubspot_owner_id": "777"})
    poll(client, sync_sandbox)

    account = Account.objects.get(hubspot_id=company_id)
    assert (account.name, account.owner) == ("Company 0 Renamed", None)
    assert not SyncIssue.objects.filter(object_type="companies", resolved_at__isnull=True)
    issue = SyncIssue.objects.get(object_type="owners", hubspot_id="777")
    assert issue.resolved_at is None
    # The poll read HubSpot's owners again: 777 is known, but is nobody here.
    assert issue.reason.startswith(
        "HubSpot owner 777 (zed@elsewhere.example) is not mapped to a user: "
        "1 company has no owner in Lifecycle until it is mapped"
    )
    assert issue.payload["companies"] == [company_id]
    # The other company, whose owner is known, is untouched.
    assert Account.objects.get(hubspot_id=ids["companies"]["c1"]).owner == ann

    web = Client()
    web.force_login(admin_user)
    page = web.get(reverse("hubspot:issues")).content.decode()
    assert "HubSpot owner 777 (zed@elsewhere.example) is not mapped" in page
    assert reverse("hubspot:owner_issue_map", args=[issue.pk]) in page
    zed = UserFactory.create(email="zed@ours.example", first_name="Zed", last_name="Rep")
    response = web.post(reverse("hubspot:owner_issue_map", args=[issue.pk]), {"user": zed.pk})
    assert response.status_code == 302

    account.refresh_from_db()
    assert account.owner == zed
    issue.refresh_from_db()
    assert issue.resolved_at is not None
    row = SyncChange.objects.filter(account=account, field="owner_id").latest("pk")
    assert (row.old_value, row.new_value) == ("", str(zed.pk))
    # Settled: the next poll and push change nothing.
    poll(client, sync_sandbox)
    account.refresh_from_db()
    assert account.owner == zed
    twoway.push_pass(client)
    assert twoway.push_pass(client).calls == 0


def test_defect7b_a_leaders_reassignment_survives_the_echo_of_the_next_cs_push(
    client: HubSpotClient, sync_sandbox: Sandbox, sync_clock: Any, leader: Any
) -> None:
    ann = UserFactory.create(email="ann@ours.example")
    bob = UserFactory.create(email="bob@ours.example")
    ids = portfolio(sync_sandbox, companies=1, deals_per_company=0, owner_email=ann.email)
    _owner(sync_sandbox, "502", bob.email)
    twoway.provision(client)
    _import(client)
    # Leaders reassign accounts in Lifecycle: the admin lets both sides edit the owner.
    rule_save(key="owner", owner=fieldspecs.TWO_WAY, policy=fieldspecs.LATEST, prop="", by=None)
    catch_up(sync_clock)
    twoway.push_pass(client)
    company = sync_sandbox.store.find("companies", ids["companies"]["c0"])
    account = Account.objects.get(hubspot_id=company.id)
    assert account.owner == ann

    # A CS push goes out; before its echo is read, the leader gives the account to Bob.
    account_cs_fields_update(account=account, health_score=81)
    twoway.push_pass(client)
    assert company.properties["lifecycle_health_score"] == "81"
    account_reassign(account=Account.objects.get(pk=account.pk), owner=bob, by=leader)
    poll(client, sync_sandbox)  # the echo: health 81, owner still Ann in HubSpot

    account.refresh_from_db()
    assert account.owner == bob
    twoway.push_pass(client)
    assert company.properties["hubspot_owner_id"] == "502"
    poll(client, sync_sandbox)  # and the echo of that push
    account.refresh_from_db()
    assert account.owner == bob
    assert not SyncChange.objects.filter(
        account=account, field="owner_id", source__in=["poll", "webhook"]
    ).exists()
    twoway.push_pass(client)
    assert twoway.push_pass(client).calls == 0


def test_a_company_made_for_an_account_starts_with_its_owner_and_its_echo_keeps_it(
    client: HubSpotClient, sync_sandbox: Sandbox
) -> None:
    ann = UserFactory.create(email="ann@ours.example")
    portfolio(sync_sandbox, companies=1, deals_per_company=0, owner_email=ann.email)
    twoway.provision(client)
    _import(client)
    clock_of(sync_sandbox).advance(seconds=3600)
    account = account_create(by=None, name="Northwind", domain="northwind.example", owner=ann)

    twoway.push_pass(client)

    account.refresh_from_db()
    company = sync_sandbox.store.find("companies", account.hubspot_id or "")
    assert company.properties["hubspot_owner_id"] == "501"
    poll(client, sync_sandbox)
    account.refresh_from_db()
    assert account.owner == ann
    assert not SyncChange.objects.filter(account=account, field="owner_id").exists()
    twoway.push_pass(client)
    assert twoway.push_pass(client).calls == 0

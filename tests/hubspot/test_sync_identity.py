# ruff: noqa: F811 -- fixtures from sync_support are used as test arguments
"""Identity: a company that may be an existing account waits for a person."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from accounts.hubspot.inbound.importer import import_run, run_start
from accounts.hubspot.models import SyncChange, SyncIssue, SyncRun, SyncSource
from accounts.hubspot.sandbox import Sandbox, seed
from accounts.hubspot.transport.client import HubSpotClient
from accounts.models import Account
from tests.factories import AccountFactory

from .sync_support import (  # noqa: F401
    client,
    hubspot_settings,
    sync_clock,
    sync_sandbox,
    sync_server,
)

pytestmark = pytest.mark.django_db


def _import(client: HubSpotClient) -> None:
    import_run(run_start(SyncRun.Kind.IMPORT), client=client)


@pytest.fixture
def ambiguous(client: HubSpotClient, sync_sandbox: Sandbox) -> dict[str, Any]:
    """Two companies named like hand-made accounts that have no domain to match on,
    and one whose domain tells it apart."""
    acme = AccountFactory.create(name="Acme Corp", domain="", hubspot_id=None)
    other = AccountFactory.create(name="Globex", domain="globex.example", hubspot_id=None)
    ids = seed(
        sync_sandbox,
        {
            "companies": [
                {"key": "acme", "properties": {"name": "ACME Corp", "annualrevenue": "5000"}},
                {"key": "acme2", "properties": {"name": "Acme Corp", "domain": "acme.example"}},
                {"key": "globex", "properties": {"name": "Globex", "domain": "globex.io"}},
            ]
        },
    )["companies"]
    _import(client)
    return {"acme": acme, "other": other, "ids": ids}


def test_a_same_name_company_waits_for_a_person_instead_of_a_guess(
    ambiguous: dict[str, Any],
) -> None:
    ids = ambiguous["ids"]
    issues = {i.hubspot_id: i for i in SyncIssue.objects.filter(resolved_at__isnull=True)}
    assert set(issues) == {ids["acme"], ids["acme2"]}
    assert issues[ids["acme"]].candidates == [{"id": ambiguous["acme"].pk, "name": "Acme Corp"}]
    assert "link it to one, or create a new account" in issues[ids["acme"]].reason
    # Domains that differ tell Globex apart: imported as its own account.
    assert Account.objects.filter(hubspot_id=ids["globex"], name="Globex").exists()
    assert Account.objects.filter(hubspot_id__isnull=True).count() == 2


def test_an_admin_links_one_and_creates_the_other(
    ambiguous: dict[str, Any], hubspot_settings: None, admin_user: Any
) -> None:
    ids = ambiguous["ids"]
    web = Client()
    web.force_login(admin_user)
    page = web.get(reverse("hubspot:issues")).content.decode()
    assert "Link to Acme Corp" in page and "Create a new account" in page
    first = SyncIssue.objects.get(hubspot_id=ids["acme"])
    web.post(reverse("hubspot:issue_link", args=[first.pk]), {"account": ambiguous["acme"].pk})
    acme = Account.objects.get(pk=ambiguous["acme"].pk)
    assert (acme.hubspot_id, acme.name, str(acme.arr)) == (ids["acme"], "ACME Corp", "5000.00")
    assert SyncChange.objects.filter(account=acme, source=SyncSource.MATCH).exists()
    # The candidate is taken now: the second company cannot be linked to it too.
    second = SyncIssue.objects.get(hubspot_id=ids["acme2"])
    refused = web.post(
        reverse("hubspot:issue_link", args=[second.pk]),
        {"account": ambiguous["acme"].pk},
        follow=True,
    )
    assert "already linked to another HubSpot company" in refused.content.decode()
    web.post(reverse("hubspot:issue_create_new", args=[second.pk]))
    made = Account.objects.get(hubspot_id=ids["acme2"])
    assert made.pk != acme.pk and made.domain == "acme.example"
    assert not SyncIssue.objects.filter(resolved_at__isnull=True).exists()
    # A picked account must be one of the candidates.
    stray = SyncIssue.objects.create(
        object_type="companies", hubspot_id="999", reason="x", source=SyncSource.POLL
    )
    response = web.post(
        reverse("hubspot:issue_link", args=[stray.pk]), {"account": acme.pk}, follow=True
    )
    assert "Pick one of the accounts listed" in response.content.decode()

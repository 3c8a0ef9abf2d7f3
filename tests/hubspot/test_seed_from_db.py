# ruff: noqa: F811 -- fixtures from sync_support are used as test arguments
"""`make run` seeds the sandbox from the demo portfolio; the first import must
link every account to its company, never duplicate one."""

from __future__ import annotations

import pytest

from accounts.hubspot.inbound.importer import import_run, run_start
from accounts.hubspot.models import SyncRun
from accounts.hubspot.sandbox import Sandbox, seed
from accounts.hubspot.sandbox.seed_from_db import seed_from_accounts
from accounts.hubspot.transport.client import HubSpotClient
from accounts.models import Account, OwnerLink
from accounts.roles import Role
from tests.factories import AccountFactory, UserFactory

from .sync_support import client, sync_clock, sync_sandbox, sync_server  # noqa: F401

pytestmark = pytest.mark.django_db


def test_seeded_sandbox_links_every_account_by_domain(
    client: HubSpotClient, sync_sandbox: Sandbox
) -> None:
    csm = UserFactory.create(username="maya", email="maya@example.com", role=Role.CSM)
    accounts = [AccountFactory.create(owner=csm) for _ in range(3)]
    AccountFactory.create(domain="")  # nothing to match a company by: not seeded

    data = seed_from_accounts()
    assert [c["properties"]["domain"] for c in data["companies"]] == [a.domain for a in accounts]
    seed(sync_sandbox, data)
    import_run(run_start(SyncRun.Kind.IMPORT), client=client)

    assert Account.objects.count() == 4
    assert Account.objects.filter(hubspot_id__isnull=False).count() == 3
    for account in accounts:
        account.refresh_from_db()
        assert account.owner == csm and account.hubspot_id
    assert OwnerLink.objects.get(email="maya@example.com").user == csm

# ruff: noqa: F811 -- fixtures from sync_support are used as test arguments
"""Accounts created one at a time in Lifecycle: each is pushed as it is made (the real
push task, queued by the account's change hook), HubSpot's webhooks for the new
company come back over HTTP into the real receiver, and their echoes are applied. What
must stay small is how often HubSpot is read back for those echoes."""

from __future__ import annotations

import os
from typing import Any

import pytest
from django.test import Client

from accounts.hubspot import tasks, twoway
from accounts.hubspot.inbound.importer import import_run, run_start
from accounts.hubspot.models import SyncIssue, SyncRun
from accounts.hubspot.sandbox import Sandbox, SandboxServer
from accounts.hubspot.sandbox.store import Source
from accounts.hubspot.transport.client import HubSpotClient
from accounts.models import Account
from accounts.services import account_create

from .sync_support import (  # noqa: F401
    SECRET,
    capture,
    client,
    clock_of,
    hubspot_settings,
    portfolio,
    sync_clock,
    sync_sandbox,
    sync_server,
)

pytestmark = pytest.mark.django_db
URL = "/hubspot/webhooks/"
# 320 reproduces issue 15's measurement (1,033 batch reads on a live stack).
CREATED = int(os.environ.get("HUBSPOT_TEST_CREATES", "40"))


def _deliver(sandbox: Sandbox, capture: dict[str, Any], web: Client) -> int:
    """Replay what the sandbox sent into the receiver view; the number of deliveries."""
    assert sandbox.webhooks.wait_idle()
    pending, capture["requests"] = capture["requests"], []
    for headers, raw in pending:
        response = web.post(
            URL,
            raw,
            content_type="application/json",
            headers={k: v for k, v in headers.items() if k.lower().startswith("x-hubspot")},
            SERVER_NAME="127.0.0.1",
            SERVER_PORT=str(capture["port"]),
        )
        assert response.status_code == 204, response.content
    return len(pending)


def _reads(server: SandboxServer) -> int:
    """Batch reads of companies and of associations: what reading echoes back costs."""
    return sum(n for (method, path), n in server.calls.items() if path.endswith("/batch/read"))


@pytest.fixture
def wired(
    client: HubSpotClient,
    sync_sandbox: Sandbox,
    capture: dict[str, Any],
    hubspot_settings: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Imported, provisioned, webhooks subscribed and sent to the capture server; the
    tasks use our client."""
    monkeypatch.setattr(tasks, "client_from_settings", lambda: client)
    portfolio(sync_sandbox, companies=2, deals_per_company=0)
    twoway.provision(client)
    import_run(run_start(SyncRun.Kind.IMPORT), client=client)
    clock_of(sync_sandbox).advance(seconds=3600)
    twoway.push_pass(client)
    webhook = sync_sandbox.webhooks.settings
    webhook.target_url = f"http://127.0.0.1:{capture['port']}{URL}"
    webhook.client_secret = SECRET
    webhook.batch_window_s = 0.01
    sync_sandbox.webhooks.subscribe("company.creation")
    for rule in twoway.rules_load():
        sync_sandbox.webhooks.subscribe("company.propertyChange", rule.property)
    sync_sandbox.webhooks.subscribe("company.propertyChange", "domain")


def test_accounts_created_one_at_a_time_read_their_echoes_back_rarely(
    sync_sandbox: Sandbox,
    sync_server: SandboxServer,
    capture: dict[str, Any],
    wired: None,
    django_capture_on_commit_callbacks: Any,
) -> None:
    web = Client()
    before = _reads(sync_server)
    deliveries = 0

    for n in range(CREATED):
        with django_capture_on_commit_callbacks(execute=True):
            account_create(by=None, name=f"Made here {n}", domain=f"made{n}.example")
        deliveries += _deliver(sync_sandbox, capture, web)
    reads = _reads(sync_server) - before

    print(
        f"\n{CREATED} accounts created one at a time: {deliveries} webhook deliveries, "
        f"{reads} batch reads"
    )
    made = Account.objects.filter(name__startswith="Made here ")
    assert made.count() == CREATED and not made.filter(hubspot_id__isnull=True).exists()
    assert len(sync_sandbox.store.ordered("companies")) == 2 + CREATED
    assert not SyncIssue.objects.filter(resolved_at__isnull=True).exists()
    assert deliveries >= CREATED  # every creation came back as a webhook
    # Before: one batch read per creation (40 for 40). Now: none; the bound leaves room.
    assert reads <= CREATED // 10, f"{reads} batch reads for {CREATED} echoes of our creates"


def test_a_persons_edit_among_the_echoes_of_our_create_is_still_read(
    sync_sandbox: Sandbox,
    sync_server: SandboxServer,
    capture: dict[str, Any],
    wired: None,
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        account = account_create(by=None, name="Made here", domain="made-here.example")
    account.refresh_from_db()
    record = sync_sandbox.store.find("companies", account.hubspot_id or "")
    clock_of(sync_sandbox).advance(seconds=1)
    user = Source(source_type="CRM_UI", change_source="CRM_UI", user_id="9001")
    sync_sandbox.store.update(record, {"domain": "renamed.example"}, source=user)
    before = _reads(sync_server)

    _deliver(sync_sandbox, capture, Client())

    assert _reads(sync_server) - before == 1  # read, since one value is not ours
    account.refresh_from_db()
    assert account.domain == "renamed.example"

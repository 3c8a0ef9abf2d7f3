# ruff: noqa: F811 -- fixtures from sync_support are used as test arguments
"""A push worker killed for real (SIGKILL, a separate process) in the middle of a batch
loses nothing and duplicates nothing.

The worker is its own Python process on the test database. The sandbox holds its Nth
write call (a slow answer) and the test kills the process while HubSpot has that
request: the writes before it landed in HubSpot and none of the worker's bookkeeping
committed. The held request still lands a moment later, as a request HubSpot received
from a client that died would. A new pass then finishes the job: every value reaches
HubSpot, each deal exists once, and the pass after it makes no call."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from accounts.hubspot import twoway
from accounts.hubspot.inbound.importer import import_run, run_start
from accounts.hubspot.models import SyncChange, SyncChangeStatus, SyncRun, SyncSource, SyncState
from accounts.hubspot.rules.fields import canonical_number
from accounts.hubspot.sandbox import ManualClock, Sandbox, SandboxServer
from accounts.hubspot.transport.client import HubSpotClient
from accounts.models import Account, Deal, PipelineStage
from accounts.services import account_cs_fields_update, deal_save

from .sync_support import (  # noqa: F401
    TOKEN,
    client,
    portfolio,
    sync_clock,
    sync_sandbox,
    sync_server,
)

COMPANIES = 150  # two company batches (100 + 50) and two deal batches
HOLD_SECONDS = 2.0
WORKER = textwrap.dedent(
    """
    import django, sys
    django.setup()
    from accounts.hubspot.transport.client import HubSpotClient
    from accounts.hubspot import twoway
    twoway.push_pass(HubSpotClient(access_token=sys.argv[1], base_url=sys.argv[2]))
    print("finished")
    """
)
WRITE_PATHS = {
    "/crm/v3/objects/companies/batch/update",
    "/crm/v3/objects/deals/batch/upsert",
}


def _database_url() -> str:
    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def _writes(server: SandboxServer) -> int:
    return sum(n for (method, path), n in server.calls.items() if path in WRITE_PATHS)


def _kill_at_write(
    server: SandboxServer, sandbox: Sandbox, nth: int, *, companies: int = COMPANIES
) -> int:
    """Run a push worker in its own process; SIGKILL it once HubSpot holds its nth write.
    Returns the worker's exit status. Before its writes the pass reads what HubSpot
    holds now, 100 companies per call (nothing changed there: no history read)."""
    reads = -(-companies // 100)
    sandbox.faults.queue(*["pass"] * (reads + nth - 1), f"slow:{HOLD_SECONDS}")
    before = _writes(server)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "lifecycle.settings.test",
        "DATABASE_URL": _database_url(),
    }
    worker = subprocess.Popen(
        [sys.executable, "-c", WORKER, TOKEN, server.url],
        cwd=Path(settings.BASE_DIR),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while _writes(server) - before < nth:
        if worker.poll() is not None:
            out, err = worker.communicate()
            raise AssertionError(f"the worker ended before its write {nth}: {out}{err}")
        assert time.monotonic() < deadline, "the worker never reached its write"
        time.sleep(0.01)
    worker.send_signal(signal.SIGKILL)
    worker.communicate(timeout=30)
    return worker.returncode


@pytest.fixture
def edited(client: HubSpotClient, sync_sandbox: Sandbox) -> list[Account]:
    """Linked accounts, each with a new health score and a new renewal deal to push."""
    portfolio(sync_sandbox, companies=COMPANIES, deals_per_company=0)
    twoway.provision(client)
    import_run(run_start(SyncRun.Kind.IMPORT), client=client)
    clock = sync_sandbox.clock
    assert isinstance(clock, ManualClock)
    clock.advance(seconds=3600)
    twoway.push_pass(client)  # the first pass: our ids and CS fields are in HubSpot
    stage = PipelineStage.objects.filter(pipeline__hubspot_id="default", is_closed=False).first()
    assert stage is not None
    accounts = list(Account.objects.order_by("pk"))
    for i, account in enumerate(accounts):
        account_cs_fields_update(account=account, health_score=(i * 7) % 101)
        deal_save(
            account=account,
            by=None,
            data={
                "name": f"Renewal {account.name}",
                "pipeline": stage.pipeline,
                "stage": stage,
                "amount": Decimal(1000 + i),
                "kind": "renewal",
            },
        )
    return accounts


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "nth", [2, 4], ids=["killed-in-the-second-company-batch", "killed-in-the-second-deal-batch"]
)
def test_a_worker_killed_mid_batch_loses_nothing_and_duplicates_nothing(
    client: HubSpotClient,
    sync_sandbox: Sandbox,
    sync_server: SandboxServer,
    edited: list[Account],
    nth: int,
) -> None:
    status = _kill_at_write(sync_server, sync_sandbox, nth)
    assert status == -signal.SIGKILL
    store = sync_sandbox.store
    landed = sum(
        1
        for a in edited
        if store.find("companies", a.hubspot_id or "").properties.get("lifecycle_health_score")
        == str(a.health_score)
    )
    # Part of the work reached HubSpot before the kill, and none of it was noted here.
    assert 0 < landed <= COMPANIES
    assert nth == 2 or landed == COMPANIES
    if nth == 4:
        assert 0 < len(store.ordered("deals")) < COMPANIES
    assert not Deal.objects.filter(hubspot_id__isnull=False).exists()

    outcome = twoway.push_pass(client)  # the next worker, while HubSpot still holds one

    assert outcome.failed == 0 and outcome.quarantined == 0
    time.sleep(HOLD_SECONDS)  # the held request lands after the dead worker's
    assert len(store.ordered("companies")) == COMPANIES
    for account in edited:
        company = store.find("companies", account.hubspot_id or "")
        assert company.properties["lifecycle_health_score"] == str(account.health_score)
        assert company.properties["lifecycle_account_id"] == str(account.pk)
        state = SyncState.objects.get(account=account)
        assert state.fields["health_score"].base == str(account.health_score)
    deals = store.ordered("deals")
    ours = {str(d.pk): d for d in Deal.objects.filter(created_in_lifecycle=True)}
    assert len(deals) == len(ours) == COMPANIES
    assert sorted(d.properties["lifecycle_deal_id"] for d in deals) == sorted(ours)
    for remote in deals:
        deal = ours[remote.properties["lifecycle_deal_id"]]
        assert deal.hubspot_id == remote.id
        assert remote.properties["amount"] == canonical_number(deal.amount)
        assert store.associated("deals", remote.id, "companies") == {
            # the primary, and the unlabeled link HubSpot keeps beside it
            deal.account.hubspot_id: {twoway.DEAL_TO_COMPANY_PRIMARY, 341}
        }
    assert twoway.push_pass(client).calls == 0


@pytest.mark.django_db(transaction=True)
def test_defect10_a_push_killed_after_3_of_5_batches_leaves_a_journal_row_per_write(
    client: HubSpotClient, sync_sandbox: Sandbox, sync_server: SandboxServer
) -> None:
    """Issue 15, defect 10: the outbox. Each write is journaled before it is sent: the
    worker killed while HubSpot holds its third batch of five leaves 300 rows (200
    confirmed, 100 "sent, unconfirmed"), and after the next pass every one of the 500
    writes has its row, the held batch's confirmed by reading it back in HubSpot."""
    companies = 500
    portfolio(sync_sandbox, companies=companies, deals_per_company=0)
    twoway.provision(client)
    import_run(run_start(SyncRun.Kind.IMPORT), client=client)
    clock = sync_sandbox.clock
    assert isinstance(clock, ManualClock)
    clock.advance(seconds=3600)
    twoway.push_pass(client)
    accounts = list(Account.objects.order_by("pk"))
    for i, account in enumerate(accounts):
        account_cs_fields_update(account=account, health_score=(i * 7 + 3) % 101)
    scores = {a.pk: str(a.health_score) for a in accounts}
    pushed = SyncChange.objects.filter(source=SyncSource.PUSH, field="health_score")
    before = set(pushed.values_list("pk", flat=True))

    assert _kill_at_write(sync_server, sync_sandbox, 3, companies=companies) == -signal.SIGKILL

    rows = pushed.exclude(pk__in=before)
    assert rows.count() == 300  # three batches attempted, each journaled before its send
    statuses = Counter(rows.values_list("status", flat=True))
    assert statuses == {SyncChangeStatus.CONFIRMED: 200, SyncChangeStatus.SENT: 100}
    time.sleep(HOLD_SECONDS)  # the held batch lands after its worker died
    assert twoway.push_pass(client).failed == 0
    journaled = {(a, v) for a, v in rows.values_list("account_id", "new_value") if scores[a] == v}
    assert len(journaled) == companies  # every write has its row, none twice
    assert rows.count() == companies
    assert not rows.exclude(status=SyncChangeStatus.CONFIRMED).exists()
    store = sync_sandbox.store
    assert all(
        store.find("companies", a.hubspot_id or "").properties["lifecycle_health_score"]
        == scores[a.pk]
        for a in accounts
    )

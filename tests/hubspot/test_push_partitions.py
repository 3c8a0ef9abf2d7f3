# ruff: noqa: F811 -- fixtures from sync_support are used as test arguments
"""The push in partitions (outbound/push.py): a partition another process holds is left
to it, and helper tasks of a large pass push the rest. Another database connection
stands in for the other worker process."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, connections
from django.test import override_settings
from django.utils import timezone

from accounts.hubspot import tasks, twoway
from accounts.hubspot.inbound.importer import import_run, run_start
from accounts.hubspot.models import SyncChange, SyncRun, SyncSource, SyncState
from accounts.hubspot.outbound.push import PUSH_LOCK, PUSH_PARTITIONS, dirty_accounts
from accounts.hubspot.sandbox import Sandbox, SandboxServer
from accounts.hubspot.transport.client import HubSpotClient
from accounts.models import Account

from .sync_support import (  # noqa: F401
    client,
    hubspot_settings,
    portfolio,
    sync_clock,
    sync_sandbox,
    sync_server,
)

pytestmark = pytest.mark.django_db(transaction=True)
COMPANIES = 2 * PUSH_PARTITIONS


@pytest.fixture
def due(client: HubSpotClient, sync_sandbox: Sandbox, hubspot_settings: None) -> list[Account]:
    """Linked accounts, pushed once, then each given a new health score to push."""
    portfolio(sync_sandbox, companies=COMPANIES, deals_per_company=0)
    twoway.provision(client)
    import_run(run_start(SyncRun.Kind.IMPORT), client=client)
    twoway.push_pass(client)
    _edit(42)
    return list(Account.objects.order_by("pk"))


def _edit(score: int) -> None:
    """Every account's score changed a minute ago (past the pass's CHECK_MARGIN, so a
    pass that pushes an account leaves it checked)."""
    now = timezone.now()
    SyncState.objects.update(checked_at=now - timedelta(minutes=2))
    Account.objects.update(health_score=score, updated_at=now - timedelta(minutes=1))


@contextmanager
def held_by_another_process(partition: int) -> Iterator[None]:
    other = connections.create_connection(DEFAULT_DB_ALIAS)
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s, %s)", [PUSH_LOCK, partition])
        yield
        # Unlock before closing: a session's end is asynchronous on the server.
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [PUSH_LOCK, partition])
    finally:
        other.close()


def _in_hubspot(sandbox: Sandbox, account: Account) -> str:
    record = sandbox.store.find("companies", account.hubspot_id or "")
    return str(record.properties.get("lifecycle_health_score", ""))


def _pushes(account: Account) -> int:
    return SyncChange.objects.filter(
        account=account, field="health_score", source=SyncSource.PUSH, new_value="42"
    ).count()


def test_a_partition_another_process_holds_is_left_to_it(
    due: list[Account], client: HubSpotClient, sync_sandbox: Sandbox
) -> None:
    partition = due[0].pk % PUSH_PARTITIONS
    held = [a for a in due if a.pk % PUSH_PARTITIONS == partition]
    wanted: list[bool] = []
    with held_by_another_process(partition):
        outcome = twoway.accounts_push(client, on_deferred=lambda: wanted.append(True))
        assert (outcome.pushed, outcome.deferred, wanted) == (len(due) - len(held), 1, [True])
        assert {a.pk for a in dirty_accounts()} == {a.pk for a in held}
        assert {_in_hubspot(sync_sandbox, a) for a in held} != {"42"}
    # The holder is done: the next pass pushes what was left, and only that.
    outcome = twoway.accounts_push(client)
    assert (outcome.pushed, outcome.deferred) == (len(held), 0)
    assert [_in_hubspot(sync_sandbox, a) for a in due] == ["42"] * len(due)
    assert [_pushes(a) for a in due] == [1] * len(due), "each account pushed once"


def test_a_pass_that_found_a_partition_held_leaves_the_next_pass_to_its_holder(
    due: list[Account], sync_server: SandboxServer
) -> None:
    tasks.hubspot_push()  # provisions; nothing held: everything pushed
    _edit(43)
    partition = due[0].pk % PUSH_PARTITIONS
    with held_by_another_process(partition):
        tasks.hubspot_push()
        # The holder (a helper, say) queues the next pass when it ends.
        assert cache.get(tasks.PUSH_WANTED_KEY)
        assert dirty_accounts().count() == len(
            [a for a in due if a.pk % PUSH_PARTITIONS == partition]
        )
    tasks.hubspot_push_helper()  # a helper that finds the wanted mark queues a pass
    assert dirty_accounts().count() == 0


@override_settings(HUBSPOT_PUSH_FAN_OUT_MIN=COMPANIES, HUBSPOT_PUSH_HELPERS=2)
def test_a_large_pass_queues_helpers_that_share_its_accounts(
    due: list[Account], sync_sandbox: Sandbox
) -> None:
    """Tasks run inline in tests: the helpers run when queued, before the pass pushes
    its own partitions, so they push everything and the pass finds nothing left."""
    tasks.hubspot_push()
    assert [_in_hubspot(sync_sandbox, a) for a in due] == ["42"] * len(due)
    assert [_pushes(a) for a in due] == [1] * len(due)
    assert dirty_accounts().count() == 0

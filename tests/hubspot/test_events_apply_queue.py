# ruff: noqa: F811 -- fixtures from sync_support are used as test arguments
"""Webhook fan-out (issue 23 item 3): deliveries queue at most one apply task, one
applier works at a time, an applier that cannot take the lock gives its worker back at
once, and no event is ever stranded by one that was turned away. Real threads, the real
database (each thread its own connection) and the real sandbox."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import pytest
from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.test import Client
from django.utils import timezone
from django_q.conf import Conf
from django_q.models import OrmQ

from accounts.hubspot import services, tasks, webhooks
from accounts.hubspot.inbound.importer import import_run, run_start
from accounts.hubspot.models import SyncRun, WebhookEvent
from accounts.hubspot.sandbox import Sandbox, SandboxServer, signature_v3
from accounts.hubspot.transport.client import HubSpotClient
from accounts.models import Account

from .sync_support import (  # noqa: F401
    SECRET,
    client,
    hubspot_settings,
    portfolio,
    sync_clock,
    sync_sandbox,
    sync_server,
)

URL = "/hubspot/webhooks/"
_ids = iter(range(1, 1_000_000))


def _event(company_id: str) -> dict[str, Any]:
    n = next(_ids)  # every event distinct, so none is dropped as a duplicate
    return {
        "eventId": n,
        "subscriptionId": 1,
        "portalId": 424242,
        "appId": 4242,
        "occurredAt": 1_700_000_000_000 + n,
        "subscriptionType": "company.propertyChange",
        "propertyName": "name",
        "propertyValue": f"Name {n}",
        "attemptNumber": 0,
        "objectId": int(company_id),
        "changeSource": "CRM_UI",
    }


def _store(company_id: str) -> None:
    webhooks.events_store(webhooks.events_parse(json.dumps([_event(company_id)]).encode()).events)


def _pending() -> int:
    return WebhookEvent.objects.filter(processed_at__isnull=True).count()


def _reads(server: SandboxServer) -> int:
    return sum(n for (_, path), n in server.calls.items() if path.endswith("/batch/read"))


@pytest.fixture
def companies(client: HubSpotClient, sync_sandbox: Sandbox, hubspot_settings: None) -> list[str]:
    cache.delete(services.APPLY_QUEUED_KEY)
    ids = portfolio(sync_sandbox, companies=3, deals_per_company=0)
    import_run(run_start(SyncRun.Kind.IMPORT), client=client)
    return sorted(ids["companies"].values())


def _in_thread(target: Any) -> threading.Thread:
    def run() -> None:
        try:
            target()
        finally:
            connection.close()  # the thread's own connection

    thread = threading.Thread(target=run)
    thread.start()
    return thread


@pytest.mark.django_db(transaction=True)
def test_an_applier_that_cannot_take_the_lock_returns_at_once_and_strands_nothing(
    companies: list[str], sync_sandbox: Sandbox, sync_server: SandboxServer
) -> None:
    _store(companies[0])
    sync_sandbox.faults.queue("slow:2")  # the holder's batch read takes 2 s
    before = _reads(sync_server)
    holder = _in_thread(tasks.hubspot_events_apply)
    deadline = time.monotonic() + 10
    while sync_sandbox.faults.settings.queued:  # the holder is inside its read
        assert time.monotonic() < deadline
        time.sleep(0.01)
    _store(companies[1])

    started = time.monotonic()
    tasks.hubspot_events_apply()  # a second worker, while the first holds the lock
    turned_away_in = time.monotonic() - started

    assert holder.is_alive()
    assert turned_away_in < 1.0
    assert _reads(sync_server) == before + 1  # only the holder's read
    assert _pending() == 2  # both wait for the holder, not for a schedule
    holder.join(timeout=30)
    assert _pending() == 0


@pytest.mark.django_db(transaction=True)
def test_concurrent_deliveries_and_appliers_leave_no_event_pending(
    companies: list[str],
) -> None:
    rounds, workers = 15, 4

    def deliveries(seed: int) -> None:
        for i in range(rounds):
            _store(companies[(seed + i) % len(companies)])
            services.events_apply_soon()  # the view's enqueue; tasks run inline here

    threads = [_in_thread(lambda seed=seed: deliveries(seed)) for seed in range(workers)]
    for thread in threads:
        thread.join(timeout=120)

    # No applier ran after the last delivery's: whoever held the lock looked again.
    assert WebhookEvent.objects.count() == rounds * workers
    assert _pending() == 0


def _signed_post(web: Client, events: list[dict[str, Any]]) -> int:
    body = json.dumps(events)
    stamp = str(int(time.time() * 1000))
    signature = signature_v3(
        secret=SECRET, method="POST", uri=f"http://testserver{URL}", body=body, timestamp=stamp
    )
    headers = {"X-HubSpot-Signature-v3": signature, "X-HubSpot-Request-Timestamp": stamp}
    return web.post(URL, body, content_type="application/json", headers=headers).status_code


@pytest.mark.django_db(transaction=True)
def test_many_deliveries_queue_one_apply_task(
    companies: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(Conf, "SYNC", False)  # the ORM broker's queue, as in production
    OrmQ.objects.all().delete()
    web = Client()

    statuses = [_signed_post(web, [_event(companies[i % 3])]) for i in range(20)]

    assert statuses == [204] * 20
    assert OrmQ.objects.count() == 1
    assert _pending() == 20
    tasks.hubspot_events_apply()  # the worker takes the task
    assert _pending() == 0
    assert services.events_apply_soon()  # the next delivery queues again
    assert OrmQ.objects.count() == 2
    cache.delete(services.APPLY_QUEUED_KEY)


@pytest.mark.django_db(transaction=True)
def test_a_push_task_gives_its_worker_back_while_another_pass_holds_the_lock(
    companies: list[str], sync_server: SandboxServer
) -> None:
    from accounts.hubspot.outbound.push import PUSH_LOCK

    tasks.hubspot_push()  # provisions the portal, pushes the imported accounts
    Account.objects.update(health_score=42, updated_at=timezone.now())  # work for the next pass
    other = connections.create_connection(DEFAULT_DB_ALIAS)  # another worker's pass
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s)", [PUSH_LOCK])
        before = sum(sync_server.calls.values())
        started = time.monotonic()
        tasks.hubspot_push()
        waited = time.monotonic() - started
        assert sum(sync_server.calls.values()) == before  # nothing pushed by this one
        assert waited < 10  # not the 60 s wait of old
    finally:
        # Unlock before closing: a session's end is asynchronous on the server.
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [PUSH_LOCK])
        other.close()
    tasks.hubspot_push()  # the next scheduled pass pushes it
    assert sum(sync_server.calls.values()) > before

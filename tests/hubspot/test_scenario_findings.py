# ruff: noqa: F811 -- fixtures from sync_support are used as test arguments
"""Defects the randomised scenario test (test_scenario.py) found in the two-way engine,
each as a named test of its own."""

from __future__ import annotations

import time

import pytest
from django.test import override_settings

from accounts.hubspot import twoway
from accounts.hubspot.inbound.importer import import_run, run_start
from accounts.hubspot.models import SyncRun, SyncState
from accounts.hubspot.sandbox import Sandbox, SandboxServer
from accounts.hubspot.sandbox.operations import merge
from accounts.hubspot.transport.client import HubSpotClient
from accounts.hubspot.transport.http_retries import RetryPolicy
from accounts.models import Account
from accounts.services import account_cs_fields_update

from .sync_support import (  # noqa: F401
    TOKEN,
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
def linked(client: HubSpotClient, sync_sandbox: Sandbox) -> list[Account]:
    portfolio(sync_sandbox, companies=2, deals_per_company=0)
    twoway.provision(client)
    import_run(run_start(SyncRun.Kind.IMPORT), client=client)
    clock_of(sync_sandbox).advance(seconds=3600)
    twoway.push_pass(client)
    return list(Account.objects.order_by("pk"))


def test_a_write_that_landed_despite_its_timeout_leaves_no_backoff_behind(
    sync_sandbox: Sandbox, sync_server: SandboxServer, linked: list[Account]
) -> None:
    """Our write times out after HubSpot applied it, and its retry meets a 503: the push
    counts a transient failure and backs off. The next pass finds our value in HubSpot
    (written by our app) and has nothing to write: the account is no longer retrying
    (push_failures 0), so the drift report does not call it "push retrying" and its next
    edit is not held back by a backoff earned by a write that in fact succeeded."""
    impatient = HubSpotClient(
        access_token=TOKEN,
        base_url=sync_server.url,
        timeout=(2.0, 0.3),
        policy=RetryPolicy(max_attempts=2, backoff_base=0.0, jitter=lambda: 0.0),
        sleep=lambda seconds: None,
    )
    account = linked[0]
    account_cs_fields_update(account=account, health_score=12)
    with override_settings(HUBSPOT_PUSH_RETRY_SECONDS=0.1, HUBSPOT_PUSH_RETRY_MAX_SECONDS=1):
        # The read before the write passes; the write lands but answers too late; its
        # retry meets a 503.
        sync_sandbox.faults.queue("pass", "slow:0.6", 503)
        assert twoway.push_pass(impatient).failed == 1
        time.sleep(0.7)  # the slow answer's thread is done; the backoff is over
        record = sync_sandbox.store.find("companies", account.hubspot_id or "")
        assert record.properties["lifecycle_health_score"] == "12"
        assert SyncState.objects.get(account=account).push_failures == 1
        outcome = twoway.push_pass(impatient)
    assert (outcome.pushed, outcome.failed) == (0, 0)
    assert SyncState.objects.get(account=account).push_failures == 0
    assert twoway.push_pass(impatient).calls == 0


def test_a_push_before_the_merge_is_seen_does_not_write_the_merged_away_account_onto_the_survivor(
    client: HubSpotClient, sync_sandbox: Sandbox, linked: list[Account]
) -> None:
    """HubSpot merged company A into B; neither webhook nor poll has told us yet, and A's
    account has an edit to push. A's old id still answers, with B's id and values, and
    a write to it lands on B: the push must leave A's account to the merge instead of
    writing its values over B's (scenario seed 13 lost a person's edit on B that way)."""
    gone, kept = linked
    survivor = sync_sandbox.store.find("companies", kept.hubspot_id or "")
    sync_sandbox.store.update(survivor, {"lifecycle_health_score": "70"})
    account_cs_fields_update(account=gone, health_score=12)
    account_cs_fields_update(account=kept, health_score=70)
    twoway.push_pass(client)
    account_cs_fields_update(account=Account.objects.get(pk=gone.pk), health_score=13)
    merge(
        sync_sandbox.store,
        "companies",
        primary_id=kept.hubspot_id or "",
        merged_id=gone.hubspot_id or "",
    )

    outcome = twoway.push_pass(client)

    assert outcome.pushed == 0
    assert survivor.properties["lifecycle_health_score"] == "70"
    poll(client, sync_sandbox)  # the merge, seen by polling
    assert Account.objects.get(pk=gone.pk).status == Account.Status.ARCHIVED
    assert Account.objects.get(pk=kept.pk).health_score == 70
    twoway.push_pass(client)
    assert survivor.properties["lifecycle_health_score"] == "70"
    assert twoway.push_pass(client).calls == 0

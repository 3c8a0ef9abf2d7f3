# ruff: noqa: F811 -- fixtures from sync_support are used as test arguments
"""Recovery without a person, the repair side: the drift report lists every account
whose values differ and says why; retrying from the issues page pushes again what
HubSpot refused; an inbound decision that leaves HubSpot behind queues a push."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from accounts.hubspot import tasks, twoway
from accounts.hubspot.inbound.importer import import_run, run_start
from accounts.hubspot.models import Drift, SyncConflict, SyncIssue, SyncRun, SyncState
from accounts.hubspot.outbound import creates
from accounts.hubspot.repair.reconcile import reconcile_run
from accounts.hubspot.sandbox import Sandbox
from accounts.hubspot.sandbox.store import Source
from accounts.hubspot.transport.client import HubSpotClient
from accounts.models import Account
from accounts.services import account_create, account_cs_fields_update

from .sync_support import (  # noqa: F401
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
UI = Source(source_type="CRM_UI", change_source="CRM_UI", user_id="9001")
FORECAST = "lifecycle_renewal_forecast"


@pytest.fixture
def linked(client: HubSpotClient, sync_sandbox: Sandbox) -> list[Account]:
    portfolio(sync_sandbox, companies=6, deals_per_company=0)
    twoway.provision(client)
    import_run(run_start(SyncRun.Kind.IMPORT), client=client)
    clock_of(sync_sandbox).advance(seconds=3600)
    twoway.push_pass(client)
    return list(Account.objects.order_by("pk"))


def _record(sandbox: Sandbox, account: Account) -> Any:
    return sandbox.store.find("companies", account.hubspot_id or "")


def _without_option(sandbox: Sandbox, value: str) -> list[dict[str, Any]]:
    """Someone deletes an option of our property in HubSpot; the old options back."""
    prop = sandbox.store.properties["companies"][FORECAST]
    options = list(prop["options"])
    prop["options"] = [o for o in options if o["value"] != value]
    return options


def test_drift_lists_every_account_whose_values_differ_with_the_reason(
    client: HubSpotClient, sync_sandbox: Sandbox, linked: list[Account], admin_user: Any
) -> None:
    due, retrying, refused, asked, unread, unexplained = linked
    twoway.rule_save(key="stage", owner="two_way", policy="ask", prop="", by=None)
    # Retrying: HubSpot answered 502 to the write and its retry.
    account_cs_fields_update(account=retrying, health_score=21)
    sync_sandbox.faults.queue("pass", 502, 502)  # the read before the write passes
    twoway.push_pass(client)
    # Refused: HubSpot no longer has the option we send.
    _without_option(sync_sandbox, "churn")
    account_cs_fields_update(account=refused, renewal_forecast_category="churn")
    twoway.push_pass(client)
    # Both sides changed a field whose policy is to ask: a conflict waits for a person.
    clock_of(sync_sandbox).advance(seconds=1)
    sync_sandbox.store.update(
        _record(sync_sandbox, asked), {"lifecycle_stage": "at_risk"}, source=UI
    )
    Account.objects.filter(pk=asked.pk).update(stage="renewal")
    poll(client, sync_sandbox)
    assert SyncConflict.objects.filter(account=asked, field="stage", status="open").exists()
    # Changed in HubSpot behind sync's back (no webhook, no modified date).
    _record(sync_sandbox, unread).properties["name"] = "Renamed quietly"
    # Changed here without sync being told (a raw update): nobody is working on it.
    Account.objects.filter(pk=unexplained.pk).update(name="Renamed by a script")
    # And a push simply due.
    account_cs_fields_update(account=due, health_score=88)

    run = reconcile_run(SyncRun.objects.create(kind=SyncRun.Kind.RECONCILE), client=client)

    drifts = list(Drift.objects.filter(run=run))
    assert {d.account_id for d in drifts} == {a.pk for a in linked}  # every one, whatever why
    reasons = {d.account_id: d.reason for d in drifts}
    assert reasons == {
        due.pk: Drift.Reason.PUSH_DUE,
        retrying.pk: Drift.Reason.PUSH_RETRYING,
        refused.pk: Drift.Reason.PUSH_REFUSED,
        asked.pk: Drift.Reason.CONFLICT,
        unread.pk: Drift.Reason.NOT_READ,
        unexplained.pk: Drift.Reason.UNEXPLAINED,
    }
    assert Drift.objects.get(run=run, account=asked).fields == {"stage": ["renewal", "at_risk"]}

    web = Client()
    web.force_login(admin_user)
    page = web.get("/hubspot/drift/").content.decode()
    assert '<th scope="col">Why</th>' in page
    for reason in Drift.Reason:
        assert str(reason.label) in page, reason
    assert "Renamed quietly" in page and "Renamed by a script" in page


def test_retry_from_the_issues_page_pushes_what_hubspot_refused(
    client: HubSpotClient,
    sync_sandbox: Sandbox,
    linked: list[Account],
    admin_user: Any,
    hubspot_settings: None,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
) -> None:
    monkeypatch.setattr(tasks, "client_from_settings", lambda: client)
    options = _without_option(sync_sandbox, "churn")
    written = linked[0]
    account_cs_fields_update(account=written, renewal_forecast_category="churn")
    made = account_create(by=None, name="Made here", domain="made-here.example")
    account_cs_fields_update(account=made, renewal_forecast_category="churn")
    for _ in range(3):  # as often as any version of the push needs to quarantine them
        twoway.push_pass(client)
    assert set(
        SyncIssue.objects.filter(resolved_at__isnull=True).values_list("hubspot_id", flat=True)
    ) == {written.hubspot_id, creates.issue_key(made)}
    assert twoway.push_pass(client).calls == 0  # both held: nobody changed them

    # The admin puts the option back in HubSpot and presses "Retry all"; the accounts
    # are not edited again.
    sync_sandbox.store.properties["companies"][FORECAST]["options"] = options
    web = Client()
    web.force_login(admin_user)
    with django_capture_on_commit_callbacks(execute=True):
        response = web.post("/hubspot/issues/retry/")
    assert response.status_code == 302

    assert _record(sync_sandbox, written).properties[FORECAST] == "churn"
    made.refresh_from_db()
    assert made.hubspot_id and _record(sync_sandbox, made).properties[FORECAST] == "churn"
    assert not SyncIssue.objects.filter(resolved_at__isnull=True).exists()
    run = SyncRun.objects.get(kind=SyncRun.Kind.RETRY)
    assert (run.status, run.updated, run.quarantined) == ("done", 2, 0)  # written, created


def test_an_inbound_latest_wins_decision_that_leaves_hubspot_behind_queues_a_push(
    client: HubSpotClient,
    sync_sandbox: Sandbox,
    linked: list[Account],
    hubspot_settings: None,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
) -> None:
    """HubSpot set the stage, then we set ours a minute later: ours wins, and HubSpot,
    which holds the losing value, gets ours within seconds, from the poll that decided,
    not from a scheduled pass."""
    monkeypatch.setattr(tasks, "client_from_settings", lambda: client)
    twoway.rule_save(key="stage", owner="two_way", policy="latest", prop="", by=None)
    account = linked[1]
    clock_of(sync_sandbox).advance(seconds=1)
    sync_sandbox.store.update(
        _record(sync_sandbox, account), {"lifecycle_stage": "at_risk"}, source=UI
    )
    hubspot_set = clock_of(sync_sandbox).now_ms()
    Account.objects.filter(pk=account.pk).update(
        stage="adoption", field_changed_at={"stage": hubspot_set + 60_000}
    )

    with django_capture_on_commit_callbacks(execute=True):
        poll(client, sync_sandbox)  # nobody runs a push pass

    assert _record(sync_sandbox, account).properties["lifecycle_stage"] == "adoption"
    account.refresh_from_db()
    assert account.stage == "adoption"
    assert SyncState.objects.get(account=account).fields["stage"].base == "adoption"

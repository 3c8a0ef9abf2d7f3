# ruff: noqa: F811 -- fixtures from sync_support are used as test arguments
"""Replay of a time window, reconciliation and drift repair, and the two-way pages."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.hubspot import twoway
from accounts.hubspot.inbound.importer import import_run, run_start
from accounts.hubspot.models import Drift, FieldRule, SyncChange, SyncConflict, SyncRun, SyncSource
from accounts.hubspot.repair.reconcile import drift_repair, reconcile_run, replay_run
from accounts.hubspot.sandbox import ManualClock, Sandbox
from accounts.hubspot.sandbox.store import Source
from accounts.hubspot.transport.client import HubSpotClient
from accounts.models import Account
from accounts.services import account_cs_fields_update

from .sync_support import (  # noqa: F401
    client,
    hubspot_settings,
    portfolio,
    sync_clock,
    sync_sandbox,
    sync_server,
)

pytestmark = pytest.mark.django_db
UI = Source(source_type="CRM_UI", change_source="CRM_UI", user_id="9001")


@pytest.fixture
def linked(client: HubSpotClient, sync_sandbox: Sandbox, sync_clock: ManualClock) -> list[Account]:
    portfolio(sync_sandbox, companies=4, deals_per_company=0)
    twoway.provision(client)
    import_run(run_start(SyncRun.Kind.IMPORT), client=client)
    sync_clock.advance(seconds=3600)
    twoway.push_pass(client)
    return list(Account.objects.order_by("pk"))


def _ms(sandbox: Sandbox) -> int:
    return sandbox.clock.now_ms()


def test_replay_applies_a_missed_window_and_repeating_it_changes_nothing(
    client: HubSpotClient, sync_sandbox: Sandbox, sync_clock: ManualClock, linked: list[Account]
) -> None:
    start = _ms(sync_sandbox)
    sync_clock.advance(seconds=10)
    record = sync_sandbox.store.find("companies", linked[0].hubspot_id or "")
    sync_sandbox.store.update(record, {"name": "Renamed during the outage"}, source=UI)
    sync_clock.advance(seconds=10)
    end = _ms(sync_sandbox)

    def replay() -> SyncRun:
        run = SyncRun.objects.create(
            kind=SyncRun.Kind.REPLAY, cursors={"since_ms": start, "until_ms": end}
        )
        return replay_run(run, client=client)

    first = replay()
    assert first.status == SyncRun.Status.DONE and first.records_done >= 1
    linked[0].refresh_from_db()
    assert linked[0].name == "Renamed during the outage"
    journal = SyncChange.objects.filter(source=SyncSource.REPLAY).count()
    assert journal == 1
    replay()
    assert SyncChange.objects.filter(source=SyncSource.REPLAY).count() == journal


def test_reconciliation_finds_drift_and_repair_follows_each_fields_owner(
    client: HubSpotClient, sync_sandbox: Sandbox, linked: list[Account], admin_user: Any
) -> None:
    twoway.rule_save(key="stage", owner="two_way", policy="latest", prop="", by=None)
    a, b, c, d = linked
    # Drift sync did not see: values changed behind its back (no webhook, no poll).
    for account, values in (
        (a, {"name": "Changed quietly", "lifecycle_health_score": "3"}),
        (b, {"lifecycle_stage": "at_risk"}),
    ):
        record = sync_sandbox.store.find("companies", account.hubspot_id or "")
        record.properties.update(values)
    sync_sandbox.store.archive(sync_sandbox.store.find("companies", c.hubspot_id or ""))
    stranger = sync_sandbox.store.create(
        "companies", {"name": "Made in HubSpot", "domain": "new.example"}
    )
    # An account with a push due differs too: listed, with that reason.
    account_cs_fields_update(account=d, health_score=99)

    run = reconcile_run(SyncRun.objects.create(kind=SyncRun.Kind.RECONCILE), client=client)

    drifts: dict[tuple[str, str | None], Drift] = {
        (x.kind, x.hubspot_id): x for x in Drift.objects.filter(run=run)
    }
    assert set(drifts) == {
        (Drift.Kind.FIELDS, a.hubspot_id),
        (Drift.Kind.FIELDS, b.hubspot_id),
        (Drift.Kind.FIELDS, d.hubspot_id),
        (Drift.Kind.MISSING_THERE, c.hubspot_id),
        (Drift.Kind.MISSING_HERE, stranger.id),
    }
    assert drifts[(Drift.Kind.FIELDS, a.hubspot_id)].fields == {
        "name": [a.name, "Changed quietly"],
        "health_score": ["", "3"],
    }
    assert drifts[(Drift.Kind.FIELDS, a.hubspot_id)].reason == Drift.Reason.NOT_READ
    assert drifts[(Drift.Kind.FIELDS, d.hubspot_id)].reason == Drift.Reason.PUSH_DUE
    for drift in drifts.values():
        drift_repair(drift, client=client, by=admin_user)
    a.refresh_from_db()
    assert a.name == "Changed quietly"  # HubSpot owns the name: pulled
    assert twoway.push_pass(client).pushed >= 1  # Lifecycle owns health: pushed back
    assert sync_sandbox.store.find("companies", a.hubspot_id or "").properties.get(
        "lifecycle_health_score", ""
    ) in ("", None)
    assert SyncConflict.objects.filter(account=b, field="stage").exists()  # two-way: ask
    c.refresh_from_db()
    assert c.status == Account.Status.ARCHIVED
    assert Account.objects.filter(hubspot_id=stranger.id).exists()
    again = reconcile_run(SyncRun.objects.create(kind=SyncRun.Kind.RECONCILE), client=client)
    assert {x.kind for x in Drift.objects.filter(run=again)} <= {Drift.Kind.FIELDS}
    assert not Drift.objects.filter(run=again, account=a).exists()


def test_field_rules_page_saves_and_refuses_what_a_field_cannot_be(admin_user: Any) -> None:
    web = Client()
    web.force_login(admin_user)
    url = reverse("hubspot:field_rules")
    page = web.get(url).content.decode()
    assert "Renewal forecast" in page and "lifecycle_renewal_forecast" in page
    saved = web.post(
        url,
        {"field": "renewal_forecast_category", "owner": "two_way", "policy": "ask", "property": ""},
    )
    assert saved.status_code == 302
    rule = FieldRule.objects.get(field="renewal_forecast_category")
    assert (rule.owner, rule.policy, rule.updated_by) == ("two_way", "ask", admin_user)
    refused = web.post(
        url, {"field": "health_score", "owner": "two_way", "policy": "ask", "property": ""}
    )
    assert refused.status_code == 400
    assert "Health score can only be: Lifecycle (push only)." in refused.content.decode()
    assert not FieldRule.objects.filter(field="health_score").exists()


def test_conflict_inbox_shows_csms_their_own_and_resolves(
    csm: Any, other_csm: Any, leader: Any
) -> None:
    from tests.factories import AccountFactory

    mine = AccountFactory.create(owner=csm, hubspot_id="501", renewal_forecast_category="likely")
    theirs = AccountFactory.create(owner=other_csm, hubspot_id="502")
    for account in (mine, theirs):
        SyncConflict.objects.create(
            account=account,
            field="renewal_forecast_category",
            base_value="commit",
            ours="likely",
            theirs="at_risk",
            theirs_at=timezone.now() - timedelta(minutes=5),
        )
    web = Client()
    web.force_login(csm)
    page = web.get(reverse("hubspot:conflicts")).content.decode()
    assert mine.name in page and theirs.name not in page
    other = SyncConflict.objects.get(account=theirs)
    assert (
        web.post(
            reverse("hubspot:conflict_resolve", args=[other.pk]), {"choice": "ours"}
        ).status_code
        == 404
    )
    bad = web.post(
        reverse("hubspot:conflict_resolve", args=[SyncConflict.objects.get(account=mine).pk]),
        {"choice": "typed", "value": "maybe"},
    )
    assert bad.status_code == 302
    assert SyncConflict.objects.get(account=mine).status == "open"  # refused, nothing changed
    web.post(
        reverse("hubspot:conflict_resolve", args=[SyncConflict.objects.get(account=mine).pk]),
        {"choice": "theirs"},
    )
    mine.refresh_from_db()
    assert mine.renewal_forecast_category == "at_risk"
    resolved = SyncConflict.objects.get(account=mine)
    assert (resolved.status, resolved.resolution, resolved.resolved_by) == (
        "resolved",
        "at_risk",
        csm,
    )
    web.force_login(leader)
    assert theirs.name in web.get(reverse("hubspot:conflicts")).content.decode()


def test_replay_form_refuses_a_backwards_window(admin_user: Any) -> None:
    web = Client()
    web.force_login(admin_user)
    response = web.post(
        reverse("hubspot:replay_start"),
        {"since": "2026-11-20T10:00", "until": "2026-11-19T10:00"},
        follow=True,
    )
    assert "The window must end after it starts." in response.content.decode()
    assert not SyncRun.objects.filter(kind=SyncRun.Kind.REPLAY).exists()

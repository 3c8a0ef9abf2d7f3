# ruff: noqa: F811 -- fixtures from sync_support are used as test arguments
"""Defects the randomised scenario test (test_scenario.py) found in the two-way engine,
each as a named test of its own."""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.test import override_settings

from accounts.hubspot import twoway
from accounts.hubspot.inbound.importer import import_run, run_start
from accounts.hubspot.models import (
    SyncChange,
    SyncChangeStatus,
    SyncConflict,
    SyncRun,
    SyncSource,
    SyncState,
)
from accounts.hubspot.sandbox import Sandbox, SandboxServer
from accounts.hubspot.sandbox.operations import merge
from accounts.hubspot.sandbox.store import Source
from accounts.hubspot.transport.client import HubSpotClient
from accounts.hubspot.transport.http_retries import RetryPolicy
from accounts.models import Account
from accounts.services import account_cs_fields_update

from .scenario.world import KillingCaller, WorkerKilled
from .sync_support import (  # noqa: F401
    SECRET,
    TOKEN,
    capture,
    catch_up,
    client,
    clock_of,
    hubspot_settings,
    poll,
    portfolio,
    sync_clock,
    sync_sandbox,
    sync_server,
    webhooks_deliver,
    webhooks_to,
)

pytestmark = pytest.mark.django_db
PERSON = Source(source_type="CRM_UI", change_source="CRM_UI", user_id="9001")
FORECAST = "lifecycle_renewal_forecast"


@pytest.fixture
def linked(client: HubSpotClient, sync_sandbox: Sandbox, settings: Any) -> list[Account]:
    # Each test runs its passes itself, in its own order (tasks run inline in tests).
    settings.ACCOUNT_CHANGED_HOOKS = []
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


# -- an edit back to the agreed value (scenario seeds 3 and 10) ------------------------


def _hubspot_edit(sandbox: Sandbox, account: Account, *, after_ms: int, **values: str) -> None:
    """A person's edit in HubSpot's UI, `after_ms` after now (HubSpot's clock reads ours)."""
    clock = clock_of(sandbox)
    catch_up(clock)
    clock.advance(ms=after_ms)
    sandbox.store.update(
        sandbox.store.find("companies", account.hubspot_id or ""), values, source=PERSON
    )


def _company(sandbox: Sandbox, account: Account, prop: str = FORECAST) -> str:
    return str(sandbox.store.find("companies", account.hubspot_id or "").properties.get(prop, ""))


def _forecast_rule(policy: str) -> None:
    twoway.rule_save(
        key="renewal_forecast_category", owner="two_way", policy=policy, prop="", by=None
    )


def _agreed_forecast(client: HubSpotClient, sandbox: Sandbox, account: Account) -> Account:
    """Both sides agree on "likely" (pushed from Lifecycle)."""
    account_cs_fields_update(account=account, renewal_forecast_category="likely")
    twoway.push_pass(client)
    assert _company(sandbox, account) == "likely"
    catch_up(clock_of(sandbox))
    return Account.objects.get(pk=account.pk)


def test_seed3_a_hubspot_edit_back_to_the_agreed_value_after_ours_is_the_later_edit(
    client: HubSpotClient, sync_sandbox: Sandbox, linked: list[Account]
) -> None:
    """Latest-wins field agreed at "likely". Lifecycle sets "at_risk"; then, before the
    push, a person in HubSpot sets "commit" and back to "likely". HubSpot's value is the
    agreed one, yet the person's edit back to it is later than ours: the push reads the
    field's history (the company changed after our edit), sees the person's edit, and
    keeps "likely" on both sides instead of writing "at_risk" over it."""
    _forecast_rule("latest")
    account = _agreed_forecast(client, sync_sandbox, linked[0])
    account_cs_fields_update(account=account, renewal_forecast_category="at_risk")
    _hubspot_edit(sync_sandbox, account, after_ms=300, **{FORECAST: "commit"})
    _hubspot_edit(sync_sandbox, account, after_ms=600, **{FORECAST: "likely"})

    outcome = twoway.push_pass(client)

    assert (outcome.pushed, outcome.pulled) == (0, 1)
    assert Account.objects.get(pk=account.pk).renewal_forecast_category == "likely"
    assert _company(sync_sandbox, account) == "likely"
    history = sync_sandbox.store.find("companies", account.hubspot_id or "").history[FORECAST]
    assert history[0]["sourceType"] == "CRM_UI"  # the person's value, not written over
    change = SyncChange.objects.filter(account=account, field="renewal_forecast_category").latest(
        "pk"
    )
    assert (change.old_value, change.new_value) == ("at_risk", "likely")
    assert change.note == "changed on both sides; HubSpot's edit is later"
    assert change.change_source == "CRM_UI userId:9001"
    assert twoway.push_pass(client).calls == 0


def test_an_edit_back_to_the_agreed_value_before_ours_leaves_our_later_edit_to_push(
    client: HubSpotClient, sync_sandbox: Sandbox, linked: list[Account]
) -> None:
    """The same HubSpot edits made before Lifecycle's: ours is the later edit and is
    written (the company changed before our edit: no history is needed to say so), with
    HubSpot's value journaled as the one it replaced."""
    _forecast_rule("latest")
    account = _agreed_forecast(client, sync_sandbox, linked[0])
    _hubspot_edit(sync_sandbox, account, after_ms=0, **{FORECAST: "commit"})
    _hubspot_edit(sync_sandbox, account, after_ms=100, **{FORECAST: "likely"})
    time.sleep(0.2)  # our edit after HubSpot's (its clock ran 0.1 s ahead of ours)
    account_cs_fields_update(account=account, renewal_forecast_category="at_risk")

    assert twoway.push_pass(client).pushed == 1

    assert _company(sync_sandbox, account) == "at_risk"
    change = SyncChange.objects.get(account=account, new_value="at_risk", source=SyncSource.PUSH)
    assert change.old_value == "likely"


def test_an_ask_field_set_back_to_the_agreed_value_in_hubspot_after_ours_opens_a_conflict(
    client: HubSpotClient, sync_sandbox: Sandbox, linked: list[Account]
) -> None:
    _forecast_rule("ask")
    account = _agreed_forecast(client, sync_sandbox, linked[0])
    account_cs_fields_update(account=account, renewal_forecast_category="at_risk")
    _hubspot_edit(sync_sandbox, account, after_ms=300, **{FORECAST: "commit"})
    _hubspot_edit(sync_sandbox, account, after_ms=600, **{FORECAST: "likely"})

    outcome = twoway.push_pass(client)

    assert (outcome.pushed, outcome.conflicts) == (0, 1)
    conflict = SyncConflict.objects.get(account=account, status=SyncConflict.Status.OPEN)
    assert (conflict.base_value, conflict.ours, conflict.theirs) == ("likely", "at_risk", "likely")
    assert _company(sync_sandbox, account) == "likely"


def test_a_push_with_no_hubspot_edit_since_ours_reads_no_property_history(
    client: HubSpotClient, sync_sandbox: Sandbox, sync_server: SandboxServer, linked: list[Account]
) -> None:
    """The common push (nothing changed in HubSpot since our edit) costs one read and
    one write, however long ago the field was agreed and whatever we wrote since."""
    _forecast_rule("latest")
    account = _agreed_forecast(client, sync_sandbox, linked[0])
    account_cs_fields_update(account=account, health_score=12)  # another field written
    twoway.push_pass(client)
    time.sleep(0.05)
    account_cs_fields_update(
        account=Account.objects.get(pk=account.pk), renewal_forecast_category="at_risk"
    )

    assert twoway.push_pass(client).calls == 2

    assert _company(sync_sandbox, account) == "at_risk"


def test_a_lifecycle_edit_back_to_the_agreed_value_after_hubspot_s_is_the_later_edit(
    client: HubSpotClient, sync_sandbox: Sandbox, linked: list[Account]
) -> None:
    """The mirror case, on our side: agreed "likely"; Lifecycle sets "at_risk", a person in
    HubSpot sets "commit", then Lifecycle sets "likely" again before any pass. Ours equals
    the base, but its stamp (`field_changed_at`) says it was set after the agreement and
    after HubSpot's edit: the poll leaves it, and the push writes it over "commit"
    (before, the poll read "only HubSpot changed" and pulled the older "commit")."""
    _forecast_rule("latest")
    account = _agreed_forecast(client, sync_sandbox, linked[0])
    account_cs_fields_update(account=account, renewal_forecast_category="at_risk")
    _hubspot_edit(sync_sandbox, account, after_ms=0, **{FORECAST: "commit"})
    time.sleep(0.1)
    account_cs_fields_update(
        account=Account.objects.get(pk=account.pk), renewal_forecast_category="likely"
    )

    poll(client, sync_sandbox)
    assert Account.objects.get(pk=account.pk).renewal_forecast_category == "likely"
    assert twoway.push_pass(client).pushed == 1

    assert _company(sync_sandbox, account) == "likely"
    change = SyncChange.objects.filter(account=account, source=SyncSource.PUSH).latest("pk")
    assert (change.old_value, change.new_value) == ("commit", "likely")
    assert change.note == "changed on both sides; Lifecycle's edit is later"
    assert twoway.push_pass(client).calls == 0


def test_seed10_webhooks_of_an_edit_back_to_the_agreed_value_after_ours_pull_it(
    client: HubSpotClient,
    sync_sandbox: Sandbox,
    linked: list[Account],
    capture: dict[str, Any],
    hubspot_settings: None,
) -> None:
    """Inbound: the webhooks of the person's two edits arrive before any push. They say
    who set HubSpot's value back to the agreed one and when: later than our edit, so
    inbound takes it (before, the record equal to the base read as "only Lifecycle
    changed" and the push then wrote the older value)."""
    _forecast_rule("latest")
    account = _agreed_forecast(client, sync_sandbox, linked[0])
    webhooks_to(sync_sandbox, capture)
    account_cs_fields_update(account=account, renewal_forecast_category="at_risk")
    _hubspot_edit(sync_sandbox, account, after_ms=300, **{FORECAST: "commit"})
    _hubspot_edit(sync_sandbox, account, after_ms=600, **{FORECAST: "likely"})

    webhooks_deliver(sync_sandbox, capture)

    assert Account.objects.get(pk=account.pk).renewal_forecast_category == "likely"
    twoway.push_pass(client)
    assert _company(sync_sandbox, account) == "likely"
    assert twoway.push_pass(client).calls == 0


# -- an open "ask" conflict follows both sides (scenario seed 11) ----------------------


def _open_conflict(client: HubSpotClient, sandbox: Sandbox, account: Account) -> SyncConflict:
    _forecast_rule("ask")
    account = _agreed_forecast(client, sandbox, account)
    account_cs_fields_update(account=account, renewal_forecast_category="at_risk")
    _hubspot_edit(sandbox, account, after_ms=300, **{FORECAST: "commit"})
    assert twoway.push_pass(client).conflicts == 1
    return SyncConflict.objects.get(account=account, status=SyncConflict.Status.OPEN)


def test_seed11_an_open_conflict_follows_later_edits_and_closes_when_both_sides_agree(
    client: HubSpotClient, sync_sandbox: Sandbox, linked: list[Account]
) -> None:
    """An ask conflict holds ("at_risk", "commit"). Later edits on either side replace
    that side's value in it (an admin never chooses between values nobody holds), the
    field is neither pushed nor pulled meanwhile, and when Lifecycle comes to hold
    HubSpot's value the conflict closes by itself, journaled, with nothing written."""
    account = linked[0]
    conflict = _open_conflict(client, sync_sandbox, account)

    account_cs_fields_update(
        account=Account.objects.get(pk=account.pk), renewal_forecast_category="churn"
    )
    twoway.push_pass(client)
    conflict.refresh_from_db()
    assert (conflict.status, conflict.ours, conflict.theirs) == ("open", "churn", "commit")
    assert _company(sync_sandbox, account) == "commit"  # not written while it waits

    _hubspot_edit(sync_sandbox, account, after_ms=300, **{FORECAST: "likely"})
    poll(client, sync_sandbox)
    conflict.refresh_from_db()
    assert (conflict.status, conflict.ours, conflict.theirs) == ("open", "churn", "likely")
    assert Account.objects.get(pk=account.pk).renewal_forecast_category == "churn"  # kept

    account_cs_fields_update(
        account=Account.objects.get(pk=account.pk), renewal_forecast_category="likely"
    )
    outcome = twoway.push_pass(client)

    conflict.refresh_from_db()
    assert (conflict.status, conflict.resolution) == ("resolved", "likely")
    assert outcome.pushed == 0 and _company(sync_sandbox, account) == "likely"
    closed = SyncChange.objects.get(account=account, source=SyncSource.RESOLVE)
    assert (closed.old_value, closed.new_value) == ("churn", "likely")
    assert closed.note == "both sides came to hold this value; conflict closed"
    assert twoway.push_pass(client).calls == 0


def test_an_open_conflict_closes_when_hubspot_comes_to_hold_our_value(
    client: HubSpotClient, sync_sandbox: Sandbox, linked: list[Account]
) -> None:
    account = linked[0]
    conflict = _open_conflict(client, sync_sandbox, account)
    _hubspot_edit(sync_sandbox, account, after_ms=300, **{FORECAST: "at_risk"})

    poll(client, sync_sandbox)

    conflict.refresh_from_db()
    assert (conflict.status, conflict.resolution) == ("resolved", "at_risk")
    closed = SyncChange.objects.get(account=account, source=SyncSource.RESOLVE)
    assert (closed.old_value, closed.new_value) == ("commit", "at_risk")
    assert twoway.push_pass(client).calls == 0
    assert Account.objects.get(pk=account.pk).renewal_forecast_category == "at_risk"


# -- a killed push's writes are confirmed by whichever pass finds them -------------------


def _unconfirmed(account: Account) -> set[str]:
    return set(
        SyncChange.objects.filter(account=account, status=SyncChangeStatus.SENT).values_list(
            "field", flat=True
        )
    )


def test_a_killed_push_s_writes_are_confirmed_by_the_poll_or_push_that_finds_them(
    client: HubSpotClient, sync_sandbox: Sandbox, linked: list[Account]
) -> None:
    """The worker dies right after its batch update landed: its rows say "sent,
    unconfirmed". A poll then meets our forecast in HubSpot as both sides agreeing, and our
    health score (Lifecycle-owned, written back over a person's 99) as the agreed value
    already: the poll confirms the first, the next push the second, without writing."""
    _forecast_rule("latest")
    account = _agreed_forecast(client, sync_sandbox, linked[0])
    account_cs_fields_update(account=account, health_score=40)
    twoway.push_pass(client)
    _hubspot_edit(sync_sandbox, account, after_ms=0, lifecycle_health_score="99")
    time.sleep(0.05)
    account_cs_fields_update(
        account=Account.objects.get(pk=account.pk), renewal_forecast_category="at_risk"
    )
    caller = client._call
    caller.__class__ = KillingCaller
    assert isinstance(caller, KillingCaller)
    caller.made, caller.kill_after = 0, 3  # the read, the health score's history, the write
    with pytest.raises(WorkerKilled):
        twoway.push_pass(client)
    assert _company(sync_sandbox, account) == "at_risk"
    assert _company(sync_sandbox, account, "lifecycle_health_score") == "40"
    assert _unconfirmed(account) == {"renewal_forecast_category", "health_score"}

    poll(client, sync_sandbox)
    assert _unconfirmed(account) == {"health_score"}
    outcome = twoway.push_pass(client)

    assert outcome.pushed == 0 and _unconfirmed(account) == set()

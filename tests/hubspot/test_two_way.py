# ruff: noqa: F811 -- fixtures from sync_support are used as test arguments
"""Two-way sync against the sandbox: provisioning, pushes, pulls, echoes, conflicts,
partial failures. The real HubSpotClient talks HTTP to the sandbox throughout."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from accounts.hubspot import twoway
from accounts.hubspot.inbound.importer import import_run, run_start
from accounts.hubspot.models import (
    FieldRule,
    SyncChange,
    SyncChangeStatus,
    SyncConflict,
    SyncIssue,
    SyncRun,
    SyncSource,
    SyncState,
)
from accounts.hubspot.rules import sync_state
from accounts.hubspot.sandbox import Sandbox
from accounts.hubspot.sandbox.store import Source
from accounts.hubspot.transport.client import HubSpotClient
from accounts.models import Account
from accounts.services import account_cs_fields_update
from tests.factories import UserFactory

from .sync_support import (  # noqa: F401
    catch_up,
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
HUBSPOT_USER = Source(source_type="CRM_UI", change_source="CRM_UI", user_id="9001")


def _import(client: HubSpotClient) -> None:
    import_run(run_start(SyncRun.Kind.IMPORT), client=client)


def _company(sandbox: Sandbox, account: Account) -> dict[str, str]:
    """The company's properties; a property without a value reads as "" (cleared)."""
    record = sandbox.store.find("companies", account.hubspot_id or "")
    return {name: record.properties.get(name, "") for name in sandbox.store.properties["companies"]}


def _hubspot_edit(sandbox: Sandbox, account: Account, **values: str) -> None:
    clock_of(sandbox).advance(seconds=1)
    record = sandbox.store.find("companies", account.hubspot_id or "")
    sandbox.store.update(record, values, source=HUBSPOT_USER)


@pytest.fixture
def linked(client: HubSpotClient, sync_sandbox: Sandbox) -> list[Account]:
    portfolio(sync_sandbox, companies=3, deals_per_company=0)
    twoway.provision(client)
    _import(client)
    # The sandbox's clock starts an hour back: bring it to now, where the import left
    # the incremental sync's cursor, so edits from here on are found by polling.
    clock_of(sync_sandbox).advance(seconds=3600)
    twoway.push_pass(client)
    return list(Account.objects.order_by("pk"))


def test_provisioning_creates_group_properties_and_the_unique_key_once(
    client: HubSpotClient, sync_sandbox: Sandbox
) -> None:
    first = twoway.provision(client)
    assert first.group_created
    assert "lifecycle_account_id" in first.created and "lifecycle_health_score" in first.created
    props = sync_sandbox.store.properties["companies"]
    assert props["lifecycle_account_id"]["hasUniqueValue"] is True
    assert props["lifecycle_health_band"]["type"] == "enumeration"
    assert [o["value"] for o in props["lifecycle_renewal_forecast"]["options"]] == [
        "commit",
        "likely",
        "at_risk",
        "churn",
    ]
    second = twoway.provision(client)
    assert (second.group_created, second.created, second.updated) == (False, [], [])
    # Someone trims an option in HubSpot: the next provisioning puts it back.
    props["lifecycle_renewal_forecast"]["options"] = props["lifecycle_renewal_forecast"]["options"][
        :2
    ]
    assert twoway.provision(client).updated == ["lifecycle_renewal_forecast"]


def test_an_edit_in_lifecycle_is_pushed_once_and_its_echo_changes_nothing(
    client: HubSpotClient, sync_sandbox: Sandbox, linked: list[Account]
) -> None:
    account = linked[0]
    account_cs_fields_update(
        account=account, health_score=42, health_band="red", renewal_forecast_arr=Decimal("1500")
    )
    outcome = twoway.push_pass(client)
    # One read of what HubSpot holds now (nothing changed there: no history), one write.
    assert (outcome.pushed, outcome.calls) == (1, 2)
    company = _company(sync_sandbox, account)
    assert company["lifecycle_account_id"] == str(account.pk)  # written with the first push
    assert company["lifecycle_health_score"] == "42"
    assert company["lifecycle_health_band"] == "red"
    assert company["lifecycle_renewal_arr"] == "1500"
    pushed = SyncChange.objects.filter(
        source=SyncSource.PUSH, account=account, field="health_score"
    )
    assert pushed.get().new_value == "42"
    # Our write comes back through polling: it matches the agreed base, so nothing is
    # applied and nothing is pushed again.
    journal_before = SyncChange.objects.count()
    poll(client, sync_sandbox)
    assert SyncChange.objects.count() == journal_before
    assert twoway.push_pass(client).calls == 0


def test_many_edits_between_two_passes_are_one_write(
    client: HubSpotClient, sync_sandbox: Sandbox, linked: list[Account]
) -> None:
    account = linked[1]
    for score in (10, 20, 30, 40):
        account_cs_fields_update(account=account, health_score=score)
    outcome = twoway.push_pass(client)
    assert (outcome.pushed, outcome.calls) == (1, 2)  # one read, one write
    assert _company(sync_sandbox, account)["lifecycle_health_score"] == "40"


def test_hubspot_edits_of_a_lifecycle_field_are_overwritten_and_of_a_two_way_field_pulled(
    client: HubSpotClient, sync_sandbox: Sandbox, linked: list[Account]
) -> None:
    twoway.rule_save(key="name", owner="two_way", policy="latest", prop="", by=None)
    account = linked[0]
    _hubspot_edit(sync_sandbox, account, lifecycle_health_band="green", name="Renamed in HubSpot")
    poll(client, sync_sandbox)
    account.refresh_from_db()
    assert account.name == "Renamed in HubSpot"  # two-way: only HubSpot changed it
    assert account.health_band == ""  # Lifecycle-owned: HubSpot's edit is not taken
    assert twoway.push_pass(client).pushed == 1  # ... and is overwritten
    assert _company(sync_sandbox, account)["lifecycle_health_band"] == ""
    assert twoway.push_pass(client).calls == 0


def test_a_clear_in_hubspot_propagates_as_a_clear(
    client: HubSpotClient, sync_sandbox: Sandbox, linked: list[Account]
) -> None:
    twoway.rule_save(key="renewal_forecast_arr", owner="two_way", policy="latest", prop="", by=None)
    account = linked[2]
    account_cs_fields_update(account=account, renewal_forecast_arr=Decimal("900"))
    twoway.push_pass(client)
    _hubspot_edit(sync_sandbox, account, lifecycle_renewal_arr="")
    poll(client, sync_sandbox)
    account.refresh_from_db()
    assert account.renewal_forecast_arr is None
    assert twoway.push_pass(client).calls == 0


def test_both_sides_changed_with_ask_waits_in_the_inbox_until_resolved(
    client: HubSpotClient, sync_sandbox: Sandbox, linked: list[Account]
) -> None:
    twoway.rule_save(
        key="renewal_forecast_category", owner="two_way", policy="ask", prop="", by=None
    )
    account = linked[0]
    account_cs_fields_update(account=account, renewal_forecast_category="at_risk")
    _hubspot_edit(sync_sandbox, account, lifecycle_renewal_forecast="commit")
    poll(client, sync_sandbox)  # HubSpot's edit arrives before our push
    conflict = SyncConflict.objects.get(account=account)
    assert (conflict.field, conflict.ours, conflict.theirs) == (
        "renewal_forecast_category",
        "at_risk",
        "commit",
    )
    # Neither side is written while the conflict is open.
    assert twoway.push_pass(client).calls == 0
    assert _company(sync_sandbox, account)["lifecycle_renewal_forecast"] == "commit"
    leader = UserFactory.create()
    twoway.conflict_resolve(conflict, value="likely", by=leader)
    assert twoway.push_pass(client).pushed == 1
    account.refresh_from_db()
    assert account.renewal_forecast_category == "likely"
    assert _company(sync_sandbox, account)["lifecycle_renewal_forecast"] == "likely"
    assert SyncChange.objects.filter(source=SyncSource.RESOLVE, account=account).exists()
    poll(client, sync_sandbox)
    assert twoway.push_pass(client).calls == 0
    assert SyncConflict.objects.get().status == SyncConflict.Status.RESOLVED


def test_both_sides_changed_with_latest_wins_takes_the_later_edit(
    client: HubSpotClient, sync_sandbox: Sandbox, linked: list[Account]
) -> None:
    twoway.rule_save(key="stage", owner="two_way", policy="latest", prop="", by=None)
    account = linked[1]
    account_cs_fields_update(account=account, health_score=5)  # an earlier local change
    Account.objects.filter(pk=account.pk).update(stage="adoption")
    _hubspot_edit(sync_sandbox, account, lifecycle_stage="at_risk")
    clock_of(sync_sandbox).advance(seconds=3600)  # HubSpot's edit is the later one
    record = sync_sandbox.store.find("companies", account.hubspot_id or "")
    sync_sandbox.store.update(record, {"lifecycle_stage": "renewal"}, source=HUBSPOT_USER)
    poll(client, sync_sandbox)
    # Both changed the field: the push pass reads when HubSpot set its value (property
    # history) and compares it with when ours was set.
    outcome = twoway.push_pass(client)
    # One read of the current values, one of the stage's history, one write (the
    # health score); the stage is pulled.
    assert (outcome.pulled, outcome.pushed, outcome.calls) == (1, 1, 3)
    account.refresh_from_db()
    assert account.stage == "renewal"
    assert not SyncConflict.objects.exists()
    assert twoway.push_pass(client).calls == 0


def test_latest_wins_compares_the_fields_own_change_times_not_the_records(
    client: HubSpotClient, sync_sandbox: Sandbox, linked: list[Account]
) -> None:
    """HubSpot set the stage before we did, then edited another property of the
    company: the record's modified time is later than our edit, the stage's own
    history entry is not, so our stage wins."""
    twoway.rule_save(key="stage", owner="two_way", policy="latest", prop="", by=None)
    account = linked[1]
    _hubspot_edit(sync_sandbox, account, lifecycle_stage="at_risk")
    hubspot_set = clock_of(sync_sandbox).now_ms()
    # Our change came a minute after HubSpot's (whatever the two clocks read now), and
    # before our next push.
    Account.objects.filter(pk=account.pk).update(
        stage="adoption", field_changed_at={"stage": hubspot_set + 60_000}
    )
    clock_of(sync_sandbox).advance(seconds=3600)
    _hubspot_edit(sync_sandbox, account, industry="FINANCIAL_SERVICES")
    poll(client, sync_sandbox)
    outcome = twoway.push_pass(client)
    assert (outcome.pushed, outcome.pulled) == (1, 0)
    account.refresh_from_db()
    assert account.stage == "adoption"
    assert _company(sync_sandbox, account)["lifecycle_stage"] == "adoption"
    change = SyncChange.objects.filter(account=account, field="stage").latest("pk")
    assert (change.source, change.old_value, change.new_value) == ("push", "at_risk", "adoption")
    assert change.note == "changed on both sides; Lifecycle's edit is later"
    assert twoway.push_pass(client).calls == 0


def test_a_partial_failure_quarantines_only_the_record_hubspot_refused(
    client: HubSpotClient, sync_sandbox: Sandbox, linked: list[Account]
) -> None:
    good, gone = linked[0], linked[1]
    sync_sandbox.store.archive(sync_sandbox.store.find("companies", gone.hubspot_id or ""))
    for account in (good, gone):
        account_cs_fields_update(account=account, health_score=77)
    first = twoway.push_pass(client)
    assert (first.pushed, first.failed, first.quarantined) == (1, 1, 1)
    assert _company(sync_sandbox, good)["lifecycle_health_score"] == "77"
    # HubSpot no longer has the company: it will refuse the write every time, so it is
    # quarantined at once with HubSpot's reason (a transient failure never is).
    issue = SyncIssue.objects.get(hubspot_id=gone.hubspot_id)
    assert issue.reason.startswith("HubSpot refused the write: ")
    assert issue.source == SyncSource.PUSH
    assert twoway.push_pass(client).calls == 0  # quarantined: the rest go on, no loop


def test_a_crash_after_hubspot_took_the_write_repeats_it_harmlessly(
    client: HubSpotClient, sync_sandbox: Sandbox, linked: list[Account], monkeypatch: Any
) -> None:
    account = linked[2]
    account_cs_fields_update(account=account, health_score=61)

    def crash(states: Any) -> None:
        raise RuntimeError("worker killed")

    monkeypatch.setattr(sync_state, "states_save", crash)
    with pytest.raises(RuntimeError):
        twoway.push_pass(client)
    monkeypatch.undo()
    assert _company(sync_sandbox, account)["lifecycle_health_score"] == "61"
    assert SyncState.objects.get(account=account).fields["health_score"].base != "61"
    # The journal row was written before the send and confirmed by HubSpot's answer.
    sent = SyncChange.objects.get(account=account, source=SyncSource.PUSH, new_value="61")
    assert sent.status == SyncChangeStatus.CONFIRMED
    again = twoway.push_pass(client)  # reads HubSpot first: it holds 61, nothing to write
    assert (again.pushed, again.calls) == (0, 1)
    assert SyncState.objects.get(account=account).fields["health_score"].base == "61"
    assert SyncChange.objects.filter(account=account, new_value="61").count() == 1
    assert sync_sandbox.store.ordered("companies").__len__() == 3
    assert twoway.push_pass(client).calls == 0


def test_field_rules_default_and_validate(client: HubSpotClient) -> None:
    rules = {r.key: r for r in twoway.rules_load()}
    assert rules["name"].owner == "hubspot" and rules["health_score"].owner == "lifecycle"
    with pytest.raises(ValueError, match="cannot be two_way"):
        twoway.rule_save(key="health_score", owner="two_way", policy="ask", prop="", by=None)
    assert not FieldRule.objects.exists()


def _overwritten_event(account: Account, prop: str, value: str, at_ms: int) -> dict[str, Any]:
    """The webhook event of a HubSpot edit made at `at_ms`, arriving late."""
    return {
        "eventId": at_ms % 1_000_000,
        "subscriptionId": 1,
        "portalId": 424242,
        "appId": 4242,
        "occurredAt": at_ms,
        "subscriptionType": "company.propertyChange",
        "attemptNumber": 0,
        "objectId": int(account.hubspot_id or 0),
        "propertyName": prop,
        "propertyValue": value,
        "changeSource": "CRM_UI",
    }


@pytest.mark.parametrize("policy", ["ask", "latest"])
def test_a_hubspot_edit_our_push_overwrote_before_we_saw_it_is_not_lost(
    client: HubSpotClient, sync_sandbox: Sandbox, linked: list[Account], policy: str
) -> None:
    """HubSpot changed the field, we pushed ours over it before its webhook arrived:
    the late event shows the edit, and the policy judges it like any other."""
    from accounts.hubspot import webhooks
    from accounts.hubspot.inbound.events import events_apply

    twoway.rule_save(
        key="renewal_forecast_category", owner="two_way", policy=policy, prop="", by=None
    )
    account = linked[0]
    account_cs_fields_update(account=account, renewal_forecast_category="at_risk")
    catch_up(clock_of(sync_sandbox))  # HubSpot's clock reads now, as ours does
    clock_of(sync_sandbox).advance(seconds=1)
    assert twoway.push_pass(client).pushed == 1  # HubSpot's own edit not seen yet
    state = SyncState.objects.get(account=account)
    written = state.fields["renewal_forecast_category"].written
    assert written is not None and written.value == "at_risk"
    assert written.agreed_before_ms < written.written_ms
    # HubSpot's edit came after ours was made and before our write reached HubSpot.
    event = _overwritten_event(
        account, "lifecycle_renewal_forecast", "commit", at_ms=written.written_ms - 1
    )
    webhooks.events_store([event])
    events_apply(client=client)
    account.refresh_from_db()
    if policy == "ask":
        conflict = SyncConflict.objects.get(account=account)
        assert (conflict.ours, conflict.theirs) == ("at_risk", "commit")
        assert account.renewal_forecast_category == "at_risk"
    else:
        # The later edit wins: HubSpot's, here and, with the next push, there again.
        assert account.renewal_forecast_category == "commit"
        assert twoway.push_pass(client).pushed == 1
        assert _company(sync_sandbox, account)["lifecycle_renewal_forecast"] == "commit"
        note = SyncChange.objects.filter(account=account, source=SyncSource.WEBHOOK).get().note
        assert note == "HubSpot's overwritten edit is later"
    assert twoway.push_pass(client).calls == 0


def _renewal_deal(account: Account, *, amount: str = "1200") -> Any:
    from accounts.models import PipelineStage
    from accounts.services import deal_save

    stage = PipelineStage.objects.filter(pipeline__hubspot_id="default", is_closed=False).first()
    assert stage is not None
    return deal_save(
        account=account,
        by=None,
        data={
            "name": f"Renewal {account.name}",
            "pipeline": stage.pipeline,
            "stage": stage,
            "amount": Decimal(amount),
            "kind": "renewal",
        },
    )


def test_a_deal_made_in_lifecycle_reaches_hubspot_once_associated_to_its_company(
    client: HubSpotClient, sync_sandbox: Sandbox, linked: list[Account], monkeypatch: Any
) -> None:
    from accounts.models import Deal

    account = linked[0]
    deal = _renewal_deal(account)
    # A worker dies after HubSpot made the deal, before we noted its id.
    real_update = Deal.objects.filter

    def crash_on_note(*args: Any, **kwargs: Any) -> Any:
        if "pk" in kwargs and kwargs.get("pk") == deal.pk:
            raise RuntimeError("worker killed")
        return real_update(*args, **kwargs)

    monkeypatch.setattr(Deal.objects, "filter", crash_on_note)
    with pytest.raises(RuntimeError):
        twoway.deals_push_pass(client)
    monkeypatch.undo()
    assert len(sync_sandbox.store.ordered("deals")) == 1
    # The retry upserts on lifecycle_deal_id: the same HubSpot deal, not a second one.
    assert twoway.deals_push_pass(client).pushed == 1
    [remote] = sync_sandbox.store.ordered("deals")
    deal.refresh_from_db()
    assert deal.hubspot_id == remote.id
    assert remote.properties["lifecycle_deal_id"] == str(deal.pk)
    assert remote.properties["amount"] == "1200"
    assert sync_sandbox.store.associated("deals", remote.id, "companies") == {
        account.hubspot_id: {5, 341}  # the primary, and the unlabeled link beside it
    }
    assert twoway.deals_push_pass(client).calls == 0
    # Polling reads it back: linked, not imported as a second deal.
    poll(client, sync_sandbox)
    assert Deal.objects.filter(account=account).count() == 1
    # A change in Lifecycle goes out again; HubSpot's copy follows.
    from accounts.services import deal_save

    deal_save(account=account, by=None, deal=deal, data={"amount": Decimal("1500")})
    assert twoway.push_pass(client).pushed == 1
    assert sync_sandbox.store.find("deals", remote.id).properties["amount"] == "1500"


def test_a_rep_closing_a_lifecycle_deal_in_hubspot_reaches_lifecycle_without_echo(
    client: HubSpotClient, sync_sandbox: Sandbox, linked: list[Account]
) -> None:
    from accounts.models import Deal
    from accounts.services import deal_save

    account = linked[0]
    deal = _renewal_deal(account)
    twoway.push_pass(client)
    deal.refresh_from_db()
    remote = sync_sandbox.store.find("deals", deal.hubspot_id or "")
    # The rep wins the renewal in HubSpot, at a new amount.
    clock_of(sync_sandbox).advance(seconds=1)
    sync_sandbox.store.update(
        remote, {"dealstage": "closedwon", "amount": "1500"}, source=HUBSPOT_USER
    )
    poll(client, sync_sandbox)
    deal = Deal.objects.select_related("stage").get(pk=deal.pk)
    assert (deal.stage.hubspot_id, deal.amount) == ("closedwon", Decimal("1500.00"))
    assert Deal.objects.filter(account=account).count() == 1
    assert twoway.push_pass(client).calls == 0  # HubSpot's edit is not written back
    # Both sides change it before a sync: Lifecycle's deal is pushed over HubSpot's.
    deal_save(account=account, by=None, deal=deal, data={"amount": Decimal("1700")})
    clock_of(sync_sandbox).advance(seconds=1)
    sync_sandbox.store.update(remote, {"amount": "1600"}, source=HUBSPOT_USER)
    poll(client, sync_sandbox)
    deal.refresh_from_db()
    assert deal.amount == Decimal("1700.00")
    assert twoway.push_pass(client).pushed == 1
    assert sync_sandbox.store.find("deals", remote.id).properties["amount"] == "1700"
    assert twoway.push_pass(client).calls == 0


def test_a_lifecycle_deal_in_a_pipeline_hubspot_lacks_is_quarantined(
    client: HubSpotClient, linked: list[Account]
) -> None:
    from accounts.models import Pipeline, PipelineStage
    from accounts.services import deal_save

    pipeline = Pipeline.objects.create(label="Local renewals", is_renewal=True)
    stage = PipelineStage.objects.create(pipeline=pipeline, label="Open")
    deal = deal_save(
        account=linked[1],
        by=None,
        data={"name": "Local", "pipeline": pipeline, "stage": stage, "amount": Decimal("10")},
    )
    outcome = twoway.deals_push_pass(client)
    assert (outcome.pushed, outcome.failed, outcome.calls) == (0, 1, 0)
    issue = SyncIssue.objects.get(hubspot_id=f"lifecycle:{deal.pk}")
    assert "not a HubSpot pipeline stage" in issue.reason
    assert twoway.deals_push_pass(client).failed == 0  # not retried until it changes


def test_provisioning_twice_at_once_is_harmless(client: HubSpotClient) -> None:
    from functools import partial

    from accounts.hubspot.rules import fields as fieldspecs

    twoway.provision(client)
    # What a second worker provisioning at the same moment meets: HubSpot's 409.
    create = partial(client.create_property, "companies", fieldspecs.ACCOUNT_ID_DEFINITION)
    assert twoway._created(create) is False


def test_the_renewals_pipeline_links_by_label_and_its_deals_push(
    client: HubSpotClient, sync_sandbox: Sandbox
) -> None:
    from accounts.hubspot.sandbox import seed
    from accounts.hubspot.sandbox.seed_from_db import seed_from_accounts
    from accounts.models import Deal, Pipeline, PipelineStage
    from accounts.services import deal_save
    from tests.factories import AccountFactory

    renewals = Pipeline.objects.create(label="Renewals", is_renewal=True)
    upcoming = PipelineStage.objects.create(pipeline=renewals, label="Upcoming")
    account = AccountFactory.create(domain="linked.example")
    seed(sync_sandbox, seed_from_accounts())  # the portal make run starts
    twoway.provision(client)
    _import(client)
    renewals.refresh_from_db()
    upcoming.refresh_from_db()
    assert renewals.hubspot_id and upcoming.hubspot_id
    assert Pipeline.objects.filter(label="Renewals").count() == 1
    account.refresh_from_db()
    deal = deal_save(
        account=account,
        by=None,
        data={"name": "Renewal 2027", "pipeline": renewals, "stage": upcoming, "amount": 900},
    )
    assert twoway.deals_push_pass(client).pushed == 1
    deal.refresh_from_db()
    remote = sync_sandbox.store.find("deals", deal.hubspot_id or "")
    assert (remote.properties["pipeline"], remote.properties["dealstage"]) == (
        renewals.hubspot_id,
        upcoming.hubspot_id,
    )
    assert Deal.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_one_push_pass_at_a_time_across_workers() -> None:
    """Threads stand in for worker processes: each has its own database connection."""
    import threading

    from django.db import connection

    held, release, answers = threading.Event(), threading.Event(), []

    def first() -> None:
        with twoway.push_lock() as locked:
            answers.append(("first", locked))
            held.set()
            release.wait(5)
        connection.close()

    worker = threading.Thread(target=first)
    worker.start()
    held.wait(5)
    with twoway.push_lock(wait_seconds=0.3) as locked:
        answers.append(("second, while held", locked))
    release.set()
    worker.join()
    with twoway.push_lock(wait_seconds=0.3) as locked:
        answers.append(("third, after", locked))
    assert answers == [("first", True), ("second, while held", False), ("third, after", True)]


def test_the_push_task_provisions_then_pushes(
    client: HubSpotClient, sync_sandbox: Sandbox, hubspot_settings: None
) -> None:
    from accounts.hubspot import tasks

    portfolio(sync_sandbox, companies=2, deals_per_company=0)
    _import(client)
    tasks.hubspot_push()
    assert "lifecycle_health_score" in sync_sandbox.store.properties["companies"]
    assert all(s.pushed_at for s in SyncState.objects.all())

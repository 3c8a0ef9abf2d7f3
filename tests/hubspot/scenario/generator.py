"""The seeded scenario: set up a linked portfolio, run random operations against the world
(each recorded in the shadow model and the log), then quiet: faults and kills off, every
held webhook delivered, sync passes until a pass changes nothing."""

from __future__ import annotations

import random
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.test import Client

from accounts.hubspot import twoway
from accounts.hubspot.inbound.importer import import_run, run_start
from accounts.hubspot.models import SyncRun
from accounts.hubspot.rules.threeway import Rule
from accounts.hubspot.sandbox import Sandbox, SandboxServer
from accounts.hubspot.sandbox.clock import ms_from_text
from accounts.hubspot.sandbox.meta_api import add_owner
from accounts.hubspot.sandbox.operations import merge
from accounts.hubspot.sandbox.store import Record, Source
from accounts.hubspot.transport.errors import HubSpotError
from accounts.models import (
    Account,
    ForecastCategory,
    PipelineStage,
    Stage,
    User,
)
from accounts.services import (
    account_cs_fields_update,
    account_reassign,
    account_stage_change,
    account_update,
    deal_save,
)
from tests.factories import UserFactory
from tests.hubspot.scenario.shadow import (
    HUBSPOT,
    LIFECYCLE,
    CompanyShadow,
    Edit,
    FieldShadow,
    Shadow,
)
from tests.hubspot.scenario.world import (
    PASSES,
    KillingCaller,
    WebhookChannel,
    WorkerKilled,
    hubspot_calls,
    hubspot_writes,
    scenario_client,
    webhook_channel,
)
from tests.hubspot.sync_support import portfolio

# A person editing in HubSpot's UI (history: CRM_UI, userId 9001).
PERSON = Source(source_type="CRM_UI", change_source="CRM_UI", user_id="9001")
OWNERS = {
    "501": "ann@scenario.example",
    "502": "bob@scenario.example",
    "503": "cy@scenario.example",
}
# The rules under test: every policy and owner there is, on fields people edit.
RULES = {
    "name": ("two_way", "latest"),
    "stage": ("two_way", "latest"),
    "owner": ("two_way", "latest"),
    "renewal_forecast_arr": ("two_way", "latest"),
    "next_business_review": ("two_way", "latest"),
    "renewal_forecast_category": ("two_way", "ask"),
}
LIFECYCLE_EDITS = [*RULES, "health_score"]  # health score: Lifecycle-owned by default
HUBSPOT_EDITS = [*RULES, "health_score", "arr"]  # ARR: HubSpot-owned by default
QUIET_PASSES = 15
QUIET_SHIFT_S = 700  # longer than the longest backoff (600 s) and breaker cooldown (300 s)


def _history_ms(record: Record, prop: str) -> int:
    """When HubSpot recorded the property's current value (its history's newest entry)."""
    ms = ms_from_text(str(record.history[prop][0]["timestamp"]))
    assert ms is not None
    return ms


@dataclass
class Config:
    seed: int
    steps: int = 60
    companies: int = 6


@dataclass
class Scenario:
    config: Config
    sandbox: Sandbox
    server: SandboxServer
    shift: Any  # seconds -> None: moves the shared clock on
    rng: random.Random = field(init=False)
    log: list[str] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)
    shadow: Shadow = field(default_factory=Shadow)
    rules: dict[str, Rule] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)  # by HubSpot owner id
    web: Client = field(default_factory=Client)
    channel: WebhookChannel = field(init=False)
    caller: KillingCaller = field(init=False)
    settled_after: int | None = None
    timing: dict[str, float] = field(default_factory=dict)  # seconds spent per pass

    def __post_init__(self) -> None:
        self.rng = random.Random(self.config.seed)
        self.client, self.caller = scenario_client(
            self.server, token=self.sandbox.access_token, seed=self.config.seed, wait=self._wait
        )

    # -- the log ---------------------------------------------------------------------

    def note(self, text: str) -> None:
        self.log.append(f"{len(self.log):4d} {text}")

    def _wait(self, seconds: float) -> None:
        """The client waits before a retry: the clock moves on, nobody sleeps."""
        self.counts["client retries"] += 1
        self.shift(seconds)

    # -- setup -------------------------------------------------------------------------

    def setup(self, secret: str) -> None:
        for owner_id, email in OWNERS.items():
            self.users[owner_id] = UserFactory.create(email=email, username=email.split("@")[0])
        portfolio(
            self.sandbox,
            companies=self.config.companies,
            deals_per_company=0,
            owner_email=OWNERS["501"],
        )
        for owner_id, email in list(OWNERS.items())[1:]:
            add_owner(self.sandbox.store, email=email, last_name=owner_id, owner_id=owner_id)
        for key, (owner, policy) in RULES.items():
            twoway.rule_save(key=key, owner=owner, policy=policy, prop="", by=None)
        twoway.provision(self.client)
        import_run(run_start(SyncRun.Kind.IMPORT), client=self.client)
        self.shift(5)
        twoway.push_pass(self.client)  # our ids onto the companies: the agreed start
        self.rules = {r.key: r for r in twoway.rules_load()}
        self.channel = webhook_channel(
            self.sandbox,
            self.rng,
            secret=secret,
            properties=[r.property for r in self.rules.values()],
            seed=self.config.seed,
        )
        for account in Account.objects.filter(hubspot_id__isnull=False).order_by("pk"):
            company = self.company(account.hubspot_id or "")
            self.shadow.companies[company.id] = CompanyShadow(
                account_pk=account.pk,
                company_id=company.id,
                fields={k: FieldShadow(self.theirs(company, k)) for k in self.tracked()},
            )
        self.note(f"setup: {len(self.shadow.companies)} companies linked; rules {RULES}")

    def tracked(self) -> list[str]:
        return sorted({*LIFECYCLE_EDITS, *HUBSPOT_EDITS})

    # -- the two sides' values ---------------------------------------------------------

    def company(self, company_id: str, *, archived: bool = False) -> Record:
        return self.sandbox.store.find("companies", company_id, archived=archived)

    def theirs(self, company: Record, key: str) -> str:
        rule = self.rules[key]
        return rule.spec.canonical_remote(company.properties.get(rule.property, ""))

    def ours(self, account: Account, key: str) -> str:
        rule = self.rules[key]
        return rule.spec.canonical_local(getattr(account, rule.spec.attribute))

    # -- operations --------------------------------------------------------------------

    def _value(self, key: str, current: str, *, side: str) -> str:
        """A random canonical value other than `current`; clears where a clear is real."""
        rng = self.rng
        for _ in range(50):
            if key == "name":
                value = f"Company {rng.randrange(10**5)}"
            elif key == "stage":
                value = rng.choice(Stage.values)
            elif key == "owner":
                value = rng.choice(["", *OWNERS])
            elif key == "renewal_forecast_category":
                value = rng.choice(["", *ForecastCategory.values])
            elif key == "renewal_forecast_arr":
                value = rng.choice(["", str(rng.randrange(1, 90) * 1000)])
            elif key == "next_business_review":
                day = date(2027, 1, 1) + timedelta(days=rng.randrange(300))
                value = rng.choice(["", day.isoformat()])
            elif key == "health_score":
                value = str(rng.randrange(0, 101))
                if side == HUBSPOT and rng.random() < 0.2:
                    value = ""
            elif key == "arr":
                value = str(rng.randrange(1, 500) * 100)
            else:
                raise AssertionError(key)
            if value != current:
                return value
        raise AssertionError(f"no new value for {key} other than {current!r}")

    def edit_lifecycle(self, shadow: CompanyShadow, key: str) -> None:
        account = Account.objects.get(pk=shadow.account_pk)
        value = self._value(key, self.ours(account, key), side=LIFECYCLE)
        if key == "name":
            account_update(account=account, by=None, data={"name": value})
        elif key == "stage":
            account_stage_change(account=account, to_stage=value, reason="scenario", by=None)
        elif key == "owner":
            account_reassign(account=account, owner=self.users.get(value), by=None)
        elif key == "renewal_forecast_arr":
            account_cs_fields_update(
                account=account, renewal_forecast_arr=Decimal(value) if value else None
            )
        elif key == "next_business_review":
            account_cs_fields_update(
                account=account, next_business_review=date.fromisoformat(value) if value else None
            )
        elif key == "health_score":
            account_cs_fields_update(account=account, health_score=int(value))
        else:
            account_cs_fields_update(account=account, **{key: value})
        account.refresh_from_db()
        attribute = self.rules[key].spec.attribute
        stamps = account.field_changed_at or {}
        ms = int(stamps.get(attribute) or stamps.get(attribute.removesuffix("_id")) or 0)
        assert ms, f"{key}: no change stamp on account {account.pk}"
        got = self.ours(account, key)
        assert got == value, (key, got, value)
        self.shadow.record(shadow.company_id, key, Edit(LIFECYCLE, ms, value, len(self.log)))
        self.note(f"lifecycle edit: account {account.pk} {key} = {value!r} at {ms}")

    def edit_hubspot(self, shadow: CompanyShadow, key: str) -> None:
        company = self.company(shadow.company_id)
        value = self._value(key, self.theirs(company, key), side=HUBSPOT)
        prop = self.rules[key].property
        self.sandbox.store.update(company, {prop: value}, source=PERSON)
        ms = _history_ms(company, prop)
        assert self.theirs(company, key) == value, (key, self.theirs(company, key), value)
        self.shadow.record(shadow.company_id, key, Edit(HUBSPOT, ms, value, len(self.log)))
        self.note(f"hubspot edit: company {company.id} {prop} = {value!r} at {ms}")

    def delete(self, shadow: CompanyShadow) -> None:
        self.sandbox.store.archive(self.company(shadow.company_id), source=PERSON)
        shadow.deleted = True
        self.note(f"hubspot delete: company {shadow.company_id}")

    def restore(self, shadow: CompanyShadow) -> None:
        self.sandbox.store.restore(self.company(shadow.company_id, archived=True), source=PERSON)
        shadow.deleted = False
        self.note(f"hubspot restore: company {shadow.company_id}")

    def merge(self, keep: CompanyShadow, gone: CompanyShadow) -> None:
        """HubSpot's merge: the primary's values win, its blanks are filled from the
        merged company (a change by the person merging, at the merge's instant)."""
        before = {k: self.theirs(self.company(keep.company_id), k) for k in keep.fields}
        merge(
            self.sandbox.store,
            "companies",
            primary_id=keep.company_id,
            merged_id=gone.company_id,
            source=PERSON,
        )
        survivor = self.company(keep.company_id)
        for key, old in before.items():
            new = self.theirs(survivor, key)
            if new != old:
                ms = _history_ms(survivor, self.rules[key].property)
                self.shadow.record(keep.company_id, key, Edit(HUBSPOT, ms, new, len(self.log)))
        gone.merged_into = keep.company_id
        self.note(f"hubspot merge: company {gone.company_id} into {keep.company_id}")

    def lifecycle_deal(self, shadow: CompanyShadow) -> None:
        stage = PipelineStage.objects.filter(pipeline__hubspot_id="default", is_closed=False)
        deal = deal_save(
            account=Account.objects.get(pk=shadow.account_pk),
            by=None,
            data={
                "name": f"Renewal {self.rng.randrange(10**5)}",
                "pipeline": stage.first().pipeline,  # type: ignore[union-attr]
                "stage": stage.first(),
                "amount": Decimal(self.rng.randrange(1, 90) * 100),
                "kind": "renewal",
            },
        )
        self.note(f"lifecycle deal: {deal.pk} on account {shadow.account_pk}")

    def hubspot_deal(self, shadow: CompanyShadow) -> None:
        record = self.sandbox.store.create(
            "deals",
            {
                "dealname": f"HubSpot deal {self.rng.randrange(10**5)}",
                "amount": str(self.rng.randrange(1, 50) * 100),
                "pipeline": "default",
                "dealstage": "appointmentscheduled",
            },
            source=PERSON,
        )
        self.sandbox.store.associate("deals", record.id, "companies", shadow.company_id, [5])
        self.note(f"hubspot deal: {record.id} on company {shadow.company_id}")

    def faults(self) -> None:
        """Aim HubSpot's trouble at the next calls: a 429 burst, 5xx, a dropped
        connection, a read timeout; "pass" lets some calls through first."""
        kind = self.rng.choice(["429 burst", "5xx", "drop", "timeout", "outage"])
        if kind == "429 burst":
            self.sandbox.limiter.saturate()
        else:
            item: int | str = "slow:0.8"  # past the client's read timeout
            if kind == "5xx":
                item = self.rng.choice([500, 502, 503])
            elif kind == "drop":
                item = "drop"
            lead = ["pass"] * self.rng.randrange(4)
            burst = self.rng.randint(5, 9) if kind == "outage" else 1
            if kind == "outage":
                item = 503
            self.sandbox.faults.queue(*lead, *[item] * burst)
        self.counts[f"faults: {kind}"] += 1
        self.note(f"faults: {kind}; queued {self.sandbox.faults.settings.queued}")

    def run_pass(self, name: str, *, kill: bool = False) -> None:
        """One worker pass; with `kill`, its worker dies after a random call."""
        self.caller.made = 0
        self.caller.kill_after = self.rng.randint(1, 6) if kill else None
        calls = hubspot_calls(self.server)
        outcome = "done"
        started = time.perf_counter()
        try:
            if name == "webhooks":
                self.channel.deliver(self.web)
            else:
                PASSES[name]()
        except WorkerKilled as exc:
            outcome = str(exc)
            self.counts["worker kills"] += 1
        except HubSpotError as exc:  # the task fails; its schedule runs it again
            outcome = f"failed: {exc}"
            self.counts[f"{name} failed"] += 1
        finally:
            self.caller.kill_after = None
        # A request its client gave up on ("slow" fault, read timeout) lands when the
        # sandbox finishes it: let it land now, seconds after the timeout as on HubSpot,
        # not after however many steps the machine's speed allows (which made a seed's
        # outcome depend on the load).
        self.server.idle()
        self.channel.collect()
        self.timing[name] = self.timing.get(name, 0.0) + time.perf_counter() - started
        self.note(
            f"pass {name}{' (kill armed)' if kill else ''}: {outcome}; "
            f"{hubspot_calls(self.server) - calls} calls"
        )

    # -- the random part ---------------------------------------------------------------

    def step(self) -> None:
        rng = self.rng
        live = self.shadow.live()
        deleted = [c for c in self.shadow.companies.values() if c.deleted and not c.merged_into]
        # An account still active here whose company HubSpot deleted is still edited by
        # its CSM (the deletion has not reached Lifecycle yet, or will be undone).
        editable = [c for c in self.shadow.companies.values() if not c.merged_into]
        choices: list[tuple[str, float]] = [
            ("lifecycle edit", 24),
            ("hubspot edit", 24),
            ("both sides", 6),
            ("pass", 22),
            ("faults", 6),
            ("time", 6),
            ("deal", 2),
            ("delete", 2 if len(live) > 2 else 0),
            ("restore", 3 if deleted else 0),
            ("merge", 1 if len(live) > 3 and self.counts["merges"] < 2 else 0),
        ]
        op = rng.choices([c for c, _ in choices], weights=[w for _, w in choices])[0]
        if op in ("lifecycle edit", "both sides"):
            shadow = rng.choice(live if op == "both sides" else editable)
            key = rng.choice(LIFECYCLE_EDITS if op == "lifecycle edit" else list(RULES))
            if Account.objects.get(pk=shadow.account_pk).status == Account.Status.ACTIVE:
                self.edit_lifecycle(shadow, key)
                self.counts["lifecycle edits"] += 1
            if op == "both sides":
                self.shift(rng.uniform(0.05, 1.0))
                self.edit_hubspot(shadow, key)
                self.counts["both-sides edits"] += 1
        elif op == "hubspot edit":
            self.edit_hubspot(rng.choice(live), rng.choice(HUBSPOT_EDITS))
            self.counts["hubspot edits"] += 1
        elif op == "pass":
            name = rng.choice(["webhooks", "webhooks", "events", "poll", "push", "push", "sweep"])
            self.run_pass(name, kill=name != "webhooks" and rng.random() < 0.12)
        elif op == "faults":
            self.faults()
        elif op == "time":
            seconds = rng.choice([rng.uniform(1, 10), rng.uniform(30, 120)])
            self.shift(seconds)
            self.note(f"time passes: {seconds:.1f} s")
        elif op == "deal":
            if rng.random() < 0.5:
                self.lifecycle_deal(rng.choice(live))
            else:
                self.hubspot_deal(rng.choice(live))
        elif op == "delete":
            self.delete(rng.choice(live))
            self.counts["deletions"] += 1
        elif op == "restore":
            self.restore(rng.choice(deleted))
            self.counts["restores"] += 1
        elif op == "merge":
            keep, gone = rng.sample(live, 2)
            self.merge(keep, gone)
            self.counts["merges"] += 1
        self.channel.collect()
        self.shift(rng.uniform(0.1, 3.0))  # edits land at distinct instants

    def chaos(self) -> None:
        self.channel.drop_rate = 0.08
        self.channel.duplicate_rate = 0.15
        self.channel.delay_rate = 0.3
        self.channel.reorder = True
        for _ in range(self.config.steps):
            self.step()

    def quiet(self) -> None:
        """Nobody edits, HubSpot is healthy, no worker dies: the held webhooks arrive
        (the dropped ones never do), and the scheduled passes run until one full round
        writes nothing to either side and makes no push call."""
        self.sandbox.faults.settings.queued.clear()
        self.channel.drop_rate = self.channel.duplicate_rate = self.channel.delay_rate = 0.0
        self.note("quiet")
        for n in range(QUIET_PASSES):
            self.shift(QUIET_SHIFT_S)
            writes, calls = hubspot_writes(self.server), hubspot_calls(self.server)
            journal = self._journal_size()
            self.channel.deliver(self.web, everything=True)
            for name in ("events", "poll", "push", "sweep", "push"):
                self.run_pass(name)
            delivered = self.channel.deliver(self.web, everything=True)
            if (
                hubspot_writes(self.server) == writes
                and not delivered
                and self._journal_size() == journal
            ):
                self.settled_after = n + 1
                spent = hubspot_calls(self.server) - calls
                self.note(f"settled after {n + 1} quiet round(s); last round {spent} calls")
                return
        self.note(f"not settled after {QUIET_PASSES} quiet rounds")

    @staticmethod
    def _journal_size() -> int:
        from accounts.hubspot.models import SyncChange

        return SyncChange.objects.count()


def scenario_run(scenario: Scenario, *, secret: str) -> Scenario:
    scenario.setup(secret)
    scenario.chaos()
    scenario.quiet()
    return scenario

# ruff: noqa: F811 -- fixtures from sync_support are used as test arguments
"""The convergence test: random edits on both sides with faults on, then sync settles.

Against the sandbox with 5xx answers, slow answers, dropped connections, 429 bursts and
duplicated, reordered webhooks; a couple of hundred companies; random edits in
Lifecycle and in HubSpot (clears included, the same field on both sides at once); a
HubSpot merge; "workers" that die mid-batch (the write reached HubSpot, our bookkeeping
rolled back). Webhooks travel over HTTP to a capture server and are replayed into the
real receiver view (signatures checked). After the edits stop, sync must settle:
every field equal on both sides (or waiting in the conflict inbox), no duplicates, no
more writes.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from accounts.hubspot import tasks, twoway
from accounts.hubspot.inbound.events import events_apply
from accounts.hubspot.inbound.importer import import_run, run_start
from accounts.hubspot.inbound.poller import poll_run
from accounts.hubspot.models import SyncChange, SyncConflict, SyncRun
from accounts.hubspot.rules import sync_state
from accounts.hubspot.sandbox import Sandbox, SandboxServer
from accounts.hubspot.sandbox.operations import merge
from accounts.hubspot.sandbox.store import Source
from accounts.hubspot.transport.client import HubSpotClient
from accounts.hubspot.transport.errors import HubSpotError
from accounts.hubspot.transport.http_retries import RetryPolicy
from accounts.models import Account, Deal, ForecastCategory, PipelineStage, Stage
from accounts.services import (
    account_cs_fields_update,
    account_stage_change,
    account_update,
    deal_save,
)

from .sync_support import (  # noqa: F401
    SECRET,
    TOKEN,
    capture,
    clock_of,
    hubspot_settings,
    portfolio,
    sync_clock,
    sync_sandbox,
    sync_server,
)

pytestmark = pytest.mark.django_db
URL = "/hubspot/webhooks/"
HUBSPOT_USER = Source(source_type="CRM_UI", change_source="CRM_UI", user_id="9001")
COMPANIES = 200
ROUNDS = 5
EDITS_PER_ROUND = 40
DEALS_PER_ROUND = 2
# Two-way fields and their policy; the CS fields not named stay Lifecycle-owned.
TWO_WAY = {
    "name": "latest",
    "stage": "latest",
    "renewal_forecast_category": "ask",
    "renewal_forecast_arr": "latest",
    "next_business_review": "latest",
}
WRITES = ("/batch/update", "/batch/create", "/batch/upsert")


def _value(rng: random.Random, key: str) -> str:
    """A random canonical value for a field, clears included where a clear makes sense."""
    if key == "name":
        return f"Company {rng.randrange(10**6)}"
    if key == "stage":
        return rng.choice([s for s, _ in Stage.choices])
    if key == "renewal_forecast_category":
        return rng.choice(["", *[c for c, _ in ForecastCategory.choices]])
    if key == "renewal_forecast_arr":
        return rng.choice(["", str(rng.randrange(1, 90) * 1000)])
    if key == "next_business_review":
        return rng.choice(["", (date(2027, 1, 1) + timedelta(days=rng.randrange(300))).isoformat()])
    if key == "health_score":
        return str(rng.randrange(0, 101))
    raise AssertionError(key)


def _edit_locally(account: Account, key: str, value: str) -> None:
    account.refresh_from_db()
    if key == "name":
        account_update(account=account, by=None, data={"name": value})
    elif key == "stage":
        if value == account.stage:
            return
        account_stage_change(account=account, to_stage=value, reason="convergence test", by=None)
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


def _lifecycle_deal(account: Account, rng: random.Random) -> None:
    stage = PipelineStage.objects.filter(pipeline__hubspot_id="default", is_closed=False).first()
    assert stage is not None
    deal_save(
        account=account,
        by=None,
        data={
            "name": f"Renewal {rng.randrange(10**6)}",
            "pipeline": stage.pipeline,
            "stage": stage,
            "amount": Decimal(rng.randrange(1, 90) * 100),
            "kind": "renewal",
        },
    )


class Harness:
    """One Lifecycle against one sandbox portal, with a sync cycle that can crash."""

    def __init__(
        self, seed: int, sandbox: Sandbox, server: SandboxServer, capture: dict[str, Any]
    ) -> None:
        self.rng = random.Random(seed)
        self.sandbox = sandbox
        self.server = server
        self.capture = capture
        self.web = Client()
        self.counts: Counter[str] = Counter()
        self.client = HubSpotClient(
            access_token=TOKEN,
            base_url=server.url,
            timeout=(2.0, 5.0),
            policy=RetryPolicy(max_attempts=8, backoff_base=0.01, jitter=self.rng.random),
            sleep=self._sleep,
        )

    def _sleep(self, seconds: float) -> None:
        """HubSpot's clock moves on while we wait (429s clear without real waiting)."""
        self.counts["retries"] += 1
        clock_of(self.sandbox).advance(seconds=seconds)

    def faults_on(self) -> None:
        self.sandbox.faults.configure(
            error_rate=0.05, slow_rate=0.02, slow_seconds=0.05, drop_rate=0.02
        )
        webhook = self.sandbox.webhooks.settings
        webhook.duplicate_rate, webhook.reorder = 0.2, True

    def crashing(self, monkeypatch: pytest.MonkeyPatch, rate: float) -> None:
        """A worker killed after its HubSpot call and before its bookkeeping commits."""
        real = self.real_states_save = sync_state.states_save

        def maybe_crash(states: Any) -> None:
            if self.rng.random() < rate:
                self.counts["crashes"] += 1
                raise RuntimeError("worker killed mid-batch")
            real(states)

        monkeypatch.setattr(sync_state, "states_save", maybe_crash)

    def deliver_webhooks(self) -> None:
        """Replay the captured deliveries into the receiver; one that fails (a worker
        died in the request) stays queued with the rest, as HubSpot retries on a 5xx."""
        assert self.sandbox.webhooks.wait_idle()
        pending, self.capture["requests"] = self.capture["requests"], []
        for n, (headers, raw) in enumerate(pending):
            try:
                response = self.web.post(
                    URL,
                    raw,
                    content_type="application/json",
                    headers={k: v for k, v in headers.items() if k.lower().startswith("x-hubspot")},
                    SERVER_NAME="127.0.0.1",
                    SERVER_PORT=str(self.capture["port"]),
                )
            except BaseException:
                self.capture["requests"] = pending[n:] + self.capture["requests"]
                raise
            assert response.status_code == 204, response.content
            self.counts["webhook deliveries"] += 1
            self.counts["webhook events"] += len(json.loads(raw))

    def step(self, name: str, work: Any) -> None:
        try:
            work()
        except (RuntimeError, HubSpotError) as exc:
            self.counts[f"{name} interrupted"] += 1
            if isinstance(exc, RuntimeError) and "killed" not in str(exc):
                raise

    def cycle(self) -> None:
        if self.rng.random() < 0.3:
            self.sandbox.limiter.saturate()  # a 429 burst
            self.counts["429 bursts"] += 1
        self.step("webhooks", self.deliver_webhooks)
        self.step("events", lambda: events_apply(client=self.client))
        clock_of(self.sandbox).advance(seconds=5)  # past the search index delay
        self.step("poll", lambda: poll_run(run_start(SyncRun.Kind.POLL), client=self.client))
        self.step("push", lambda: self.counts.update(pushed=twoway.push_pass(self.client).pushed))

    def writes(self) -> int:
        return sum(
            n
            for (method, path), n in self.server.calls.items()
            if method == "PATCH" or path.endswith(WRITES)
        )


def _hubspot_value(sandbox: Sandbox, rule: twoway.Rule, hubspot_id: str) -> str:
    record = sandbox.store.find("companies", hubspot_id)
    return rule.spec.canonical_remote(record.properties.get(rule.property, ""))


@pytest.mark.parametrize("seed", [11, 23, 37])
def test_two_way_sync_converges_under_faults(
    seed: int,
    sync_sandbox: Sandbox,
    sync_server: SandboxServer,
    capture: dict[str, Any],
    hubspot_settings: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    h = Harness(seed, sync_sandbox, sync_server, capture)
    # The webhook view's task builds its client from settings: give it ours.
    monkeypatch.setattr(tasks, "client_from_settings", lambda: h.client)
    sync_sandbox.limiter.set_tier("free")
    for key, policy in TWO_WAY.items():
        twoway.rule_save(key=key, owner="two_way", policy=policy, prop="", by=None)
    portfolio(sync_sandbox, companies=COMPANIES, deals_per_company=0)  # deals come later
    twoway.provision(h.client)
    import_run(run_start(SyncRun.Kind.IMPORT), client=h.client)
    clock_of(sync_sandbox).advance(seconds=3600)  # to now, where the import left the cursor
    twoway.push_pass(h.client)
    webhook = sync_sandbox.webhooks.settings
    webhook.target_url = f"http://127.0.0.1:{capture['port']}{URL}"
    webhook.client_secret = SECRET
    webhook.batch_window_s = 0.01
    for kind in ("creation", "deletion", "merge", "restore"):
        sync_sandbox.webhooks.subscribe(f"company.{kind}")
    sync_sandbox.webhooks.subscribe("deal.creation")
    for rule in twoway.rules_load():  # HubSpot subscribes to property changes one by one
        sync_sandbox.webhooks.subscribe("company.propertyChange", rule.property)
    h.faults_on()
    h.crashing(monkeypatch, rate=0.1)

    rules = {r.key: r for r in twoway.rules_load()}
    keys = [*TWO_WAY, "health_score", "health_band"]
    accounts = list(Account.objects.filter(hubspot_id__isnull=False).order_by("pk"))
    merged = False
    for round_ in range(ROUNDS):
        for _ in range(EDITS_PER_ROUND):
            account = h.rng.choice(accounts)
            key = h.rng.choice(keys)
            if key == "health_band":
                key = "health_score"
            side = h.rng.choice(["lifecycle", "hubspot", "both"])
            if side in ("lifecycle", "both") and account.status == Account.Status.ACTIVE:
                _edit_locally(account, key, _value(h.rng, key))
                h.counts["edits in Lifecycle"] += 1
            if side in ("hubspot", "both"):
                record = sync_sandbox.store.find("companies", account.hubspot_id or "")
                clock_of(sync_sandbox).advance(seconds=1)
                sync_sandbox.store.update(
                    record, {rules[key].property: _value(h.rng, key)}, source=HUBSPOT_USER
                )
                h.counts["edits in HubSpot"] += 1
        for _ in range(DEALS_PER_ROUND):
            # Deals made on both sides: a renewal in Lifecycle, a new deal in HubSpot.
            owner = h.rng.choice(accounts)
            if owner.status == Account.Status.ACTIVE:
                _lifecycle_deal(owner, h.rng)
                h.counts["deals made in Lifecycle"] += 1
            company = h.rng.choice(accounts).hubspot_id or ""
            record = sync_sandbox.store.create(
                "deals",
                {
                    "dealname": f"HubSpot deal {h.rng.randrange(10**6)}",
                    "amount": str(h.rng.randrange(1, 50) * 100),
                    "pipeline": "default",
                    "dealstage": "appointmentscheduled",
                },
                source=HUBSPOT_USER,
            )
            sync_sandbox.store.associate("deals", record.id, "companies", company, [5])
            h.counts["deals made in HubSpot"] += 1
        if round_ == 2 and not merged:
            keep, gone = accounts[0], accounts[1]
            merge(
                sync_sandbox.store,
                "companies",
                primary_id=keep.hubspot_id or "",
                merged_id=gone.hubspot_id or "",
                source=HUBSPOT_USER,
            )
            merged = True
            h.counts["merges"] += 1
        h.cycle()
        accounts = list(Account.objects.filter(hubspot_id__isnull=False).order_by("pk"))

    # Edits stop. Crashes stop too (a worker restarted for good); faults stay on.
    monkeypatch.setattr(sync_state, "states_save", h.real_states_save)
    settled_at = None
    for n in range(12):
        before = h.writes()
        h.cycle()
        if h.writes() == before and not capture["requests"]:
            settled_at = n
            break
    assert settled_at is not None, f"sync did not settle: {dict(h.counts)}"

    # Every synced field holds one value on both sides, or waits for a person.
    open_conflicts = set(
        SyncConflict.objects.filter(status="open").values_list("account_id", "field")
    )
    differences = []
    linked = Account.objects.filter(hubspot_id__isnull=False, status=Account.Status.ACTIVE)
    for account in linked:
        for rule in rules.values():
            ours = rule.spec.canonical_local(getattr(account, rule.spec.attribute))
            theirs = _hubspot_value(sync_sandbox, rule, account.hubspot_id or "")
            if ours != theirs and (account.pk, rule.key) not in open_conflicts:
                differences.append((account.pk, rule.key, ours, theirs))
    assert differences == []
    assert all(field == "renewal_forecast_category" for _, field in open_conflicts)

    # No duplicates on either side: one live company per linked account and back.
    live = {r.id for r in sync_sandbox.store.ordered("companies")}
    assert live == set(linked.values_list("hubspot_id", flat=True))
    ids = [
        r.properties.get("lifecycle_account_id")
        for r in sync_sandbox.store.ordered("companies")
        if r.properties.get("lifecycle_account_id")
    ]
    assert len(ids) == len(set(ids))

    # Deals: each made once on each side, each linked to its twin.
    local_deals = Deal.objects.filter(account__status=Account.Status.ACTIVE)
    remote_deals = sync_sandbox.store.ordered("deals")
    made_here = [str(r.properties.get("lifecycle_deal_id") or "") for r in remote_deals]
    made_here = [m for m in made_here if m]
    assert len(made_here) == len(set(made_here))
    lifecycle_made = set(local_deals.filter(created_in_lifecycle=True).values_list("pk", flat=True))
    assert {int(m) for m in made_here} >= lifecycle_made
    assert set(local_deals.values_list("hubspot_id", flat=True)) <= {r.id for r in remote_deals}
    hubspot_made = {r.id for r in remote_deals if not r.properties.get("lifecycle_deal_id")}
    assert hubspot_made <= set(Deal.objects.values_list("hubspot_id", flat=True))

    # Calls have stopped: another cycle writes nothing and fires no webhooks.
    before = h.writes()
    h.cycle()
    h.cycle()
    assert h.writes() == before and not capture["requests"]

    h.counts["conflicts open"] = len(open_conflicts)
    h.counts["both-sides edits settled by policy (journal)"] = SyncChange.objects.filter(
        note__startswith="changed on both sides"
    ).count()
    h.counts["HubSpot calls"] = sum(sync_server.calls.values())
    h.counts["HubSpot writes"] = h.writes()
    print(
        f"\nseed {seed}: settled after {settled_at + 1} quiet cycle(s); "
        + ", ".join(f"{k}: {v}" for k, v in sorted(h.counts.items()))
    )

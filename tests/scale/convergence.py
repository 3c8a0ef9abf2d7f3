"""The convergence scenario on real processes: seeded rounds of edits on both sides of
latest-wins fields (HubSpot as a person in its UI, Lifecycle through its services in a
process of the stack), webhooks duplicated and reordered on their way to both web hosts,
HubSpot answering 5xx and dropping connections, every pass run by the worker clusters;
then quiet (the scheduler's passes queued every second, HubSpot's faults off) until sync
settles. The same script runs on two sets of accounts, one with two worker clusters and
one with a single worker, and must end the same way.

Every value is new (a counter), so which edit is the latest is a fact of the script's
order, never of the workers' timing: HubSpot edits before a round's Lifecycle edits,
Lifecycle's, then HubSpot edits after them."""

from __future__ import annotations

import json
import random
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings

from accounts.hubspot import twoway
from accounts.hubspot.models import (
    SyncChange,
    SyncChangeStatus,
    SyncConflict,
    SyncIssue,
    SyncState,
)
from accounts.hubspot.sandbox import Sandbox, SandboxServer
from accounts.hubspot.sandbox.store import Source
from accounts.models import Account

from .console import READY
from .processes import Hosts, Process, database_url

HUBSPOT_USER = Source(source_type="CRM_UI", change_source="CRM_UI", user_id="9001")
KEYS = ("name", "renewal_forecast_arr", "next_business_review")
ROUNDS = 3
HUBSPOT_EDITS = 5  # before and again after each round's Lifecycle edits
LIFECYCLE_EDITS = 8
BOTH_SIDES = 2  # of those, edits of a field HubSpot changes in the same round (each side)
WRITES = ("/batch/update", "/batch/create", "/batch/upsert")
SETTLE_SECONDS = 90
QUIET_TICKS = 3


@dataclass(frozen=True)
class Edit:
    side: str  # "hubspot-before", "lifecycle" or "hubspot-after"
    index: int  # of the account in its set
    key: str
    value: str


@dataclass
class Script:
    rounds: list[list[Edit]] = field(default_factory=list)
    expected: dict[tuple[int, str], str] = field(default_factory=dict)


def script(seed: int, accounts: int) -> Script:
    rng = random.Random(seed)
    counter = iter(range(1, 10**6))

    def value(key: str) -> str:
        n = next(counter)
        if key == "name":
            return f"Scenario company {n}"
        if key == "renewal_forecast_arr":
            return str(n * 1000)
        return (date(2027, 1, 1) + timedelta(days=n)).isoformat()

    def edit(side: str, target: tuple[int, str] | None = None) -> Edit:
        index, key = target or (rng.randrange(accounts), rng.choice(KEYS))
        return Edit(side, index, key, value(key))

    out = Script()
    for _ in range(ROUNDS):
        before = [edit("hubspot-before") for _ in range(HUBSPOT_EDITS)]
        ours = [edit("lifecycle", (e.index, e.key)) for e in before[:BOTH_SIDES]]
        ours += [edit("lifecycle") for _ in range(LIFECYCLE_EDITS - BOTH_SIDES)]
        after = [edit("hubspot-after", (e.index, e.key)) for e in ours[-BOTH_SIDES:]]
        after += [edit("hubspot-after") for _ in range(HUBSPOT_EDITS - BOTH_SIDES)]
        out.rounds.append([*before, *ours, *after])
        for e in out.rounds[-1]:
            out.expected[(e.index, e.key)] = e.value
    return out


class Console:
    """tests/scale/console.py in a process of the stack, on its stdin."""

    def __init__(self, hosts: Hosts) -> None:
        self.popen = subprocess.Popen(
            [
                sys.executable,
                "manage.py",
                "shell",
                "-c",
                "from tests.scale.console import main; main()",
            ],
            cwd=Path(settings.BASE_DIR),
            env={**hosts.env, "DATABASE_URL": database_url("console")},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=(hosts.workdir / "console.err").open("wb"),
            start_new_session=True,
            text=True,
        )
        hosts.processes.append(Process("console", self.popen, hosts.workdir / "console.err"))
        self._ready()

    def _ready(self) -> None:
        assert self.popen.stdout is not None
        for line in self.popen.stdout:
            if line.startswith(READY):
                return
        raise AssertionError(f"the console exited: {self.popen.wait()}")

    def send(self, command: dict[str, Any]) -> None:
        assert self.popen.stdin is not None
        self.popen.stdin.write(json.dumps(command) + "\n")
        self.popen.stdin.flush()
        self._ready()

    def tick(self) -> None:
        self.send({"op": "tick"})


@dataclass
class World:
    hosts: Hosts
    sandbox: Sandbox
    server: SandboxServer
    console: Console

    def writes(self) -> int:
        return sum(
            n
            for (method, path), n in self.server.calls.items()
            if method == "PATCH" or path.endswith(WRITES)
        )

    def faults(self, on: bool) -> None:
        self.sandbox.faults.configure(error_rate=0.05 if on else 0.0, drop_rate=0.02 if on else 0.0)


def two_way_rules() -> dict[str, twoway.Rule]:
    for key in KEYS:
        twoway.rule_save(key=key, owner="two_way", policy="latest", prop="", by=None)
    return {r.key: r for r in twoway.rules_load() if r.key in KEYS}


def _differences(
    world: World, accounts: list[Account], expected: dict[tuple[int, str], str]
) -> list[str]:
    rules = twoway.rules_load()
    by_key = {r.key: r for r in rules}
    found = []
    for index, account in enumerate(accounts):
        account.refresh_from_db()
        record = world.sandbox.store.find("companies", account.hubspot_id or "")
        for rule in rules:
            ours = rule.spec.canonical_local(getattr(account, rule.spec.attribute))
            theirs = rule.spec.canonical_remote(record.properties.get(rule.property, ""))
            if ours != theirs:
                found.append(f"{index} {rule.key}: Lifecycle {ours!r}, HubSpot {theirs!r}")
    for (index, key), value in expected.items():
        rule = by_key[key]
        want = rule.spec.canonical_remote(value)
        got = rule.spec.canonical_local(getattr(accounts[index], rule.spec.attribute))
        if got != want:
            found.append(f"{index} {key}: {got!r}, the latest edit was {want!r}")
    return found


def scenario_run(
    world: World, accounts: list[Account], plan: Script, rules: dict[str, twoway.Rule]
) -> dict[str, Any]:
    """Play the script on these accounts, let sync settle, check it settled right and
    return its end state by account index (comparable with another set's)."""
    started = time.perf_counter()
    companies = len(world.sandbox.store.ordered("companies"))
    writes_before = world.writes()
    calls_before = sum(world.server.calls.values())
    world.faults(True)
    # Besides the random ones, a 502 and a dropped connection on the first calls.
    world.sandbox.faults.queue(502, "pass", "drop")
    try:
        for edits in plan.rounds:
            for side in ("hubspot-before", "lifecycle", "hubspot-after"):
                time.sleep(0.05)  # each side's edits are later than the last's, by any clock
                batch = [e for e in edits if e.side == side]
                if side == "lifecycle":
                    edited = [[accounts[e.index].pk, e.key, e.value] for e in batch]
                    world.console.send({"op": "edit", "edits": edited})
                    continue
                for e in batch:
                    hid = accounts[e.index].hubspot_id or ""
                    record = world.sandbox.store.find("companies", hid)
                    world.sandbox.store.update(
                        record, {rules[e.key].property: e.value}, source=HUBSPOT_USER
                    )
            time.sleep(0.5)
    finally:
        world.faults(False)
    # Quiet: the scheduler's passes every second until both sides hold the latest edits.
    deadline = time.monotonic() + SETTLE_SECONDS
    while found := _differences(world, accounts, plan.expected):
        if time.monotonic() > deadline:
            raise AssertionError(f"did not settle: {found}\n{world.hosts.logs()}")
        world.console.tick()
        time.sleep(1)
    settled_writes = world.writes()
    for _ in range(QUIET_TICKS):
        world.console.tick()
        time.sleep(1)
    assert world.sandbox.webhooks.wait_idle()
    assert world.writes() == settled_writes, "writes stop once settled"
    assert _differences(world, accounts, plan.expected) == []

    pks = [a.pk for a in accounts]
    hids = [a.hubspot_id or "" for a in accounts]
    records = world.sandbox.store.ordered("companies")
    assert len(records) == companies, "no company made twice"
    ids = [r.properties.get("lifecycle_account_id") for r in records]
    ids = [i for i in ids if i]
    assert len(ids) == len(set(ids)), "each account linked to one company"
    assert not SyncConflict.objects.filter(account__in=pks, status="open").exists()
    assert not SyncIssue.objects.filter(hubspot_id__in=hids, resolved_at__isnull=True).exists()
    assert not SyncChange.objects.filter(account__in=pks, status=SyncChangeStatus.SENT).exists()
    assert not SyncState.objects.filter(account__in=pks, push_failures__gt=0).exists()
    state = {
        f"{index} {key}": rules[key].spec.canonical_local(
            getattr(accounts[index], rules[key].spec.attribute)
        )
        for index, key in sorted(plan.expected)
    }
    return {
        "state": state,
        "stats": Counter(
            {
                "edits": sum(len(r) for r in plan.rounds),
                "HubSpot writes": world.writes() - writes_before,
                "HubSpot calls": sum(world.server.calls.values()) - calls_before,
                "seconds": round(time.perf_counter() - started),
            }
        ),
    }

"""Lifecycle on several hosts, for real, on one machine: a Redis server, two gunicorn
web hosts with two workers each, two django-q2 clusters (one worker process each) on
the Redis broker, the HubSpot sandbox and PostgreSQL (the test database, outside any
test transaction).

One test, in phases that share the processes (starting them is most of its time):
1. per-token API throttling holds across all four web workers: the limit, not four
   times it;
2. a burst of 100 account edits spread over both web hosts reaches HubSpot as a few
   coalesced batches, each account pushed once;
3. the convergence scenario (convergence.py: edits on both sides, webhooks duplicated
   and reordered to both web hosts, HubSpot's 5xx and dropped connections) settles on
   both worker clusters with every field equal on both sides, the latest edit's value,
   no duplicate and no write once settled;
4. a worker cluster killed (SIGKILL, its whole process group) while HubSpot holds its
   push loses nothing and duplicates nothing: the other cluster finishes the work;
5. the same scenario on other accounts, now on the one worker left, ends the same way
   as on two;
6. after pg_terminate_backend of every web and worker connection (a database
   restart), no request answers 500 and a queued import runs (issue 23, item 5)."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import redis
from django.conf import settings
from django.db import connection

from accounts.hubspot import twoway
from accounts.hubspot.inbound.importer import import_run, run_start
from accounts.hubspot.models import SyncRun
from accounts.hubspot.outbound.push import PUSH_LOCK
from accounts.hubspot.sandbox import Sandbox, SandboxServer
from accounts.hubspot.sandbox.faults import Fault
from accounts.hubspot.sandbox.http import Request, Response
from accounts.hubspot.sandbox.webhooks import WebhookDispatcher, WebhookSettings
from accounts.hubspot.tasks import PUSH_QUEUED_KEY
from accounts.hubspot.transport.client import HubSpotClient
from accounts.models import Account, Stage
from accounts.roles import Role
from accounts.services import api_token_create
from tests.factories import UserFactory
from tests.hubspot.sync_support import portfolio

from .convergence import Console, World, scenario_run, script, two_way_rules
from .processes import (
    Hosts,
    database_url,
    get_json,
    post_json,
    redis_server,
    wait_until,
    web_host,
    worker_cluster,
)

TOKEN = "scale-test-token"
SECRET = "scale-test-secret"
ACCOUNTS = 100
SCENARIO_ACCOUNTS = 12  # in each of the scenario's two sets
SCENARIO_SEED = 21
RATE = 30  # API requests per token per minute, for every web worker together
BATCH_UPDATE = "/crm/v3/objects/companies/batch/update"
HOLD_SECONDS = 3.0

pytestmark = pytest.mark.skipif(
    not Path("/usr/bin/redis-server").exists(), reason="needs Debian's redis-server"
)


class SpreadWebhooks(WebhookDispatcher):
    """HubSpot's deliveries, each batch to the next web host in turn (a load balancer in
    front of them would do the same), signed for the address it goes to."""

    targets: list[str]
    turn: int
    sent: Counter[str]  # deliveries by web host
    local: threading.local

    @property
    def settings(self) -> WebhookSettings:
        return getattr(self.local, "settings", None) or self.__dict__["settings"]

    @settings.setter
    def settings(self, value: WebhookSettings) -> None:
        self.__dict__["settings"] = value

    def _deliver(self, batch: list[dict[str, Any]]) -> None:
        with self._cond:
            target, self.turn = self.targets[self.turn % len(self.targets)], self.turn + 1
            self.sent[target] += 1
        self.local.settings = dataclasses.replace(self.__dict__["settings"], target_url=target)
        try:
            super()._deliver(batch)
        finally:
            self.local.settings = None


def _webhooks_to(recording: Sandbox, hosts: Hosts, properties: list[str]) -> None:
    webhooks = recording.webhooks
    webhooks.__class__ = SpreadWebhooks
    assert isinstance(webhooks, SpreadWebhooks)
    webhooks.targets = [f"{url}/hubspot/webhooks/" for url in hosts.web_urls]
    webhooks.turn, webhooks.local, webhooks.sent = 0, threading.local(), Counter()
    webhooks.settings.client_secret = SECRET
    webhooks.settings.target_url = webhooks.targets[0]
    webhooks.settings.duplicate_rate, webhooks.settings.reorder = 0.2, True
    for prop in properties:
        webhooks.subscribe("company.propertyChange", prop)


class RecordingSandbox(Sandbox):
    """The sandbox, noting each company batch update as it arrives (which companies,
    with which stage), and holding one when asked: a slow HubSpot answer during which
    the test kills the worker that sent it. The held write still lands afterwards, as
    a request HubSpot received from a client that died does."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.lock = threading.Lock()
        self.batches: list[dict[str, str]] = []  # company id -> lifecycle_stage
        self.hold_next = 0.0
        self.holding = threading.Event()
        self.faults_served: Counter[str] = Counter()

    def handle(self, request: Request) -> Response:
        if request.method == "POST" and request.path == BATCH_UPDATE:
            inputs = (request.body or {}).get("inputs", [])
            with self.lock:
                self.batches.append(
                    {str(i["id"]): i["properties"].get("lifecycle_stage", "") for i in inputs}
                )
                hold, self.hold_next = self.hold_next, 0.0
            if hold:
                self.holding.set()
                time.sleep(hold)
        return super().handle(request)

    def fault_for(self, request: Request) -> Fault | None:
        fault = super().fault_for(request)
        if fault is not None:
            with self.lock:
                self.faults_served[fault.kind] += 1
        return fault

    def batches_since(self, start: int) -> list[dict[str, str]]:
        with self.lock:
            return list(self.batches[start:])


@pytest.fixture
def sandbox() -> Iterator[tuple[RecordingSandbox, SandboxServer]]:
    recording = RecordingSandbox(tier="off", access_token=TOKEN)
    server = SandboxServer(recording, port=0).start()
    yield recording, server
    server.stop()


@pytest.fixture
def hosts(
    tmp_path: Path, sandbox: tuple[RecordingSandbox, SandboxServer], transactional_db: Any
) -> Iterator[Hosts]:
    _recording, server = sandbox
    hosts = Hosts(
        workdir=tmp_path,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "lifecycle.settings.production",
            "DJANGO_SECRET_KEY": "scale-test-secret-key-" + "x" * 40,
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DJANGO_SECURE_SSL_REDIRECT": "false",
            "HUBSPOT_ACCESS_TOKEN": TOKEN,
            "HUBSPOT_BASE_URL": server.url,
            "HUBSPOT_CLIENT_SECRET": SECRET,
            "HUBSPOT_TIER": "professional",
            "HUBSPOT_PUSH_DELAY_SECONDS": "1",
            # A push HubSpot failed (the scenario's 5xx) is retried within seconds.
            "HUBSPOT_PUSH_RETRY_SECONDS": "1",
            "HUBSPOT_PUSH_RETRY_MAX_SECONDS": "2",
            "HUBSPOT_BREAKER_COOLDOWN_SECONDS": "1",
            "API_RATE": f"{RATE}/min",
            # Every task on the default cluster: the two clusters share one queue.
            "Q_SEPARATE_QUEUES": "0",
            "LOG_FORMAT": "json",
            "PYTHONUNBUFFERED": "1",
        },
    )
    try:
        hosts.env["REDIS_URL"] = redis_server(hosts)
        for name in ("web-a", "web-b"):
            web_host(hosts, name)
        for name in ("worker-a", "worker-b"):
            worker_cluster(hosts, name, workers=1)
        for url in hosts.web_urls:
            wait_until(lambda url=url: get_json(f"{url}/readyz")[0] == 200, url, hosts)
        # Both clusters report their heartbeat through Redis.
        wait_until(
            lambda: get_json(f"{hosts.web_urls[0]}/healthz")[1].get("clusters") == 2,
            "two worker clusters in /healthz",
            hosts,
        )
        yield hosts
    finally:
        hosts.stop()
        connection.close()


def _linked_accounts(server: SandboxServer, recording: RecordingSandbox) -> list[Account]:
    """Companies imported and pushed once, as a portal looks after connecting: ACCOUNTS
    for the burst and the kill, then the scenario's two sets."""
    portfolio(recording, companies=ACCOUNTS + 2 * SCENARIO_ACCOUNTS, deals_per_company=0)
    client = HubSpotClient(access_token=TOKEN, base_url=server.url)
    twoway.provision(client)
    import_run(run_start(SyncRun.Kind.IMPORT), client=client)
    twoway.push_pass(client)
    return list(Account.objects.order_by("pk"))


def _tokens(user: Any, n: int) -> list[str]:
    return [api_token_create(user=user, name=f"scale {i}", by=None)[1] for i in range(n)]


def _edit_stages(hosts: Hosts, accounts: list[Account], to_stage: str, tokens: list[str]) -> float:
    """Change every account's stage through the API, spread over both web hosts and all
    tokens, from ten clients at once; returns the seconds the burst took."""

    def edit(i: int) -> int:
        url = hosts.web_urls[i % 2]
        return post_json(
            f"{url}/api/v1/accounts/{accounts[i].pk}/stage/",
            {"to_stage": to_stage, "reason": "scale test"},
            token=tokens[i % len(tokens)],
        )

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=10) as pool:
        statuses = list(pool.map(edit, range(len(accounts))))
    seconds = time.perf_counter() - started
    assert statuses == [200] * len(accounts), Counter(statuses)
    return seconds


def _in_hubspot(recording: RecordingSandbox, accounts: list[Account], stage: str) -> bool:
    store = recording.store
    return all(
        store.find("companies", a.hubspot_id or "").properties.get("lifecycle_stage") == stage
        for a in accounts
    )


def _throttling_holds_across_web_workers(hosts: Hosts, token: str) -> None:
    def read(i: int) -> int:
        url = hosts.web_urls[i % 2]
        return get_json(f"{url}/api/v1/accounts/?page_size=1", token=token)[0]

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = Counter(pool.map(read, range(3 * RATE)))
    # Four workers on two hosts, one bucket: exactly the limit, the rest refused.
    assert statuses == {200: RATE, 429: 2 * RATE}, statuses


def _burst_is_pushed_coalesced(
    hosts: Hosts, recording: RecordingSandbox, accounts: list[Account], tokens: list[str]
) -> None:
    start = len(recording.batches)
    seconds = _edit_stages(hosts, accounts, Stage.EXPANSION, tokens)
    wait_until(lambda: _in_hubspot(recording, accounts, Stage.EXPANSION), "the pushes", hosts)
    time.sleep(1.5)  # a pass queued by the last edits would write now
    ours = {a.hubspot_id for a in accounts}
    batches = [b for b in recording.batches_since(start) if ours & set(b)]
    pushed = Counter(hid for b in batches for hid in b if hid in ours)
    assert pushed == dict.fromkeys(ours, 1), "each account pushed exactly once"
    # A window of HUBSPOT_PUSH_DELAY_SECONDS (1 s) takes every edit made in it: a burst
    # of N seconds makes about N + 1 passes, each one batch of up to 100 companies.
    assert len(batches) <= seconds + 2, (len(batches), seconds)
    print(f"burst: {len(accounts)} edits in {seconds:.2f}s -> {len(batches)} batches")


def _lock_holder() -> str:
    """The process (application_name) whose connection holds the push lock."""
    seen: list[Any] = []
    deadline = time.monotonic() + HOLD_SECONDS
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            # The pass lock (one bigint key) or a partition's (PUSH_LOCK, n).
            cursor.execute(
                "SELECT DISTINCT a.application_name FROM pg_locks l JOIN pg_stat_activity a "
                "ON a.pid = l.pid WHERE l.locktype = 'advisory' AND l.granted "
                "AND a.application_name LIKE 'worker-%%' AND ((l.objsubid = 1 AND "
                "l.objid = %s) OR (l.objsubid = 2 AND l.classid = %s))",
                [PUSH_LOCK, PUSH_LOCK],
            )
            rows = [r[0] for r in cursor.fetchall()]
            if len(rows) == 1:
                return str(rows[0])
            cursor.execute(
                "SELECT l.locktype, l.granted, a.application_name, a.state, a.query "
                "FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
                "WHERE l.locktype = 'advisory' OR a.application_name LIKE 'worker-%'"
            )
            seen = cursor.fetchall()
        time.sleep(0.05)
    raise AssertionError(f"no single holder of the push lock: {seen}")


def _killed_worker_loses_and_duplicates_nothing(
    hosts: Hosts, recording: RecordingSandbox, accounts: list[Account], tokens: list[str]
) -> None:
    start = len(recording.batches)
    companies = len(recording.store.ordered("companies"))
    recording.holding.clear()
    recording.hold_next = HOLD_SECONDS
    _edit_stages(hosts, accounts[:-1], Stage.AT_RISK, tokens)
    assert recording.holding.wait(30), hosts.logs()
    victim = next(p for p in hosts.workers if p.name == _lock_holder())
    victim.kill()
    victim.popen.wait(timeout=10)
    survivor = next(p for p in hosts.workers if p is not victim)
    held = set(recording.batches_since(start)[0])
    # A pass the dead cluster had taken from the queue is lost with it; its coalescing
    # window closes HUBSPOT_PUSH_DELAY_SECONDS + PUSH_QUEUED_GRACE_SECONDS after it
    # opened. The next edit after that queues a pass on the surviving cluster (the
    # minute schedule would too), which writes whatever the dead worker did not record.
    window = redis.Redis.from_url(hosts.env["REDIS_URL"])
    wait_until(lambda: not window.keys(f"*{PUSH_QUEUED_KEY}"), "the window to close", hosts, 15)
    _edit_stages(hosts, accounts[-1:], Stage.AT_RISK, tokens)
    wait_until(lambda: _in_hubspot(recording, accounts, Stage.AT_RISK), "recovery", hosts)
    time.sleep(1.5)
    assert survivor.alive()
    assert len(recording.store.ordered("companies")) == companies, "no company made twice"
    ours = {a.hubspot_id for a in accounts}
    pushed = Counter(hid for b in recording.batches_since(start) for hid in b if hid in ours)
    assert set(pushed) == ours, "every account written"
    # Only the batch in flight when the worker died is written again (the dead worker
    # never recorded it): same values, no new records.
    assert {hid for hid, n in pushed.items() if n > 1} <= held
    assert all(n <= 2 for n in pushed.values())


def _database_restart_costs_no_error(hosts: Hosts, token: str) -> None:
    def reads(n: int) -> Counter[int]:
        return Counter(
            get_json(f"{hosts.web_urls[i % 2]}/api/v1/accounts/?page_size=1", token=token)[0]
            for i in range(n)
        )

    assert reads(12) == {200: 12}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT application_name, pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE application_name LIKE 'web-%%' OR application_name LIKE 'worker-%%'"
        )
        killed = Counter(name.split("-")[0] for name, _ok in cursor.fetchall())
    # Each web worker and each worker cluster held a persistent connection.
    assert killed["web"] >= 2 and killed["worker"] >= 1, killed
    assert reads(12) == {200: 12}, "no request answers 500 on a dead connection"
    # A full import queued (as the admin page does) runs on the workers' dead connections.
    queue = (
        "from django.db import transaction\n"
        "from accounts.hubspot.services import sync_run_queue\n"
        "with transaction.atomic():\n"
        "    print(sync_run_queue(kind='import').pk)\n"
    )
    out = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", queue],
        cwd=Path(settings.BASE_DIR),
        env={**hosts.env, "DATABASE_URL": database_url("admin-shell")},
        capture_output=True,
        text=True,
        check=True,
    )
    run_id = int(out.stdout.strip().splitlines()[-1])
    wait_until(
        lambda: SyncRun.objects.get(pk=run_id).status in {SyncRun.Status.DONE, "failed"},
        "the queued import",
        hosts,
    )
    run = SyncRun.objects.get(pk=run_id)
    assert run.status == SyncRun.Status.DONE, (run.status, run.error, hosts.logs())


def test_scale_out(
    hosts: Hosts, sandbox: tuple[RecordingSandbox, SandboxServer], transactional_db: Any
) -> None:
    recording, server = sandbox
    linked = _linked_accounts(server, recording)
    accounts = linked[:ACCOUNTS]
    on_two, on_one = linked[ACCOUNTS::2], linked[ACCOUNTS + 1 :: 2]
    leader = UserFactory.create(username="scale-leader", role=Role.LEADER)
    # One token per phase, and enough for 100 edits to stay under each one's limit.
    tokens = _tokens(leader, 11)

    _throttling_holds_across_web_workers(hosts, tokens[0])
    _burst_is_pushed_coalesced(hosts, recording, accounts, tokens[1:5])

    rules = two_way_rules()
    _webhooks_to(recording, hosts, [r.property for r in rules.values()])
    world = World(hosts, recording, server, Console(hosts))
    plan = script(SCENARIO_SEED, SCENARIO_ACCOUNTS)
    two = scenario_run(world, on_two, plan, rules)

    _killed_worker_loses_and_duplicates_nothing(hosts, recording, accounts, tokens[5:10])

    assert len([p for p in hosts.workers if p.alive()]) == 1
    one = scenario_run(world, on_one, plan, rules)
    assert one["state"] == two["state"], "the same result on one worker as on two"
    assert isinstance(recording.webhooks, SpreadWebhooks)
    # Both web hosts took webhook deliveries, and HubSpot failed some calls.
    assert len(recording.webhooks.sent) == 2 and recording.faults_served, (
        recording.webhooks.sent,
        recording.faults_served,
    )
    print(
        f"scenario: two workers {dict(two['stats'])}; one worker {dict(one['stats'])}; "
        f"webhook deliveries by host {sorted(recording.webhooks.sent.values())}; "
        f"HubSpot faults {dict(recording.faults_served)}"
    )

    _database_restart_costs_no_error(hosts, tokens[10])

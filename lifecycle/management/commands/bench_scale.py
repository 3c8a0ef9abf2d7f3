"""Benchmark Lifecycle on more than one worker process, in a throwaway database, with
real processes: a Redis server, django-q2 clusters, a gunicorn host and the HubSpot
sandbox in its own process (rate limit off).

(a) The daily health job (score_portfolio, split into chunks on the scoring queue) with
    a cluster of one worker process, then two, on the same portfolio.
(b) The HubSpot push of every account's changed health score, one worker, then two.
(c) Webhook edit-to-visible latency (a company renamed in the sandbox until the account
    shows it) while full imports run on the sync queue's own cluster.

Timings come from django-q2's task rows (from the first task's enqueueing to the last
one's end), so process start-up is not counted; each cluster first runs the job once
untimed (every worker process imports and warms up), then REPEATS (health:
HEALTH_REPEATS) timed runs, of which
the median counts. The machine's own ceiling is measured in the same run: pure-Python
CPU work in one process, then split over two (`cpu_two_processes`); a speedup is
reported next to it (`of_cpu_ceiling`), since other work on a shared machine lowers
both."""

from __future__ import annotations

import math
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from datetime import timedelta
from io import StringIO
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser
from django.db import connection
from django.utils import timezone
from django_q.models import Task

from accounts.hubspot import twoway
from accounts.hubspot.inbound.importer import import_run, run_start
from accounts.hubspot.management.commands.bench_hubspot_import import (
    TOKEN,
    _RemoteSandbox,
    bench_in_throwaway_db,
)
from accounts.hubspot.management.commands.bench_hubspot_two_way import (
    _database_url,
    _percentiles,
    _request,
)
from accounts.hubspot.models import SyncRun, SyncState
from accounts.hubspot.outbound.push import dirty_accounts
from accounts.hubspot.sandbox import Sandbox, seed
from accounts.hubspot.sandbox.seed_from_db import seed_from_accounts
from accounts.hubspot.transport.budget import DatabaseRateBudget
from accounts.hubspot.transport.client import HubSpotClient
from accounts.models import Account
from accounts.services import account_cs_fields_bulk_update
from success.health.models import HealthScore
from success.health.tasks import scorable_accounts

SECRET = "bench-secret"
# The health job's chunks: one per worker process of the two-worker run. Each chunk
# costs a fixed part on top of its share (8 chunks on one worker took twice the unsplit
# job's time on 4,000 accounts), so more chunks than workers lose more than they balance.
CHUNKS = 2
REPEATS = 3
# A health run takes about a second at 4,000 accounts, where one stray process moves it
# by a third on two cores: nine runs for its median cost little.
HEALTH_REPEATS = 9
FAN_OUT_MIN = 1000  # HUBSPOT_PUSH_FAN_OUT_MIN for the workers
CPU_LOOP = 6_000_000  # iterations of a pure-Python loop, about a second a process


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class _Processes:
    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.running: list[subprocess.Popen[bytes]] = []

    def start(self, argv: list[str], **env: str) -> subprocess.Popen[bytes]:
        process = subprocess.Popen(
            argv,
            cwd=str(settings.BASE_DIR),
            env={**self.env, **env},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        self.running.append(process)
        return process

    def stop(self, process: subprocess.Popen[bytes]) -> None:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
        if process in self.running:
            self.running.remove(process)

    def qcluster(self, workers: int, queue: str = "") -> subprocess.Popen[bytes]:
        env = {"Q_CLUSTER_WORKERS": str(workers), "Q_CLUSTER_ALT_WORKERS": str(workers)}
        if queue:
            env["Q_CLUSTER_NAME"] = queue
        return self.start([sys.executable, "manage.py", "qcluster"], **env)

    def enqueue(self, code: str, **env: str) -> None:
        """Queue tasks as the app does, from a process on the same broker. That process
        then waits, idle, until the next enqueue (or the end): its exit, an interpreter
        with Django loaded tearing down, would otherwise take CPU beside the job being
        timed, on two cores a share only the two-worker runs miss."""
        self._release_enqueuer()
        process = subprocess.Popen(
            [sys.executable, "manage.py", "shell", "-c", code + _QUEUED],
            cwd=str(settings.BASE_DIR),
            env={**self.env, **env},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        assert process.stdout is not None
        # The shell may say something first (its automatic imports).
        if not any(line.strip() == b"queued" for line in iter(process.stdout.readline, b"")):
            process.wait(timeout=30)
            stderr = process.stderr.read().decode() if process.stderr else ""
            raise RuntimeError(f"enqueueing failed: {stderr[-2000:]}")
        self.enqueuer = process

    enqueuer: subprocess.Popen[bytes] | None = None

    def _release_enqueuer(self) -> None:
        if self.enqueuer is not None:
            self.enqueuer.communicate(timeout=60)  # closes its stdin: it exits
            self.enqueuer = None

    def stop_all(self) -> None:
        self._release_enqueuer()
        for process in list(reversed(self.running)):
            self.stop(process)


# Appended to the enqueueing code: say so, then wait for stdin to close.
_QUEUED = "\nimport sys\nprint('queued', flush=True)\nsys.stdin.read()\n"


def _wait(check: Any, what: str, timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            done = list(Task.objects.values_list("name", "group", "success"))
            raise RuntimeError(f"timed out waiting for {what}; tasks done: {done}")
        time.sleep(0.1)


def _span(tasks: list[Task]) -> float:
    """django-q2's `started` is when the task was queued: from the first queued to the
    last done."""
    return (max(t.stopped for t in tasks) - min(t.started for t in tasks)).total_seconds()


def _cpu_seconds(processes: int, loops_each: int) -> float:
    """Wall time of `processes` Python processes each running a pure-CPU loop at once."""
    code = f"n = 0\nfor i in range({loops_each}):\n    n += i * i % 7\n"
    started = time.perf_counter()
    running = [subprocess.Popen([sys.executable, "-c", code]) for _ in range(processes)]
    for process in running:
        process.wait()
    return time.perf_counter() - started


def _cpu_ceiling() -> dict[str, float]:
    """The same CPU work in one process, then halved over two: how much faster two
    processes can be on this machine right now."""
    one = _cpu_seconds(1, 2 * CPU_LOOP)
    two = _cpu_seconds(2, CPU_LOOP)
    return {
        "one_process_s": round(one, 2),
        "two_processes_s": round(two, 2),
        "speedup": round(one / two, 2),
    }


def _rate_limit_floor(calls: int) -> float:
    """The least time the shared rate budget allows for this many calls: the first
    ten seconds' worth at once, then the rest at the ten-second cap's pace."""
    cap = DatabaseRateBudget(tier="professional").ten_second_cap
    return round(max(0, calls - cap) * 10 / cap, 2)


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


class Command(BaseCommand):
    help = "Benchmark one vs two worker processes, and webhook latency during an import."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--accounts", type=int, default=3000)
        parser.add_argument("--samples", type=int, default=20)
        parser.add_argument("--chunks", type=int, default=CHUNKS)
        parser.add_argument("--output", default="bench/results/scale.json")

    pushes = 0
    chunks = CHUNKS

    def handle(self, *args: Any, **options: Any) -> None:
        self.chunks = options["chunks"]
        if not (shutil.which("redis-server") or Path("/usr/bin/redis-server").exists()):
            raise SystemExit("bench_scale needs redis-server (apt-get install redis-server)")
        bench_in_throwaway_db(
            self,
            lambda db: self._run(options["accounts"], options["samples"], db),
            options["output"],
        )

    def _run(self, n: int, samples: int, bench_db: str) -> dict[str, Any]:
        self.stdout.write(f"Building {n:,} accounts and their HubSpot portal...")
        call_command("demo_data", accounts=n, stdout=StringIO())
        sandbox = Sandbox(tier="off", access_token=TOKEN)
        seed(sandbox, seed_from_accounts())
        server = _RemoteSandbox(sandbox)
        redis_port = _free_port()
        redis_binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "lifecycle.settings.production",
            "DJANGO_SECRET_KEY": "bench-" + "x" * 50,
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DJANGO_SECURE_SSL_REDIRECT": "false",
            "DATABASE_URL": _database_url(bench_db),
            "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
            "HUBSPOT_ACCESS_TOKEN": TOKEN,
            "HUBSPOT_BASE_URL": server.url,
            "HUBSPOT_CLIENT_SECRET": SECRET,
            "HUBSPOT_TIER": "professional",
            # A pass with this many accounts due asks one more worker to help.
            "HUBSPOT_PUSH_HELPERS": "1",
            "HUBSPOT_PUSH_FAN_OUT_MIN": str(FAN_OUT_MIN),
            "Q_SEPARATE_QUEUES": "0",
            "LOG_LEVEL": "WARNING",
        }
        processes = _Processes(env)
        cpu = [_cpu_ceiling()]
        load = [_load()]
        try:
            processes.start(
                [redis_binary, "--port", str(redis_port), "--save", "", "--appendonly", "no"]
            )
            client = HubSpotClient(access_token=TOKEN, base_url=server.url)
            twoway.provision(client)
            import_run(run_start(SyncRun.Kind.IMPORT), client=client)
            twoway.push_pass(client)
            linked = Account.objects.filter(hubspot_id__isnull=False).count()
            scorable = scorable_accounts().count()
            self.stdout.write(f"{linked:,} accounts linked, {scorable:,} scorable")
            health: dict[int, list[float]] = {}
            push: dict[int, list[float]] = {}
            push_calls: dict[int, int] = {}
            for workers in (1, 2):
                cluster = processes.qcluster(workers)
                self._health(processes, scorable)  # warm-up
                if workers == 1:  # the job as one task, as before it was split
                    health[0] = [self._health(processes, scorable, chunks=1)]
                health[workers] = [self._health(processes, scorable) for _ in range(HEALTH_REPEATS)]
                self._push(processes)  # warm-up
                server.calls(reset=True)
                push[workers] = [self._push(processes) for _ in range(REPEATS)]
                push_calls[workers] = sum(server.calls(reset=True).values()) // REPEATS
                processes.stop(cluster)
                self.stdout.write(
                    f"{workers} worker(s): health {health[workers]} s, push {push[workers]} s"
                )
            cpu.append(_cpu_ceiling())
            load.append(_load())
            latency = self._latency(processes, server, samples)
        finally:
            processes.stop_all()
            server.stop()
        ceiling = round(statistics.mean(c["speedup"] for c in cpu), 2)

        def figures(runs: dict[int, list[float]]) -> dict[str, Any]:
            one, two = statistics.median(runs[1]), statistics.median(runs[2])
            return {
                "one_worker_s": round(one, 2),
                "two_workers_s": round(two, 2),
                "speedup": round(one / two, 2),
                "of_cpu_ceiling": round(one / two / ceiling, 2),
                "runs_one_worker_s": runs[1],
                "runs_two_workers_s": runs[2],
            }

        result = {
            "when": timezone.now().isoformat(),
            "accounts": n,
            "linked": linked,
            "python": platform.python_version(),
            "cores": os.cpu_count(),
            "load_average_start_end": load,
            "cpu_two_processes": {"runs": cpu, "speedup": ceiling},
            "health_daily_job": {
                **figures(health),
                "chunks": self.chunks,
                "one_task_unsplit_s": health[0][0],
            },
            "hubspot_push": {
                **figures(push),
                "calls_per_pass": push_calls[1],
                # The client's own budget (HUBSPOT_TIER=professional: 180 calls in any ten
                # seconds) lets a pass of more calls take no less than this, on any number
                # of workers: above it the rate limit, not the workers, is the bound.
                "rate_limit_floor_s": _rate_limit_floor(push_calls[1]),
                "note": "the pass queues HUBSPOT_PUSH_HELPERS=1 helper; the pass and the "
                "helper push groups of the 16 account partitions, each under its own lock",
            },
            "webhook_latency_during_import": latency,
        }
        h, p = result["health_daily_job"], result["hubspot_push"]
        self.stdout.write(
            f"load average {load[0]} -> {load[1]}; pure CPU in two processes: {ceiling}x"
        )
        self.stdout.write(
            f"(a) daily health job, {scorable:,} accounts: one worker {h['one_worker_s']}s, "
            f"two {h['two_workers_s']}s = {h['speedup']}x ({h['of_cpu_ceiling']} of the "
            f"CPU ceiling; unsplit, one task: {health[0][0]:.2f}s)"
        )
        self.stdout.write(
            f"(b) push of {linked:,} companies: one worker {p['one_worker_s']}s, "
            f"two {p['two_workers_s']}s = {p['speedup']}x ({p['of_cpu_ceiling']} of the "
            f"CPU ceiling; {p['calls_per_pass']} calls a pass, which the rate budget lets "
            f"take no less than {p['rate_limit_floor_s']}s)"
        )
        self.stdout.write(
            f"(c) webhook edit -> visible while {latency['imports_run']} full imports ran: "
            f"p50 {latency['p50_s']}s, p95 {latency['p95_s']}s ({latency['samples']} samples)"
        )
        return result

    def _health(self, processes: _Processes, scorable: int, chunks: int = 0) -> float:
        chunks = chunks or self.chunks
        HealthScore.objects.filter(date=timezone.localdate()).delete()
        Task.objects.all().delete()
        chunk = math.ceil(scorable / chunks) if chunks > 1 else scorable
        processes.enqueue(
            "from lifecycle.ops.queues import enqueue\n"
            f"enqueue('success.health.tasks.score_portfolio', {chunk}, task_name='bench-health')"
        )
        # The job scores the first chunk itself and queues the others.
        _wait(
            lambda: (
                Task.objects.filter(name="bench-health").exists()
                and Task.objects.filter(group="health-daily").count() == chunks - 1
            ),
            "the health job and its chunks",
        )
        tasks = list(Task.objects.filter(name="bench-health")) + list(
            Task.objects.filter(group="health-daily")
        )
        assert all(t.success for t in tasks), [t.result for t in tasks if not t.success]
        assert HealthScore.objects.filter(date=timezone.localdate()).exists()
        return round(_span(tasks), 2)

    def _push(self, processes: _Processes) -> float:
        """Every linked account's health score changed, then one push pass queued (as the
        minute's schedule queues it after the daily job); it queues its helper."""
        self.pushes += 1
        values = {
            pk: {"health_score": ((score or 0) + 7) % 101}
            for pk, score in Account.objects.filter(hubspot_id__isnull=False).values_list(
                "pk", "health_score"
            )
        }
        account_cs_fields_bulk_update(values=values)
        # Written a minute before the pass, as the daily job's are when the minute's pass
        # comes (within CHECK_MARGIN of the pass, an account stays due for the next one).
        now = timezone.now()
        SyncState.objects.update(checked_at=now - timedelta(minutes=2))
        Account.objects.update(updated_at=now - timedelta(minutes=1))
        Task.objects.all().delete()
        name = f"bench-push-{self.pushes}"
        processes.enqueue(
            "from lifecycle.ops.queues import enqueue\n"
            f"enqueue('accounts.hubspot.tasks.hubspot_push', task_name='{name}')\n"
        )
        # A pass with fewer accounts due than the fan-out minimum queues no helper.
        fans_out = len(values) >= FAN_OUT_MIN
        names = [name, "hubspot-push-helper"] if fans_out else [name]
        _wait(lambda: Task.objects.filter(name__in=names).count() == len(names), "the push")
        tasks = list(Task.objects.filter(name__in=names))
        assert all(t.success for t in tasks), [t.result for t in tasks if not t.success]
        assert not dirty_accounts().exists(), "every account pushed"
        # A pass the helper queued when it ends (the pass found its partitions held)
        # runs now and finds nothing: let it finish before the next measurement.
        # And each pass starts with the rate budget's ten seconds whole, as the minute's
        # passes do: back to back, a second pass of over 90 calls would wait on the first
        # one's calls, on two workers more than on one (they finish sooner).
        time.sleep(max(settings.HUBSPOT_PUSH_DELAY_SECONDS + 1.5, 10.5))
        return round(_span(tasks), 2)

    def _latency(self, processes: _Processes, server: _RemoteSandbox, samples: int) -> Any:
        port = _free_port()
        separate = {"Q_SEPARATE_QUEUES": "1"}
        processes.start(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "lifecycle.wsgi",
                "-c",
                "gunicorn.conf.py",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "2",
            ],
            **separate,
        )
        processes.start(
            [sys.executable, "manage.py", "qcluster"], Q_CLUSTER_WORKERS="2", **separate
        )
        processes.start(
            [sys.executable, "manage.py", "qcluster"],
            Q_CLUSTER_NAME="sync",
            Q_CLUSTER_ALT_WORKERS="1",
            **separate,
        )
        _wait(lambda: _answers(f"http://127.0.0.1:{port}/readyz"), "gunicorn", 120)
        props = [r.property for r in twoway.rules_load()]
        _request(
            f"{server.url}/_sandbox/webhooks",
            method="PUT",
            body={
                "targetUrl": f"http://127.0.0.1:{port}/hubspot/webhooks/",
                "clientSecret": SECRET,
                "subscriptions": [
                    {"subscriptionType": "company.propertyChange", "propertyName": p}
                    for p in [*props, "name"]
                ],
            },
        )
        importing = threading.Event()
        done = threading.Event()
        imports = [0]

        def keep_importing() -> None:
            while not done.is_set():
                before = SyncRun.objects.filter(kind=SyncRun.Kind.IMPORT).count()
                processes.enqueue(
                    "from django.db import transaction\n"
                    "from accounts.hubspot.services import sync_run_queue\n"
                    "with transaction.atomic():\n"
                    "    sync_run_queue(kind='import')\n",
                    **separate,
                )
                _wait(
                    lambda b=before: (
                        SyncRun.objects.filter(kind=SyncRun.Kind.IMPORT).count() > b
                        and not SyncRun.objects.filter(
                            kind=SyncRun.Kind.IMPORT,
                            status__in=[SyncRun.Status.QUEUED, SyncRun.Status.RUNNING],
                        ).exists()
                    ),
                    "an import",
                )
                imports[0] += 1
                importing.set()

        def importing_thread() -> None:
            try:
                keep_importing()
            finally:
                connection.close()  # the throwaway database is dropped afterwards

        runner = threading.Thread(target=importing_thread, daemon=True)
        runner.start()
        accounts = list(Account.objects.filter(hubspot_id__isnull=False).order_by("pk"))
        waits: list[float] = []
        during = 0
        try:
            for i, account in enumerate(accounts[:samples]):
                running = SyncRun.objects.filter(
                    kind=SyncRun.Kind.IMPORT, status=SyncRun.Status.RUNNING
                ).exists()
                name = f"Renamed during import {i}"
                started = time.perf_counter()
                _request(
                    f"{server.url}/_sandbox/objects/companies/{account.hubspot_id}",
                    method="PATCH",
                    body={"properties": {"name": name}, "userId": "77"},
                )
                _wait(
                    lambda a=account, n=name: Account.objects.filter(pk=a.pk, name=n).exists(),
                    f"account {account.pk} renamed",
                    60,
                )
                waits.append(time.perf_counter() - started)
                during += running
                time.sleep(0.3)
        finally:
            done.set()
            runner.join(timeout=300)
        return {
            **_percentiles(waits),
            "samples_while_import_running": during,
            "imports_run": imports[0],
        }


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False

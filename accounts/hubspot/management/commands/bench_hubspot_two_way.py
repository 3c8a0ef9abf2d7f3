"""Benchmark two-way sync against the sandbox, in a throwaway PostgreSQL database.

(a) Push throughput: N linked companies whose CS fields all changed, pushed with the
    sandbox on the professional tier and our shared budget, as a fraction of the
    tier's bound (190 calls / 10 s x 100 companies per batch update = 1,900/s), and of
    the bound counting the reads before the writes (the push reads what HubSpot holds
    now, 100 companies per call, before writing them: at most 950/s when every call
    ran at the limit): calls made / (seconds x 19 calls/s). Also the push process's CPU
    seconds (the machine may be shared: wall time then holds other processes' turns),
    and a baseline in the same run: the same number of calls made alone (batch reads
    and updates of 100 companies, same client and budget), what this machine and the
    sandbox allow whatever our code does.
(b) Latency with one worker, as a user sees it, through real processes: a web server
    (runserver) receiving the sandbox's webhooks and a django-q2 cluster with one
    worker. HubSpot -> Lifecycle: a company renamed in the sandbox until the account
    shows the name. Lifecycle -> HubSpot: a renewal forecast changed through our
    service until the sandbox holds it. p50 and p95 of each.

The sandbox runs in its own process, as HubSpot runs on its own machines.
"""

from __future__ import annotations

import cProfile
import json
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.db import connection
from django.test import override_settings
from django.utils import timezone

from accounts.hubspot import twoway
from accounts.hubspot.inbound.importer import import_run, run_start
from accounts.hubspot.management.commands.bench_hubspot_import import (
    TIER_CEILING,
    TOKEN,
    _portfolio,
    _RemoteSandbox,
    bench_in_throwaway_db,
)
from accounts.hubspot.models import SyncRun
from accounts.hubspot.sandbox import Sandbox, seed
from accounts.hubspot.transport.budget import DatabaseRateBudget, usage_on
from accounts.hubspot.transport.client import HubSpotClient
from accounts.models import Account
from accounts.services import account_cs_fields_bulk_update, account_cs_fields_update

SECRET = "bench-secret"
FORECASTS = ["commit", "likely", "at_risk", "churn"]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _request(url: str, *, method: str = "GET", body: Any = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        url,
        data=data,
        method=method,
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        raw = response.read()
    return json.loads(raw) if raw else None


def _percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {
        "samples": len(ordered),
        "p50_s": round(statistics.median(ordered), 3),
        "p95_s": round(p95, 3),
        "max_s": round(ordered[-1], 3),
    }


class Command(BaseCommand):
    help = "Benchmark two-way HubSpot sync: push throughput and edit-to-visible latency."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--companies", type=int, default=20_000)
        parser.add_argument(
            "--samples", type=int, default=30, help="Latency samples (0: push throughput only)."
        )
        parser.add_argument(
            "--profile", default="", help="Write a cProfile of the measured push pass here."
        )
        parser.add_argument("--output", default="bench/results/hubspot_two_way.json")

    def handle(self, *args: Any, **options: Any) -> None:
        bench_in_throwaway_db(
            self,
            lambda db: self._run(options["companies"], options["samples"], db, options["profile"]),
            options["output"],
        )

    def _run(self, n: int, samples: int, bench_db: str, profile: str) -> dict[str, Any]:
        sandbox = Sandbox(tier="off", access_token=TOKEN)
        seed(sandbox, {**_portfolio(n), "deals": [], "associations": []})
        server = _RemoteSandbox(sandbox)
        try:
            client = HubSpotClient(access_token=TOKEN, base_url=server.url)
            twoway.provision(client)
            import_run(run_start(SyncRun.Kind.IMPORT), client=client)
            twoway.push_pass(client)  # the first push: every account's CS fields
            throughput = self._throughput(server, profile)
            latency = self._latency(server, samples, bench_db) if samples else {}
        finally:
            server.stop()
        return {
            "when": timezone.now().isoformat(),
            "companies": n,
            "python": platform.python_version(),
            "push_professional_tier": throughput,
            **latency,
        }

    def _throughput(self, server: _RemoteSandbox, profile: str) -> dict[str, Any]:
        """Every account's health changes (the daily job), then one push pass."""
        accounts = list(Account.objects.values_list("pk", "health_score"))
        account_cs_fields_bulk_update(
            values={pk: {"health_score": ((score or 0) + 7) % 101} for pk, score in accounts}
        )
        server.set_tier("professional")
        client = HubSpotClient(
            access_token=TOKEN,
            base_url=server.url,
            budget=DatabaseRateBudget(tier="professional"),
        )
        profiler = cProfile.Profile() if profile else None
        cpu_started, started = time.process_time(), time.perf_counter()
        if profiler is not None:
            profiler.enable()
        outcome = twoway.push_pass(client)
        if profiler is not None:
            profiler.disable()
            profiler.dump_stats(profile)
        seconds = time.perf_counter() - started
        cpu = time.process_time() - cpu_started
        usage = usage_on(timezone.now())
        alone = self._calls_alone(server, outcome.calls)
        server.set_tier("off")
        rate = outcome.pushed / seconds
        # The same calls at the tier's limit (19 calls/s): the bound counting the reads.
        bound_s = outcome.calls / (TIER_CEILING / 100)
        bound = outcome.pushed / bound_s if outcome.calls else 0
        result = {
            "companies_pushed": outcome.pushed,
            "failed": outcome.failed,
            "seconds": round(seconds, 2),
            "records_per_second": round(rate, 1),
            "bound_records_per_second": TIER_CEILING,
            "fraction_of_bound": round(rate / TIER_CEILING, 3),
            "bound_counting_reads": round(bound, 1),
            "fraction_of_bound_counting_reads": round(rate / bound, 3) if bound else 0,
            "calls": outcome.calls,
            "rate_limited_429": usage["rate_limited"],
            # The push process's own CPU (all its threads): on a loaded machine the wall
            # time also holds the time other processes had the cores.
            "cpu_seconds": round(cpu, 2),
            "cpu_ms_per_company": round(1000 * cpu / outcome.pushed, 3) if outcome.pushed else 0,
            # Baseline, same run: the same number of calls with nothing else done.
            "calls_alone_seconds": round(alone, 2),
            "calls_alone_fraction_of_bound": round(bound_s / alone, 3) if alone else 0,
            "push_seconds_over_calls_alone": round(seconds / alone, 2) if alone else 0,
        }
        self.stdout.write(
            f"(a) push, professional tier: {outcome.pushed:,} companies in {seconds:.1f}s = "
            f"{rate:,.0f}/s = {rate / TIER_CEILING:.0%} of {TIER_CEILING:,}/s, "
            f"{rate / bound if bound else 0:.0%} of {bound:,.0f}/s counting the reads "
            f"({outcome.calls} calls, {usage['rate_limited']} answered 429); "
            f"CPU {cpu:.1f}s of the push process"
        )
        self.stdout.write(
            f"    baseline, the same {outcome.calls} calls alone: {alone:.1f}s = "
            f"{bound_s / alone if alone else 0:.0%} of the bound; the push took "
            f"{seconds / alone if alone else 0:.1f}x that"
        )
        return result

    def _calls_alone(self, server: _RemoteSandbox, calls: int) -> float:
        """The push's number of calls with none of its own work: per 100 companies, the
        batch read of the rules' properties and a batch update writing back the health
        score the push wrote, through the same client and budget, once the ten-second
        window the push used has passed. What the machine and the sandbox allow."""
        time.sleep(10.5)
        client = HubSpotClient(
            access_token=TOKEN,
            base_url=server.url,
            budget=DatabaseRateBudget(tier="professional"),
        )
        props = [r.property for r in twoway.rules_load()]
        rows = list(
            Account.objects.filter(hubspot_id__isnull=False)
            .order_by("pk")
            .values_list("hubspot_id", "health_score")
        )
        batches = [rows[i : i + 100] for i in range(0, len(rows), 100)] or [[]]
        started = time.perf_counter()
        for made in range(calls):
            batch = batches[(made // 2) % len(batches)]
            if made % 2 == 0:
                client.batch_read("companies", [h or "" for h, _ in batch], properties=props)
            else:
                client.batch_update(
                    "companies",
                    [
                        {"id": h, "properties": {"lifecycle_health_score": str(score or "")}}
                        for h, score in batch
                    ],
                )
        return time.perf_counter() - started

    def _latency(self, server: _RemoteSandbox, samples: int, bench_db: str) -> dict[str, Any]:
        web_port = _free_port()
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": os.environ.get(
                "DJANGO_SETTINGS_MODULE", "lifecycle.settings.local"
            ),
            "DATABASE_URL": _database_url(bench_db),
            "HUBSPOT_ACCESS_TOKEN": TOKEN,
            "HUBSPOT_BASE_URL": server.url,
            "HUBSPOT_CLIENT_SECRET": SECRET,
            "HUBSPOT_TIER": "professional",
            "HUBSPOT_APP_ID": "4242",  # the sandbox's app (its writes' source id)
            "Q_CLUSTER_WORKERS": "1",
        }
        base = [sys.executable, "manage.py"]
        cwd = str(settings.BASE_DIR)
        web = subprocess.Popen(
            [*base, "runserver", f"127.0.0.1:{web_port}", "--noreload"],
            cwd=cwd,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        worker = subprocess.Popen(
            [*base, "qcluster"],
            cwd=cwd,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            self._wait_for(f"http://127.0.0.1:{web_port}/login/")
            target = f"http://127.0.0.1:{web_port}/hubspot/webhooks/"
            props = [r.property for r in twoway.rules_load()]
            _request(
                f"{server.url}/_sandbox/webhooks",
                method="PUT",
                body={
                    "targetUrl": target,
                    "clientSecret": SECRET,
                    "subscriptions": [
                        {"subscriptionType": "company.propertyChange", "propertyName": p}
                        for p in props
                    ],
                },
            )
            time.sleep(2)  # the worker's first poll
            inbound = self._inbound(server, samples)
            with override_settings(
                HUBSPOT_ACCESS_TOKEN=TOKEN, HUBSPOT_BASE_URL=server.url, HUBSPOT_PUSH_ENABLED=True
            ):
                outbound = self._outbound(server, samples)
        finally:
            for process in (web, worker):
                process.send_signal(signal.SIGTERM)
            for process in (web, worker):
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()
        push_delay = settings.HUBSPOT_PUSH_DELAY_SECONDS
        self.stdout.write(
            f"(b) HubSpot edit -> visible in Lifecycle (webhook, one worker): "
            f"p50 {inbound['p50_s']}s, p95 {inbound['p95_s']}s"
        )
        self.stdout.write(
            f"(c) Lifecycle edit -> in HubSpot (push delay {push_delay}s, one worker): "
            f"p50 {outbound['p50_s']}s, p95 {outbound['p95_s']}s"
        )
        return {
            "webhook_latency_hubspot_to_lifecycle": inbound,
            "push_latency_lifecycle_to_hubspot": {**outbound, "push_delay_s": push_delay},
        }

    def _wait_for(self, url: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(url, timeout=2)
                return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"{url} did not answer")

    def _inbound(self, server: _RemoteSandbox, samples: int) -> dict[str, Any]:
        accounts = list(Account.objects.order_by("pk").values_list("pk", "hubspot_id")[:samples])
        waits = []
        for i, (pk, hid) in enumerate(accounts):
            name = f"Renamed in HubSpot {i}"
            started = time.perf_counter()
            _request(
                f"{server.url}/_sandbox/objects/companies/{hid}",
                method="PATCH",
                body={"properties": {"name": name}, "userId": "77"},
            )
            while not Account.objects.filter(pk=pk, name=name).exists():
                if time.perf_counter() - started > 60:
                    raise RuntimeError(f"account {pk} never showed {name!r}")
                time.sleep(0.02)
            waits.append(time.perf_counter() - started)
        return _percentiles(waits)

    def _outbound(self, server: _RemoteSandbox, samples: int) -> dict[str, Any]:
        accounts = list(Account.objects.order_by("-pk")[:samples])
        waits = []
        for i, account in enumerate(accounts):
            forecast = FORECASTS[i % len(FORECASTS)]
            if account.renewal_forecast_category == forecast:
                forecast = FORECASTS[(i + 1) % len(FORECASTS)]
            started = time.perf_counter()
            account_cs_fields_update(account=account, renewal_forecast_category=forecast)
            url = (
                f"{server.url}/crm/v3/objects/companies/{account.hubspot_id}"
                "?properties=lifecycle_renewal_forecast"
            )
            while _request(url)["properties"].get("lifecycle_renewal_forecast") != forecast:
                if time.perf_counter() - started > 60:
                    raise RuntimeError(f"company {account.hubspot_id} never showed {forecast}")
                time.sleep(0.02)
            waits.append(time.perf_counter() - started)
            time.sleep(0.5)  # edits a person makes, not a burst (bursts coalesce)
        return _percentiles(waits)


def _database_url(name: str) -> str:
    db = connection.settings_dict
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or "5432"
    user = db.get("USER") or "postgres"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{user}{password}@{host}:{port}/{name}"

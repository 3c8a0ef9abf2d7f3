"""The daily job on a large portfolio with playbooks on, HubSpot tasks included:
`python manage.py bench_daily_job --accounts 100000`.

In a throwaway PostgreSQL database: the demo portfolio of N accounts is built and
linked to a HubSpot sandbox (in its own process, professional tier, our shared rate
budget) holding the same companies and owners; the three default playbooks are set
to also create HubSpot tasks. Then, as the schedule runs them, in order: health
scoring, alert rules, the playbook pass (runs start, their tasks land in My work and
are owed to HubSpot), the HubSpot task push, a person completing a share of those
tasks in HubSpot, the incremental sync that brings the completions back (the playbook
steps complete here), and a second (steady) day. Each step prints seconds and
queries; the task push also calls and its share of the tier's bound. Writes
bench/results/daily_job.json.

It drives the HubSpot plug-in directly (like bench_scale), so it is allowed to import
it (pyproject.toml's import contracts).
"""

from __future__ import annotations

import json
import os
import platform
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import connection
from django.utils import timezone

from accounts import demo as accounts_demo
from accounts.hubspot.inbound.cursors import OVERLAP_MS, cursors_start_at
from accounts.hubspot.inbound.importer import run_start
from accounts.hubspot.inbound.poller import poll_run
from accounts.hubspot.management.commands.bench_hubspot_import import (
    TOKEN,
    _RemoteSandbox,
    bench_in_throwaway_db,
)
from accounts.hubspot.models import SyncRun
from accounts.hubspot.outbound.tasks_push import tasks_push
from accounts.hubspot.sandbox import Sandbox, seed
from accounts.hubspot.sandbox.seed_from_db import seed_from_accounts
from accounts.hubspot.transport.budget import DatabaseRateBudget
from accounts.hubspot.transport.client import HubSpotClient
from accounts.models import Account, OwnerLink
from accounts.support.models import Engagement
from lifecycle.ops.statements import StatementCounter
from success.alerts.services import alerts_evaluate
from success.health.services import health_scores_compute
from success.models import SuccessTask
from success.playbooks.models import Playbook, PlaybookRun, PlaybookRunStep, RunStepStatus
from success.playbooks.services import playbooks_evaluate

# 190 calls / 10 s at the professional tier, 100 tasks per batch call.
BOUND_TASKS_PER_S = 190 / 10 * 100


def _timed(step: Callable[[], Any]) -> tuple[Any, dict[str, Any]]:
    counter = StatementCounter()
    cpu = time.process_time()
    with connection.execute_wrapper(counter):
        started = time.perf_counter()
        result = step()
        seconds = time.perf_counter() - started
    return result, {
        "seconds": round(seconds, 2),
        "cpu_seconds": round(time.process_time() - cpu, 2),
        "queries": counter.count,
    }


class Command(BaseCommand):
    help = "Benchmark the daily job with playbooks and HubSpot tasks on (throwaway database)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--accounts", type=int, default=10_000)
        parser.add_argument(
            "--complete-share",
            type=float,
            default=0.25,
            help="Share of the pushed HubSpot tasks a person completes in HubSpot.",
        )
        parser.add_argument("--output", default="bench/results/daily_job.json")
        parser.add_argument(
            "--reuse",
            action="store_true",
            help="Keep the built portfolio in its own database (bench_daily_<N>) and run each "
            "time on a copy of it (CREATE DATABASE ... TEMPLATE): a 100,000-account build "
            "takes minutes, the copy seconds.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        n, share = options["accounts"], options["complete_share"]
        if not options["reuse"]:
            bench_in_throwaway_db(self, lambda db: self._run(n, share), options["output"])
            return
        base = f"bench_daily_{n}"
        self._base_db(base, n)
        copy = f"{base}_run"
        self._sql(f"DROP DATABASE IF EXISTS {copy}", f"CREATE DATABASE {copy} TEMPLATE {base}")
        connection.close()
        connection.settings_dict["NAME"] = copy
        try:
            results = self._run(n, share, build=False)
        finally:
            connection.close()
            self._sql(f"DROP DATABASE IF EXISTS {copy}")
        results["database"] = f"PostgreSQL (a copy of {base}, built once)"
        out = Path(options["output"])
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(results, indent=2) + "\n")
        self.stdout.write(self.style.SUCCESS(f"Wrote {out}"))

    def _sql(self, *statements: str) -> None:
        """Statements outside any database of ours (creating and dropping them)."""
        connection.close()
        with connection._nodb_cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)

    def _base_db(self, name: str, n: int) -> None:
        """The built portfolio, kept between runs: created, migrated and built when
        missing or holding another number of accounts."""
        connection.settings_dict.setdefault("TEST", {})["NAME"] = name
        connection.creation.create_test_db(
            verbosity=0, autoclobber=True, serialize=False, keepdb=True
        )
        have = Account.objects.count()
        if have != n:
            if have:
                self.stdout.write(f"{name} holds {have:,} accounts: rebuilding")
                connection.creation._destroy_test_db(name, verbosity=0)  # type: ignore[attr-defined]
                connection.creation.create_test_db(
                    verbosity=0, autoclobber=True, serialize=False, keepdb=True
                )
            _, figures = _timed(
                lambda: accounts_demo.build(accounts=n, seed=11, today=timezone.localdate())
            )
            self._say("build (kept for later runs)", figures)
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
        connection.close()

    def _say(self, name: str, figures: dict[str, Any]) -> None:
        self.stdout.write(f"{name}: {figures}")

    def _run(self, n: int, complete_share: float, *, build: bool = True) -> dict[str, Any]:
        today = timezone.localdate()
        steps: dict[str, Any] = {}
        if build:
            _, steps["build"] = _timed(
                lambda: accounts_demo.build(accounts=n, seed=11, today=today)
            )
            self._say("build", steps["build"])
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")

        server, client = self._linked_sandbox()
        try:
            Playbook.objects.update(crm_tasks=True)
            day1 = self._day(today, client, steps, "day1")
            tasks = list(
                Engagement.objects.filter(kind=Engagement.Kind.TASK, hubspot_id__isnull=False)
                .order_by("pk")
                .values_list("hubspot_id", flat=True)
            )
            chosen = [hid for hid in tasks if hid][: int(len(tasks) * complete_share)]
            _, steps["hubspot_person_completes"] = _timed(
                lambda: self._complete_in_hubspot(server.url, chosen)
            )
            steps["hubspot_person_completes"]["tasks"] = len(chosen)
            _, steps["sync_completions_back"] = _timed(
                lambda: poll_run(run_start(SyncRun.Kind.POLL), client=client)
            )
            steps["sync_completions_back"]["steps_done_here"] = PlaybookRunStep.objects.filter(
                engagement__hubspot_id__in=chosen, status=RunStepStatus.DONE
            ).count()
            self._say("sync back", steps["sync_completions_back"])
            self._day(today, client, steps, "day2")
        finally:
            server.stop()
        return {
            "when": timezone.now().isoformat(),
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "load_average_at_end": os.getloadavg()[0],
            "accounts": Account.objects.count(),
            "playbooks_with_hubspot_tasks": Playbook.objects.filter(crm_tasks=True).count(),
            "runs": PlaybookRun.objects.count(),
            "tasks_in_my_work": SuccessTask.objects.count(),
            "hubspot_tasks": Engagement.objects.filter(kind=Engagement.Kind.TASK).count(),
            "first_day_runs_started": day1,
            "steps": steps,
        }

    def _linked_sandbox(self) -> tuple[_RemoteSandbox, HubSpotClient]:
        """A portal holding the portfolio's companies and owners, linked as an import
        would link them (the import's own cost is bench_hubspot_import's business)."""
        sandbox = Sandbox(tier="off", access_token=TOKEN)
        data = seed_from_accounts()
        ids = seed(sandbox, data)["companies"]
        accounts = [Account(pk=int(key[1:]), hubspot_id=hid) for key, hid in ids.items()]
        Account.objects.bulk_update(accounts, ["hubspot_id"], batch_size=5000)
        OwnerLink.objects.bulk_create(
            [
                OwnerLink(hubspot_owner_id=o["id"], email=o["email"], user_id=int(o["id"]) - 7000)
                for o in data["owners"]
            ]
        )
        # Incremental sync starts here, as after an import.
        cursors_start_at(int(time.time() * 1000) - OVERLAP_MS)
        server = _RemoteSandbox(sandbox)
        server.set_tier("professional")
        client = HubSpotClient(
            access_token=TOKEN, base_url=server.url, budget=DatabaseRateBudget(tier="professional")
        )
        return server, client

    def _day(self, today: Any, client: HubSpotClient, steps: dict[str, Any], day: str) -> int:
        _, steps[f"{day}_health"] = _timed(lambda: health_scores_compute(today=today))
        self._say(f"{day} health", steps[f"{day}_health"])
        alerts, steps[f"{day}_alerts"] = _timed(lambda: alerts_evaluate(today=today))
        steps[f"{day}_alerts"]["opened"] = sum(alerts.opened.values())
        self._say(f"{day} alerts", steps[f"{day}_alerts"])
        played, steps[f"{day}_playbooks"] = _timed(lambda: playbooks_evaluate(today=today))
        started = sum(played.started.values())
        steps[f"{day}_playbooks"]["runs_started"] = started
        self._say(f"{day} playbooks", steps[f"{day}_playbooks"])
        pushed, figures = _timed(lambda: tasks_push(client))
        rate = pushed.created / figures["seconds"] if figures["seconds"] else 0.0
        figures.update(
            created=pushed.created,
            updated=pushed.updated,
            failed=pushed.failed,
            calls=pushed.calls,
            created_per_s=round(rate, 1),
            share_of_professional_bound=round(rate / BOUND_TASKS_PER_S, 3),
        )
        steps[f"{day}_hubspot_task_push"] = figures
        self._say(f"{day} HubSpot task push", figures)
        return started

    def _complete_in_hubspot(self, url: str, ids: list[str]) -> None:
        """A person ticks the tasks off in HubSpot (bulk edit: one modified instant)."""
        for start in range(0, len(ids), 1000):
            body = {
                "ids": ids[start : start + 1000],
                "properties": {"hs_task_status": "COMPLETED"},
                "userId": 1,
            }
            request = urllib.request.Request(
                f"{url}/_sandbox/objects/tasks/bulk-edit",
                data=json.dumps(body).encode(),
                headers={"Content-Type": "application/json"},
                method="POST",
            )
            with urllib.request.urlopen(request, timeout=120) as response:
                assert response.status == 200, response.status

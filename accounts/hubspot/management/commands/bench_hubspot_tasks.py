"""Benchmark the push of playbook tasks to HubSpot, in a throwaway PostgreSQL database.

N companies are imported from the sandbox (in its own process, professional tier, our
shared budget); each account gets `--per-account` CRM tasks as a playbook run opens them
(`crm_tasks_open`), then one push creates them all; then every task is completed here
and one push writes the statuses. Prints tasks per second, calls and queries of each
pass, and the fraction of the tier's bound (190 calls / 10 s x 100 tasks per batch call
= 1,900 tasks/s).
"""

from __future__ import annotations

import platform
import time
from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.hubspot.inbound.importer import import_run, run_start
from accounts.hubspot.management.commands.bench_hubspot_import import (
    TOKEN,
    _portfolio,
    _RemoteSandbox,
    bench_in_throwaway_db,
)
from accounts.hubspot.models import SyncRun
from accounts.hubspot.outbound.tasks_push import tasks_push
from accounts.hubspot.sandbox import Sandbox, seed
from accounts.hubspot.transport.budget import DatabaseRateBudget
from accounts.hubspot.transport.client import HubSpotClient
from accounts.models import Account
from accounts.support.models import Engagement
from accounts.support.services import CrmTask, crm_tasks_open, crm_tasks_update

BOUND_PER_S = 190 / 10 * 100


class Command(BaseCommand):
    help = "Time the push of playbook tasks to the HubSpot sandbox (creates, then completions)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--companies", type=int, default=1000)
        parser.add_argument("--per-account", type=int, default=3)
        parser.add_argument("--output", default="bench/results/hubspot_tasks.json")

    def handle(self, *args: Any, **options: Any) -> None:
        bench_in_throwaway_db(
            self,
            lambda db: self._run(options["companies"], options["per_account"]),
            options["output"],
        )

    def _run(self, n: int, per_account: int) -> dict[str, Any]:
        sandbox = Sandbox(tier="off", access_token=TOKEN)
        seed(sandbox, {**_portfolio(n), "deals": [], "associations": []})
        server = _RemoteSandbox(sandbox)
        try:
            import_run(
                run_start(SyncRun.Kind.IMPORT),
                client=HubSpotClient(access_token=TOKEN, base_url=server.url),
            )
            server.set_tier("professional")
            client = HubSpotClient(
                access_token=TOKEN,
                base_url=server.url,
                budget=DatabaseRateBudget(tier="professional"),
            )
            today = timezone.localdate()
            crm_tasks_open(
                tasks=[
                    CrmTask(
                        account_id=pk,
                        owner_id=None,
                        subject=f"Step {i} (Bench)",
                        body="Guidance",
                        due=today + timedelta(days=i),
                    )
                    for pk in Account.objects.values_list("pk", flat=True)
                    for i in range(per_account)
                ]
            )
            created = self._pass(client, "created")
            crm_tasks_update(engagements=list(Engagement.objects.filter(kind="task")), done=True)
            completed = self._pass(client, "updated")
        finally:
            server.stop()
        results = {
            "when": timezone.now().isoformat(),
            "companies": n,
            "tasks": n * per_account,
            "python": platform.python_version(),
            "create": created,
            "complete": completed,
        }
        self.stdout.write(str(results))
        return results

    def _pass(self, client: HubSpotClient, counted: str) -> dict[str, Any]:
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            outcome = tasks_push(client)
            seconds = time.perf_counter() - started
        done = getattr(outcome, counted)
        rate = done / seconds if seconds else 0.0
        return {
            "tasks": done,
            "failed": outcome.failed,
            "calls": outcome.calls,
            "queries": len(queries),
            "seconds": round(seconds, 2),
            "tasks_per_s": round(rate, 1),
            "share_of_professional_bound": round(rate / BOUND_PER_S, 3),
        }

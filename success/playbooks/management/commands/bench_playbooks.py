"""Time the daily playbook pass on a portfolio of N accounts, in a throwaway
PostgreSQL database: the first pass (starts a run for every alert the three default
playbooks' rules opened) and a steady-state pass (nothing new to start; runs advance
and objectives are checked), with the queries each took."""

from __future__ import annotations

import json
import random
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.db import connection
from django.utils import timezone

from accounts import demo as accounts_demo
from accounts.models import Account
from lifecycle.ops.statements import StatementCounter
from success.alerts.models import Alert, AlertRule
from success.models import SuccessTask

from ...models import Playbook, PlaybookRun
from ...services import playbooks_evaluate


class Command(BaseCommand):
    help = "Benchmark the daily playbook pass (uses a throwaway database)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--accounts", type=int, default=10_000)
        parser.add_argument(
            "--firing", type=float, default=0.03, help="Share of accounts each rule alerts on."
        )
        parser.add_argument(
            "--output",
            default=str(Path(settings.BASE_DIR) / "bench" / "results" / "playbooks.json"),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        creation = connection.creation
        original = connection.settings_dict["NAME"]
        self.stdout.write(f"Creating a throwaway database next to {original}...")
        creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
        try:
            results = self._run(options["accounts"], options["firing"])
        finally:
            creation.destroy_test_db(original, verbosity=0)
        out = Path(options["output"])
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(results, indent=2) + "\n")
        self.stdout.write(json.dumps(results, indent=2))
        self.stdout.write(self.style.SUCCESS(f"Wrote {out}"))

    def _run(self, accounts: int, firing: float) -> dict[str, Any]:
        today = timezone.localdate()
        started = time.perf_counter()
        accounts_demo.build(accounts=accounts, seed=11, today=today)
        build_s = time.perf_counter() - started
        rng = random.Random(11)
        ids = list(Account.objects.values_list("pk", "owner_id"))
        rules = AlertRule.objects.filter(playbook_versions__isnull=False).distinct()
        alerts = []
        for rule in rules:
            for pk, owner in rng.sample(ids, int(len(ids) * firing)):
                alerts.append(
                    Alert(
                        account_id=pk,
                        rule=rule,
                        owner_id=owner,
                        message=rule.name,
                        due_on=today + timedelta(days=3),
                    )
                )
        Alert.objects.bulk_create(alerts, batch_size=5000)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        passes = {}
        for name in ("first", "steady"):
            counter = StatementCounter()
            with connection.execute_wrapper(counter):
                t0 = time.perf_counter()
                result = playbooks_evaluate(today=today)
                elapsed = time.perf_counter() - t0
            passes[name] = {
                "seconds": round(elapsed, 2),
                "queries": counter.count,
                "runs_started": sum(result.started.values()),
            }
            self.stdout.write(f"{name} pass: {passes[name]}")
        return {
            "accounts": Account.objects.count(),
            "playbooks": Playbook.objects.count(),
            "alerts": len(alerts),
            "runs": PlaybookRun.objects.count(),
            "tasks": SuccessTask.objects.count(),
            "build_seconds": round(build_s, 1),
            "passes": passes,
            "runs_per_second_first_pass": round(
                passes["first"]["runs_started"] / max(passes["first"]["seconds"], 1e-9), 1
            ),
        }

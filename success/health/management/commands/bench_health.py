"""Benchmark the daily health job: `python manage.py bench_health`.

Prints how long scoring the whole portfolio takes, split into gathering
inputs, computing, and writing, plus accounts per second, and the same
job for a single account as a per-account baseline (what a loop over
accounts would cost). Writes bench/results/health_scoring.json.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.db import connection
from django.utils import timezone

from success.health import inputs as health_inputs
from success.health import services
from success.health.scoring import compute


class Command(BaseCommand):
    help = "Time the health scoring job over the current portfolio."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--baseline-accounts", type=int, default=200)

    def handle(self, *args: object, **options: int) -> None:
        today = timezone.localdate()
        model = services.active_model()
        if model is None:
            self.stderr.write("No active health model.")
            return
        accounts = health_inputs.scorable_accounts().count()

        started = time.perf_counter()
        gathered = health_inputs.gather(health_inputs.scorable_accounts(), today)
        gathered_s = time.perf_counter() - started
        measures, bands = model.measures_for_scoring(), model.bands
        started = time.perf_counter()
        for values in gathered.values():
            compute(measures, values, bands)
        compute_s = time.perf_counter() - started

        started = time.perf_counter()
        run = services.health_scores_compute(today=today)
        full_s = time.perf_counter() - started

        ids = list(
            health_inputs.scorable_accounts().values_list("pk", flat=True)[
                : options["baseline_accounts"]
            ]
        )
        started = time.perf_counter()
        for pk in ids:
            services.health_scores_compute(today=today, account_ids=[pk])
        per_account_s = (time.perf_counter() - started) / max(1, len(ids))

        loop_estimate = per_account_s * accounts
        result = {
            "database": connection.vendor,
            "accounts": accounts,
            "scored": run.scored,
            "gather_inputs_s": round(gathered_s, 2),
            "compute_s": round(compute_s, 2),
            "full_job_s": round(full_s, 2),
            "accounts_per_s": round(accounts / full_s) if full_s else None,
            "one_account_at_a_time_s_per_account": round(per_account_s, 4),
            "one_account_at_a_time_estimate_s": round(loop_estimate, 1),
            "speedup_vs_per_account": round(loop_estimate / full_s, 1) if full_s else None,
        }
        for key, value in result.items():
            self.stdout.write(f"{key:>40}: {value}")
        out = Path(settings.BASE_DIR) / "bench" / "results" / "health_scoring.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result, indent=2) + "\n")
        self.stdout.write(f"written to {out.relative_to(settings.BASE_DIR)}")

"""Benchmark the daily health job: `python manage.py bench_health`.

Prints how long scoring the whole portfolio takes, split into gathering
inputs, computing, and writing, plus accounts per second, and the same
job for a single account as a per-account baseline (what a loop over
accounts would cost). Writes bench/results/health_scoring.json.

On the configured database's portfolio by default. With `--accounts N`
(PostgreSQL) it builds a portfolio of N accounts in a database of its own,
`bench_health_<N>`, in a minute or two (`success.health.bench_portfolio`: COPY of
accounts, usage, tickets, surveys and touches, the demo model with its support
measures, `--history-weeks` of past scores), and runs on a copy of it
(CREATE DATABASE ... TEMPLATE), so every run starts from the same state: no score
for today yet. `--keep` keeps the built portfolio for the next run.

Two full runs are timed: the day's first (every score a new row) and a rerun of the
same day (every row replaced, as after a model activation), each with wall and CPU
seconds and statements; `--profile PATH` writes a cProfile of the first.
"""

from __future__ import annotations

import cProfile
import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from django.utils import timezone

from lifecycle.ops.statements import StatementCounter
from success.health import bench_portfolio, services
from success.health import inputs as health_inputs
from success.health.models import HealthScore
from success.health.scoring import compute


class StatementTimer(StatementCounter):
    """Counts statements and keeps the slowest (their first words and seconds): what
    the database took, as the job waited for it (COPY goes around it)."""

    def __init__(self) -> None:
        super().__init__()
        self.timings: list[tuple[float, str]] = []

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        started = time.perf_counter()
        try:
            return super().__call__(execute, sql, params, many, context)
        finally:
            self.timings.append((time.perf_counter() - started, " ".join(sql.split())[:90]))

    def slowest(self, n: int = 8) -> list[str]:
        return [f"{s:.2f} s {sql}" for s, sql in sorted(self.timings, reverse=True)[:n]]


def _backend_cpu() -> float | None:
    """CPU seconds the database server process serving our connection has used, when
    it runs on this machine (read from /proc): with our own CPU, the work the job
    costs whatever the load of other processes does to its wall time."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _account_updates() -> tuple[int, int] | None:
    """Account rows updated so far and how many of those were HOT updates (written on
    the row's own page, no index touched), as the server counts them: this
    connection's counts are flushed to it first (PostgreSQL 15+). None elsewhere."""
    if connection.vendor != "postgresql" or connection.get_database_version() < (15,):
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_force_next_flush()")  # at this statement's end
        cursor.execute(
            "SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_user_tables "
            "WHERE relname = 'accounts_account'"
        )
        row = cursor.fetchone()
    return (row[0], row[1]) if row else None


def _timed(step: Callable[[], Any], profile: str = "") -> tuple[Any, dict[str, Any]]:
    updates = _account_updates()
    counter = StatementTimer()
    profiler = cProfile.Profile() if profile else None
    db_cpu = _backend_cpu()
    cpu = time.process_time()
    with connection.execute_wrapper(counter):
        started = time.perf_counter()
        if profiler:
            profiler.enable()
        result = step()
        if profiler:
            profiler.disable()
        seconds = time.perf_counter() - started
    cpu = time.process_time() - cpu
    db_cpu_after = _backend_cpu()
    updates_after = _account_updates()
    if profiler:
        profiler.dump_stats(profile)
    hot = None
    if updates is not None and updates_after is not None:
        hot = {
            "updated": updates_after[0] - updates[0],
            "hot": updates_after[1] - updates[1],
        }
    return result, {
        "seconds": round(seconds, 2),
        "cpu_seconds": round(cpu, 2),
        "db_cpu_seconds": (
            None if db_cpu is None or db_cpu_after is None else round(db_cpu_after - db_cpu, 2)
        ),
        "statements": counter.count,
        "statements_s": round(sum(s for s, _ in counter.timings), 2),
        "slowest_statements": counter.slowest(),
        "account_updates": hot,
    }


class Command(BaseCommand):
    help = "Time the health scoring job over the current portfolio (or a built one)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--baseline-accounts", type=int, default=200)
        parser.add_argument(
            "--accounts",
            type=int,
            default=0,
            help="Build a portfolio of this many accounts in a database of its own "
            "(PostgreSQL) instead of using the configured database's.",
        )
        parser.add_argument(
            "--history-weeks",
            type=int,
            default=12,
            help="With --accounts: past weekly scores per account (the demo keeps 12).",
        )
        parser.add_argument(
            "--keep",
            action="store_true",
            help="With --accounts: keep the built portfolio (bench_health_<N>) for later runs.",
        )
        parser.add_argument("--profile", default="", help="Write a cProfile of the first run.")
        parser.add_argument("--output", default="")

    def handle(self, *args: Any, **options: Any) -> None:
        # As in production: no query log (DEBUG keeps every statement's text, and
        # composing the text of a 100,000-element array costs seconds).
        settings.DEBUG = False
        n = options["accounts"]
        if not n:
            self._report(self._run(options), options)
            return
        if connection.vendor != "postgresql":
            raise CommandError("--accounts needs PostgreSQL (the portfolio is built with COPY).")
        base = f"bench_health_{n}"
        built = self._base_db(base, n, options["history_weeks"])
        copy = f"{base}_run"
        self._sql(f"DROP DATABASE IF EXISTS {copy}", f"CREATE DATABASE {copy} TEMPLATE {base}")
        connection.settings_dict["NAME"] = copy
        try:
            result = self._run(options)
        finally:
            connection.close()
            self._sql(f"DROP DATABASE IF EXISTS {copy}")
            if not options["keep"]:
                self._sql(f"DROP DATABASE IF EXISTS {base}")
        result["database"] = f"postgresql (a copy of {base})"
        result["built"] = built
        self._report(result, options)

    def _sql(self, *statements: str) -> None:
        """Statements outside any database of ours (creating and dropping them)."""
        connection.close()
        with connection._nodb_cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)

    def _base_db(self, name: str, n: int, weeks: int) -> dict[str, Any]:
        """The built portfolio: created, migrated and built when missing or holding
        another number of accounts (or no history when history was asked)."""
        from accounts.models import Account

        creation = connection.creation
        connection.settings_dict.setdefault("TEST", {})["NAME"] = name
        creation.create_test_db(verbosity=0, autoclobber=True, serialize=False, keepdb=True)
        if Account.objects.count() == n and (HealthScore.objects.exists() or not weeks):
            self.stdout.write(f"{name}: reusing {n:,} accounts")
            connection.close()
            return {"reused": True}
        if Account.objects.exists():
            connection.close()
            creation._destroy_test_db(name, verbosity=0)  # type: ignore[attr-defined]
            creation.create_test_db(verbosity=0, autoclobber=True, serialize=False, keepdb=True)
        self.stdout.write(f"{name}: building {n:,} accounts")
        _, figures = _timed(
            lambda: bench_portfolio.build(
                accounts=n,
                today=timezone.localdate(),
                history_weeks=weeks,
                log=lambda line: self.stdout.write(f"  {line}"),
            )
        )
        self.stdout.write(f"  built in {figures['seconds']} s")
        connection.close()
        return {"reused": False, "history_weeks": weeks, **figures}

    def _run(self, options: dict[str, Any]) -> dict[str, Any]:
        today = timezone.localdate()
        model = services.active_model()
        if model is None:
            raise CommandError("No active health model.")
        accounts = health_inputs.scorable_accounts().count()
        load_before = os.getloadavg()

        started = time.perf_counter()
        gathered = health_inputs.gather_with_sources(health_inputs.scorable_accounts(), today)
        gathered_s = time.perf_counter() - started
        measures, bands = model.measures_for_scoring(), model.bands
        started = time.perf_counter()
        for pk, values in gathered.inputs.items():
            compute(measures, values, bands, gathered.sources.get(pk))
        compute_s = time.perf_counter() - started
        del gathered

        had_today = HealthScore.objects.filter(date=today).exists()
        first, first_figures = _timed(
            lambda: services.health_scores_compute(today=today), options["profile"]
        )
        self.stdout.write(f"first run of the day: {first_figures} {first.seconds}")
        rerun, rerun_figures = _timed(lambda: services.health_scores_compute(today=today))
        self.stdout.write(f"rerun of the same day: {rerun_figures} {rerun.seconds}")

        ids = list(
            health_inputs.scorable_accounts().values_list("pk", flat=True)[
                : options["baseline_accounts"]
            ]
        )
        started = time.perf_counter()
        for pk in ids:
            services.health_scores_compute(today=today, account_ids=[pk])
        per_account_s = (time.perf_counter() - started) / max(1, len(ids))

        full_s = first_figures["seconds"]
        loop_estimate = per_account_s * accounts
        return {
            "when": timezone.now().isoformat(timespec="seconds"),
            "database": connection.vendor,
            "accounts": accounts,
            "scored": first.scored,
            "scores_in_table": HealthScore.objects.count(),
            "today_already_scored_before_first_run": had_today,
            "load_average_before": [round(x, 2) for x in load_before],
            "load_average_after": [round(x, 2) for x in os.getloadavg()],
            "gather_inputs_s": round(gathered_s, 2),
            "compute_s": round(compute_s, 2),
            "full_job_s": full_s,
            "full_job_cpu_s": first_figures["cpu_seconds"],
            "full_job_db_cpu_s": first_figures["db_cpu_seconds"],
            "full_job_statements": first_figures["statements"],
            "full_job_phases_s": first.seconds,
            "full_job_statements_s": first_figures["statements_s"],
            "full_job_slowest_statements": first_figures["slowest_statements"],
            "full_job_account_updates": first_figures["account_updates"],
            "rerun_same_day_s": rerun_figures["seconds"],
            "rerun_same_day_cpu_s": rerun_figures["cpu_seconds"],
            "rerun_same_day_db_cpu_s": rerun_figures["db_cpu_seconds"],
            "rerun_same_day_phases_s": rerun.seconds,
            "rerun_same_day_slowest_statements": rerun_figures["slowest_statements"],
            "accounts_per_s": round(accounts / full_s) if full_s else None,
            "one_account_at_a_time_s_per_account": round(per_account_s, 4),
            "one_account_at_a_time_estimate_s": round(loop_estimate, 1),
            "speedup_vs_per_account": round(loop_estimate / full_s, 1) if full_s else None,
        }

    def _report(self, result: dict[str, Any], options: dict[str, Any]) -> None:
        for key, value in result.items():
            self.stdout.write(f"{key:>40}: {value}")
        out = (
            Path(options["output"])
            if options["output"]
            else (Path(settings.BASE_DIR) / "bench" / "results" / "health_scoring.json")
        )
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result, indent=2) + "\n")
        self.stdout.write(f"written to {out}")

"""Time the metrics dashboard on the current database, as a leader's browser
would load it (Django test client, full middleware and template rendering)."""

from __future__ import annotations

import json
import statistics
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext, setup_test_environment
from django.urls import reverse
from django.utils import timezone

from accounts.models import Account, User
from accounts.roles import Role
from success.models import ArrMovement

BENCH_USER = "bench-leader"


class Command(BaseCommand):
    help = "Time the metrics dashboard (median of several runs) and count its queries."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--runs", type=int, default=7, help="Timed runs after one warm-up.")
        parser.add_argument("--grain", default="quarter", help="month, quarter or year.")
        parser.add_argument("--on", default="", help="A day in the period (default: today).")
        parser.add_argument(
            "--output",
            default=str(Path(settings.BASE_DIR) / "bench" / "results" / "dashboard.json"),
            help="Where to write the results as JSON.",
        )

    def _leader(self) -> User:
        user = (
            User.objects.filter(is_active=True, groups__name=Role.LEADER).order_by("pk").first()
            or User.objects.filter(is_active=True, is_superuser=True).order_by("pk").first()
        )
        if user is None:
            # A scratch database without people: a leader just for timing.
            user = User.objects.create(username=BENCH_USER, first_name="Bench")
            user.groups.add(Group.objects.get_or_create(name=Role.LEADER)[0])
        return user

    def _time(self, client: Client, url: str, params: dict[str, str], runs: int) -> dict[str, Any]:
        client.get(url, params)  # warm-up: connection, templates, caches
        timings = []
        queries = 0
        for _ in range(runs):
            with CaptureQueriesContext(connection) as ctx:
                started = time.perf_counter()
                response = client.get(url, params)
                elapsed = (time.perf_counter() - started) * 1000
            if response.status_code != 200:
                raise CommandError(f"{url} answered {response.status_code}")
            timings.append(elapsed)
            queries = len(ctx.captured_queries)
        return {
            "median_ms": round(statistics.median(timings), 1),
            "min_ms": round(min(timings), 1),
            "max_ms": round(max(timings), 1),
            "queries": queries,
            "runs": runs,
        }

    def handle(self, *args: Any, **options: Any) -> None:
        setup_test_environment()
        client = Client()
        client.force_login(self._leader())
        params = {"grain": options["grain"], "on": options["on"] or str(timezone.localdate())}
        dashboard = self._time(client, reverse("metrics"), params, options["runs"])
        home = self._time(client, reverse("home"), {}, options["runs"])
        accounts = Account.objects.count()
        results: dict[str, Any] = {
            "database": connection.vendor,
            "database_name": connection.settings_dict.get("NAME"),
            "accounts": accounts,
            "arr_movements": ArrMovement.objects.count(),
            "period": params,
            "measured_at": timezone.now().isoformat(timespec="seconds"),
            "dashboard": dashboard,
            "home": home,
        }
        output = Path(options["output"])
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(json.dumps(results, indent=2) + "\n")
        d, h = dashboard, home
        self.stdout.write(
            f"{accounts:,} accounts, {results['arr_movements']:,} ARR movements "
            f"({connection.vendor})\n"
            f"dashboard: {d['median_ms']} ms median of {d['runs']} "
            f"(min {d['min_ms']}, max {d['max_ms']}), {d['queries']} queries\n"
            f"home:      {h['median_ms']} ms median, {h['queries']} queries\n"
            f"written to {output}"
        )

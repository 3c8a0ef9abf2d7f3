"""Push a month of usage for many accounts through the real API and time it.

Runs every request through the whole Django stack (middleware, token
authentication, throttling, validation, matching, the upsert) with Django's
test client, inside one transaction that is rolled back at the end, so the
database is left as it was. Run it against PostgreSQL for meaningful numbers.
"""

from __future__ import annotations

import json
import os
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandParser
from django.db import connection, transaction
from django.test import Client

from accounts.models import Account, UsageSnapshot, User
from accounts.roles import Role
from accounts.services import api_token_create

URL = "/api/v1/usage-snapshots/"
RESULTS = Path(settings.BASE_DIR) / "bench" / "results" / "usage_ingest.json"


class Command(BaseCommand):
    help = "Time usage ingestion through the API: a month of readings for many accounts."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--accounts", type=int, default=1000)
        parser.add_argument("--days", type=int, default=30)
        parser.add_argument(
            "--rows-per-request",
            type=int,
            default=settings.API_USAGE_INGEST_MAX_ROWS,
            help="Rows per request (at most API_USAGE_INGEST_MAX_ROWS).",
        )
        parser.add_argument("--output", default=str(RESULTS))

    def handle(self, *args: Any, **options: Any) -> None:
        accounts, days = options["accounts"], options["days"]
        per_request = min(options["rows_per_request"], settings.API_USAGE_INGEST_MAX_ROWS)
        with transaction.atomic():
            result = self._run(accounts=accounts, days=days, per_request=per_request)
            transaction.set_rollback(True)
        output = Path(options["output"])
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(json.dumps(result, indent=2) + "\n")
        self.stdout.write(
            f"{result['snapshots']:,} snapshots in {result['requests']} requests: "
            f"first push {result['insert_s']} s "
            f"({result['insert_snapshots_per_s']:,} snapshots/s), "
            f"same month again {result['update_s']} s "
            f"({result['update_snapshots_per_s']:,} snapshots/s). Written to {output}."
        )

    def _run(self, *, accounts: int, days: int, per_request: int) -> dict[str, Any]:
        user = User.objects.create(username=f"bench-ingest-{time.time_ns()}")
        user.groups.add(Group.objects.get_or_create(name=Role.LEADER)[0])
        _token, secret = api_token_create(user=user, name="bench", by=None)
        stamp = time.time_ns()
        created = Account.objects.bulk_create(
            Account(
                name=f"Bench {i:05d}",
                domain=f"bench-{stamp}-{i}.invalid",
                hubspot_id=f"bench-{stamp}-{i}",
            )
            for i in range(accounts)
        )
        # Integrations name accounts every way we accept: our id, HubSpot id, domain.
        references = [(str(a.pk), a.hubspot_id, a.domain)[i % 3] for i, a in enumerate(created)]
        first_day = date.today() - timedelta(days=days)
        rows = [
            {
                "account": reference,
                "date": (first_day + timedelta(days=d)).isoformat(),
                "active_users": 20 + (i + d) % 30,
                "seats_purchased": 50,
                "seats_used": 30 + (i * d) % 20,
                "logins_30d": 300 + d,
                "core_features_adopted": i % 8,
                "open_tickets": d % 4,
                "csat": "4.30",
                "nps": 40,
            }
            for d in range(days)
            for i, reference in enumerate(references)
        ]
        bodies = [
            json.dumps({"rows": rows[start : start + per_request]})
            for start in range(0, len(rows), per_request)
        ]
        client = Client(HTTP_AUTHORIZATION=f"Bearer {secret}", HTTP_HOST="localhost")

        def push() -> float:
            started = time.perf_counter()
            for body in bodies:
                response = client.post(URL, body, content_type="application/json")
                if response.status_code != 200:
                    raise RuntimeError(f"{response.status_code}: {response.content[:500]!r}")
            return time.perf_counter() - started

        insert_s = push()
        update_s = push()
        stored = UsageSnapshot.objects.filter(account__in=created).count()
        if stored != len(rows):
            raise RuntimeError(f"expected {len(rows)} snapshots, found {stored}")
        return {
            "database": connection.vendor,
            "accounts": accounts,
            "days": days,
            "snapshots": len(rows),
            "requests": len(bodies),
            "rows_per_request": per_request,
            "insert_s": round(insert_s, 2),
            "insert_snapshots_per_s": round(len(rows) / insert_s),
            "update_s": round(update_s, 2),
            "update_snapshots_per_s": round(len(rows) / update_s),
            "through": "Django test client: full middleware, token auth, throttling, API view",
            "load_average_1m": round(os.getloadavg()[0], 1),
        }

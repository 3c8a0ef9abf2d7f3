"""Time a CSV import of accounts at the documented limit (20,000 rows), the way the
worker runs it, against the one-account-at-a-time writes it replaced.

Everything runs inside one transaction that is rolled back at the end, so the
database is left as it was. Run it against PostgreSQL for meaningful numbers.
"""

from __future__ import annotations

import csv
import io
import json
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction

from accounts.imports import MAX_ROWS, Preview, import_batch_check, import_run, preview_build
from accounts.imports.parsing import SPECS
from accounts.models import Account, ImportBatch, Stage, User
from accounts.services import account_create, account_update

RESULTS = Path(settings.BASE_DIR) / "bench" / "results" / "import.json"
HEADER = "name,domain,owner_email,segment,arr,currency,contract_start,renewal_date,stage\n"


def _csv(rows: int, *, prefix: str, owner: str) -> str:
    return HEADER + "".join(
        f"{prefix} {i},{prefix.lower()}{i}.example,{owner if i % 2 else ''},enterprise,"
        f"{1000 + i}.50,usd,2026-01-01,2027-01-01,adoption\n"
        for i in range(rows)
    )


def _rate(rows: int, seconds: float) -> float:
    return round(rows / seconds, 1) if seconds else 0.0


class Command(BaseCommand):
    help = "Time a 20,000-row account import (check, bulk write) against one-by-one writes."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--rows", type=int, default=MAX_ROWS)
        parser.add_argument(
            "--baseline-rows",
            type=int,
            default=1000,
            help="Rows written one at a time for the baseline (it is slow).",
        )
        parser.add_argument("--output", default=str(RESULTS))

    def handle(self, *args: Any, **options: Any) -> None:
        with transaction.atomic():
            result = self._run(options["rows"], options["baseline_rows"])
            transaction.set_rollback(True)
        output = Path(options["output"])
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(json.dumps(result, indent=2) + "\n")
        self.stdout.write(f"Written to {output}.")

    def _say(self, text: str) -> None:
        self.stdout.write(text)
        self.stdout.flush()

    def _run(self, rows: int, baseline_rows: int) -> dict[str, Any]:
        leader = User.objects.create(username="bench-import-leader", email="lead@bench.example")
        User.objects.create(username="bench-import-csm", email="csm@bench.example")
        content = _csv(rows, prefix="Bench", owner="csm@bench.example")
        batch = ImportBatch.objects.create(
            kind="accounts", filename="bench.csv", content=content, created_by=leader
        )

        started = time.perf_counter()
        preview = import_batch_check(batch=batch)
        check_s = time.perf_counter() - started
        assert not preview.invalid, preview.invalid[:3]
        self._say(f"check {rows:,} rows once (stored): {check_s:.1f} s")

        started = time.perf_counter()
        batch.refresh_from_db()
        Preview.from_json(batch.kind, batch.preview or {})
        page_s = time.perf_counter() - started
        self._say(f"read the stored preview (each page view): {page_s:.2f} s")

        ImportBatch.objects.filter(pk=batch.pk).update(status=ImportBatch.Status.IMPORTING)
        started = time.perf_counter()
        import_run(batch_id=batch.pk)
        create_s = time.perf_counter() - started
        self._say(
            f"import {rows:,} new accounts in bulk: {create_s:.1f} s "
            f"= {_rate(rows, create_s):,} rows/s"
        )

        again = ImportBatch.objects.create(
            kind="accounts",
            filename="bench-again.csv",
            content=_csv(rows, prefix="Bench", owner="csm@bench.example").replace(
                ".50,usd", ".75,usd"
            ),
            created_by=leader,
        )
        import_batch_check(batch=again)
        ImportBatch.objects.filter(pk=again.pk).update(status=ImportBatch.Status.IMPORTING)
        started = time.perf_counter()
        import_run(batch_id=again.pk)
        update_s = time.perf_counter() - started
        self._say(
            f"import the same {rows:,} accounts again, ARR changed (updates): "
            f"{update_s:.1f} s = {_rate(rows, update_s):,} rows/s"
        )

        # Baselines: what the request did before, on fewer rows (rates extrapolate).
        sample = _csv(baseline_rows, prefix="Base", owner="csm@bench.example")
        form_class = SPECS[ImportBatch.Kind.ACCOUNTS][0]
        started = time.perf_counter()
        for raw in csv.DictReader(io.StringIO(sample)):
            form_class(data={k: v for k, v in raw.items() if v}).is_valid()
        old_check_s = time.perf_counter() - started
        self._say(
            f"baseline check, a new form per row: {_rate(baseline_rows, old_check_s):,} rows/s "
            f"(~{rows / _rate(baseline_rows, old_check_s):.0f} s for {rows:,}, on every page view)"
        )
        owner = User.objects.get(username="bench-import-csm")
        base = preview_build(kind=ImportBatch.Kind.ACCOUNTS, content=sample)
        started = time.perf_counter()
        for row in base.valid:
            values = {
                k: v
                for k, v in row.data.items()
                if v not in (None, "") and k not in ("owner_email", "owner_id", "stage")
            }
            values["currency"] = values["currency"].upper()
            account_create(by=leader, owner=owner, stage=Stage.ADOPTION, **values)
        old_create_s = time.perf_counter() - started
        started = time.perf_counter()
        for account in Account.objects.filter(name__startswith="Base "):
            account_update(account=account, by=leader, data={"arr": account.arr + 1})
        old_update_s = time.perf_counter() - started
        self._say(
            f"baseline one account at a time: create {_rate(baseline_rows, old_create_s):,} "
            f"rows/s, update {_rate(baseline_rows, old_update_s):,} rows/s "
            f"(~{rows / _rate(baseline_rows, old_create_s):.0f} s for {rows:,} new accounts)"
        )
        return {
            "rows": rows,
            "check_s": round(check_s, 2),
            "check_rows_per_s": _rate(rows, check_s),
            "stored_preview_read_s": round(page_s, 2),
            "bulk_create_s": round(create_s, 2),
            "bulk_create_rows_per_s": _rate(rows, create_s),
            "bulk_update_s": round(update_s, 2),
            "bulk_update_rows_per_s": _rate(rows, update_s),
            "baseline_rows": baseline_rows,
            "baseline_check_rows_per_s": _rate(baseline_rows, old_check_s),
            "baseline_create_rows_per_s": _rate(baseline_rows, old_create_s),
            "baseline_update_rows_per_s": _rate(baseline_rows, old_update_s),
            "database": "PostgreSQL"
            if "postgres" in settings.DATABASES["default"]["ENGINE"]
            else "",
        }

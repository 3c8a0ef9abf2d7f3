"""Benchmark the HubSpot import: a sandbox with N companies and 2N deals (and, with
--tickets/--feedback/--engagements, support tickets, survey answers and notes, calls,
meetings, emails and tasks on those companies), imported into a throwaway PostgreSQL
database three ways:

(a) our import with limits off; (b) our import with the sandbox on the professional
tier and our shared rate budget, as a fraction of the tier's ceiling (190 requests per
10 s x 100 records per page = 1,900 records/s); (c) a naive baseline in the same run,
hubspot-api-client's get_all() and update_or_create per record, and the speed-up.

The sandbox runs in its own (forked) process, as HubSpot runs on its own machines, so
its CPU does not share the importer's interpreter lock; on a 2-core machine it still
shares the cores with the importer and PostgreSQL.
"""

from __future__ import annotations

import json
import multiprocessing
import platform
import time
import urllib.request
from collections.abc import Callable
from decimal import Decimal
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import connection
from django.utils import timezone

from accounts.hubspot.inbound.importer import import_run, run_start
from accounts.hubspot.models import HubSpotRateWindow, SyncRun
from accounts.hubspot.sandbox import Sandbox, SandboxServer, seed
from accounts.hubspot.transport.budget import DatabaseRateBudget, usage_on
from accounts.hubspot.transport.client import HubSpotClient
from accounts.models import Account, Contact, Deal, Pipeline, PipelineStage
from accounts.support.models import (
    Engagement,
    FeedbackSubmission,
    Ticket,
    TicketPipeline,
    TicketStage,
)

TOKEN = "bench-token"
TIER_CEILING = 1_900  # professional: 190 requests / 10 s, 100 records per list page


def _portfolio(n: int) -> dict[str, Any]:
    data: dict[str, Any] = {"companies": [], "deals": [], "associations": []}
    stages = ["appointmentscheduled", "qualifiedtobuy", "closedwon", "closedlost"]
    for i in range(n):
        data["companies"].append(
            {
                "key": f"c{i}",
                "properties": {
                    "name": f"Company {i}",
                    "domain": f"company{i}.example",
                    "annualrevenue": str(1000 + i),
                },
            }
        )
        for j in range(2):
            data["deals"].append(
                {
                    "key": f"d{i}-{j}",
                    "properties": {
                        "dealname": f"Deal {i}-{j}",
                        "amount": str(100 * (j + 1)),
                        "closedate": "2026-06-30T00:00:00.000Z",
                        "pipeline": "default",
                        "dealstage": stages[(i + j) % len(stages)],
                    },
                }
            )
            data["associations"].append(
                {"from": "deals", "fromKey": f"d{i}-{j}", "to": "companies", "toKey": f"c{i}"}
            )
    return data


ENGAGEMENT_TYPES = ("notes", "calls", "meetings", "emails", "tasks")
ENGAGEMENT_PROPS = {
    "notes": {"hs_note_body": "Talked about renewal"},
    "calls": {"hs_call_title": "Check-in", "hs_call_status": "COMPLETED"},
    "meetings": {"hs_meeting_title": "QBR", "hs_meeting_outcome": "COMPLETED"},
    "emails": {"hs_email_subject": "Follow-up", "hs_email_direction": "EMAIL"},
    "tasks": {"hs_task_subject": "Send deck", "hs_task_status": "NOT_STARTED"},
}


def _support(n: int, tickets: int, feedback: int, engagements: int) -> dict[str, Any]:
    """Support records spread over the n companies, each linked to its company."""
    data: dict[str, Any] = {"associations": [], "feedback_submissions": [], "contacts": []}
    data["tickets"] = [
        {
            "key": f"t{i}",
            "properties": {
                "subject": f"Ticket {i}",
                "hs_pipeline": "0",
                "hs_pipeline_stage": "14"[i % 2],
                "hs_ticket_priority": ("LOW", "MEDIUM", "HIGH", "URGENT")[i % 4],
                "createdate": "2026-05-01T10:00:00.000Z",
                "closed_date": "2026-05-03T10:00:00.000Z" if i % 2 else "",
            },
        }
        for i in range(tickets)
    ]
    data["associations"] += [
        {"from": "tickets", "fromKey": f"t{i}", "to": "companies", "toKey": f"c{i % n}"}
        for i in range(tickets)
    ]
    for i in range(feedback):
        data["feedback_submissions"].append(
            {
                "key": f"f{i}",
                "properties": {
                    "hs_survey_type": "NPS",
                    "hs_value": str(i % 11),
                    "hs_submission_timestamp": "2026-05-02T10:00:00.000Z",
                },
            }
        )
        # Survey answers name their contact, whose company is the account.
        contact = f"p{i % n}"
        if i < n:
            data["contacts"].append(
                {"key": contact, "properties": {"email": f"person@company{i}.example"}}
            )
            data["associations"].append(
                {"from": "contacts", "fromKey": contact, "to": "companies", "toKey": f"c{i}"}
            )
        data["associations"].append(
            {"from": "feedback_submissions", "fromKey": f"f{i}", "to": "contacts", "toKey": contact}
        )
    for object_type in ENGAGEMENT_TYPES:
        data[object_type] = []
    for i in range(engagements):
        object_type = ENGAGEMENT_TYPES[i % len(ENGAGEMENT_TYPES)]
        data[object_type].append(
            {
                "key": f"e{i}",
                "properties": {
                    "hs_timestamp": "2026-05-04T10:00:00.000Z",
                    **ENGAGEMENT_PROPS[object_type],
                },
            }
        )
        data["associations"].append(
            {"from": object_type, "fromKey": f"e{i}", "to": "companies", "toKey": f"c{i % n}"}
        )
    return data


def _sandbox_process(sandbox: Sandbox, conn: Connection) -> None:
    """The child: serve the seeded sandbox until killed, after sending its URL."""
    server = SandboxServer(sandbox, port=0)
    conn.send(server.url)
    conn.close()
    server.serve_forever()


class _RemoteSandbox:
    """The sandbox in its own process, as HubSpot is on its own machines: its CPU does
    not compete with the importer's for the GIL. Tier changes go through /_sandbox."""

    def __init__(self, sandbox: Sandbox) -> None:
        ctx = multiprocessing.get_context("fork")
        parent, child = ctx.Pipe()
        self.process = ctx.Process(target=_sandbox_process, args=(sandbox, child), daemon=True)
        self.process.start()
        self.url: str = parent.recv()

    def set_tier(self, tier: str) -> None:
        request = urllib.request.Request(
            f"{self.url}/_sandbox/tier",
            data=json.dumps({"tier": tier}).encode(),
            headers={"Content-Type": "application/json"},
            method="PUT",
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 200, response.status

    def calls(self, *, reset: bool = False) -> dict[str, int]:
        """CRM requests per endpoint and status since the last reset (then reset)."""
        with urllib.request.urlopen(f"{self.url}/_sandbox/calls", timeout=10) as response:
            calls: dict[str, int] = json.loads(response.read())
        if reset:
            request = urllib.request.Request(f"{self.url}/_sandbox/calls", method="DELETE")
            with urllib.request.urlopen(request, timeout=10):
                pass
        return calls

    def stop(self) -> None:
        self.process.terminate()
        self.process.join(timeout=10)


class _Waits:
    """The budget's sleep, adding up how long it waited."""

    def __init__(self) -> None:
        self.total = 0.0

    def sleep(self, seconds: float) -> None:
        self.total += seconds
        time.sleep(seconds)


CORE = ("companies", "deals", "contacts")


def _by_group(marks: list[tuple[float, str, int]], started: float) -> dict[str, Any]:
    """Records and seconds of the pages of companies, deals and contacts ("core") and of
    the support objects ("support"); a page's time runs from the previous page's end."""
    groups: dict[str, dict[str, float]] = {}
    previous = started
    for at, phase, seen in marks:
        group = groups.setdefault(
            "core" if phase in CORE else "support", {"records": 0, "seconds": 0.0}
        )
        group["records"] += seen
        group["seconds"] += at - previous
        previous = at
    return {
        name: {
            "records": int(g["records"]),
            "seconds": round(g["seconds"], 2),
            "records_per_second": round(g["records"] / g["seconds"], 1) if g["seconds"] else 0,
            "fraction_of_ceiling": round(g["records"] / g["seconds"] / TIER_CEILING, 3)
            if g["seconds"]
            else 0,
        }
        for name, g in groups.items()
    }


def bench_in_throwaway_db(
    command: BaseCommand, run: Callable[[str], dict[str, Any]], output: str
) -> None:
    """Run a benchmark in a throwaway database next to the configured one (`run` gets
    its name), then write its figures as JSON to `output`."""
    creation = connection.creation
    original = connection.settings_dict["NAME"]
    command.stdout.write(f"Creating a throwaway database next to {original}...")
    bench_db = creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        results = run(bench_db)
    finally:
        creation.destroy_test_db(original, verbosity=0)
    results["database"] = f"PostgreSQL (throwaway {bench_db})"
    out = Path(output)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    command.stdout.write(command.style.SUCCESS(f"Wrote {out}"))


def _wipe() -> None:
    Engagement.objects.all().delete()
    FeedbackSubmission.objects.all().delete()
    Ticket.objects.all().delete()
    TicketStage.objects.all().delete()
    TicketPipeline.objects.all().delete()
    Deal.objects.all().delete()
    Account.objects.all().delete()
    PipelineStage.objects.all().delete()
    Pipeline.objects.all().delete()
    SyncRun.objects.all().delete()
    HubSpotRateWindow.objects.all().delete()


class Command(BaseCommand):
    help = "Benchmark the HubSpot import against the sandbox (uses a throwaway database)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--companies", type=int, default=20_000)
        parser.add_argument("--tickets", type=int, default=20_000)
        parser.add_argument("--feedback", type=int, default=5_000)
        parser.add_argument("--engagements", type=int, default=50_000)
        parser.add_argument("--output", default="bench/results/hubspot_import.json")
        parser.add_argument(
            "--skip-naive", action="store_true", help="Skip the (slow) naive baseline."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        n = options["companies"]
        support = (options["tickets"], options["feedback"], options["engagements"])
        bench_in_throwaway_db(
            self,
            lambda db: self._run(n, support, skip_naive=options["skip_naive"]),
            options["output"],
        )

    def _run(self, n: int, support: tuple[int, int, int], *, skip_naive: bool) -> dict[str, Any]:
        sandbox = Sandbox(tier="off", access_token=TOKEN)
        started = time.perf_counter()
        data = _portfolio(n)
        extra = _support(n, *support)
        data["associations"] += extra.pop("associations")
        seed(sandbox, {**data, **extra})
        tickets, feedback, engagements = support
        contacts = min(feedback, n)
        self.stdout.write(
            f"Seeded {n:,} companies, {2 * n:,} deals, {contacts:,} contacts, {tickets:,} "
            f"tickets, {feedback:,} survey answers and {engagements:,} engagements in "
            f"{time.perf_counter() - started:.1f}s"
        )
        server = _RemoteSandbox(sandbox)
        records = 3 * n + contacts + sum(support)
        self._core = 3 * n
        try:
            fast = self._ours(server, records, budget=None)
            self.stdout.write(
                f"(a) limits off: {fast['records_per_second']:,.0f} records/s "
                f"({fast['seconds']:.1f}s)"
            )
            server.set_tier("professional")
            waits = _Waits()
            budget = DatabaseRateBudget(tier="professional", sleep=waits.sleep)
            tiered = self._ours(server, records, budget=budget)
            tiered.update(usage_on(timezone.now()))
            # Seconds the budget held the import back: near zero means our own work (or
            # the machine's load), not HubSpot's limit, bounded the run.
            tiered["budget_waited_seconds"] = round(waits.total, 1)
            share = tiered["records_per_second"] / TIER_CEILING
            self.stdout.write(
                f"(b) professional tier: {tiered['records_per_second']:,.0f} records/s = "
                f"{share:.0%} of {TIER_CEILING:,}/s ({tiered['seconds']:.1f}s; "
                f"{tiered['calls']} calls, {tiered['rate_limited']} answered 429, "
                f"{tiered['retries']} retried; the budget held it back "
                f"{tiered['budget_waited_seconds']:.1f}s)"
            )
            self.stdout.write("    calls by endpoint (sandbox's count):")
            for endpoint, count in sorted(tiered["calls_by_endpoint"].items()):
                self.stdout.write(f"      {count:6,}  {endpoint}")
            for group, figures in tiered["by_group"].items():
                self.stdout.write(
                    f"    {group}: {figures['records']:,} records in {figures['seconds']:.1f}s = "
                    f"{figures['records_per_second']:,.0f}/s = "
                    f"{figures['records_per_second'] / TIER_CEILING:.0%} of the ceiling"
                )
            server.set_tier("off")
            naive = None if skip_naive else self._naive(server, records)
            if naive:
                speedup = fast["records_per_second"] / naive["records_per_second"]
                self.stdout.write(
                    f"(c) naive get_all() + update_or_create: {naive['records_per_second']:,.0f} "
                    f"records/s ({naive['seconds']:.1f}s); ours is {speedup:.1f}x faster"
                )
        finally:
            server.stop()
        return {
            "when": timezone.now().isoformat(),
            "companies": n,
            "deals": 2 * n,
            "contacts": contacts,
            "tickets": tickets,
            "feedback_submissions": feedback,
            "engagements": engagements,
            "records": records,
            "python": platform.python_version(),
            "limits_off": fast,
            "professional_tier": {
                **tiered,
                "ceiling_records_per_second": TIER_CEILING,
                "fraction_of_ceiling": round(share, 3),
            },
            "naive_baseline": naive,
            "speedup_vs_naive": round(fast["records_per_second"] / naive["records_per_second"], 1)
            if naive
            else None,
        }

    def _ours(self, server: _RemoteSandbox, records: int, *, budget: Any) -> dict[str, Any]:
        _wipe()
        server.calls(reset=True)
        client = HubSpotClient(access_token=TOKEN, base_url=server.url, budget=budget)
        marks: list[tuple[float, str, int]] = []

        def on_page(run: SyncRun, result: Any) -> None:
            marks.append((time.perf_counter(), run.phase, result.seen))

        started = time.perf_counter()
        run = import_run(run_start(SyncRun.Kind.IMPORT), client=client, on_page=on_page)
        seconds = time.perf_counter() - started
        assert Account.objects.count() * 3 == self._core, "every company imported"
        assert Deal.objects.count() * 3 == 2 * self._core, "every deal imported"
        supported = Ticket.objects.count() + FeedbackSubmission.objects.count()
        supported += Engagement.objects.count()
        assert supported + self._core + Contact.objects.count() == records, "all imported"
        return {
            "seconds": round(seconds, 2),
            "records_per_second": round(records / seconds, 1),
            "created": run.created,
            "quarantined": run.quarantined,
            "by_group": _by_group(marks, started),
            "calls_by_endpoint": server.calls(),
        }

    def _naive(self, server: _RemoteSandbox, records: int) -> dict[str, Any]:
        """What a first integration usually does: fetch everything, then one
        update_or_create (and lookups) per record."""
        from hubspot import HubSpot

        _wipe()
        api = HubSpot(access_token=TOKEN, host=server.url)
        started = time.perf_counter()
        pipelines = api.crm.pipelines.pipelines_api.get_all("deals").results
        for p in pipelines:
            pipeline, _ = Pipeline.objects.update_or_create(
                hubspot_id=p.id, defaults={"label": p.label, "display_order": p.display_order}
            )
            for s in p.stages:
                closed = s.metadata.get("isClosed") == "true"
                won = closed and Decimal(s.metadata.get("probability", "0")) >= 1
                PipelineStage.objects.update_or_create(
                    pipeline=pipeline,
                    hubspot_id=s.id,
                    defaults={"label": s.label, "is_closed": closed, "is_won": won},
                )
        companies = api.crm.companies.get_all(properties=["name", "domain", "annualrevenue"])
        for c in companies:
            Account.objects.update_or_create(
                hubspot_id=c.id,
                defaults={
                    "name": c.properties["name"],
                    "domain": c.properties.get("domain") or "",
                    "arr": Decimal(c.properties.get("annualrevenue") or "0"),
                },
            )
        deals = api.crm.deals.get_all(
            properties=["dealname", "amount", "closedate", "pipeline", "dealstage"],
            associations=["companies"],
        )
        for d in deals:
            company_id = d.associations["companies"].results[0].id
            stage = PipelineStage.objects.select_related("pipeline").get(
                pipeline__hubspot_id=d.properties["pipeline"], hubspot_id=d.properties["dealstage"]
            )
            Deal.objects.update_or_create(
                hubspot_id=d.id,
                defaults={
                    "name": d.properties["dealname"],
                    "amount": Decimal(d.properties.get("amount") or "0"),
                    "close_date": (d.properties.get("closedate") or "")[:10] or None,
                    "account": Account.objects.get(hubspot_id=company_id),
                    "pipeline": stage.pipeline,
                    "stage": stage,
                },
            )
        seconds = time.perf_counter() - started
        assert Deal.objects.count() * 3 == 2 * records
        return {"seconds": round(seconds, 2), "records_per_second": round(records / seconds, 1)}

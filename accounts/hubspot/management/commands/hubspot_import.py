"""Run (or resume) the full HubSpot import in this process, with a progress bar."""

from __future__ import annotations

import sys
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from accounts.hubspot.inbound.importer import import_run, resumable_import, run_start
from accounts.hubspot.inbound.writers import PageResult
from accounts.hubspot.models import SyncRun
from accounts.hubspot.rules.mapping import mapping_config
from accounts.hubspot.transport.client import client_from_settings

BAR_WIDTH = 30


def progress_line(run: SyncRun) -> str:
    """`[#######.......]  45%  4,500/10,000  1,234 rec/s  ETA 5s  companies`"""
    total = max(run.records_estimated, run.records_done, 1)
    filled = round(BAR_WIDTH * run.records_done / total)
    eta = run.seconds_left
    return (
        f"[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {100 * run.records_done // total:3d}%  "
        f"{run.records_done:,}/{run.records_estimated:,}  {run.rate:,.0f} rec/s  "
        f"ETA {'?' if eta is None else f'{eta:.0f}s'}  {run.phase}"
    )


class Command(BaseCommand):
    help = (
        "Import owners, pipelines, companies, deals and contacts from HubSpot. Resumes "
        "the last unfinished import from its last committed page unless --restart."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--restart", action="store_true", help="Start a new import.")
        parser.add_argument("--page-size", type=int, default=100)

    def handle(self, *args: Any, **options: Any) -> None:
        run = None if options["restart"] else resumable_import()
        if run is None:
            run = run_start(SyncRun.Kind.IMPORT)
            self.stdout.write(f"Starting import #{run.pk}")
        else:
            self.stdout.write(f"Resuming import #{run.pk} from {run.cursors or 'the start'}")
        interactive = sys.stdout.isatty()
        last_print = 0.0

        def on_page(current: SyncRun, result: PageResult) -> None:
            nonlocal last_print
            now = time.monotonic()
            if interactive:
                self.stdout.write("\r" + progress_line(current), ending="")
                self.stdout.flush()
            elif now - last_print > 5:
                self.stdout.write(progress_line(current))
                last_print = now

        try:
            import_run(
                run,
                client=client_from_settings(),
                config=mapping_config(),
                page_size=options["page_size"],
                on_page=on_page,
            )
        finally:
            self.stdout.write("")
        run.refresh_from_db()
        self.stdout.write(progress_line(run))
        self.stdout.write(
            self.style.SUCCESS(
                f"Import #{run.pk} done: {run.created:,} created, {run.updated:,} updated, "
                f"{run.quarantined:,} quarantined, {run.skipped:,} skipped in "
                f"{run.elapsed_seconds:.1f}s."
            )
        )

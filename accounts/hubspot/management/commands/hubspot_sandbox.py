"""Run the HubSpot sandbox: a fake HubSpot portal for development and end-to-end tests.

    python manage.py hubspot_sandbox --port 8111 --tier professional --state var/hubspot.json
    python manage.py hubspot_sandbox --demo 40      # a believable portal to develop against

Point Lifecycle at it with HUBSPOT_BASE_URL=http://127.0.0.1:8111 and any token (or the
one given with --token). Act as a HubSpot user through /_sandbox/ (see
accounts/hubspot/sandbox/control_api.py). With --state, the portal is loaded from the file
when it exists and saved back on exit.
"""

from __future__ import annotations

import json
import signal
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.hubspot.sandbox import Sandbox, SandboxServer, WebhookSettings
from accounts.hubspot.sandbox.limits import TIERS
from accounts.hubspot.sandbox.persist import load_file, save_file


class Command(BaseCommand):
    help = "Serve an in-memory HubSpot CRM that behaves as HubSpot does (docs/hubspot-facts.md)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", type=int, default=8111)
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--tier", choices=sorted(TIERS), default="professional")
        parser.add_argument("--state", type=Path, help="JSON file to load from and save to")
        parser.add_argument("--seed", type=Path, help="JSON seed (records, owners, properties)")
        parser.add_argument(
            "--demo", type=int, default=0, metavar="N", help="Add N demo companies with deals"
        )
        parser.add_argument("--token", default="", help="Require this bearer token")
        parser.add_argument("--search-delay-ms", type=int, default=2000)
        parser.add_argument("--merge-new-ids", action="store_true")
        parser.add_argument("--webhook-url", default="", help="Where to POST webhooks")
        parser.add_argument("--client-secret", default="sandbox-client-secret")

    def handle(self, *args: Any, **options: Any) -> None:
        sandbox = Sandbox(
            tier=options["tier"],
            access_token=options["token"],
            search_delay_ms=options["search_delay_ms"],
            merge_new_ids=options["merge_new_ids"],
            webhooks=WebhookSettings(
                target_url=options["webhook_url"], client_secret=options["client_secret"]
            ),
        )
        if options["webhook_url"]:
            for object_type in ("company", "deal", "contact"):
                for event in ("creation", "deletion", "merge", "restore", "associationChange"):
                    sandbox.webhooks.subscribe(f"{object_type}.{event}")
                # HubSpot needs one subscription per property; the sandbox's "" means all.
                sandbox.webhooks.subscribe(f"{object_type}.propertyChange")
        state: Path | None = options["state"]
        if state and state.exists():
            load_file(sandbox, state)
        if options["seed"]:
            from accounts.hubspot.sandbox import seed

            try:
                seed(sandbox, json.loads(options["seed"].read_text()))
            except (OSError, ValueError, KeyError) as exc:
                raise CommandError(f"Could not seed from {options['seed']}: {exc}") from exc
        if options["demo"]:
            from accounts.hubspot.sandbox.demo import demo_portal

            demo_portal(sandbox, companies=options["demo"])
        try:
            server = SandboxServer(sandbox, host=options["host"], port=options["port"])
        except OSError as exc:
            where = f"{options['host']}:{options['port']}"
            raise CommandError(f"Cannot listen on {where}: {exc}") from exc

        def stop(signum: int, frame: Any) -> None:
            raise KeyboardInterrupt

        signal.signal(signal.SIGTERM, stop)
        self.stdout.write(
            f"HubSpot sandbox ({options['tier']}) on {server.url}; Ctrl-C to stop", ending="\n"
        )
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            if state:
                save_file(sandbox, state)
                self.stdout.write(f"Saved sandbox state to {state}")

"""Write a sandbox seed that mirrors this database's accounts:
`python manage.py hubspot_sandbox_seed var/hubspot-seed.json`, then
`python manage.py hubspot_sandbox --seed var/hubspot-seed.json`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from accounts.hubspot.sandbox.seed_from_db import seed_from_accounts


class Command(BaseCommand):
    help = "Write a HubSpot sandbox seed (JSON) built from this database's accounts."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path)
        parser.add_argument("--limit", type=int, default=None, help="At most this many companies")

    def handle(self, *args: Any, **options: Any) -> None:
        data = seed_from_accounts(limit=options["limit"])
        path: Path = options["path"]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(data))
        self.stdout.write(
            f"Wrote {len(data['owners'])} owners and {len(data['companies'])} companies to {path}"
        )

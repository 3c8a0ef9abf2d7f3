"""A Lifecycle process on the scale-out stack that the test drives through its stdin:
edits made through the services (as a page would make them, so their hooks queue the
push on the shared broker), and the scheduler's passes queued on demand. One JSON
command a line; each answered with a line starting with READY (log lines may come
between). Run as `manage.py shell -c "from tests.scale.console import main; main()"`."""

from __future__ import annotations

import json
import sys
from datetime import date
from decimal import Decimal
from typing import Any

READY = "READY"


def _edit(pk: int, key: str, value: str) -> None:
    from accounts.models import Account
    from accounts.services import account_cs_fields_update, account_update

    account = Account.objects.get(pk=pk)
    if key == "name":
        account_update(account=account, by=None, data={"name": value})
    elif key == "renewal_forecast_arr":
        account_cs_fields_update(account=account, renewal_forecast_arr=Decimal(value))
    elif key == "next_business_review":
        account_cs_fields_update(account=account, next_business_review=date.fromisoformat(value))
    else:
        raise ValueError(key)


def _tick() -> None:
    """What the scheduler queues (every minute, every HUBSPOT_POLL_MINUTES), at once."""
    from lifecycle.ops.queues import enqueue

    enqueue("accounts.hubspot.tasks.hubspot_push", task_name="tick-push", group="hubspot")
    enqueue("accounts.hubspot.tasks.hubspot_poll", task_name="tick-poll", group="hubspot")


def main() -> None:
    print(READY, flush=True)
    for line in sys.stdin:
        command: dict[str, Any] = json.loads(line)
        if command["op"] == "edit":
            for pk, key, value in command["edits"]:
                _edit(pk, key, value)
        elif command["op"] == "tick":
            _tick()
        print(READY, flush=True)

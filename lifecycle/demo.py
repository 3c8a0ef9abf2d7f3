"""The demo portfolio is built app by app, in dependency order. Each app
provides `<app>.demo.build(*, seed, today, progress)` that adds its data on top
of what exists (and does nothing when its data is already there)."""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Callable
from datetime import date, datetime, timedelta

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.module_loading import import_string

from accounts import demo as accounts_demo
from accounts.models import Event
from accounts.services import accounts_last_activity_recompute
from accounts.support.services import accounts_last_touch_bump

# Builders that run after the accounts demo, in order. Each is idempotent.
# Health comes before success so the reviews the success demo holds freeze a
# real health score in their snapshots; alerts come last, reading everything.
APP_BUILDERS: list[str] = [
    "accounts.support.demo.build",
    "onboarding.demo.build",
    "success.health.demo.build",
    "success.demo.build",
    "lifecycle.metrics.demo.build",
    "success.alerts.demo.build",
    "success.playbooks.demo.build",
]


def build_all(
    *,
    accounts: int,
    seed: int,
    reset: bool,
    today: date | None = None,
    progress: Callable[[int, int], None] | None = None,
    log: Callable[[str], None] = print,
) -> None:
    today = today or timezone.localdate()
    started = timezone.now()
    result = accounts_demo.build(
        accounts=accounts, seed=seed, reset=reset, today=today, progress=progress
    )
    log(result.message)
    for dotted in APP_BUILDERS:
        message = import_string(dotted)(seed=seed, today=today)
        log(f"{dotted.removesuffix('.demo.build')}: {message}")
    if result.created:
        settle_start_up_work(since=started, seed=seed)


@transaction.atomic
def settle_start_up_work(*, since: datetime, seed: int) -> int:
    """The app builders write through the services, so the work they invent
    (plans, milestones, reviews, forecasts) is on the timeline at start-up
    time, and half the demo book would read "active a minute ago". Move each
    account's start-up entries back by 1-20 days (one shift per account, so
    their order holds) and recompute last activity from the timeline."""
    rng = random.Random(seed)
    touched = (
        Event.objects.filter(occurred_at__gte=since)
        .order_by("account_id")
        .values_list("account_id", flat=True)
        .distinct()
    )
    by_shift: dict[int, list[int]] = defaultdict(list)
    for account_id in touched:
        by_shift[rng.randint(1, 20)].append(account_id)
    for days, ids in by_shift.items():
        Event.objects.filter(account_id__in=ids, occurred_at__gte=since).update(
            occurred_at=F("occurred_at") - timedelta(days=days)
        )
    ids = [pk for ids in by_shift.values() for pk in ids]
    moved = accounts_last_activity_recompute(account_ids=ids)
    # Touches logged in the CRM (the support demo) count as activity too.
    accounts_last_touch_bump(account_ids=ids)
    return moved

"""The demo portfolio is built app by app, in dependency order. Each app
provides `<app>.demo.build(*, seed, today, progress)` that adds its data on top
of what exists (and does nothing when its data is already there)."""

from __future__ import annotations

import random
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta

from django.db import connection, transaction
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


def build_large(
    *,
    accounts: int,
    seed: int,
    today: date | None = None,
    log: Callable[[str], None] = print,
) -> None:
    """The demo at 100,000 accounts in minutes, on an empty PostgreSQL database: the
    portfolio, its CRM rows, usage, support history and twelve weeks of past scores
    with COPY (`success.health.bench_portfolio`, built for the health benchmark), the
    day's scores from the health job, then the app builders that follow the accounts
    demo in `build_all` (onboarding, success, ARR history, alerts, playbooks; the
    support and health builders find their data there and skip). What differs from
    `build_all`: names and rows come from other random streams, the past weeks' scores
    are one scoring copied to each week (flat trends), and support rows carry fewer
    details (no contact, category or call length)."""
    from success.health import bench_portfolio
    from success.health.services import health_scores_compute

    today = today or timezone.localdate()
    started = timezone.now()
    clock = time.perf_counter()

    def step(what: str) -> None:
        nonlocal clock
        log(f"{what} ({time.perf_counter() - clock:.0f} s)")
        clock = time.perf_counter()

    bench_portfolio.build(
        accounts=accounts,
        today=today,
        seed=seed,
        history_weeks=12,
        crm=True,
        new_this_month=True,
        log=log,
    )
    step("accounts, CRM rows, usage, support and past scores written")
    run = health_scores_compute(today=today)
    step(f"health: scored {run.scored:,} accounts today")
    with _custom_plans():
        for dotted in APP_BUILDERS:
            message = import_string(dotted)(seed=seed, today=today)
            step(f"{dotted.removesuffix('.demo.build')}: {message}")
        settle_start_up_work(since=started, seed=seed)
        step("start-up work moved into the past")


@contextmanager
def _custom_plans() -> Iterator[None]:
    """Plan each foreign key check when it runs. PostgreSQL keeps the plan of a check
    (a deferred one runs at commit) for the session: one made while a table held a
    few rows scans it, and the playbooks builder, after its few runs by hand, starts
    tens of thousands in one transaction, each step's check then scanning every task
    (10+ minutes at 100,000 accounts; 49 minutes once the setting was lost). Set on
    this session and, through the connection options, on any session opened
    meanwhile: django-q's broker closes a connection older than CONN_MAX_AGE before
    it queues a task (close_old_connections; the alerts builder queues some), and a
    SET alone went with it. Not for the COPY before: planning each of its millions
    of checks cost minutes."""
    with connection.cursor() as cursor:
        cursor.execute("SHOW plan_cache_mode")
        mode = cursor.fetchone()[0]
        cursor.execute("SET plan_cache_mode = force_custom_plan")
    options = connection.settings_dict.setdefault("OPTIONS", {})
    before = options.get("options")
    options["options"] = f"{before or ''} -c plan_cache_mode=force_custom_plan".strip()
    try:
        yield
    finally:
        if before is None:
            options.pop("options", None)
        else:
            options["options"] = before
        if connection.connection is not None:
            with connection.cursor() as cursor:  # not RESET: the options' value
                cursor.execute("SELECT set_config('plan_cache_mode', %s, false)", [mode])


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

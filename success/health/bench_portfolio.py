"""A large portfolio built in a few minutes instead of the demo's twenty-plus, for the
health benchmark (`bench_health --accounts 100000`) and, with `crm` and
`new_this_month`, under the rest of the demo for the page benchmark
(`lifecycle.demo.build_large`, `bench_pages --large`). PostgreSQL only.

It holds what the demo model (the default model plus the support measures of
`demo.SUPPORT_MEASURES`) reads, with the demo's stories (healthy, sliding, churning
accounts, `accounts.demo` and `accounts.support.demo`): accounts with their onboarding
fields, twelve monthly usage snapshots, support tickets of the last 100 days, the
quarterly NPS and CSAT answers, and the CSM's touches of the last 100 days; then, with
`history_weeks`, a score per account on each of the weeks before today, as the daily
job leaves them. Business reviews and objectives are left out: the demo model does not
weigh them (their provider still runs its queries). With `crm`, also what the accounts
demo writes beside usage: two contacts, the won deal (and for some healthy accounts an
open expansion), the first stage change and the timeline's creation and last-touch
entries. Names and CRM rows come from random streams of their own, so the health
benchmark's accounts, usage and support rows are the same with or without them.

Rows go in with COPY (`accounts.bulk.copy_insert`), generated from tuples, not model
instances: 100,000 accounts come to about 4 million rows.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from accounts.bulk import copy_insert
from accounts.demo import (
    CSM_NAMES,
    NEW_EVERY,
    SEGMENT_ARR,
    SEGMENT_SEATS,
    TOUCHES,
    company_name,
    day_this_month,
    demo_contacts,
    demo_expansion,
    demo_stage,
    ensure_pipelines,
    ensure_users,
    usage_level,
)
from accounts.models import (
    Account,
    Contact,
    Deal,
    Event,
    PipelineStage,
    Segment,
    Stage,
    StageChange,
    UsageSnapshot,
)
from accounts.support.demo import (
    COMMENTS,
    NPS_DAYS_AGO,
    SUBJECTS,
    nps_answer,
    support_pipeline,
    ticket_rate,
)
from accounts.support.models import Engagement, FeedbackSubmission, Ticket

from . import demo as health_demo
from .inputs import USAGE_COLUMNS
from .models import HealthModel, HealthScore

SUPPORT_DAYS = 100


def _at(today: date, days_ago: int, minutes: int) -> datetime:
    moment = datetime.combine(today - timedelta(days=days_ago), time(9))
    return timezone.make_aware(moment) + timedelta(minutes=minutes)


def _accounts(
    rng: random.Random,
    n: int,
    today: date,
    owners: list[int],
    *,
    names: random.Random,
    new_this_month: bool,
) -> list[tuple[Any, ...]]:
    """(row for COPY, pattern) per account, as accounts.demo picks them."""
    now = timezone.now()
    out = []
    used: set[str] = set()
    for i in range(n):
        segment = rng.choices(list(SEGMENT_ARR), weights=[15, 35, 50])[0]
        pattern = rng.choices(["healthy", "declining", "churning"], weights=[60, 25, 15])[0]
        low, high = SEGMENT_ARR[segment]
        contract_start = today - timedelta(days=rng.randint(20, 900))
        if new_this_month and i % NEW_EVERY == 5:
            contract_start = day_this_month(rng, today)
        renewal, age, stage = demo_stage(rng, pattern, contract_start, today)
        progress, status = None, ""
        if stage == Stage.ONBOARDING:
            progress = min(100, age + rng.randint(-20, 20)) if age > 20 else rng.randint(0, 30)
            status = "late" if rng.random() < 0.25 else "on track"
        owner = owners[i % len(owners)] if i % 23 else None
        # The demo's names (the portfolio search finds some), its domains made unique.
        name = company_name(names, i, used)
        slug = "".join(ch for ch in name.lower() if ch.isalnum())
        row = (
            name,
            f"{slug}-{i}.example",
            owner,
            segment,
            Decimal(rng.randrange(low, high, 500)),
            contract_start,
            renewal,
            stage,
            Account.Status.ACTIVE,
            progress,
            status,
            now - timedelta(hours=rng.randint(1, 24 * 60)) if owner else None,
        )
        out.append((row, pattern))
    return out


ACCOUNT_COLUMNS = [
    "name",
    "domain",
    "owner_id",
    "segment",
    "arr",
    "contract_start",
    "renewal_date",
    "stage",
    "status",
    "onboarding_progress",
    "onboarding_status",
    "last_activity_at",
]


def _usage(
    rng: random.Random, pk: int, segment: str, start: date, pattern: str, today: date
) -> Iterator[tuple[Any, ...]]:
    """accounts.demo._usage_history, as tuples."""
    low, high = SEGMENT_SEATS[Segment(segment)]
    seats = rng.randint(low, high)
    level = rng.uniform(0.6, 0.9) if pattern == "healthy" else rng.uniform(0.5, 0.85)
    for month in range(11, -1, -1):
        when = today - timedelta(days=30 * month)
        if when < start:
            continue
        level = usage_level(rng, pattern, level, month)
        active = max(0, round(seats * level * 0.85))
        yield (
            pk,
            when,
            active,
            seats,
            min(seats, round(active * 1.05)),
            active * rng.randint(8, 20),
            max(0, min(10, round(10 * level + rng.uniform(-1, 1)))),
            rng.randint(0, 3) if pattern == "healthy" else rng.randint(2, 12),
            Decimal(str(round(min(5.0, max(1.0, 3.0 + 2 * level + rng.uniform(-0.4, 0.3))), 2))),
            max(-100, min(100, round(-40 + 110 * level + rng.uniform(-15, 15)))),
        )


def _tickets(
    rng: random.Random, pk: int, pattern: str, today: date, pipeline: int, stages: dict[str, int]
) -> Iterator[tuple[Any, ...]]:
    """accounts.support.demo._tickets over the last SUPPORT_DAYS days."""
    now = timezone.now()
    for day in range(SUPPORT_DAYS, 0, -1):
        if rng.random() >= ticket_rate(pattern, day):
            continue
        opened = _at(today, day, rng.randint(0, 480))
        trouble = pattern != "healthy" and rng.random() < 0.7
        urgent = pattern == "churning" and rng.random() < 0.35
        wait = rng.uniform(4, 40) if pattern == "healthy" else rng.uniform(24, 24 * 21)
        closed = opened + timedelta(hours=wait)
        is_closed = closed < now and not (urgent and rng.random() < 0.6)
        yield (
            pk,
            rng.choice(SUBJECTS["trouble" if trouble else "calm"]),
            pipeline,
            stages["4"] if is_closed else stages[rng.choice(["1", "2", "3"])],
            "URGENT" if urgent else rng.choice(["LOW", "MEDIUM", "HIGH"]),
            opened,
            closed if is_closed else None,
            is_closed,
        )


TICKET_COLUMNS = [
    "account_id",
    "subject",
    "pipeline_id",
    "stage_id",
    "priority",
    "opened_at",
    "closed_at",
    "is_closed",
]


def _surveys(rng: random.Random, pk: int, pattern: str, today: date) -> Iterator[tuple[Any, ...]]:
    """accounts.support.demo._surveys: quarterly NPS, each with a CSAT answer."""
    for days_ago in NPS_DAYS_AGO:
        score, group = nps_answer(rng, pattern, days_ago)
        submitted = _at(today, days_ago, rng.randint(0, 480))
        yield (
            pk,
            "NPS",
            "Quarterly NPS",
            Decimal(score),
            group,
            rng.choice(COMMENTS[group]),
            submitted,
        )
        csat = Decimal(max(1, min(5, round(score / 2))))
        yield (pk, "CSAT", "Ticket CSAT", csat, "", "", submitted + timedelta(days=3))


SURVEY_COLUMNS = [
    "account_id",
    "survey_type",
    "survey_name",
    "score",
    "response_group",
    "comment",
    "submitted_at",
]


def _touches(
    rng: random.Random, pk: int, owner: int | None, pattern: str, today: date
) -> Iterator[tuple[Any, ...]]:
    """accounts.support.demo._touches over the last SUPPORT_DAYS days."""
    gap = 12 if pattern == "healthy" else 20
    quiet_after = 70 if pattern == "churning" else 0
    day = SUPPORT_DAYS - rng.randint(0, gap)
    while day > quiet_after:
        kind = rng.choice(["call", "meeting", "email", "note"])
        yield (pk, kind, owner, _at(today, day, rng.randint(0, 480)), "Check-in", owner is not None)
        day -= rng.randint(gap // 2, gap * 2)


TOUCH_COLUMNS = ["account_id", "kind", "owner_id", "occurred_at", "subject", "is_touch"]


def _crm(
    rng: random.Random, plan: list[tuple[Any, ...]], today: date, leader: int
) -> dict[str, int]:
    """accounts.demo._build_chunk's rows beside accounts and usage, with COPY: the first
    stage change, the creation and last-touch timeline entries, the champion and the
    executive sponsor, the won new-business deal and for some healthy accounts an open
    expansion."""
    now = timezone.now()
    sales, _renewals = ensure_pipelines()
    won = PipelineStage.objects.get(pipeline=sales, is_won=True)
    qualified = PipelineStage.objects.get(pipeline=sales, label="Qualified")
    labels = {stage.value: str(stage.label) for stage in Stage}
    changes: list[tuple[Any, ...]] = []
    events: list[tuple[Any, ...]] = []
    contacts: list[tuple[Any, ...]] = []
    deals: list[tuple[Any, ...]] = []
    for pk, row, pattern in plan:
        name, domain, owner, arr, contract_start, stage = (
            row[0],
            row[1],
            row[2],
            row[4],
            row[5],
            row[7],
        )
        last_activity = row[11]
        changes.append((pk, "", stage, "Imported with demo data", leader, now))
        events.append(
            (
                pk,
                Event.Kind.ACCOUNT_CREATED,
                leader,
                now,
                f"Account created in stage {labels[stage]}",
            )
        )
        if last_activity is not None:
            events.append((pk, Event.Kind.NOTE, owner, last_activity, rng.choice(TOUCHES)))
        contacts.extend((pk, *contact) for contact in demo_contacts(rng, domain))
        deals.append(
            (f"{name} – new business", pk, sales.pk, won.pk, arr, contract_start, Deal.Kind.NEW)
        )
        expansion = demo_expansion(rng, pattern, arr, today)
        if expansion is not None:
            amount, close = expansion
            deals.append(
                (
                    f"{name} – expansion",
                    pk,
                    sales.pk,
                    qualified.pk,
                    amount,
                    close,
                    Deal.Kind.EXPANSION,
                )
            )
    with transaction.atomic():
        return {
            "stage changes": copy_insert(
                StageChange,
                changes,
                columns=[
                    "account_id",
                    "from_stage",
                    "to_stage",
                    "reason",
                    "changed_by_id",
                    "changed_at",
                ],
            ),
            "events": copy_insert(
                Event, events, columns=["account_id", "kind", "actor_id", "occurred_at", "summary"]
            ),
            "contacts": copy_insert(
                Contact, contacts, columns=["account_id", "name", "role", "email", "title"]
            ),
            "deals": copy_insert(
                Deal,
                deals,
                columns=[
                    "name",
                    "account_id",
                    "pipeline_id",
                    "stage_id",
                    "amount",
                    "close_date",
                    "kind",
                ],
            ),
        }


def build(
    *,
    accounts: int,
    today: date,
    seed: int = 11,
    history_weeks: int = 0,
    crm: bool = False,
    new_this_month: bool = False,
    log: Callable[[str], None] = print,
) -> HealthModel | None:
    """Fill an empty database with `accounts` accounts and what the demo model reads;
    returns the active model (the default one plus the support measures). `crm` adds
    the accounts demo's contacts, deals, stage changes and timeline entries;
    `new_this_month` starts every NEW_EVERY-th contract this month, as the demo does,
    so the metrics dashboard's running period has new customers."""
    if connection.vendor != "postgresql":
        raise NotImplementedError("The benchmark portfolio is built with COPY: PostgreSQL only.")
    rng = random.Random(seed)
    users = ensure_users()
    # Activated before any account exists, so activation's rescoring has nothing to do.
    model = health_demo.with_support(by=users["admin"])
    owners = [users[u].pk for u, _f, _l in CSM_NAMES]
    stages_by_id = support_pipeline()
    pipeline = next(iter(stages_by_id.values())).pipeline_id
    stages = {sid: s.pk for sid, s in stages_by_id.items()}
    made = _accounts(
        rng,
        accounts,
        today,
        owners,
        names=random.Random(seed + 1),
        new_this_month=new_this_month,
    )
    with transaction.atomic():
        copy_insert(Account, (row for row, _ in made), columns=ACCOUNT_COLUMNS)
    ids = list(Account.objects.order_by("pk").values_list("pk", flat=True))
    log(f"{len(ids):,} accounts")
    plan = [
        (pk, row[3], row[5], row[2], pattern) for pk, (row, pattern) in zip(ids, made, strict=True)
    ]
    with transaction.atomic():
        usage = copy_insert(
            UsageSnapshot,
            (
                r
                for pk, seg, start, _o, pattern in plan
                for r in _usage(rng, pk, seg, start, pattern, today)
            ),
            columns=USAGE_COLUMNS,
        )
        tickets = copy_insert(
            Ticket,
            (
                r
                for pk, _s, _c, _o, pattern in plan
                for r in _tickets(rng, pk, pattern, today, pipeline, stages)
            ),
            columns=TICKET_COLUMNS,
        )
        surveys = copy_insert(
            FeedbackSubmission,
            (r for pk, _s, _c, _o, pattern in plan for r in _surveys(rng, pk, pattern, today)),
            columns=SURVEY_COLUMNS,
        )
        touches = copy_insert(
            Engagement,
            (
                r
                for pk, _s, _c, owner, pattern in plan
                for r in _touches(rng, pk, owner, pattern, today)
            ),
            columns=TOUCH_COLUMNS,
        )
    log(
        f"{usage:,} usage snapshots, {tickets:,} tickets, {surveys:,} survey answers, "
        f"{touches:,} touches"
    )
    if crm:
        written = _crm(
            random.Random(seed + 2),
            [(pk, row, pattern) for pk, (row, pattern) in zip(ids, made, strict=True)],
            today,
            users["leader"].pk,
        )
        log(", ".join(f"{count:,} {what}" for what, count in written.items()))
    _vacuum()
    if history_weeks and model is not None:
        _history(model, today, history_weeks, log)
    return model


def _history(model: HealthModel, today: date, weeks: int, log: Callable[[str], None]) -> None:
    """Scores on the `weeks` weeks before today: the job scores the earliest two, and
    the first's rows are copied to the later weeks (same breakdowns, other dates),
    which costs a fraction of scoring each. Two runs, not one, leave the accounts as
    a database that runs the job every day has them: an account's first score grows
    its row by the score's change stamps, and a grown row whose page has no room left
    for the next run's version of it moves once, on the next run that rescores it
    (migration accounts/0021); after that each day's account update is HOT."""
    from .services import health_scores_compute

    first = today - timedelta(days=7 * weeks)
    for week in range(min(weeks, 2)):
        health_scores_compute(today=first + timedelta(days=7 * week))
    table = HealthScore._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        for week in range(weeks - 2, 0, -1):
            cursor.execute(
                f"INSERT INTO {table} (account_id, date, model_id, score, band, breakdown, "
                "missing, computed_at) SELECT account_id, %s, model_id, score, band, breakdown, "
                f"missing, computed_at FROM {table} WHERE date = %s",
                [today - timedelta(days=7 * week), first],
            )
    log(f"{HealthScore.objects.count():,} past scores over {weeks} weeks")
    _vacuum()


def _vacuum() -> None:
    """What autovacuum would do on a live database: fresh statistics, a visibility map."""
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")

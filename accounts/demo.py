"""Deterministic demo portfolio: believable at 200 accounts, fast at 100,000.

Writes in bulk (one INSERT per few thousand rows), so it bypasses the
per-record services on purpose, and records the same audit rows they would
(first stage change and a creation event per account), plus the owner's
last logged touch, which is the account's last activity.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone

from .bulk import analyze
from .models import (
    Account,
    Contact,
    Deal,
    Event,
    Pipeline,
    PipelineStage,
    Segment,
    Stage,
    StageChange,
    UsageSnapshot,
    User,
)
from .roles import Role

DEMO_PASSWORD = "lifecycle"
CSM_NAMES = [
    ("csm1", "Maya", "Okafor"),
    ("csm2", "Tom", "Lindqvist"),
    ("csm3", "Priya", "Raman"),
    ("csm4", "Diego", "Alvarez"),
    ("csm5", "Hannah", "Becker"),
]
PREFIXES = [
    "North",
    "Blue",
    "Bright",
    "Iron",
    "Silver",
    "Cedar",
    "Summit",
    "Harbor",
    "Nova",
    "Clear",
    "Swift",
    "Granite",
    "Maple",
    "Atlas",
    "Orbit",
    "Pioneer",
    "Lumen",
    "Vertex",
    "Coastal",
    "Evergreen",
    "Red",
    "Golden",
    "Quantum",
    "Prairie",
    "Beacon",
]
SUFFIXES = [
    "wind",
    "stone",
    "field",
    "path",
    "works",
    "line",
    "bridge",
    "point",
    "gate",
    "forge",
    "leaf",
    "peak",
    "wave",
    "light",
    "scale",
    "grid",
    "core",
    "labs",
    "loop",
    "ridge",
]
KINDS = [
    "Analytics",
    "Logistics",
    "Health",
    "Retail",
    "Energy",
    "Foods",
    "Finance",
    "Robotics",
    "Media",
    "Software",
    "Travel",
    "Insurance",
    "Education",
    "Biotech",
    "Systems",
]
FIRST = [
    "Alex",
    "Sam",
    "Jordan",
    "Taylor",
    "Morgan",
    "Casey",
    "Riley",
    "Jamie",
    "Avery",
    "Quinn",
    "Elena",
    "Marco",
    "Aisha",
    "Kenji",
    "Sofia",
    "Liam",
    "Noor",
    "Lucas",
    "Ines",
    "Omar",
]
LAST = [
    "Smith",
    "Chen",
    "Garcia",
    "Müller",
    "Kowalski",
    "Nakamura",
    "Dubois",
    "Rossi",
    "Patel",
    "Johnson",
    "Haddad",
    "Silva",
    "Novak",
    "Larsen",
    "Moreau",
    "Ahmed",
    "Costa",
    "Weber",
]
TOUCHES = [
    "Check-in call with the champion",
    "Emailed the sponsor the monthly usage summary",
    "Working session on reporting with the ops team",
    "Answered the admin's questions on SSO",
]
SEGMENT_ARR = {
    Segment.ENTERPRISE: (120_000, 600_000),
    Segment.MID_MARKET: (30_000, 120_000),
    Segment.SMB: (5_000, 30_000),
}
SEGMENT_SEATS = {
    Segment.ENTERPRISE: (200, 1500),
    Segment.MID_MARKET: (50, 250),
    Segment.SMB: (5, 50),
}


@dataclass
class DemoResult:
    created: bool
    accounts: int
    message: str


def ensure_users() -> dict[str, User]:
    """The demo logins, one or more per role. Safe to run again."""
    groups = {r: Group.objects.get_or_create(name=r.value)[0] for r in Role}
    specs = [
        ("admin", "Ada", "Admin", Role.ADMIN),
        ("leader", "Lena", "Leader", Role.LEADER),
        ("viewer", "Victor", "Viewer", Role.VIEWER),
        *[(u, f, lname, Role.CSM) for u, f, lname in CSM_NAMES],
    ]
    users = {}
    for username, first, last, role in specs:
        user, created = User.objects.get_or_create(
            username=username,
            defaults={"first_name": first, "last_name": last, "email": f"{username}@example.com"},
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
        user.groups.add(groups[role])
        if role == Role.ADMIN and not user.is_superuser:
            # The admin also manages users and raw data in Django's admin.
            user.is_staff = user.is_superuser = True
            user.save(update_fields=["is_staff", "is_superuser"])
        users[username] = user
    return users


def ensure_pipelines() -> tuple[Pipeline, Pipeline]:
    sales, _ = Pipeline.objects.get_or_create(label="Sales pipeline", defaults={"display_order": 0})
    renewals, _ = Pipeline.objects.get_or_create(
        label="Renewals", defaults={"is_renewal": True, "display_order": 1}
    )
    for pipeline, stages in (
        (
            sales,
            [
                ("Qualified", False, False, "0.2"),
                ("Contract sent", False, False, "0.7"),
                ("Closed won", True, True, "1"),
                ("Closed lost", True, False, "0"),
            ],
        ),
        (
            renewals,
            [
                ("Upcoming", False, False, "0.5"),
                ("In negotiation", False, False, "0.7"),
                ("Closed won", True, True, "1"),
                ("Closed lost", True, False, "0"),
            ],
        ),
    ):
        for order, (label, closed, won, prob) in enumerate(stages):
            PipelineStage.objects.get_or_create(
                pipeline=pipeline,
                label=label,
                defaults={
                    "display_order": order,
                    "is_closed": closed,
                    "is_won": won,
                    "probability": Decimal(prob),
                },
            )
    return sales, renewals


def build(
    *,
    accounts: int = 200,
    seed: int = 7,
    reset: bool = False,
    today: date | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> DemoResult:
    users = ensure_users()
    sales, _renewals = ensure_pipelines()
    if reset:
        with transaction.atomic():
            Account.objects.all().delete()
    elif Account.objects.exists():
        return DemoResult(False, Account.objects.count(), "Accounts exist; demo data left as is.")

    rng = random.Random(seed)
    today = today or timezone.localdate()
    csms = [users[u] for u, _f, _l in CSM_NAMES]
    won = PipelineStage.objects.get(pipeline=sales, is_won=True)
    qualified = PipelineStage.objects.get(pipeline=sales, label="Qualified")
    chunk = 5000
    made = 0
    while made < accounts:
        n = min(chunk, accounts - made)
        with transaction.atomic():
            _build_chunk(
                rng,
                start=made,
                n=n,
                today=today,
                csms=csms,
                sales=sales,
                won=won,
                open_stage=qualified,
                actor=users["leader"],
            )
        made += n
        if progress:
            progress(made, accounts)
    analyze(Account, StageChange, Event, Contact, Deal, UsageSnapshot)
    return DemoResult(True, made, f"Created {made:,} demo accounts.")


def day_this_month(rng: random.Random, today: date, *, before_today: bool = False) -> date:
    """A day of today's month up to today (or before it), so the metrics
    dashboard's running month and quarter have data from the first run.
    On the 1st, `before_today` gives the day before (the month has none)."""
    last = today - timedelta(days=1) if before_today else today
    first = min(today.replace(day=1), last)
    return first + timedelta(days=rng.randint(0, (last - first).days))


# Every NEW_EVERY-th account became a customer this month, so the running
# period has new ARR and an onboard rate.
NEW_EVERY = 25


def company_name(rng: random.Random, index: int, used: set[str], total_base: int = 500) -> str:
    """Plain names for the first 500 accounts (never the same twice), numbered after."""
    base = f"{rng.choice(PREFIXES)}{rng.choice(SUFFIXES)} {rng.choice(KINDS)}"
    if index >= total_base:
        return f"{base} {index}"
    while base in used:
        base = f"{rng.choice(PREFIXES)}{rng.choice(SUFFIXES)} {rng.choice(KINDS)}"
    used.add(base)
    return base


def usage_level(rng: random.Random, pattern: str, level: float, month: int) -> float:
    """The share of seats in use one month on (`month` months back), as the demo's
    story has it: steady when healthy, sliding when declining, falling away in the
    last five months when churning."""
    if pattern == "healthy":
        return min(1.0, level + rng.uniform(-0.04, 0.04))
    if pattern == "declining":
        return max(0.1, level - rng.uniform(0.0, 0.06))
    return max(0.02, level - (rng.uniform(0.08, 0.18) if month < 5 else 0.01))


def demo_stage(
    rng: random.Random, pattern: str, contract_start: date, today: date
) -> tuple[date, int, Stage]:
    """An account's next renewal, age in days and stage as the demo's story has it (its
    pattern: healthy, declining or churning)."""
    years = (today - contract_start).days // 365 + 1
    renewal = contract_start + timedelta(days=365 * years)
    age = (today - contract_start).days
    if pattern == "churning":
        stage = rng.choice([Stage.AT_RISK, Stage.AT_RISK, Stage.CHURNED])
    elif age < 90:
        stage = Stage.ONBOARDING
    elif (renewal - today).days < 90:
        stage = Stage.RENEWAL
    else:
        stage = rng.choice([Stage.ADOPTION, Stage.VALUE_REALISED, Stage.EXPANSION])
    return renewal, age, stage


def _build_chunk(
    rng: random.Random,
    *,
    start: int,
    n: int,
    today: date,
    csms: list[User],
    sales: Pipeline,
    won: PipelineStage,
    open_stage: PipelineStage,
    actor: User,
) -> None:
    now = timezone.now()
    rows: list[tuple[Account, str]] = []
    used_names: set[str] = set()
    for i in range(start, start + n):
        segment = rng.choices(list(SEGMENT_ARR), weights=[15, 35, 50])[0]
        pattern = rng.choices(["healthy", "declining", "churning"], weights=[60, 25, 15])[0]
        low, high = SEGMENT_ARR[segment]
        arr = Decimal(rng.randrange(low, high, 500))
        contract_start = today - timedelta(days=rng.randint(20, 900))
        if i % NEW_EVERY == 5:
            contract_start = day_this_month(rng, today)
        renewal, _, stage = demo_stage(rng, pattern, contract_start, today)
        name = company_name(rng, i, used_names)
        slug = "".join(ch for ch in name.lower() if ch.isalnum())
        account = Account(
            name=name,
            domain=f"{slug}-{i}.example" if i >= 500 else f"{slug}.example",
            owner=csms[i % len(csms)] if i % 23 else None,
            segment=segment,
            arr=arr,
            contract_start=contract_start,
            renewal_date=renewal,
            stage=stage,
            status=Account.Status.ACTIVE,
            created_at=now,
            last_activity_at=None,
        )
        if account.owner is not None:
            # The owner's last logged touch (unowned accounts have had none).
            account.last_activity_at = now - timedelta(hours=rng.randint(1, 24 * 60))
        rows.append((account, pattern))
    # Names can repeat among the first 500; domains must not.
    seen: set[str] = set()
    for j, (account, _p) in enumerate(rows):
        if account.domain in seen:
            account.domain = f"{account.domain.removesuffix('.example')}-{start + j}.example"
        seen.add(account.domain)
    existing = set(Account.objects.filter(domain__in=seen).values_list("domain", flat=True))
    for j, (account, _p) in enumerate(rows):
        if account.domain in existing:
            account.domain = f"x{start + j}-{account.domain}"
    Account.objects.bulk_create([a for a, _ in rows], batch_size=2000)

    stage_changes, events, contacts, deals, usage = [], [], [], [], []
    for account, pattern in rows:
        stage_changes.append(
            StageChange(
                account=account,
                from_stage="",
                to_stage=account.stage,
                reason="Imported with demo data",
                changed_by=actor,
                changed_at=now,
            )
        )
        events.append(
            Event(
                account=account,
                kind=Event.Kind.ACCOUNT_CREATED,
                actor=actor,
                occurred_at=now,
                summary=f"Account created in stage {account.get_stage_display()}",
            )
        )
        if account.last_activity_at is not None:
            events.append(
                Event(
                    account=account,
                    kind=Event.Kind.NOTE,
                    actor=account.owner,
                    occurred_at=account.last_activity_at,
                    summary=rng.choice(TOUCHES),
                )
            )
        for name, role, email, title in demo_contacts(rng, account.domain):
            contacts.append(
                Contact(account=account, name=name, role=role, email=email, title=title)
            )
        deals.append(
            Deal(
                name=f"{account.name} – new business",
                account=account,
                pipeline=sales,
                stage=won,
                amount=account.arr,
                close_date=account.contract_start,
                kind=Deal.Kind.NEW,
            )
        )
        expansion = demo_expansion(rng, pattern, account.arr, today)
        if expansion is not None:
            deals.append(
                Deal(
                    name=f"{account.name} – expansion",
                    account=account,
                    pipeline=sales,
                    stage=open_stage,
                    amount=expansion[0],
                    close_date=expansion[1],
                    kind=Deal.Kind.EXPANSION,
                )
            )
        usage.extend(_usage_history(rng, account, pattern, today))
    StageChange.objects.bulk_create(stage_changes, batch_size=5000)
    Event.objects.bulk_create(events, batch_size=5000)
    Contact.objects.bulk_create(contacts, batch_size=5000)
    Deal.objects.bulk_create(deals, batch_size=5000)
    UsageSnapshot.objects.bulk_create(usage, batch_size=5000)


def demo_contacts(rng: random.Random, domain: str) -> list[tuple[str, str, str, str]]:
    """The champion and the executive sponsor the demo gives every account:
    (name, role, email, title)."""
    contacts = []
    for role in (Contact.Role.CHAMPION, Contact.Role.EXECUTIVE_SPONSOR):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        email = f"{first.lower()}.{rng.randint(1, 99)}@{domain}"
        title = "VP Operations" if role == Contact.Role.EXECUTIVE_SPONSOR else "Operations lead"
        contacts.append((f"{first} {last}", str(role), email, title))
    return contacts


def demo_expansion(
    rng: random.Random, pattern: str, arr: Decimal, today: date
) -> tuple[Decimal, date] | None:
    """An open expansion deal (amount, close date) for some healthy accounts, or None."""
    if pattern == "healthy" and rng.random() < 0.3:
        amount = (arr * Decimal("0.2")).quantize(Decimal("1"))
        return amount, today + timedelta(days=rng.randint(10, 120))
    return None


def _usage_history(
    rng: random.Random, account: Account, pattern: str, today: date
) -> list[UsageSnapshot]:
    """Twelve monthly readings: healthy accounts hold or grow, declining ones
    slide, churning ones collapse in the last months."""
    low, high = SEGMENT_SEATS[Segment(account.segment)]
    seats = rng.randint(low, high)
    level = rng.uniform(0.6, 0.9) if pattern == "healthy" else rng.uniform(0.5, 0.85)
    snapshots = []
    for month in range(11, -1, -1):
        when = today - timedelta(days=30 * month)
        if account.contract_start and when < account.contract_start:
            continue
        level = usage_level(rng, pattern, level, month)
        # Most customers buy seats with headroom; only the keenest fill them.
        active = max(0, round(seats * level * 0.85))
        snapshots.append(
            UsageSnapshot(
                account=account,
                date=when,
                active_users=active,
                seats_purchased=seats,
                seats_used=min(seats, round(active * 1.05)),
                logins_30d=active * rng.randint(8, 20),
                core_features_adopted=max(0, min(10, round(10 * level + rng.uniform(-1, 1)))),
                open_tickets=rng.randint(0, 3) if pattern == "healthy" else rng.randint(2, 12),
                csat=Decimal(
                    str(round(min(5.0, max(1.0, 3.0 + 2 * level + rng.uniform(-0.4, 0.3))), 2))
                ),
                nps=max(-100, min(100, round(-40 + 110 * level + rng.uniform(-15, 15)))),
            )
        )
    return snapshots

"""Demo support history: tickets, survey answers and customer touches over the last
200 days, telling each account's story in the same direction as its usage.

- Healthy accounts: a ticket or two a month closed within a day or two, promoters,
  CSAT 4-5, a call or meeting with the CSM every few weeks.
- Sliding accounts (usage down by a third over the year): tickets creep up over the
  last two months and wait longer; passives.
- At-risk and churned accounts: tickets pile up from about six months ago, before their
  usage (and so their health) collapses, more of them urgent and left open; NPS
  answers turn to detractors with comments; the CSM's touches dry up.

The support pipeline uses HubSpot's default ids ("0", stages "1"-"4"), so a sandbox or
portal sync later links to it instead of adding a second one.
"""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db.models import Max, Min
from django.utils import timezone

from accounts.bulk import analyze
from accounts.models import Account, Contact, Stage, UsageSnapshot

from .models import Engagement, FeedbackSubmission, Ticket, TicketPipeline, TicketStage
from .services import accounts_last_touch_bump

DAYS = 200
SUBJECTS = {
    "calm": ["How do I export a report?", "Add a user", "Invoice copy", "SSO set-up question"],
    "trouble": [
        "Dashboard times out",
        "Sync stopped overnight",
        "Data missing after import",
        "Users locked out",
        "API returns 500",
        "Reports show wrong totals",
    ],
}
COMMENTS = {
    "PROMOTER": ["Great support team", "Quick answers, thank you", ""],
    "PASSIVE": ["OK, but slower than last year", "Fine", ""],
    "DETRACTOR": [
        "Tickets sit open for weeks",
        "Nobody follows up on our outage",
        "We are evaluating alternatives",
    ],
}
CATEGORIES = ["PRODUCT_ISSUE", "GENERAL_INQUIRY", "BILLING_ISSUE", "FEATURE_REQUEST"]


def support_pipeline() -> dict[str, TicketStage]:
    pipeline, _ = TicketPipeline.objects.get_or_create(
        hubspot_id="0", defaults={"label": "Support Pipeline"}
    )
    stages = {}
    for order, (sid, label, closed) in enumerate(
        [
            ("1", "New", False),
            ("2", "Waiting on contact", False),
            ("3", "Waiting on us", False),
            ("4", "Closed", True),
        ]
    ):
        stages[sid], _ = TicketStage.objects.get_or_create(
            pipeline=pipeline,
            hubspot_id=sid,
            defaults={"label": label, "display_order": order, "is_closed": closed},
        )
    return stages


def _patterns() -> dict[int, str]:
    """Each account's story, read from what the accounts demo made: its stage and how
    its active users moved over the year (one query)."""
    first_last = UsageSnapshot.objects.values("account_id").annotate(
        first=Min("date"), last=Max("date")
    )
    bounds = {r["account_id"]: (r["first"], r["last"]) for r in first_last}
    active = {
        (a, d): n or 0
        for a, d, n in UsageSnapshot.objects.values_list("account_id", "date", "active_users")
    }
    patterns = {}
    for pk, stage in Account.objects.values_list("pk", "stage"):
        if stage in (Stage.AT_RISK, Stage.CHURNED):
            patterns[pk] = "churning"
            continue
        first, last = bounds.get(pk, (None, None))
        start, end = active.get((pk, first), 0), active.get((pk, last), 0)
        patterns[pk] = "declining" if start and end < start * 0.67 else "healthy"
    return patterns


def _at(rng: random.Random, today: date, days_ago: int) -> datetime:
    moment = datetime.combine(today - timedelta(days=days_ago), time(9))
    return timezone.make_aware(moment) + timedelta(minutes=rng.randint(0, 8 * 60))


def _tickets(
    rng: random.Random, account: Account, pattern: str, today: date, stages: dict[str, TicketStage]
) -> list[Ticket]:
    rows = []
    for day in range(DAYS, 0, -1):
        if rng.random() >= ticket_rate(pattern, day):
            continue
        opened = _at(rng, today, day)
        trouble = pattern != "healthy" and rng.random() < 0.7
        urgent = pattern == "churning" and rng.random() < 0.35
        wait = rng.uniform(4, 40) if pattern == "healthy" else rng.uniform(24, 24 * 21)
        closed = opened + timedelta(hours=wait)
        is_closed = closed < timezone.now() and not (urgent and rng.random() < 0.6)
        stage = stages["4"] if is_closed else stages[rng.choice(["1", "2", "3"])]
        rows.append(
            Ticket(
                account=account,
                owner=None,
                subject=rng.choice(SUBJECTS["trouble" if trouble else "calm"]),
                pipeline=stage.pipeline,
                stage=stage,
                priority=("URGENT" if urgent else rng.choice(["LOW", "MEDIUM", "HIGH"])),
                category=rng.choice(CATEGORIES),
                source=rng.choice(["EMAIL", "CHAT", "PHONE"]),
                opened_at=opened,
                closed_at=closed if is_closed else None,
                is_closed=is_closed,
            )
        )
    return rows


def ticket_rate(pattern: str, day: int) -> float:
    """The chance of a ticket on the day `day` days back, as the demo's story has it."""
    if pattern == "churning":
        return 0.03 + 0.12 * (DAYS - day) / DAYS  # piles up from six months ago
    if pattern == "declining":
        return 0.04 if day > 60 else 0.09
    return 0.04


NPS_DAYS_AGO = (170, 110, 50, 12)  # the quarterly NPS survey's answers, days back


def nps_answer(rng: random.Random, pattern: str, days_ago: int) -> tuple[int, str]:
    """An NPS score and its group as the demo's story has it: churning and declining
    accounts answer lower in the last four months."""
    late = days_ago < 120
    if pattern == "churning" and late:
        score = rng.randint(0, 6)
    elif pattern == "declining" and late:
        score = rng.randint(5, 8)
    else:
        score = rng.randint(8, 10)
    return score, "PROMOTER" if score >= 9 else "PASSIVE" if score >= 7 else "DETRACTOR"


def _surveys(
    rng: random.Random, account: Account, pattern: str, today: date, contact: Contact | None
) -> list[FeedbackSubmission]:
    rows = []
    for days_ago in NPS_DAYS_AGO:
        score, group = nps_answer(rng, pattern, days_ago)
        submitted = _at(rng, today, days_ago)
        rows.append(
            FeedbackSubmission(
                account=account,
                contact=contact,
                survey_type=FeedbackSubmission.SurveyType.NPS,
                survey_name="Quarterly NPS",
                score=Decimal(score),
                response_group=group,
                comment=rng.choice(COMMENTS[group]),
                submitted_at=submitted,
            )
        )
        csat = Decimal(max(1, min(5, round(score / 2))))
        rows.append(
            FeedbackSubmission(
                account=account,
                contact=contact,
                survey_type=FeedbackSubmission.SurveyType.CSAT,
                survey_name="Ticket CSAT",
                score=csat,
                submitted_at=submitted + timedelta(days=3),
            )
        )
    return rows


def _touches(
    rng: random.Random, account: Account, pattern: str, today: date, contact: Contact | None
) -> list[Engagement]:
    rows = []
    gap = 12 if pattern == "healthy" else 20
    quiet_after = 70 if pattern == "churning" else 0  # the CSM's touches dry up
    day = DAYS - rng.randint(0, gap)
    while day > quiet_after:
        kind = rng.choice(["call", "meeting", "email", "note"])
        rows.append(
            Engagement(
                kind=kind,
                account=account,
                contact=contact,
                owner=account.owner,
                occurred_at=_at(rng, today, day),
                subject={
                    "call": "Check-in call",
                    "meeting": "Adoption review",
                    "email": "Follow-up on open tickets",
                    "note": "Champion mentioned budget for more seats",
                }[kind],
                direction="outbound" if kind in ("call", "email") else "",
                status="COMPLETED" if kind in ("call", "meeting") else "",
                duration_seconds=rng.choice([900, 1800, 2700]) if kind != "note" else None,
                is_touch=account.owner_id is not None,
            )
        )
        day -= rng.randint(gap // 2, gap * 2)
    return rows


def build(*, seed: int, today: date) -> str:
    if Ticket.objects.exists():
        return "support history exists; left as is"
    rng = random.Random(seed + 18)
    stages = support_pipeline()
    patterns = _patterns()
    champions = {
        c.account_id: c for c in Contact.objects.filter(role=Contact.Role.CHAMPION).order_by("pk")
    }
    tickets: list[Ticket] = []
    surveys: list[FeedbackSubmission] = []
    touches: list[Engagement] = []
    for account in Account.objects.order_by("pk").only("pk", "owner_id"):
        pattern = patterns.get(account.pk, "healthy")
        contact = champions.get(account.pk)
        tickets += _tickets(rng, account, pattern, today, stages)
        surveys += _surveys(rng, account, pattern, today, contact)
        touches += _touches(rng, account, pattern, today, contact)
    Ticket.objects.bulk_create(tickets, batch_size=5000)
    FeedbackSubmission.objects.bulk_create(surveys, batch_size=5000)
    Engagement.objects.bulk_create(touches, batch_size=5000)
    accounts_last_touch_bump(account_ids=list(patterns))
    analyze(Ticket, FeedbackSubmission, Engagement)
    return f"{len(tickets)} tickets, {len(surveys)} survey answers, {len(touches)} touches"

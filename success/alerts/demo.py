"""Demo alerts: add one rule of each support kind (detractor, escalated ticket,
tickets rising, no touch on a large account) and the expansion hints, run the
rules once over the demo portfolio, raise the support signals the demo's hinted
ticket and note carry, and a couple of expansion signals by hand, one of them
already overdue."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from django.utils import timezone

from accounts.bulk import analyze
from accounts.models import Account, Event, Stage, User
from accounts.support.models import Engagement, Ticket

from .models import Alert, AlertRule, ExpansionHint, ExpansionSignal, RuleKind
from .services import alerts_evaluate
from .support import support_expansion_raise

SUPPORT_RULES = [
    {"name": "Detractor survey answer", "kind": RuleKind.DETRACTOR, "days": 30, "due_in_days": 1},
    {"name": "Escalated ticket open 3+ days", "kind": RuleKind.ESCALATED_TICKET, "days": 3},
    {
        "name": "Tickets up 50% on the previous 30 days",
        "kind": RuleKind.TICKETS_UP,
        "threshold": 50,
        "minimum": 5,
    },
    {
        "name": "No touch or login for 30 days (ARR 50k+)",
        "kind": RuleKind.NO_TOUCH,
        "days": 30,
        "arr_threshold": Decimal("50000"),
    },
]


def support_setup(*, today: date) -> int:
    """The support rules and expansion hints, and one hinted ticket and note on an
    account of csm1's (demo support data has none). Returns the rules added."""
    added = 0
    for spec in SUPPORT_RULES:
        if not AlertRule.objects.filter(kind=spec["kind"]).exists():
            AlertRule.objects.create(**spec)
            added += 1
    if not ExpansionHint.objects.exists():
        ExpansionHint.objects.create(
            ticket_categories="UPGRADE_REQUEST",
            keywords="more seats\nupgrade\nenterprise plan\nanother team",
        )
    account = (
        Account.objects.filter(owner__username="csm1", tickets__isnull=False)
        .exclude(stage=Stage.CHURNED)
        .order_by("pk")
        .first()
    )
    if account is not None:
        ticket = account.tickets.order_by("-opened_at").first()
        now = timezone.now()
        if ticket is not None:
            Ticket.objects.create(
                account=account,
                contact=ticket.contact,
                subject="Quote for 40 more seats and the Enterprise plan",
                pipeline_id=ticket.pipeline_id,
                stage_id=ticket.stage_id,
                is_closed=ticket.is_closed,
                priority=Ticket.Priority.MEDIUM,
                category="UPGRADE_REQUEST",
                opened_at=now - timedelta(hours=5),
            )
        Engagement.objects.create(
            kind=Engagement.Kind.NOTE,
            account=account,
            owner=account.owner,
            occurred_at=now - timedelta(hours=3),
            subject="Support call: their finance team wants to roll out to another team",
            text="Asked what pricing looks like for another team of about 25 users.",
            is_touch=True,
        )
    return added


def build(*, seed: int, today: date) -> str:
    if Alert.objects.exists() or ExpansionSignal.objects.exists():
        return "alerts exist; left as is"
    rules_added = support_setup(today=today)
    run = alerts_evaluate(today=today)
    hinted = support_expansion_raise()
    csm = User.objects.filter(username="csm1").first()
    accounts = list(
        Account.objects.filter(owner=csm).exclude(stage=Stage.CHURNED).order_by("pk")[:2]
    )
    now = timezone.now()
    notes = [
        "Support: asked for SSO and 50 more seats for the EMEA team",
        "CSM: champion mentioned a second business unit evaluating us",
    ]
    for i, (account, note) in enumerate(zip(accounts, notes, strict=False)):
        raised = now - timedelta(hours=30 if i == 0 else 2)
        ExpansionSignal.objects.create(
            account=account,
            note=note,
            raised_by=csm,
            raised_at=raised,
            source=ExpansionSignal.Source.SUPPORT if i == 0 else ExpansionSignal.Source.CSM,
            follow_up_by=raised + timedelta(hours=24),
        )
    analyze(Alert, ExpansionSignal, Event)
    return (
        f"{rules_added} support rules, opened {sum(run.opened.values())} alerts, "
        f"{run.signals} rule signals, {len(hinted)} support signals"
    )

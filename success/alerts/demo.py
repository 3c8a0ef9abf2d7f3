"""Demo alerts: run the rules once over the demo portfolio, and raise a
couple of expansion signals by hand, one of them already overdue."""

from __future__ import annotations

from datetime import date, timedelta

from django.utils import timezone

from accounts.bulk import analyze
from accounts.models import Account, Event, Stage, User

from .models import Alert, ExpansionSignal
from .services import alerts_evaluate


def build(*, seed: int, today: date) -> str:
    if Alert.objects.exists() or ExpansionSignal.objects.exists():
        return "alerts exist; left as is"
    run = alerts_evaluate(today=today)
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
    return f"opened {sum(run.opened.values())} alerts, {run.signals} rule signals"

"""Every write of alerts and expansion signals."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import Account, Event, User
from accounts.services import event_record

from .hooks import hooks_run
from .matchers import MATCHERS
from .models import Alert, AlertRule, ExpansionSignal

LIVE = [Alert.Status.OPEN, Alert.Status.ACKNOWLEDGED]


@dataclass
class EvaluationRun:
    opened: dict[str, int] = field(default_factory=dict)
    cleared: dict[str, int] = field(default_factory=dict)
    signals: int = 0


@transaction.atomic
def alerts_evaluate(*, today: date) -> EvaluationRun:
    """Run every active rule over the portfolio: open an alert for each newly
    matching account (one live alert per account and rule, so a second run the
    same day opens nothing), and resolve live alerts whose condition cleared.
    Expansion rules also raise an expansion signal."""
    run = EvaluationRun()
    now = timezone.now()
    for rule in AlertRule.objects.filter(is_active=True):
        matches = MATCHERS[rule.kind](rule, today)
        live = dict(
            Alert.objects.filter(rule=rule, status__in=LIVE).values_list("account_id", "pk")
        )
        owners = dict(
            Account.objects.filter(pk__in=[pk for pk in matches if pk not in live]).values_list(
                "pk", "owner_id"
            )
        )
        fresh = [
            Alert(
                account_id=pk,
                rule=rule,
                owner_id=owners.get(pk),
                message=matches[pk][:300],
                due_on=today + timedelta(days=rule.due_in_days),
                opened_at=now,
            )
            for pk in matches
            if pk not in live
        ]
        Alert.objects.bulk_create(fresh, batch_size=2000)
        hooks_run("ALERTS_OPENED_HOOKS", alerts=fresh)
        Event.objects.bulk_create(
            [
                Event(
                    account_id=a.account_id,
                    kind=Event.Kind.HEALTH,
                    occurred_at=now,
                    summary=f"Alert: {a.message}",
                    data={"rule": rule.pk},
                )
                for a in fresh
            ],
            batch_size=2000,
        )
        if rule.is_expansion and fresh:
            signals = ExpansionSignal.objects.bulk_create(
                [
                    ExpansionSignal(
                        account_id=a.account_id,
                        source=ExpansionSignal.Source.RULE,
                        note=a.message,
                        raised_at=now,
                        follow_up_by=now + timedelta(hours=24),
                    )
                    for a in fresh
                ]
            )
            hooks_run("EXPANSION_SIGNALS_RAISED_HOOKS", signals=signals)
            run.signals += len(fresh)
        cleared = [pk for account_id, pk in live.items() if account_id not in matches]
        Alert.objects.filter(pk__in=cleared).update(
            status=Alert.Status.RESOLVED, closed_at=now, note="Condition cleared"
        )
        run.opened[rule.name] = len(fresh)
        run.cleared[rule.name] = len(cleared)
    return run


@transaction.atomic
def alert_close(*, alert: Alert, status: str, note: str, by: User) -> Alert:
    """Acknowledge, resolve or dismiss an alert; dismissing needs a note."""
    if status not in (Alert.Status.ACKNOWLEDGED, Alert.Status.RESOLVED, Alert.Status.DISMISSED):
        raise ValidationError({"status": "Choose acknowledge, resolve or dismiss."})
    if not alert.is_live:
        raise ValidationError("This alert is already closed.")
    if status == Alert.Status.DISMISSED and not note.strip():
        raise ValidationError({"note": "Say why the alert is dismissed."})
    alert.status = status
    alert.note = note.strip()
    if status != Alert.Status.ACKNOWLEDGED:
        alert.closed_at, alert.closed_by = timezone.now(), by
    alert.save(update_fields=["status", "note", "closed_at", "closed_by"])
    event_record(
        account=alert.account,
        kind=Event.Kind.HEALTH,
        actor=by,
        summary=f"Alert {alert.get_status_display().lower()}: {alert.message}"
        + (f" — {alert.note}" if alert.note else ""),
    )
    return alert


@transaction.atomic
def expansion_signal_raise(
    *, account: Account, note: str, source: str, by: User
) -> ExpansionSignal:
    """Raise an expansion signal by hand; the owner must follow up within 24 hours."""
    if not note.strip():
        raise ValidationError({"note": "Say what points to expansion."})
    signal = ExpansionSignal.objects.create(
        account=account, note=note.strip(), source=source, raised_by=by
    )
    event_record(
        account=account,
        kind=Event.Kind.HEALTH,
        actor=by,
        summary=f"Expansion signal ({signal.get_source_display()}): {signal.note}",
    )
    hooks_run("EXPANSION_SIGNALS_RAISED_HOOKS", signals=[signal])
    return signal


@transaction.atomic
def expansion_signal_follow_up(
    *, signal: ExpansionSignal, outcome: str, by: User
) -> ExpansionSignal:
    if signal.followed_up_at:
        raise ValidationError("This signal was already followed up.")
    if not outcome.strip():
        raise ValidationError({"outcome": "Say what came of the follow-up."})
    signal.followed_up_at, signal.followed_up_by = timezone.now(), by
    signal.outcome = outcome.strip()
    signal.save(update_fields=["followed_up_at", "followed_up_by", "outcome"])
    event_record(
        account=signal.account,
        kind=Event.Kind.HEALTH,
        actor=by,
        summary=f"Expansion signal followed up: {signal.outcome}",
    )
    return signal

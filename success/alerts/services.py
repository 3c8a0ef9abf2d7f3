"""Every write of alerts and expansion signals."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.formats import date_display
from accounts.models import Account, Event, User
from accounts.services import event_record

from .hooks import hooks_run
from .matchers import hits_for
from .models import EVENT_KINDS, Alert, AlertRule, ExpansionSignal

LIVE = [Alert.Status.OPEN, Alert.Status.ACKNOWLEDGED]


@dataclass
class EvaluationRun:
    opened: dict[str, int] = field(default_factory=dict)
    reopened: dict[str, int] = field(default_factory=dict)
    cleared: dict[str, int] = field(default_factory=dict)
    signals: int = 0


def _reopen_line(*, alert: Alert, rule: AlertRule, today: date) -> str | None:
    """Why a closed alert whose condition still holds opens again today, or None
    while it should stay closed: a dismissal holds until its snooze date (for
    good without one), a resolution for the rule's `reopen_after_days`."""
    if alert.status == Alert.Status.DISMISSED:
        if alert.snoozed_until is not None and alert.snoozed_until <= today:
            return f"Snoozed until {date_display(alert.snoozed_until)}; the condition still holds."
        return None
    if alert.status != Alert.Status.RESOLVED or not rule.reopen_after_days or not alert.closed_at:
        return None
    resolved_on = timezone.localdate(alert.closed_at)
    if (today - resolved_on).days >= rule.reopen_after_days:
        return (
            f"Reopened: the condition still holds {rule.reopen_after_days} days "
            f"after it was resolved on {date_display(resolved_on)}."
        )
    return None


@transaction.atomic
def alerts_evaluate(
    *, today: date, account_ids: Collection[int] | None = None, kinds: Collection[str] = ()
) -> EvaluationRun:
    """Run every active rule over the portfolio, in bulk (the same few queries
    per rule for any portfolio size). `account_ids` and `kinds` narrow the run (a
    sync that brought survey answers runs the detractor rules over its accounts):
    alerts of other accounts are left as they are.

    An alert holds its rule for its account (and record, for rules about a ticket
    or a survey answer: one alert each) until the condition clears
    (`condition_cleared_at`): while held, no second alert opens, whatever the
    alert's status. So a dismissed alert stays quiet while the condition holds
    and a new one opens only once it cleared and came back, or when the
    dismissal's snooze date is reached (the same alert reopens). A resolved
    alert whose condition still holds `reopen_after_days` later reopens with a
    line saying so. Live alerts whose condition cleared resolve themselves,
    except those about something that happened (a detractor answer): they stay
    until a person closes them and never reopen.
    Expansion rules raise one expansion signal each time their alert fires
    (opens, or reopens after a snooze), never one per run."""
    run = EvaluationRun()
    now = timezone.now()
    scope = set(account_ids) if account_ids is not None else None
    rules = AlertRule.objects.filter(is_active=True)
    if kinds:
        rules = rules.filter(kind__in=list(kinds))
    for rule in rules:
        matches = hits_for(rule, today)
        held_qs = Alert.objects.filter(rule=rule, condition_cleared_at__isnull=True)
        if scope is not None:
            matches = {k: v for k, v in matches.items() if k[0] in scope}
            held_qs = held_qs.filter(account_id__in=scope)
        held = {(a.account_id, a.key): a for a in held_qs}
        owners = dict(
            Account.objects.filter(
                pk__in={pk for pk, key in matches if (pk, key) not in held}
            ).values_list("pk", "owner_id")
        )
        due_on = today + timedelta(days=rule.due_in_days)
        fresh = [
            Alert(
                account_id=pk,
                rule=rule,
                key=key,
                ticket_id=hit.ticket_id,
                feedback_id=hit.feedback_id,
                owner_id=owners.get(pk),
                message=hit.message[:300],
                due_on=due_on,
                opened_at=now,
            )
            for (pk, key), hit in matches.items()
            if (pk, key) not in held
        ]
        Alert.objects.bulk_create(fresh, batch_size=2000)
        reopened, snooze_ended = [], []
        is_event = rule.kind in EVENT_KINDS
        for where, alert in held.items():
            line = (
                None
                if where not in matches or alert.is_live or is_event
                else _reopen_line(alert=alert, rule=rule, today=today)
            )
            if line is None:
                continue
            if alert.status == Alert.Status.DISMISSED:
                snooze_ended.append(alert)
            alert.status, alert.message, alert.due_on = (
                Alert.Status.OPEN,
                matches[where].message[:300],
                due_on,
            )
            alert.closed_at = alert.closed_by = alert.snoozed_until = None
            alert.reopened_at, alert.reopen_note = now, line
            reopened.append(alert)
        Alert.objects.bulk_update(
            reopened,
            [
                "status",
                "message",
                "due_on",
                "closed_at",
                "closed_by",
                "snoozed_until",
                "reopened_at",
                "reopen_note",
            ],
            batch_size=2000,
        )
        hooks_run("ALERTS_OPENED_HOOKS", alerts=fresh)
        Event.objects.bulk_create(
            [
                Event(
                    account_id=a.account_id,
                    kind=Event.Kind.ALERT,
                    occurred_at=now,
                    summary=f"{rule.name}: {a.message}"[:500],
                    data={"rule": rule.pk, "alert": a.pk},
                )
                for a in fresh
            ]
            + [
                Event(
                    account_id=a.account_id,
                    kind=Event.Kind.ALERT,
                    occurred_at=now,
                    summary=f"{rule.name}: {a.message} — {a.reopen_note}"[:500],
                    data={"rule": rule.pk, "alert": a.pk},
                )
                for a in reopened
            ],
            batch_size=2000,
        )
        firing = fresh + snooze_ended
        if rule.is_expansion and firing:
            signals = ExpansionSignal.objects.bulk_create(
                [
                    ExpansionSignal(
                        account_id=a.account_id,
                        alert=a,
                        source=ExpansionSignal.Source.RULE,
                        note=a.message,
                        raised_at=now,
                        follow_up_by=now + timedelta(hours=24),
                    )
                    for a in firing
                ]
            )
            hooks_run("EXPANSION_SIGNALS_RAISED_HOOKS", signals=signals)
            run.signals += len(firing)
        gone = [a for where, a in held.items() if where not in matches]
        # An event's live alert waits for a person; only closed ones let go.
        cleared = [] if is_event else [a.pk for a in gone if a.is_live]
        Alert.objects.filter(pk__in=cleared).update(
            status=Alert.Status.RESOLVED,
            closed_at=now,
            note="Condition cleared",
            condition_cleared_at=now,
        )
        # Closed alerts let go of the rule: when the condition comes back, it is news.
        Alert.objects.filter(pk__in=[a.pk for a in gone if not a.is_live]).update(
            condition_cleared_at=now
        )
        run.opened[rule.name] = len(fresh)
        run.reopened[rule.name] = len(reopened)
        run.cleared[rule.name] = len(cleared)
    return run


@transaction.atomic
def alert_close(
    *, alert: Alert, status: str, note: str, by: User, snooze_days: int | None = None
) -> Alert:
    """Acknowledge, resolve or dismiss an alert; dismissing needs a note.

    A dismissed alert stays quiet while its condition holds; `snooze_days`
    brings it back that many days from today if the condition still holds
    then. A resolved one comes back when the condition still holds after the
    rule's `reopen_after_days` (see `alerts_evaluate`)."""
    if status not in (Alert.Status.ACKNOWLEDGED, Alert.Status.RESOLVED, Alert.Status.DISMISSED):
        raise ValidationError({"status": "Choose acknowledge, resolve or dismiss."})
    if not alert.is_live:
        raise ValidationError("This alert is already closed.")
    if status == Alert.Status.DISMISSED and not note.strip():
        raise ValidationError({"note": "Say why the alert is dismissed."})
    if snooze_days is not None and status != Alert.Status.DISMISSED:
        raise ValidationError({"snooze_days": "Only a dismissed alert can be snoozed."})
    if snooze_days is not None and not 1 <= snooze_days <= 365:
        raise ValidationError({"snooze_days": "Snooze for 1 to 365 days."})
    alert.status = status
    alert.note = note.strip()
    alert.snoozed_until = (
        timezone.localdate() + timedelta(days=snooze_days) if snooze_days else None
    )
    if status != Alert.Status.ACKNOWLEDGED:
        alert.closed_at, alert.closed_by = timezone.now(), by
    alert.save(update_fields=["status", "note", "closed_at", "closed_by", "snoozed_until"])
    verb = alert.get_status_display().lower()
    if alert.snoozed_until:
        verb += f" until {date_display(alert.snoozed_until)}"
    event_record(
        account=alert.account,
        kind=Event.Kind.ALERT,
        actor=by,
        summary=f"Alert {verb}: {alert.message}" + (f" — {alert.note}" if alert.note else ""),
    )
    return alert


@transaction.atomic
def expansion_signal_raise(
    *, account: Account, note: str, source: str, by: User | None
) -> ExpansionSignal:
    """Raise an expansion signal by hand; the owner must follow up within 24 hours."""
    if not note.strip():
        raise ValidationError({"note": "Say what points to expansion."})
    signal = ExpansionSignal.objects.create(
        account=account, note=note.strip(), source=source, raised_by=by
    )
    event_record(
        account=account,
        kind=Event.Kind.EXPANSION,
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
        kind=Event.Kind.EXPANSION,
        actor=by,
        summary=f"Expansion signal followed up: {signal.outcome}",
    )
    return signal

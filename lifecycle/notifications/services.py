"""Every write of notifications: the outbox rows an event causes (in the event's
own transaction), preferences, reads and unsubscribes."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import partial

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import Account, User
from success.alerts.models import Alert, AlertRule, ExpansionSignal, RuleKind

from . import selectors
from .models import (
    Channel,
    Delivery,
    Kind,
    Notification,
    Preference,
    Profile,
    RuleSetting,
    SlackWebhook,
)

# Alert kinds that notify the owner at once unless an admin set the rule otherwise.
IMMEDIATE_KINDS = {RuleKind.DETRACTOR}


@dataclass
class Draft:
    """One notification to write, with where it goes."""

    key: str
    kind: str
    title: str
    body: str
    path: str
    recipient_id: int | None = None
    account_id: int | None = None
    html: str = ""
    in_app: bool = False
    email: str = ""
    webhooks: list[SlackWebhook] = field(default_factory=list)


def outbox_write(*, drafts: Sequence[Draft]) -> list[Delivery]:
    """Write notifications and their deliveries in the caller's transaction, and
    queue the deliveries once it commits. A draft with nowhere to go is dropped.
    Two inserts whatever the count (in batches of 2,000)."""
    drafts = [d for d in drafts if d.in_app or d.email or d.webhooks]
    if not drafts:
        return []
    now = timezone.now()
    rows = Notification.objects.bulk_create(
        [
            Notification(
                key=d.key,
                kind=d.kind,
                recipient_id=d.recipient_id,
                account_id=d.account_id,
                title=d.title[:300],
                body=d.body,
                html=d.html,
                path=d.path,
                in_app=d.in_app,
                created_at=now,
            )
            for d in drafts
        ],
        batch_size=2000,
    )
    deliveries: list[Delivery] = []
    for d, n in zip(drafts, rows, strict=True):
        if d.email:
            deliveries.append(
                Delivery(
                    notification=n,
                    channel=Channel.EMAIL,
                    address=d.email,
                    key=Delivery.make_key(d.key, Channel.EMAIL, d.email),
                    next_attempt_at=now,
                    created_at=now,
                )
            )
        deliveries.extend(
            Delivery(
                notification=n,
                channel=Channel.SLACK,
                webhook=hook,
                key=Delivery.make_key(d.key, Channel.SLACK, str(hook.pk)),
                next_attempt_at=now,
                created_at=now,
            )
            for hook in d.webhooks
        )
    created = Delivery.objects.bulk_create(deliveries, batch_size=2000)
    if created:
        from .tasks import enqueue_deliveries

        transaction.on_commit(partial(enqueue_deliveries, [x.pk for x in created]), robust=True)
    return created


def _team_hooks(
    owner_id: int | None, profiles: dict[int, Profile], routes: dict[int, list[SlackWebhook]]
) -> list[SlackWebhook]:
    if owner_id is None:
        return []
    leader = profiles[owner_id].team_leader_id if owner_id in profiles else None
    return list(routes.get(leader, [])) if leader else []


Event = tuple[str, Account, str, str, str, list[SlackWebhook]]


def _owner_drafts(
    *,
    kind: str,
    events: list[Event],
) -> list[Draft]:
    """Drafts for (key, account, title, body, path, extra hooks) events, to each
    account's owner by their preferences, and to Slack once per event."""
    owner_ids = [a.owner_id for _, a, *_ in events if a.owner_id]
    choices = selectors.choices_for(owner_ids)
    profiles = selectors.profiles_for(owner_ids)
    company, teams = selectors.slack_routes()
    owners = {u.pk: u for u in User.objects.filter(pk__in=owner_ids, is_active=True)}
    drafts = []
    for key, account, title, body, path, hooks in events:
        owner = owners.get(account.owner_id) if account.owner_id else None
        choice = choices[owner.pk][kind] if owner else None
        webhooks = hooks or [*company, *_team_hooks(account.owner_id, profiles, teams)]
        drafts.append(
            Draft(
                key=f"{key}:{owner.pk if owner else 'slack'}",
                kind=kind,
                title=title,
                body=body,
                path=path,
                recipient_id=owner.pk if owner else None,
                account_id=account.pk,
                in_app=bool(choice and choice.in_app),
                email=owner.email if owner and choice and choice.email else "",
                webhooks=list({h.pk: h for h in webhooks}.values()),
            )
        )
    return drafts


def expansion_signals_notify(*, signals: Iterable[ExpansionSignal]) -> list[Delivery]:
    """EXPANSION_SIGNALS_RAISED_HOOKS entry: tell each account's owner at once,
    since the follow-up clock is 24 hours; Slack gets it once per signal."""
    signals = [s for s in signals if s.pk]
    if not signals:
        return []
    accounts = Account.objects.in_bulk([s.account_id for s in signals])
    events: list[Event] = []
    for s in signals:
        account = accounts[s.account_id]
        due = timezone.localtime(s.follow_up_by)
        events.append(
            (
                f"expansion_signal:{s.pk}",
                account,
                f"Expansion signal: {account.name}",
                f"{s.note}\nFollow up by {due:%b %-d, %H:%M %Z} (24 hours).",
                f"{reverse('alerts:signals')}#signal-{s.pk}",
                [],
            )
        )
    return outbox_write(drafts=_owner_drafts(kind=Kind.EXPANSION, events=events))


def alerts_notify(*, alerts: Iterable[Alert]) -> list[Delivery]:
    """ALERTS_OPENED_HOOKS entry: alerts whose rule is set to notify at once, on
    accounts at or above the rule's ARR, go to the owner now (the others wait
    for the digest). Constant queries for any number of alerts."""
    alerts = [a for a in alerts if a.pk]
    settings_by_rule = selectors.rule_settings(a.rule_id for a in alerts)
    rule_field = Alert._meta.get_field("rule")
    kinds = {a.rule_id: a.rule.kind for a in alerts if rule_field.is_cached(a)}
    if missing := {a.rule_id for a in alerts} - set(kinds):
        kinds |= dict(AlertRule.objects.filter(pk__in=missing).values_list("pk", "kind"))
    # A rule the admin never set notifies at once when its kind cannot wait (a
    # detractor's answer), else only in the digest.
    default = {pk: RuleSetting(rule_id=pk, immediate=kinds[pk] in IMMEDIATE_KINDS) for pk in kinds}
    settings_by_rule = {**default, **settings_by_rule}
    urgent = [
        a for a in alerts if a.rule_id in settings_by_rule and settings_by_rule[a.rule_id].immediate
    ]
    if not urgent:
        return []
    accounts = Account.objects.in_bulk([a.account_id for a in urgent])
    events: list[Event] = []
    for a in urgent:
        account = accounts[a.account_id]
        setting = settings_by_rule[a.rule_id]
        if account.arr < (setting.min_arr or Decimal("0")):
            continue
        hooks = [setting.slack_webhook] if setting.slack_webhook else []
        events.append(
            (
                f"alert:{a.pk}",
                account,
                f"Alert: {account.name} — {a.message}"[:300],
                f"{a.message}\nARR {account.arr:,.0f} {account.currency}. "
                f"Act by {a.due_on:%b %-d}.",
                f"{reverse('alerts:list')}#alert-{a.pk}",
                hooks,
            )
        )
    return outbox_write(drafts=_owner_drafts(kind=Kind.ALERT, events=events))


# ---- Preferences ----


@transaction.atomic
def preferences_save(
    *, user: User, time_zone: str, digest_hour: int, choices: dict[str, tuple[bool, bool]]
) -> Profile:
    """Save a person's zone, digest hour and channels per kind ((email, in_app))."""
    profile = selectors.profile_of(user)
    profile.time_zone, profile.digest_hour = time_zone, digest_hour
    profile.full_clean(exclude=["user"])
    profile.save()
    for kind, (email, in_app) in choices.items():
        if kind not in Kind.values:
            raise ValidationError({"kind": f"Unknown kind “{kind}”."})
        Preference.objects.update_or_create(
            user=user, kind=kind, defaults={"email": email, "in_app": in_app}
        )
    return profile


@transaction.atomic
def defaults_save(*, choices: dict[str, tuple[bool, bool]]) -> None:
    """An admin's defaults: what people who never chose get, per kind."""
    for kind, (email, in_app) in choices.items():
        if kind not in Kind.values:
            raise ValidationError({"kind": f"Unknown kind “{kind}”."})
        Preference.objects.update_or_create(
            user=None, kind=kind, defaults={"email": email, "in_app": in_app}
        )


@transaction.atomic
def unsubscribe(*, user: User, kind: str) -> None:
    """Stop emails of one kind for one person (from the signed link)."""
    if kind not in Kind.values:
        raise ValidationError({"kind": f"Unknown kind “{kind}”."})
    current = selectors.choices_for([user.pk])[user.pk][kind]
    Preference.objects.update_or_create(
        user=user, kind=kind, defaults={"email": False, "in_app": current.in_app}
    )


def notification_mark_read(*, notification: Notification) -> Notification:
    if notification.read_at is None:
        notification.read_at = timezone.now()
        Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(
            read_at=notification.read_at
        )
    return notification


def notifications_mark_all_read(*, user: User) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).update(
        read_at=timezone.now()
    )


def delivery_retry(*, delivery: Delivery) -> Delivery:
    """An admin sends a failed delivery again now (attempts start over)."""
    if delivery.status == Delivery.Status.SENT:
        raise ValidationError("This delivery was already sent.")
    Delivery.objects.filter(pk=delivery.pk).exclude(status=Delivery.Status.SENT).update(
        status=Delivery.Status.PENDING, attempts=0, next_attempt_at=timezone.now()
    )
    from .tasks import enqueue_deliveries

    transaction.on_commit(partial(enqueue_deliveries, [delivery.pk]), robust=True)
    delivery.refresh_from_db()
    return delivery

"""Every read of the notifications pages and writers."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.db.models import QuerySet

from accounts.models import User

from .models import (
    BUILTIN_DEFAULTS,
    Delivery,
    Kind,
    Notification,
    Preference,
    Profile,
    RuleSetting,
    SlackWebhook,
)


@dataclass(frozen=True)
class Choice:
    email: bool
    in_app: bool


Choices = dict[str, Choice]


def default_choices() -> Choices:
    """The admins' defaults per kind, else the built-in ones. One query."""
    out = {kind: Choice(**flags) for kind, flags in BUILTIN_DEFAULTS.items()}
    for p in Preference.objects.filter(user__isnull=True):
        out[p.kind] = Choice(email=p.email, in_app=p.in_app)
    return out


def choices_for(user_ids: Iterable[int]) -> dict[int, Choices]:
    """Each person's channel per kind: their own choice, else the default. Two
    queries whatever the number of people."""
    ids = list(set(user_ids))
    defaults = default_choices()
    out: dict[int, Choices] = {pk: dict(defaults) for pk in ids}
    if ids:
        for p in Preference.objects.filter(user_id__in=ids):
            assert p.user_id is not None
            out[p.user_id][p.kind] = Choice(email=p.email, in_app=p.in_app)
    return out


def profiles_for(user_ids: Iterable[int]) -> dict[int, Profile]:
    """Saved profiles, and unsaved default ones for people who never chose. One query."""
    ids = list(set(user_ids))
    found = {p.user_id: p for p in Profile.objects.filter(user_id__in=ids)}
    return {pk: found.get(pk) or Profile(user_id=pk) for pk in ids}


def profile_of(user: User) -> Profile:
    return Profile.objects.filter(user=user).first() or Profile(user=user)


def slack_routes() -> tuple[list[SlackWebhook], dict[int, list[SlackWebhook]]]:
    """Active webhooks: the company-wide ones, and each team leader's. One query."""
    company: list[SlackWebhook] = []
    teams: dict[int, list[SlackWebhook]] = {}
    for hook in SlackWebhook.objects.filter(is_active=True):
        if hook.team_leader_id is None:
            company.append(hook)
        else:
            teams.setdefault(hook.team_leader_id, []).append(hook)
    return company, teams


def rule_settings(rule_ids: Iterable[int]) -> dict[int, RuleSetting]:
    return {
        s.rule_id: s
        for s in RuleSetting.objects.filter(rule_id__in=set(rule_ids)).select_related(
            "slack_webhook"
        )
    }


def inbox(*, user: User) -> QuerySet[Notification]:
    return Notification.objects.filter(recipient=user, in_app=True).select_related("account")


def unread_count(*, user: User) -> int:
    return Notification.objects.filter(recipient=user, in_app=True, read_at__isnull=True).count()


def deliveries_needing_attention() -> QuerySet[Delivery]:
    """Failed deliveries, and those waiting for a retry after an error, newest first."""
    return (
        Delivery.objects.exclude(status=Delivery.Status.SENT)
        .exclude(last_error="")
        .select_related("notification__recipient", "webhook")
    )


def delivery_counts() -> dict[str, int]:
    from django.db.models import Count

    rows = Delivery.objects.values("status").annotate(n=Count("id"))
    counts = {s: 0 for s in Delivery.Status.values}
    counts.update({r["status"]: r["n"] for r in rows})
    return counts


def digest_kinds() -> list[tuple[str, str]]:
    return [(k.value, k.label) for k in Kind]


def site_url() -> str:
    return str(settings.SITE_URL)

"""Notifications: who wants what where (profiles, preferences, Slack routes) and
the outbox (one Notification per event and person, one Delivery per channel).

A Notification is written in the same transaction as the event that causes it,
under a unique key, so an event never notifies twice; each Delivery carries its
own unique idempotency key and is sent by a django-q2 task (see `outbox.py`).
"""

from __future__ import annotations

import hashlib
import zoneinfo
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone


class Kind(models.TextChoices):
    DIGEST = "digest", "Daily digest"
    ALERT = "alert", "Alerts that cannot wait (rules set to notify at once)"
    EXPANSION = "expansion_signal", "Expansion signals (24-hour follow-up)"


class Channel(models.TextChoices):
    EMAIL = "email", "Email"
    SLACK = "slack", "Slack"


# What a kind does when neither the person nor an admin said otherwise.
BUILTIN_DEFAULTS: dict[str, dict[str, bool]] = {
    Kind.DIGEST: {"email": True, "in_app": False},
    Kind.ALERT: {"email": True, "in_app": True},
    Kind.EXPANSION: {"email": True, "in_app": True},
}


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"“{value}” is not a time zone (e.g. Europe/Paris, Asia/Tokyo).")


def default_time_zone() -> str:
    return str(settings.TIME_ZONE)


def default_digest_hour() -> int:
    return int(settings.NOTIFY_DEFAULT_DIGEST_HOUR)


class Profile(models.Model):
    """A person's time zone, digest hour and team; made on first need."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_profile"
    )
    time_zone = models.CharField(
        max_length=64, default=default_time_zone, validators=[validate_time_zone]
    )
    digest_hour = models.PositiveSmallIntegerField(
        default=default_digest_hour,
        validators=[MaxValueValidator(23)],
        help_text="Local hour (0-23) the daily digest is sent at.",
    )
    team_leader = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="team_profiles",
        help_text="The leader whose roll-up and team Slack channel include this person.",
    )
    # The local date of the last digest considered (sent or empty), so the
    # frequent schedule looks at each person once a day.
    last_digest_on = models.DateField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(digest_hour__lte=23), name="notifications_digest_hour_valid"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user}: {self.time_zone}, digest at {self.digest_hour}:00"

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)


class Preference(models.Model):
    """Which channels one kind goes to: a person's own choice, or an admin's
    default for everybody (user empty)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="notification_preferences",
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    email = models.BooleanField(default=True)
    in_app = models.BooleanField("in the app", default=True)

    class Meta:
        constraints = [
            # One row per person and kind, and one default (no person) per kind; two
            # partial constraints say it on PostgreSQL and SQLite alike.
            models.UniqueConstraint(
                fields=["user", "kind"],
                condition=Q(user__isnull=False),
                name="notifications_one_preference_per_user_kind",
            ),
            models.UniqueConstraint(
                fields=["kind"],
                condition=Q(user__isnull=True),
                name="notifications_one_default_per_kind",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user or 'default'} {self.kind}: email={self.email} in_app={self.in_app}"


class SlackWebhook(models.Model):
    """An incoming-webhook URL an admin set: a team's (its leader's people), or,
    with no leader, the whole company's. Rules can name one of their own."""

    name = models.CharField(max_length=120)
    url = models.URLField(max_length=500)
    team_leader = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        help_text="Empty: every immediate notification goes here.",
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class RuleSetting(models.Model):
    """How an alert rule notifies: at once (email, in-app, Slack) for accounts at
    or above an ARR, or only in the daily digest."""

    rule = models.OneToOneField(
        "alerts.AlertRule", on_delete=models.CASCADE, related_name="notification_setting"
    )
    immediate = models.BooleanField(
        default=False, help_text="Notify the owner as soon as the alert opens."
    )
    min_arr = models.DecimalField(
        "only for ARR at least",
        max_digits=14,
        decimal_places=2,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0"))],
    )
    slack_webhook = models.ForeignKey(
        SlackWebhook,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="rules",
        help_text="Also post to this channel (instead of the team's).",
    )

    def __str__(self) -> str:
        return f"{self.rule}: immediate={self.immediate} from ARR {self.min_arr}"


class Notification(models.Model):
    """One thing to tell one person (or a Slack channel only, recipient empty)."""

    key = models.CharField(max_length=200, unique=True)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    account = models.ForeignKey(
        "accounts.Account", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    title = models.CharField(max_length=300)
    body = models.TextField(blank=True)
    html = models.TextField(blank=True, help_text="Rendered email body (digests).")
    path = models.CharField(max_length=300, help_text="The page it is about, site-relative.")
    in_app = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["recipient", "created_at"],
                condition=Q(in_app=True),
                name="notifications_inbox",
            ),
            models.Index(
                fields=["recipient"],
                condition=Q(in_app=True, read_at__isnull=True),
                name="notifications_unread",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class Delivery(models.Model):
    """One send of one notification on one channel to one target. The key is
    the idempotency key: a second write for the same notification, channel and
    target is refused by the database, so a delivery is queued once."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    notification = models.ForeignKey(
        Notification, on_delete=models.CASCADE, related_name="deliveries"
    )
    channel = models.CharField(max_length=10, choices=Channel.choices)
    key = models.CharField(max_length=255, unique=True)
    address = models.CharField(max_length=254, blank=True)
    webhook = models.ForeignKey(
        SlackWebhook, null=True, blank=True, on_delete=models.CASCADE, related_name="deliveries"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    # While sending, the lease: a worker that died mid-send leaves a lease that
    # runs out, and the sweep sends again.
    lease_until = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "deliveries"
        constraints = [
            models.CheckConstraint(
                condition=Q(channel="email", webhook__isnull=True)
                | Q(channel="slack", webhook__isnull=False),
                name="notifications_delivery_target_matches_channel",
            )
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status__in=["pending", "sending"]),
                name="notifications_due",
            )
        ]

    def __str__(self) -> str:
        return f"{self.channel} #{self.pk} {self.status}"

    @staticmethod
    def make_key(notification_key: str, channel: str, target: str) -> str:
        digest = hashlib.sha256(target.encode()).hexdigest()[:16]
        return f"{notification_key}|{channel}|{digest}"

    @property
    def message_id(self) -> str:
        """The email's Message-ID, derived from the key: a resend after a crash
        between the server's acceptance and our commit is the same message."""
        return f"<{hashlib.sha256(self.key.encode()).hexdigest()[:32]}@lifecycle.notifications>"

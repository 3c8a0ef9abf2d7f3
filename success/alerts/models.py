"""Alert rules (admins configure), the alerts they open, and expansion signals."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from accounts.models import Account


class RuleKind(models.TextChoices):
    HEALTH_DROP = "health_drop", "Health dropped"
    NO_LOGIN = "no_login", "No product login"
    RENEWAL_WITHOUT_REVIEW = "renewal_without_review", "Renewal near, no recent business review"
    ONBOARDING_LATE = "onboarding_late", "Onboarding milestone overdue"
    SEAT_EXPANSION = "seat_expansion", "Seat usage high with advanced features (expansion)"


# What each rule's numbers mean, shown next to the form fields.
RULE_PARAMS: dict[str, dict[str, str]] = {
    RuleKind.HEALTH_DROP: {"threshold": "drop of at least (%)", "days": "within (days)"},
    RuleKind.NO_LOGIN: {"days": "no login for (days)"},
    RuleKind.RENEWAL_WITHOUT_REVIEW: {
        "days": "renewal within (days)",
        "second_days": "no review in the last (days)",
    },
    RuleKind.ONBOARDING_LATE: {},
    RuleKind.SEAT_EXPANSION: {
        "threshold": "seats used at least (% of purchased)",
        "minimum": "core features adopted at least",
    },
}
EXPANSION_KINDS = {RuleKind.SEAT_EXPANSION}


class AlertRule(models.Model):
    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=30, choices=RuleKind.choices)
    threshold = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(100)]
    )
    days = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(730)]
    )
    second_days = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(730)]
    )
    minimum = models.PositiveSmallIntegerField(null=True, blank=True)
    due_in_days = models.PositiveSmallIntegerField(
        default=3, help_text="The owner should act within this many days."
    )
    reopen_after_days = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        default=14,
        validators=[MinValueValidator(1), MaxValueValidator(365)],
        help_text="A resolved alert opens again when its condition still holds this many "
        "days later. Empty: never.",
    )
    is_active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        needed = RULE_PARAMS.get(self.kind, {})
        errors = {
            field: f"Required for “{self.get_kind_display()}”: {label}."
            for field, label in needed.items()
            if getattr(self, field) in (None, "")
        }
        if errors:
            raise ValidationError(errors)

    @property
    def is_expansion(self) -> bool:
        return self.kind in EXPANSION_KINDS

    def describe(self) -> str:
        parts = [
            f"{label} {getattr(self, field)}"
            for field, label in RULE_PARAMS.get(self.kind, {}).items()
        ]
        return f"{self.get_kind_display()}" + (f": {', '.join(parts)}" if parts else "")


class Alert(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", "Open"
        ACKNOWLEDGED = "acknowledged", "Acknowledged"
        RESOLVED = "resolved", "Resolved"
        DISMISSED = "dismissed", "Dismissed"

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="alerts")
    rule = models.ForeignKey(AlertRule, on_delete=models.PROTECT, related_name="alerts")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    message = models.CharField(max_length=300)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.OPEN)
    opened_at = models.DateTimeField(default=timezone.now)
    due_on = models.DateField()
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.TextField(blank=True)
    # A dismissed alert stays quiet while its condition holds; with a snooze it
    # opens again on this day if the condition still holds then.
    snoozed_until = models.DateField(null=True, blank=True)
    # When the rule stopped matching the account after this alert opened. Until
    # then the alert holds its rule for the account: a closed alert keeps the
    # rule from opening another (see `alerts_evaluate`).
    condition_cleared_at = models.DateTimeField(null=True, blank=True)
    reopened_at = models.DateTimeField(null=True, blank=True)
    reopen_note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["due_on", "-opened_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "rule"],
                condition=Q(status__in=["open", "acknowledged"]),
                name="one_live_alert_per_account_rule",
            ),
            models.UniqueConstraint(
                fields=["rule", "account"],
                condition=Q(condition_cleared_at__isnull=True),
                name="one_holding_alert_per_rule_account",
            ),
        ]
        indexes = [models.Index(fields=["owner", "status", "due_on"])]

    def __str__(self) -> str:
        return self.message

    @property
    def is_live(self) -> bool:
        return self.status in (self.Status.OPEN, self.Status.ACKNOWLEDGED)

    @property
    def is_snoozed(self) -> bool:
        return (
            self.status == self.Status.DISMISSED
            and self.snoozed_until is not None
            and self.condition_cleared_at is None
        )


def follow_up_deadline() -> object:
    return timezone.now() + timedelta(hours=24)


class ExpansionSignal(models.Model):
    """A hint that the account could buy more; must be followed up within 24 hours."""

    class Source(models.TextChoices):
        CSM = "csm", "CSM"
        SUPPORT = "support", "Support"
        RULE = "rule", "Alert rule"

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="expansion_signals")
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.CSM)
    note = models.TextField()
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    raised_at = models.DateTimeField(default=timezone.now)
    follow_up_by = models.DateTimeField(default=follow_up_deadline)
    followed_up_at = models.DateTimeField(null=True, blank=True)
    followed_up_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    outcome = models.TextField(blank=True)
    # The alert whose firing raised this signal (rule signals only): a rule
    # raises one signal per firing, never one per run.
    alert = models.ForeignKey(
        Alert, null=True, blank=True, on_delete=models.SET_NULL, related_name="signals"
    )

    class Meta:
        ordering = ["follow_up_by"]

    def __str__(self) -> str:
        return f"{self.account}: {self.note[:40]}"

    @property
    def overdue(self) -> bool:
        return self.followed_up_at is None and self.follow_up_by < timezone.now()

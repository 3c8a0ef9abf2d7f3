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
from accounts.support.models import Engagement, FeedbackSubmission, Ticket


class RuleKind(models.TextChoices):
    HEALTH_DROP = "health_drop", "Health dropped"
    NO_LOGIN = "no_login", "No product login"
    RENEWAL_WITHOUT_REVIEW = "renewal_without_review", "Renewal near, no recent business review"
    ONBOARDING_LATE = "onboarding_late", "Onboarding milestone overdue"
    SEAT_EXPANSION = "seat_expansion", "Seat usage high with advanced features (expansion)"
    DETRACTOR = "detractor", "Detractor survey response"
    ESCALATED_TICKET = "escalated_ticket", "Escalated ticket open too long"
    TICKETS_UP = "tickets_up", "Support tickets rising"
    NO_TOUCH = "no_touch", "No touch on a large account"


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
    RuleKind.DETRACTOR: {"days": "answered in the last (days)"},
    RuleKind.ESCALATED_TICKET: {"days": "open longer than (days)"},
    RuleKind.TICKETS_UP: {
        "threshold": "opened in 30 days up by at least (% on the 30 before)",
        "minimum": "and at least (tickets in the last 30 days)",
    },
    RuleKind.NO_TOUCH: {
        "days": "no touch and no login for (days)",
        "arr_threshold": "on accounts with ARR at least",
    },
}
EXPANSION_KINDS = {RuleKind.SEAT_EXPANSION}
# Rules whose alerts are about one record (a survey answer, a ticket), not the account:
# one alert per record, each linking to it.
RECORD_KINDS = {RuleKind.DETRACTOR, RuleKind.ESCALATED_TICKET}
# Rules about something that happened once (a survey answer): its alert never reopens
# and stays with its owner until a person closes it.
EVENT_KINDS = {RuleKind.DETRACTOR}
# Kinds whose threshold is a share (at most 100%).
PERCENT_KINDS = {RuleKind.HEALTH_DROP, RuleKind.SEAT_EXPANSION}


class AlertRule(models.Model):
    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=30, choices=RuleKind.choices)
    threshold = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(1000)]
    )
    days = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(730)]
    )
    second_days = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(730)]
    )
    minimum = models.PositiveSmallIntegerField(null=True, blank=True)
    arr_threshold = models.DecimalField(
        "ARR at least",
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
    )
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
        if self.kind in PERCENT_KINDS and self.threshold is not None and self.threshold > 100:
            errors["threshold"] = "A share of 100% at most."
        if self.kind == RuleKind.TICKETS_UP and self.minimum is not None and self.minimum < 2:
            errors["minimum"] = (
                "At least 2 tickets, so one ticket more than none or one is not a rise."
            )
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
    # What the alert is about within the account: "" for the account itself, else the
    # record ("feedback:12", "ticket:7"), linked below. One alert per rule and key.
    key = models.CharField(max_length=40, blank=True, default="")
    ticket = models.ForeignKey(
        Ticket, null=True, blank=True, on_delete=models.SET_NULL, related_name="alerts"
    )
    feedback = models.ForeignKey(
        FeedbackSubmission, null=True, blank=True, on_delete=models.SET_NULL, related_name="alerts"
    )
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
                fields=["account", "rule", "key"],
                condition=Q(status__in=["open", "acknowledged"]),
                name="one_live_alert_per_account_rule_key",
            ),
            models.UniqueConstraint(
                fields=["rule", "account", "key"],
                condition=Q(condition_cleared_at__isnull=True),
                name="one_holding_alert_per_rule_account_key",
            ),
        ]
        indexes = [
            models.Index(fields=["owner", "status", "due_on"]),
            # The alerts page's order over live alerts: a page of 50 reads the first
            # few hundred entries, keeping those of the person's accounts, instead of
            # every live alert sorted (200 ms at 100,000 accounts, migration 0006).
            # Ties by id, so pages never repeat or skip an alert; the account in the
            # entry, so the walk and the page's count need not read the alerts
            # (migration 0007, docs/performance.md).
            models.Index(
                fields=["due_on", "-opened_at", "id", "account"],
                condition=Q(status__in=["open", "acknowledged"]),
                name="alert_live_due_idx",
            ),
            # A person's live alerts counted through their accounts (the alerts page's
            # count): both sides read from indexes alone and merged by account, where
            # every live alert's row was scanned (10,000 accounts: 7.5 -> 2.7 ms in
            # EXPLAIN ANALYZE, migration 0008).
            models.Index(
                fields=["account"],
                condition=Q(status__in=["open", "acknowledged"]),
                name="alert_live_account_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.message

    @property
    def is_live(self) -> bool:
        return self.status in (self.Status.OPEN, self.Status.ACKNOWLEDGED)

    @property
    def record(self) -> Ticket | FeedbackSubmission | None:
        """The ticket or survey answer the alert is about (select_related them)."""
        return self.ticket or self.feedback

    @property
    def is_snoozed(self) -> bool:
        return (
            self.status == self.Status.DISMISSED
            and self.snoozed_until is not None
            and self.condition_cleared_at is None
        )


class LiveAlertCount(models.Model):
    """How many live (open or acknowledged) alerts the accounts of each owner hold
    (`owner_key` 0: unassigned accounts): what the alerts page counts for a CSM's
    inbox (their accounts' live alerts) and, summed, for everyone else, instead of
    joining every live alert to the accounts (39 ms at 100,000 accounts for a CSM with
    19,130 of them, docs/performance.md, "Alerts at 100,000 accounts").

    On PostgreSQL triggers keep it (alerts migration 0009), in the transaction of each
    alert insert, delete, status or account change, and of each account's change of
    owner or deletion, so a read sees what `COUNT(*)` would in the same snapshot.
    Nothing else writes it; elsewhere (SQLite) it stays empty and the page counts
    (`success.alerts.selectors.live_alert_counts`)."""

    # The account owner's id, 0 for unassigned accounts. Not a foreign key, as
    # accounts.LiveAccountCount: a deleted owner's accounts become unassigned through
    # the account's own SET NULL, which the account trigger counts.
    owner_key = models.BigIntegerField(unique=True)
    alerts = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.owner_key or 'unassigned'}: {self.alerts}"


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
    # The ticket or note whose expansion hint raised this signal (support signals from
    # sync): one signal per record, however often it syncs.
    ticket = models.ForeignKey(
        Ticket, null=True, blank=True, on_delete=models.SET_NULL, related_name="signals"
    )
    engagement = models.ForeignKey(
        Engagement, null=True, blank=True, on_delete=models.SET_NULL, related_name="signals"
    )

    class Meta:
        ordering = ["follow_up_by"]
        constraints = [
            models.UniqueConstraint(
                fields=["ticket"], condition=Q(ticket__isnull=False), name="one_signal_per_ticket"
            ),
            models.UniqueConstraint(
                fields=["engagement"],
                condition=Q(engagement__isnull=False),
                name="one_signal_per_engagement",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.account}: {self.note[:40]}"

    @property
    def overdue(self) -> bool:
        return self.followed_up_at is None and self.follow_up_by < timezone.now()

    @property
    def in_time(self) -> bool:
        """Followed up (a person recorded the outcome) by the due time."""
        return self.followed_up_at is not None and self.followed_up_at <= self.follow_up_by

    @property
    def record(self) -> Ticket | Engagement | None:
        return self.ticket or self.engagement


class ExpansionHint(models.Model):
    """What in a support record points to expansion (one row, admins edit it): ticket
    categories (HubSpot's internal values, e.g. UPGRADE_REQUEST) and keywords matched,
    as whole words and ignoring case, on ticket subjects and on notes' subjects and text
    as synced (email bodies are never synced)."""

    ticket_categories = models.CharField(
        max_length=500,
        blank=True,
        help_text="Ticket categories (internal values, comma-separated), e.g. UPGRADE_REQUEST.",
    )
    keywords = models.TextField(
        blank=True,
        help_text="One keyword or phrase per line, e.g. “more seats”, “upgrade”.",
    )
    is_active = models.BooleanField(default=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return "Expansion hints"

    @property
    def category_list(self) -> list[str]:
        return [c.strip().upper() for c in self.ticket_categories.split(",") if c.strip()]

    @property
    def keyword_list(self) -> list[str]:
        return [k.strip() for k in self.keywords.splitlines() if k.strip()]

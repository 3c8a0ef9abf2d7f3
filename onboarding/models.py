"""Onboarding templates (configured by admins), the plans that copy them onto
one account, the plan's milestones and an audit row for every change.

A plan copies its template's milestones when it starts and records the
template version, so editing a template never rewrites a plan that is running.
Plan status and progress are derived from the milestones and the date (see
`onboarding.status`), stored only so lists can filter and sort on them.
"""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from accounts.models import Account, Segment


class MilestoneKind(models.TextChoices):
    KICKOFF = "kickoff", "Kickoff"
    CONFIGURATION = "configuration", "Configuration"
    INTEGRATION = "integration", "Integration"
    TRAINING = "training", "Training"
    FIRST_VALUE = "first_value", "First value"
    GO_LIVE = "go_live", "Go-live"
    ADOPTION_CHECKPOINT = "adoption_checkpoint", "Adoption checkpoint"


class OwnerSide(models.TextChoices):
    CSM = "csm", "CSM"
    CUSTOMER = "customer", "Customer"
    IMPLEMENTATION = "implementation", "Implementation"


class PlanStatus(models.TextChoices):
    NOT_STARTED = "not_started", "Not started"
    ON_TRACK = "on_track", "On track"
    AT_RISK = "at_risk", "At risk"
    LATE = "late", "Late"
    COMPLETED = "completed", "Completed"


class OnboardingTemplate(models.Model):
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    segments = models.JSONField(
        default=list,
        blank=True,
        help_text="Segments this template suits (values of accounts.models.Segment).",
    )
    is_active = models.BooleanField(
        "active", default=False, help_text="Only active templates can start new plans."
    )
    archived_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(
        default=1, help_text="Goes up with every change to the template or its milestones."
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(archived_at__isnull=True) | Q(is_active=False),
                name="onboarding_archived_template_inactive",
            )
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("onboarding:template", args=[self.pk])

    def clean(self) -> None:
        unknown = set(self.segments or []) - set(Segment.values)
        if unknown:
            raise ValidationError({"segments": f"Unknown segment(s): {', '.join(sorted(unknown))}"})

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None

    def segment_labels(self) -> list[str]:
        return [Segment(s).label for s in self.segments if s in Segment.values]


class MilestoneTemplate(models.Model):
    template = models.ForeignKey(
        OnboardingTemplate, on_delete=models.CASCADE, related_name="milestones"
    )
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    kind = models.CharField(max_length=24, choices=MilestoneKind.choices)
    due_offset_days = models.PositiveIntegerField(
        "due offset (days)", help_text="Days after the plan starts."
    )
    owner_side = models.CharField(max_length=16, choices=OwnerSide.choices, default=OwnerSide.CSM)
    required = models.BooleanField(default=True)
    is_first_value = models.BooleanField(
        "first value",
        default=False,
        help_text="Completing it records the account's time to value.",
    )
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["template", "position", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(due_offset_days__gte=0), name="onboarding_template_offset_non_negative"
            ),
            models.UniqueConstraint(
                fields=["template"],
                condition=Q(kind="go_live"),
                name="onboarding_one_go_live_per_template",
                violation_error_message="A template can have only one go-live milestone.",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class OnboardingPlan(models.Model):
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="onboarding_plans")
    template = models.ForeignKey(OnboardingTemplate, on_delete=models.PROTECT, related_name="plans")
    template_version = models.PositiveIntegerField()
    start_date = models.DateField()
    status = models.CharField(
        max_length=16, choices=PlanStatus.choices, default=PlanStatus.NOT_STARTED, editable=False
    )
    progress = models.PositiveSmallIntegerField(default=0, editable=False)
    finished_on = models.DateField(
        null=True, blank=True, help_text="Set when the plan completes; it then stays as history."
    )
    first_value_on = models.DateField(null=True, blank=True)
    ttv_days = models.IntegerField("time to value (days)", null=True, blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-start_date", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["account"],
                condition=Q(finished_on__isnull=True),
                name="onboarding_one_active_plan_per_account",
                violation_error_message="This account already has an onboarding plan running.",
            ),
            models.CheckConstraint(
                condition=Q(progress__lte=100), name="onboarding_plan_progress_range"
            ),
        ]
        indexes = [models.Index(fields=["status"]), models.Index(fields=["template", "status"])]

    def __str__(self) -> str:
        return f"{self.account} · {self.template}"

    def get_absolute_url(self) -> str:
        return reverse("onboarding:plan", args=[self.pk])

    @property
    def is_active(self) -> bool:
        return self.finished_on is None


class Milestone(models.Model):
    """One milestone of one plan: copied from the template, or added ad hoc."""

    plan = models.ForeignKey(OnboardingPlan, on_delete=models.CASCADE, related_name="milestones")
    source = models.ForeignKey(
        MilestoneTemplate, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    kind = models.CharField(max_length=24, choices=MilestoneKind.choices)
    owner_side = models.CharField(max_length=16, choices=OwnerSide.choices, default=OwnerSide.CSM)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    required = models.BooleanField(default=True)
    is_first_value = models.BooleanField("first value", default=False)
    is_adhoc = models.BooleanField("ad hoc", default=False)
    position = models.PositiveIntegerField(default=0)
    due_date = models.DateField()
    completed_on = models.DateField(null=True, blank=True)
    completion_note = models.TextField(blank=True)
    skipped_on = models.DateField(null=True, blank=True)
    skip_reason = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["plan", "position", "due_date", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(completed_on__isnull=True) | Q(skipped_on__isnull=True),
                name="onboarding_milestone_done_or_skipped",
            ),
            models.CheckConstraint(
                condition=Q(skipped_on__isnull=True) | ~Q(skip_reason=""),
                name="onboarding_milestone_skip_has_reason",
            ),
        ]
        indexes = [models.Index(fields=["plan", "due_date"])]

    def __str__(self) -> str:
        return self.title

    @property
    def is_done(self) -> bool:
        return self.completed_on is not None

    @property
    def is_skipped(self) -> bool:
        return self.skipped_on is not None

    @property
    def is_open(self) -> bool:
        return self.completed_on is None and self.skipped_on is None

    @property
    def on_time(self) -> bool | None:
        return None if self.completed_on is None else self.completed_on <= self.due_date

    def lateness(self, today: date) -> str:
        """'late', 'at_risk' or '' for how this milestone looks on `today`."""
        from .status import milestone_lateness

        return milestone_lateness(self, today)


class PlanHistory(models.Model):
    """What happened to a plan, by whom, newest first."""

    class Action(models.TextChoices):
        STARTED = "started", "Started"
        COMPLETED = "completed", "Milestone completed"
        REOPENED = "reopened", "Milestone reopened"
        SKIPPED = "skipped", "Milestone skipped"
        DUE_CHANGED = "due_changed", "Due date changed"
        REASSIGNED = "reassigned", "Owner changed"
        ADDED = "added", "Milestone added"
        STATUS_CHANGED = "status_changed", "Status changed"
        VERSION_APPLIED = "version_applied", "Template version applied"
        FINISHED = "finished", "Plan completed"

    plan = models.ForeignKey(OnboardingPlan, on_delete=models.CASCADE, related_name="history")
    milestone = models.ForeignKey(
        Milestone, null=True, blank=True, on_delete=models.SET_NULL, related_name="history"
    )
    action = models.CharField(max_length=20, choices=Action.choices)
    summary = models.CharField(max_length=500)
    data = models.JSONField(default=dict, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    occurred_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        verbose_name_plural = "plan history"

    def __str__(self) -> str:
        return self.summary

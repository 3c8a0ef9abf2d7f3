"""Playbooks: what to do when a signal fires, as a versioned sequence of steps, and
their runs on accounts, with the objective each run is measured by.

A playbook's steps and objective live on its versions; editing a playbook that has
runs makes a new version, so a run always says which steps it followed and the
effectiveness page can compare versions. `PlaybookTrigger` records every time a
trigger condition fired for an account, whether or not a run started: those that
did not start (snoozed, cancelled, already running) are the comparison group."""

from __future__ import annotations

from datetime import date, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from accounts.models import Account, ForecastCategory, HealthBand, Stage


class TriggerKind(models.TextChoices):
    MANUAL = "manual", "Started by hand only"
    ALERT_RULE = "alert_rule", "An alert rule opens an alert"
    STAGE_ENTERED = "stage_entered", "The account enters a stage"
    RENEWAL_AHEAD = "renewal_ahead", "A renewal is due within N days"
    ONBOARDING_LATE = "onboarding_late", "An onboarding milestone is late"
    NEW_ACCOUNT = "new_account", "A new account is created"


class ObjectiveKind(models.TextChoices):
    HEALTH_BAND = "health_band", "Health back to a band"
    ALERT_CLEARED = "alert_cleared", "The alert's condition cleared"
    RENEWAL_RENEWED = "renewal_renewed", "The renewal renewed"
    FIRST_VALUE = "first_value", "Onboarding reached first value"
    NPS_IMPROVED = "nps_improved", "A detractor turned passive or better"


class Playbook(models.Model):
    name = models.CharField(max_length=120, unique=True)
    description = models.TextField(blank=True)
    is_active = models.BooleanField(default=True)
    crm_tasks = models.BooleanField(
        "Also create HubSpot tasks",
        default=False,
        help_text="Each task step also becomes a HubSpot task on the company, owned by the "
        "assignee's HubSpot owner; completing it on either side completes the other.",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("playbooks:detail", args=[self.pk])


class PlaybookVersion(models.Model):
    """The steps, trigger and objective of a playbook as they were at one time."""

    playbook = models.ForeignKey(Playbook, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    trigger_kind = models.CharField(
        max_length=20, choices=TriggerKind.choices, default=TriggerKind.MANUAL
    )
    trigger_rule = models.ForeignKey(
        "alerts.AlertRule",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="playbook_versions",
    )
    trigger_stage = models.CharField(max_length=20, choices=Stage.choices, blank=True)
    trigger_days = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(730)]
    )
    objective_kind = models.CharField(max_length=20, choices=ObjectiveKind.choices)
    objective_band = models.CharField(max_length=10, choices=HealthBand.choices, blank=True)
    objective_days = models.PositiveSmallIntegerField(
        default=30,
        validators=[MinValueValidator(1), MaxValueValidator(730)],
        help_text="The objective counts as met only within this many days of the start.",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["playbook", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["playbook", "number"], name="playbook_version_unique")
        ]

    def __str__(self) -> str:
        return f"{self.playbook} v{self.number}"

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if self.trigger_kind == TriggerKind.ALERT_RULE and not self.trigger_rule_id:
            errors["trigger_rule"] = "Pick the alert rule that starts this playbook."
        if self.trigger_kind == TriggerKind.STAGE_ENTERED and not self.trigger_stage:
            errors["trigger_stage"] = "Pick the stage that starts this playbook."
        if self.trigger_kind == TriggerKind.RENEWAL_AHEAD and not self.trigger_days:
            errors["trigger_days"] = "Say how many days before the renewal it starts."
        if self.objective_kind == ObjectiveKind.HEALTH_BAND and not self.objective_band:
            errors["objective_band"] = "Pick the health band the account should reach."
        if self.objective_kind == ObjectiveKind.ALERT_CLEARED and (
            self.trigger_kind != TriggerKind.ALERT_RULE
        ):
            errors["objective_kind"] = "“Alert condition cleared” needs an alert-rule trigger."
        if errors:
            raise ValidationError(errors)

    def describe_trigger(self) -> str:
        if self.trigger_kind == TriggerKind.ALERT_RULE and self.trigger_rule:
            return f"Alert: {self.trigger_rule.name}"
        if self.trigger_kind == TriggerKind.STAGE_ENTERED:
            return f"Enters {self.get_trigger_stage_display()}"
        if self.trigger_kind == TriggerKind.RENEWAL_AHEAD:
            return f"Renewal within {self.trigger_days} days"
        return str(self.get_trigger_kind_display())

    def describe_objective(self) -> str:
        what = (
            f"Health back to {self.get_objective_band_display().lower()}"
            if self.objective_kind == ObjectiveKind.HEALTH_BAND
            else str(self.get_objective_kind_display())
        )
        return f"{what} within {self.objective_days} days"


class StepKind(models.TextChoices):
    TASK = "task", "Task"
    ACTION = "action", "Action"


class Assignee(models.TextChoices):
    OWNER = "owner", "The account's CSM"
    LEADER = "leader", "Their CS leader"
    USER = "user", "A named user"


class StepAction(models.TextChoices):
    CHANGE_STAGE = "change_stage", "Change the lifecycle stage"
    START_ONBOARDING = "start_onboarding", "Start an onboarding template"
    SCHEDULE_REVIEW = "schedule_review", "Schedule a business review"
    RAISE_EXPANSION = "raise_expansion", "Raise an expansion signal"
    SET_FORECAST = "set_forecast", "Set the renewal forecast"


class PlaybookStep(models.Model):
    version = models.ForeignKey(PlaybookVersion, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveSmallIntegerField(default=0)
    kind = models.CharField(max_length=10, choices=StepKind.choices, default=StepKind.TASK)
    title = models.CharField(max_length=200)
    guidance = models.TextField(blank=True, help_text="What good looks like, for the person.")
    due_offset_days = models.PositiveSmallIntegerField(
        default=0, validators=[MaxValueValidator(365)], help_text="Days after the start."
    )
    assignee = models.CharField(max_length=10, choices=Assignee.choices, default=Assignee.OWNER)
    assignee_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    action = models.CharField(max_length=20, choices=StepAction.choices, blank=True)
    # The action's argument: a stage, a template id, a forecast category, a review kind.
    action_value = models.CharField(max_length=40, blank=True)

    class Meta:
        ordering = ["version", "position", "pk"]

    def __str__(self) -> str:
        return self.title

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if self.kind == StepKind.ACTION and not self.action:
            errors["action"] = "Pick what the action does."
        if self.kind == StepKind.TASK and self.action:
            errors["action"] = "A task has no action; make the step an action instead."
        if self.assignee == Assignee.USER and not self.assignee_user_id:
            errors["assignee_user"] = "Pick the user the task goes to."
        if self.action == StepAction.CHANGE_STAGE and self.action_value not in Stage.values:
            errors["action_value"] = "Pick the stage to move the account to."
        if self.action == StepAction.SET_FORECAST and self.action_value not in (
            ForecastCategory.values
        ):
            errors["action_value"] = "Pick the forecast category to set."
        if self.action == StepAction.START_ONBOARDING and not self.action_value.isdigit():
            errors["action_value"] = "Pick the onboarding template to start."
        if errors:
            raise ValidationError(errors)


class RunStatus(models.TextChoices):
    RUNNING = "running", "Running"
    SNOOZED = "snoozed", "Snoozed"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"


LIVE_RUN = [RunStatus.RUNNING, RunStatus.SNOOZED]


class PlaybookRun(models.Model):
    playbook = models.ForeignKey(Playbook, on_delete=models.CASCADE, related_name="runs")
    version = models.ForeignKey(PlaybookVersion, on_delete=models.RESTRICT, related_name="runs")
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="playbook_runs")
    status = models.CharField(max_length=10, choices=RunStatus.choices, default=RunStatus.RUNNING)
    trigger = models.CharField(max_length=20, choices=TriggerKind.choices)
    alert = models.ForeignKey(
        "alerts.Alert", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    started_on = models.DateField()
    objective_due = models.DateField()
    objective_met_on = models.DateField(null=True, blank=True)
    snoozed_until = models.DateField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-started_on", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "playbook"],
                condition=Q(status__in=["running", "snoozed"]),
                name="one_live_playbook_run_per_account",
            )
        ]
        indexes = [models.Index(fields=["status", "started_on"])]

    def __str__(self) -> str:
        return f"{self.playbook} on {self.account}"

    @property
    def is_live(self) -> bool:
        return self.status in LIVE_RUN


class RunStepStatus(models.TextChoices):
    PENDING = "pending", "To do"
    DONE = "done", "Done"
    SKIPPED = "skipped", "Skipped"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


class PlaybookRunStep(models.Model):
    """One step of one run. A task step's work is its SuccessTask, in My work."""

    run = models.ForeignKey(PlaybookRun, on_delete=models.CASCADE, related_name="steps")
    step = models.ForeignKey(PlaybookStep, on_delete=models.RESTRICT, related_name="+")
    task = models.OneToOneField(
        "success.SuccessTask",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="playbook_step",
    )
    # The step's task in the CRM (a HubSpot task), when the playbook asks for one.
    engagement = models.OneToOneField(
        "support.Engagement",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="playbook_step",
    )
    due_date = models.DateField()
    status = models.CharField(
        max_length=10, choices=RunStepStatus.choices, default=RunStepStatus.PENDING
    )
    finished_at = models.DateTimeField(null=True, blank=True)
    note = models.TextField(blank=True, help_text="Why it was skipped, or what the action did.")

    class Meta:
        ordering = ["run", "due_date", "step__position", "pk"]
        indexes = [models.Index(fields=["status", "due_date"])]

    def __str__(self) -> str:
        return f"{self.step} ({self.get_status_display()})"

    @property
    def is_open(self) -> bool:
        return self.status == RunStepStatus.PENDING


class NotStarted(models.TextChoices):
    STARTED = "", "Started"
    ALREADY_RUNNING = "already_running", "Already running on the account"
    SNOOZED = "snoozed", "Snoozed on the account"
    INACTIVE = "inactive", "Playbook paused"


class PlaybookTrigger(models.Model):
    """A trigger condition that fired for an account: the run it started, or why
    none did. Keyed by what fired (an alert, a renewal, a milestone...), so the
    daily job records each occurrence once, however often it runs."""

    playbook = models.ForeignKey(Playbook, on_delete=models.CASCADE, related_name="triggers")
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=60)
    fired_on = models.DateField()
    run = models.OneToOneField(
        PlaybookRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="trigger_hit"
    )
    not_started = models.CharField(max_length=20, choices=NotStarted.choices, blank=True)
    objective_due = models.DateField()
    objective_met_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["-fired_on", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["playbook", "account", "key"], name="playbook_trigger_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.playbook} fired for {self.account_id} ({self.key})"


def objective_due_for(version: PlaybookVersion, start: date) -> date:
    return start + timedelta(days=version.objective_days)

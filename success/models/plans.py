"""Success plans: the customer's desired outcomes, the objectives that measure
them, and the tasks that move them.

An account has at most one current plan; replacing it keeps the old one
(`replaced_at` set) so history survives. Objective value and status changes
are rows in `ObjectiveUpdate`, never overwritten.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from accounts.models import Account, Contact


class SuccessPlan(models.Model):
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="success_plans")
    desired_outcomes = models.TextField(
        help_text="What the customer wants to achieve, in their words."
    )
    internal_notes = models.TextField(
        blank=True, help_text="For your team only; never shown on the customer's link."
    )
    share_token = models.CharField(max_length=64, null=True, blank=True, unique=True)
    shared_at = models.DateTimeField(null=True, blank=True)
    replaced_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["account"],
                condition=Q(replaced_at__isnull=True),
                name="success_one_current_plan_per_account",
            )
        ]

    def __str__(self) -> str:
        return f"Success plan for {self.account}"

    def get_absolute_url(self) -> str:
        return reverse("success:plan", args=[self.account_id])

    @property
    def is_current(self) -> bool:
        return self.replaced_at is None


class ObjectiveStatus(models.TextChoices):
    IN_PROGRESS = "in_progress", "In progress"
    ACHIEVED = "achieved", "Achieved"
    AT_RISK = "at_risk", "At risk"
    MISSED = "missed", "Missed"


class Objective(models.Model):
    plan = models.ForeignKey(SuccessPlan, on_delete=models.CASCADE, related_name="objectives")
    title = models.CharField(max_length=200)
    metric = models.CharField(max_length=200, help_text="What is measured, e.g. tickets per week.")
    baseline = models.DecimalField(max_digits=14, decimal_places=2)
    target = models.DecimalField(max_digits=14, decimal_places=2)
    current_value = models.DecimalField(max_digits=14, decimal_places=2)
    due_date = models.DateField(null=True, blank=True)
    status = models.CharField(
        max_length=12, choices=ObjectiveStatus.choices, default=ObjectiveStatus.IN_PROGRESS
    )
    status_note = models.TextField(blank=True)
    display_order = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["display_order", "id"]

    def __str__(self) -> str:
        return self.title

    def clean(self) -> None:
        if self.baseline is not None and self.baseline == self.target:
            raise ValidationError({"target": "The target must differ from the baseline."})

    @property
    def progress(self) -> int:
        """Share of the way from baseline to target, 0-100 (targets may go down)."""
        return objective_progress(self.baseline, self.target, self.current_value)


def objective_progress(baseline: Decimal, target: Decimal, current: Decimal) -> int:
    span = Decimal(target) - Decimal(baseline)
    if not span:
        return 100
    share = (Decimal(current) - Decimal(baseline)) / span * 100
    return int(max(Decimal(0), min(Decimal(100), share)).quantize(Decimal(1)))


class ObjectiveUpdate(models.Model):
    """One change to an objective: a new current value, a status set by hand, or both."""

    objective = models.ForeignKey(Objective, on_delete=models.CASCADE, related_name="updates")
    from_value = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    to_value = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    from_status = models.CharField(max_length=12, choices=ObjectiveStatus.choices, blank=True)
    to_status = models.CharField(max_length=12, choices=ObjectiveStatus.choices, blank=True)
    note = models.TextField(blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.objective}: {self.from_value}→{self.to_value} {self.to_status}"


class SuccessTask(models.Model):
    """A task on an account: under an objective, or an action item from a review."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="success_tasks")
    objective = models.ForeignKey(
        Objective, null=True, blank=True, on_delete=models.CASCADE, related_name="tasks"
    )
    review = models.ForeignKey(
        "success.BusinessReview",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="action_items",
    )
    title = models.CharField(max_length=300)
    assignee_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="success_tasks",
    )
    assignee_contact = models.ForeignKey(
        Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="success_tasks"
    )
    due_date = models.DateField(null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["done_at", "due_date", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(assignee_user__isnull=True) | Q(assignee_contact__isnull=True),
                name="success_task_one_assignee",
            )
        ]
        indexes = [
            models.Index(fields=["assignee_user", "done_at", "due_date"]),
            # A person's open tasks in due order, with what orders a day's tasks
            # (the review; a key column, as SQLite has no INCLUDE): My work reads a
            # section's first rows and counts every section from this index alone
            # (success/selectors/work.py).
            models.Index(
                fields=["assignee_user", "due_date", "id", "review"],
                condition=Q(done_at__isnull=True),
                name="task_open_by_assignee_due",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def done(self) -> bool:
        return self.done_at is not None

    @property
    def assignee(self) -> object | None:
        return self.assignee_user or self.assignee_contact

    def clean(self) -> None:
        if self.assignee_user_id and self.assignee_contact_id:
            raise ValidationError("Assign the task to one person: a user or a contact.")
        contact = self.assignee_contact if self.assignee_contact_id else None
        if contact is not None and contact.account_id != self.account_id:
            raise ValidationError({"assignee_contact": "That contact belongs to another account."})

"""Renewals, their forecast history, churn reasons and ARR movements.

ARR movements are the ledger a metrics page recomputes NRR and GRR from:
amounts are positive magnitudes and the kind says which way they move ARR.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from accounts.models import Account, Deal, ForecastCategory


class ChurnReason(models.Model):
    """Why customers leave. Admins edit the list in the Django admin."""

    label = models.CharField(max_length=200, unique=True)
    is_active = models.BooleanField("active", default=True)
    display_order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["display_order", "label"]

    def __str__(self) -> str:
        return self.label


class Renewal(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", "Open"
        RENEWED = "renewed", "Renewed"
        CHURNED = "churned", "Churned"

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="renewals")
    renewal_date = models.DateField()
    term_months = models.PositiveSmallIntegerField(default=12)
    current_arr = models.DecimalField(
        "ARR up for renewal", max_digits=14, decimal_places=2, default=Decimal("0")
    )
    forecast_category = models.CharField(
        max_length=10, choices=ForecastCategory.choices, blank=True
    )
    forecast_arr = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    deal = models.OneToOneField(
        Deal, null=True, blank=True, on_delete=models.SET_NULL, related_name="renewal"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    closed_on = models.DateField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    new_arr = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    churn_reason = models.ForeignKey(
        ChurnReason, null=True, blank=True, on_delete=models.PROTECT, related_name="renewals"
    )
    churn_note = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["renewal_date", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "renewal_date"], name="success_one_renewal_per_account_date"
            ),
            models.CheckConstraint(
                condition=Q(forecast_arr__isnull=True) | Q(forecast_arr__gte=0),
                name="success_renewal_forecast_arr_non_negative",
            ),
            models.CheckConstraint(
                condition=~Q(status="churned") | Q(churn_reason__isnull=False),
                name="success_churned_renewal_has_reason",
            ),
        ]
        indexes = [models.Index(fields=["status", "renewal_date"])]

    def __str__(self) -> str:
        return f"{self.account} renews {self.renewal_date:%Y-%m-%d}"

    def get_absolute_url(self) -> str:
        return reverse("success:renewal", args=[self.pk])

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN


class ForecastChange(models.Model):
    """Who changed a renewal's forecast, when, from what to what, and why."""

    renewal = models.ForeignKey(Renewal, on_delete=models.CASCADE, related_name="forecast_changes")
    from_category = models.CharField(max_length=10, choices=ForecastCategory.choices, blank=True)
    to_category = models.CharField(max_length=10, choices=ForecastCategory.choices, blank=True)
    from_arr = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    to_arr = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    reason = models.TextField()
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    changed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-changed_at", "-id"]

    def __str__(self) -> str:
        return f"{self.renewal}: {self.from_category}→{self.to_category}"


class ArrMovement(models.Model):
    class Kind(models.TextChoices):
        NEW = "new", "New"
        EXPANSION = "expansion", "Expansion"
        CONTRACTION = "contraction", "Contraction"
        CHURN = "churn", "Churn"
        RENEWAL = "renewal", "Renewal"

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="arr_movements")
    date = models.DateField()
    kind = models.CharField(max_length=12, choices=Kind.choices)
    amount = models.DecimalField(
        max_digits=14, decimal_places=2, help_text="Always positive; the kind gives the direction."
    )
    renewal = models.ForeignKey(
        Renewal, null=True, blank=True, on_delete=models.SET_NULL, related_name="arr_movements"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-date", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gte=0), name="success_arr_movement_amount_non_negative"
            )
        ]
        indexes = [models.Index(fields=["date", "kind"])]

    def __str__(self) -> str:
        return f"{self.account} {self.kind} {self.amount} on {self.date}"

"""Business reviews (QBR, EBR, health check).

When a review is held, a snapshot of the account (health, ARR, objective
progress, onboarding) is frozen in `snapshot`, so the next review compares
against what was true then, not what is true now.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone

from accounts.models import Account, Contact


class ReviewKind(models.TextChoices):
    QBR = "qbr", "QBR"
    EBR = "ebr", "EBR"
    HEALTH_CHECK = "health_check", "Health check"


class Sentiment(models.TextChoices):
    POSITIVE = "positive", "Positive"
    NEUTRAL = "neutral", "Neutral"
    NEGATIVE = "negative", "Negative"


class BusinessReview(models.Model):
    class Status(models.TextChoices):
        SCHEDULED = "scheduled", "Scheduled"
        HELD = "held", "Held"
        CANCELLED = "cancelled", "Cancelled"

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="business_reviews")
    kind = models.CharField(max_length=12, choices=ReviewKind.choices, default=ReviewKind.QBR)
    scheduled_for = models.DateField()
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="business_reviews",
        help_text="Who prepares the review.",
    )
    attendee_users = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="reviews_attended"
    )
    attendee_contacts = models.ManyToManyField(Contact, blank=True, related_name="reviews_attended")
    agenda = models.TextField(blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SCHEDULED)
    held_on = models.DateField(null=True, blank=True)
    notes = models.TextField(blank=True)
    outcomes = models.TextField(blank=True)
    sentiment = models.CharField(max_length=10, choices=Sentiment.choices, blank=True)
    snapshot: models.JSONField[Any, Any] = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-scheduled_for", "-id"]
        indexes = [
            models.Index(fields=["account", "status", "scheduled_for"]),
            models.Index(fields=["owner", "status", "scheduled_for"]),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.account} {self.scheduled_for:%Y-%m-%d}"

    def get_absolute_url(self) -> str:
        return reverse("success:review", args=[self.pk])

    @property
    def is_held(self) -> bool:
        return self.status == self.Status.HELD

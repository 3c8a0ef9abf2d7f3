"""Health models (versioned), the daily scores they produce, and CSM overrides."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from accounts.models import Account

from .scoring import (
    INPUT_LABELS,
    Bands,
    Direction,
    Input,
    Measure,
    Rule,
    RuleKind,
    sources_text,
)


class HealthModel(models.Model):
    """One version of the health model. Saving changes makes a new version;
    scores keep the version that produced them."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        ACTIVE = "active", "Active"
        RETIRED = "retired", "Retired"

    version = models.PositiveIntegerField(unique=True)
    name = models.CharField(max_length=120, default="Health model")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    green_min = models.PositiveSmallIntegerField(
        "green from", default=70, validators=[MaxValueValidator(100)]
    )
    yellow_min = models.PositiveSmallIntegerField(
        "yellow from", default=40, validators=[MaxValueValidator(100)]
    )
    note = models.TextField(blank=True, help_text="What changed in this version and why.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    activated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["status"], condition=Q(status="active"), name="one_active_health_model"
            ),
            models.CheckConstraint(
                condition=Q(green_min__gt=models.F("yellow_min")), name="green_above_yellow"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} v{self.version} ({self.get_status_display()})"

    def clean(self) -> None:
        if self.green_min <= self.yellow_min:
            raise ValidationError({"green_min": "Green must start above yellow."})

    @property
    def bands(self) -> Bands:
        return Bands(green_min=self.green_min, yellow_min=self.yellow_min)

    def measures_for_scoring(self) -> list[Measure]:
        return [m.as_measure() for m in self.measures.all()]


class HealthMeasure(models.Model):
    model = models.ForeignKey(HealthModel, on_delete=models.CASCADE, related_name="measures")
    input = models.CharField(max_length=40, choices=[(i.value, INPUT_LABELS[i]) for i in Input])
    weight = models.DecimalField(
        max_digits=6, decimal_places=2, validators=[MinValueValidator(Decimal("0.01"))]
    )
    rule = models.CharField(
        max_length=10,
        choices=[(RuleKind.LINEAR.value, "Linear"), (RuleKind.STEPS.value, "Steps")],
        default=RuleKind.LINEAR.value,
    )
    direction = models.CharField(
        max_length=10,
        choices=[
            (Direction.HIGHER_IS_BETTER.value, "Higher is better"),
            (Direction.LOWER_IS_BETTER.value, "Lower is better"),
        ],
        default=Direction.HIGHER_IS_BETTER.value,
    )
    low = models.FloatField(default=0, help_text="Linear: the value that scores 0 (or 100).")
    high = models.FloatField(default=100, help_text="Linear: the value that scores 100 (or 0).")
    steps = models.JSONField(default=list, blank=True, help_text="Steps: [[threshold, score], ...]")

    class Meta:
        ordering = ["-weight", "input"]
        constraints = [
            models.UniqueConstraint(fields=["model", "input"], name="one_measure_per_input")
        ]

    def __str__(self) -> str:
        return f"{self.get_input_display()} × {self.weight}"

    def clean(self) -> None:
        if self.rule == RuleKind.LINEAR and self.low == self.high:
            raise ValidationError({"high": "The two points of a linear rule must differ."})
        if self.rule == RuleKind.STEPS:
            try:
                pairs = [(float(t), float(s)) for t, s in self.steps]
            except (TypeError, ValueError) as exc:
                raise ValidationError(
                    {"steps": "Give steps as pairs of numbers: [[threshold, score], ...]."}
                ) from exc
            if not pairs:
                raise ValidationError({"steps": "A step rule needs at least one step."})
            if any(not 0 <= s <= 100 for _t, s in pairs):
                raise ValidationError({"steps": "Step scores go from 0 to 100."})

    @property
    def source_text(self) -> str:
        """Where the input's value comes from, e.g. "HubSpot surveys, else usage snapshot"."""
        return sources_text(self.input)

    def as_measure(self) -> Measure:
        return Measure(
            input=Input(self.input),
            weight=float(self.weight),
            rule=Rule(
                kind=RuleKind(self.rule),
                direction=Direction(self.direction),
                low=self.low,
                high=self.high,
                steps=tuple((float(t), float(s)) for t, s in (self.steps or [])),
            ),
        )


class HealthScore(models.Model):
    """An account's score on one day, with the breakdown that explains it."""

    # No index of its own: the unique (account, date) constraint's index leads with the
    # account, and the daily job writes one row a day per account into both.
    account = models.ForeignKey(
        Account, on_delete=models.CASCADE, related_name="health_scores", db_index=False
    )
    date = models.DateField()
    model = models.ForeignKey(HealthModel, on_delete=models.PROTECT, related_name="scores")
    score = models.PositiveSmallIntegerField(validators=[MaxValueValidator(100)])
    band = models.CharField(max_length=10)
    breakdown = models.JSONField(default=list)
    missing = models.JSONField(default=list)
    computed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-date"]
        constraints = [
            models.UniqueConstraint(fields=["account", "date"], name="one_health_score_per_day")
        ]
        indexes = [models.Index(fields=["date", "band"])]

    def __str__(self) -> str:
        return f"{self.account_id} {self.date}: {self.score}"


def default_override_expiry() -> date:
    return timezone.localdate() + timedelta(days=30)


class HealthOverride(models.Model):
    """A CSM's sentiment score that stands in for the computed one until it
    expires. The computed score is kept and shown beside it."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="health_overrides")
    score = models.PositiveSmallIntegerField(validators=[MaxValueValidator(100)])
    reason = models.TextField()
    expires_on = models.DateField(default=default_override_expiry)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.account_id}: {self.score} until {self.expires_on}"

"""The model a new install starts with. Used by the data migration (with its
historical models) and by tests, whose transactional runs flush data that
migrations created."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from .scoring import Direction, Input, RuleKind

DEFAULT_MEASURES: list[dict[str, Any]] = [
    {"input": Input.ACTIVE_USERS_RATIO, "weight": 25, "low": 20, "high": 80},
    {"input": Input.LOGIN_TREND_90D, "weight": 15, "low": -50, "high": 10},
    {"input": Input.CORE_FEATURES, "weight": 15, "low": 1, "high": 8},
    {
        "input": Input.OPEN_TICKETS,
        "weight": 10,
        "low": 1,
        "high": 10,
        "direction": Direction.LOWER_IS_BETTER,
    },
    {
        "input": Input.CSAT,
        "weight": 15,
        "rule": RuleKind.STEPS,
        "steps": [[3.0, 30], [3.5, 60], [4.0, 80], [4.5, 100]],
    },
    {"input": Input.NPS, "weight": 10, "low": -30, "high": 50},
    {"input": Input.ONBOARDING_PROGRESS, "weight": 10, "low": 0, "high": 100},
]


def ensure_default_model(health_model: Any, health_measure: Any) -> None:
    """Create version 1, active, when no model exists yet. Takes the model
    classes so a migration can pass its historical ones."""
    if health_model.objects.exists():
        return
    model = health_model.objects.create(
        version=1,
        name="Standard health",
        status="active",
        activated_at=timezone.now(),
        note="Default model",
    )
    for spec in DEFAULT_MEASURES:
        health_measure.objects.create(
            model=model,
            input=str(spec["input"]),
            weight=spec["weight"],
            rule=str(spec.get("rule", RuleKind.LINEAR)),
            direction=str(spec.get("direction", Direction.HIGHER_IS_BETTER)),
            low=spec.get("low", 0),
            high=spec.get("high", 100),
            steps=spec.get("steps", []),
        )

"""Demo health: a model version that weighs support alongside usage, then the
portfolio scored weekly over the last 90 days, so trends and charts have history
from the first run."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from accounts.bulk import analyze
from accounts.models import Account, User

from .models import HealthModel, HealthScore
from .scoring import Direction, Input, RuleKind
from .services import (
    active_model,
    health_model_activate,
    health_model_new_version,
    health_model_update_draft,
    health_scores_compute,
)

# Added to the default model in the demo: the support story (tickets piling up, the
# CSM's touches drying up) shows in health, and the explanation names its source.
SUPPORT_MEASURES: list[dict[str, Any]] = [
    {
        "input": Input.TICKETS_OPENED_30D,
        "weight": 10,
        "rule": RuleKind.LINEAR,
        "direction": Direction.LOWER_IS_BETTER,
        "low": 1,
        "high": 8,
    },
    {
        "input": Input.ESCALATED_TICKETS,
        "weight": 5,
        "rule": RuleKind.STEPS,
        "direction": Direction.LOWER_IS_BETTER,
        "steps": [[0, 100], [1, 60], [3, 20]],
    },
    {
        "input": Input.DAYS_SINCE_TOUCH,
        "weight": 5,
        "rule": RuleKind.LINEAR,
        "direction": Direction.LOWER_IS_BETTER,
        "low": 14,
        "high": 60,
    },
]


def with_support(*, by: User) -> HealthModel | None:
    """Activate a new version of the active model that also weighs support inputs
    (left alone when it already weighs one of them)."""
    model = active_model()
    if model is None:
        return None
    wanted = {str(spec["input"]) for spec in SUPPORT_MEASURES}
    measures = list(model.measures.all())
    if wanted & {m.input for m in measures}:
        return model
    draft = health_model_new_version(source=model, by=by)
    specs = [
        {
            "input": m.input,
            "weight": m.weight,
            "rule": m.rule,
            "direction": m.direction,
            "low": m.low,
            "high": m.high,
            "steps": m.steps,
        }
        for m in measures
    ]
    for spec in SUPPORT_MEASURES:
        specs.append(
            {
                "input": str(spec["input"]),
                "weight": spec["weight"],
                "rule": str(spec["rule"]),
                "direction": str(spec["direction"]),
                "low": spec.get("low", 0),
                "high": spec.get("high", 100),
                "steps": spec.get("steps", []),
            }
        )
    health_model_update_draft(
        model=draft,
        data={
            "name": model.name,
            "note": "Weighs support: tickets opened in 30 days, escalated tickets, last touch",
        },
        measures=specs,
    )
    return health_model_activate(model=draft, by=by)


def build(*, seed: int, today: date) -> str:
    if HealthScore.objects.exists():
        return "health scores exist; left as is"
    admin = User.objects.filter(username="admin").first()
    model = with_support(by=admin) if admin else active_model()
    days = [today - timedelta(days=d) for d in range(84, -1, -7)]
    if days[-1] != today:
        days.append(today)
    for day in days:
        run = health_scores_compute(today=day)
    analyze(HealthScore, Account)
    version = f" with model v{model.version}" if model else ""
    return f"scored {run.scored} accounts on {len(days)} days{version}"

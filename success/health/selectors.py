"""Reads for the health pages: an account's explanation and trend."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.db.models import QuerySet

from accounts.models import Account

from .models import HealthModel, HealthOverride, HealthScore
from .scoring import INPUT_LABELS, Contribution, Input, Result, explain


@dataclass
class AccountHealth:
    latest: HealthScore | None
    override: HealthOverride | None
    history: list[HealthScore]
    sentence: str
    bars: list[dict[str, Any]]
    version_changes: list[HealthScore]
    missing_labels: list[str]

    @property
    def needs_a_look(self) -> bool:
        """The CSM's override and the computed score are more than one band
        apart (green against red): someone should look at the account."""
        if not (self.override and self.latest):
            return False
        override_band = self.latest.model.bands.band(self.override.score)
        return {override_band, self.latest.band} == {"green", "red"}


def health_models() -> QuerySet[HealthModel]:
    return HealthModel.objects.prefetch_related("measures").select_related("created_by")


def account_health(*, account: Account, today: date, days: int = 90) -> AccountHealth:
    history = list(
        account.health_scores.filter(date__gt=today - timedelta(days=days))
        .select_related("model")
        .order_by("date")
    )
    latest = history[-1] if history else None
    override = (
        account.health_overrides.filter(ended_at__isnull=True, expires_on__gte=today)
        .select_related("created_by")
        .first()
    )
    bars, sentence, missing = [], "No health score yet.", []
    if latest:
        contributions = [
            Contribution(
                c["input"],
                c["value"],
                c["score"],
                c["weight"],
                c["contribution"],
                c.get("source", ""),
            )
            for c in latest.breakdown
        ]
        result = Result(latest.score, latest.band, contributions, list(latest.missing))
        sentence = explain(result)
        for c in sorted(contributions, key=lambda c: -c.weight):
            bars.append(
                {
                    "label": INPUT_LABELS.get(Input(c.input), c.input),
                    "short": INPUT_LABELS.get(Input(c.input), c.input).split(" (")[0],
                    "value": c.value,
                    "source": c.source,
                    "score": c.score,
                    "weight_pct": round(100 * c.weight),
                    "earned": round(c.contribution, 1),
                    "possible": round(100 * c.weight, 1),
                }
            )
        missing = [INPUT_LABELS.get(Input(m), m) for m in latest.missing]
    changes = [s for prev, s in itertools.pairwise(history) if s.model_id != prev.model_id]
    return AccountHealth(latest, override, history, sentence, bars, changes, missing)


def sparkline(
    history: list[HealthScore], *, yellow_min: int, width: int = 300, height: int = 60
) -> dict[str, Any]:
    """SVG geometry of the trend chart: the line, a dashed line at the red
    cut-off, and a marker wherever the model version changed."""
    if not history:
        return {"points": "", "markers": [], "band_y": 0}
    first = history[0].date
    span = max(1, (history[-1].date - first).days)

    def x(s: HealthScore) -> float:
        return round((s.date - first).days / span * width, 1)

    points = " ".join(f"{x(s)},{height - s.score / 100 * height:.1f}" for s in history)
    markers = [
        {"x": x(s), "version": s.model.version}
        for prev, s in itertools.pairwise(history)
        if s.model_id != prev.model_id
    ]
    return {"points": points, "markers": markers, "band_y": height - yellow_min / 100 * height}


def health_scores_list() -> QuerySet[HealthScore]:
    """Daily scores with their account, its owner and the model version."""
    return HealthScore.objects.select_related("account__owner", "model")

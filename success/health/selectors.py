"""Reads for the health pages: an account's explanation and trend."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.db.models import QuerySet

from accounts.models import Account

from .models import HealthModel, HealthOverride, HealthScore
from .scoring import INPUT_LABELS, Bands, Contribution, Input, Result, explain


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


def _explained(
    latest: HealthScore | None,
) -> tuple[str, list[dict[str, Any]], list[str]]:
    """The sentence, the measures' bars (heaviest first) and the missing inputs' labels
    of a stored score."""
    if latest is None:
        return "No health score yet.", [], []
    return _explain(latest.score, latest.band, latest.breakdown, latest.missing)


def _explain(
    score: int, band: str, breakdown: list[dict[str, Any]], missing: list[str]
) -> tuple[str, list[dict[str, Any]], list[str]]:
    contributions = [
        Contribution(
            c["input"],
            c["value"],
            c["score"],
            c["weight"],
            c["contribution"],
            c.get("source", ""),
        )
        for c in breakdown
    ]
    sentence = explain(Result(score, band, contributions, list(missing)))
    bars = []
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
    return sentence, bars, [INPUT_LABELS.get(Input(m), m) for m in missing]


@dataclass(frozen=True, slots=True)
class CardScore:
    score: int


@dataclass(frozen=True, slots=True)
class CardOverride:
    score: int
    created_by: object  # who set it, written as str(user); None: nobody


@dataclass
class HealthCard:
    """The account page's health card: what `AccountHealth` gives it, from the latest
    score's row and the override in force, without the history."""

    latest: CardScore | None
    override: CardOverride | None
    sentence: str
    bars: list[dict[str, Any]]
    needs_a_look: bool


def health_card(
    *,
    latest: tuple[int, str, list[dict[str, Any]], list[str], int, int] | None,
    override: tuple[int, object] | None,
) -> HealthCard:
    """`latest`: the latest score's (score, band, breakdown, missing) and its model's
    (green_min, yellow_min); `override`: (score, who set it)."""
    given = None if override is None else CardOverride(*override)
    if latest is None:
        return HealthCard(None, given, "No health score yet.", [], False)
    score, band, breakdown, missing, green_min, yellow_min = latest
    sentence, bars, _missing = _explain(score, band, breakdown, missing)
    look = False
    if given is not None:  # as AccountHealth.needs_a_look
        override_band = Bands(green_min=green_min, yellow_min=yellow_min).band(given.score)
        look = {override_band, band} == {"green", "red"}
    return HealthCard(CardScore(score), given, sentence, bars, look)


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
    sentence, bars, missing = _explained(latest)
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

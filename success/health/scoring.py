"""The arithmetic of a health score, free of the database so it can run over
100,000 accounts in one pass and be tested exhaustively.

A score is the weighted mean of the measures that have data: a missing input
does not count as zero; its weight is spread over the rest, and the result
names the inputs that were missing.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import NamedTuple


class Input(StrEnum):
    ACTIVE_USERS_RATIO = "active_users_ratio"
    SEAT_UTILISATION = "seat_utilisation"
    LOGINS_30D = "logins_30d"
    LOGIN_TREND_90D = "login_trend_90d"
    CORE_FEATURES = "core_features"
    OPEN_TICKETS = "open_tickets"
    CSAT = "csat"
    NPS = "nps"
    ONBOARDING_PROGRESS = "onboarding_progress"
    ONBOARDING_LATE = "onboarding_late"
    DAYS_SINCE_REVIEW = "days_since_review"
    OBJECTIVE_ACHIEVEMENT = "objective_achievement"
    CSM_SENTIMENT = "csm_sentiment"
    ESCALATED_TICKETS = "escalated_tickets"
    TICKETS_OPENED_30D = "tickets_opened_30d"
    TICKET_TREND_30D = "ticket_trend_30d"
    DAYS_SINCE_TOUCH = "days_since_touch"


INPUT_LABELS: dict[Input, str] = {
    Input.ACTIVE_USERS_RATIO: "Active users / seats purchased (%)",
    Input.SEAT_UTILISATION: "Seats used / purchased (%)",
    Input.LOGINS_30D: "Logins in the last 30 days",
    Input.LOGIN_TREND_90D: "Login trend over 90 days (%)",
    Input.CORE_FEATURES: "Core features adopted",
    Input.OPEN_TICKETS: "Open support tickets",
    Input.CSAT: "CSAT (1-5)",
    Input.NPS: "NPS (-100 to 100)",
    Input.ONBOARDING_PROGRESS: "Onboarding progress (%)",
    Input.ONBOARDING_LATE: "Onboarding late (1 = late)",
    Input.DAYS_SINCE_REVIEW: "Days since the last business review",
    Input.OBJECTIVE_ACHIEVEMENT: "Objectives achieved (%)",
    Input.CSM_SENTIMENT: "CSM sentiment (0-100)",
    Input.ESCALATED_TICKETS: "Escalated open tickets (high or urgent)",
    Input.TICKETS_OPENED_30D: "Tickets opened in the last 30 days",
    Input.TICKET_TREND_30D: "Tickets opened, last 30 days against the 30 before (%)",
    Input.DAYS_SINCE_TOUCH: "Days since the last touch",
}

# Where an input's value comes from. Open tickets, CSAT and NPS have two sources:
# the synced support records when the account has them, else the numbers typed into
# a usage snapshot (customers without HubSpot Service Hub).
USAGE_SNAPSHOT = "usage snapshot"
HUBSPOT_TICKETS = "HubSpot tickets"
HUBSPOT_SURVEYS = "HubSpot surveys"
HUBSPOT_ENGAGEMENTS = "HubSpot engagements"
INPUT_SOURCES: dict[Input, tuple[str, ...]] = {
    Input.ACTIVE_USERS_RATIO: (USAGE_SNAPSHOT,),
    Input.SEAT_UTILISATION: (USAGE_SNAPSHOT,),
    Input.LOGINS_30D: (USAGE_SNAPSHOT,),
    Input.LOGIN_TREND_90D: (USAGE_SNAPSHOT,),
    Input.CORE_FEATURES: (USAGE_SNAPSHOT,),
    Input.OPEN_TICKETS: (HUBSPOT_TICKETS, USAGE_SNAPSHOT),
    Input.CSAT: (HUBSPOT_SURVEYS, USAGE_SNAPSHOT),
    Input.NPS: (HUBSPOT_SURVEYS, USAGE_SNAPSHOT),
    Input.ONBOARDING_PROGRESS: ("onboarding plan",),
    Input.ONBOARDING_LATE: ("onboarding plan",),
    Input.DAYS_SINCE_REVIEW: ("business reviews",),
    Input.OBJECTIVE_ACHIEVEMENT: ("success plan",),
    Input.CSM_SENTIMENT: ("business reviews",),
    Input.ESCALATED_TICKETS: (HUBSPOT_TICKETS,),
    Input.TICKETS_OPENED_30D: (HUBSPOT_TICKETS,),
    Input.TICKET_TREND_30D: (HUBSPOT_TICKETS,),
    Input.DAYS_SINCE_TOUCH: (HUBSPOT_ENGAGEMENTS,),
}


def sources_text(name: str) -> str:
    """Where an input can come from, in words: "HubSpot surveys, else usage snapshot"."""
    try:
        sources = INPUT_SOURCES.get(Input(name), ())
    except ValueError:
        return ""
    return ", else ".join(sources)


class RuleKind(StrEnum):
    LINEAR = "linear"
    STEPS = "steps"


class Direction(StrEnum):
    HIGHER_IS_BETTER = "higher"
    LOWER_IS_BETTER = "lower"


@dataclass(frozen=True)
class Rule:
    """Maps an input value to 0-100.

    linear: `low` scores 0 and `high` scores 100 (reversed when lower is
    better), straight line between, clamped outside.
    steps: `(threshold, score)` pairs; when higher is better a value earns the
    score of the highest threshold it reaches (0 below all of them); when lower
    is better, the score of the lowest threshold it stays at or under (0 above
    all of them).
    """

    kind: RuleKind
    direction: Direction = Direction.HIGHER_IS_BETTER
    low: float = 0.0
    high: float = 100.0
    steps: tuple[tuple[float, float], ...] = ()
    # The steps in order, sorted once rather than on every score.
    _ordered: tuple[tuple[float, float], ...] = field(
        init=False, repr=False, compare=False, default=()
    )

    def __post_init__(self) -> None:
        object.__setattr__(self, "_ordered", tuple(sorted(self.steps)))

    def score(self, value: float) -> float:
        if self.kind == RuleKind.LINEAR:
            if self.high == self.low:
                reached = value >= self.high
                fraction = 1.0 if reached else 0.0
            else:
                fraction = (value - self.low) / (self.high - self.low)
            fraction = min(1.0, max(0.0, fraction))
            if self.direction == Direction.LOWER_IS_BETTER:
                fraction = 1.0 - fraction
            return 100.0 * fraction
        ordered = self._ordered
        if self.direction == Direction.HIGHER_IS_BETTER:
            earned = [s for threshold, s in ordered if value >= threshold]
            return float(earned[-1]) if earned else 0.0
        earned = [s for threshold, s in ordered if value <= threshold]
        return float(earned[0]) if earned else 0.0


@dataclass(frozen=True)
class Measure:
    input: Input
    weight: float
    rule: Rule
    # The input's name as a plain str (an enum's .value is a descriptor call).
    name: str = field(init=False, repr=False, compare=False, default="")

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", self.input.value)


@dataclass(frozen=True)
class Bands:
    green_min: int = 70
    yellow_min: int = 40

    def band(self, score: float) -> str:
        if score >= self.green_min:
            return "green"
        if score >= self.yellow_min:
            return "yellow"
        return "red"


class Contribution(NamedTuple):
    """One measure's part of a score. A named tuple, not a dataclass: the daily job
    makes about a million of them, and a frozen dataclass costs several times more
    to construct."""

    input: str
    value: float
    score: float
    weight: float
    contribution: float
    source: str = ""  # where the value came from, e.g. "HubSpot surveys"

    def as_dict(self) -> dict[str, float | str]:
        return {
            "input": self.input,
            "value": round(self.value, 2),
            "score": round(self.score, 1),
            "weight": round(self.weight, 4),
            "contribution": round(self.contribution, 2),
            "source": self.source,
        }


_CONTRIBUTION_JSON = (
    '{"input": "%s", "value": %.2f, "score": %.1f, "weight": %.4f, '
    '"contribution": %.2f, "source": %s}'
)
_JSON_STRINGS: dict[str, str] = {}


def _json_string(text: str) -> str:
    encoded = _JSON_STRINGS.get(text)
    if encoded is None:
        encoded = _JSON_STRINGS[text] = json.dumps(text)
    return encoded


def breakdown_json(contributions: Sequence[Contribution]) -> str:
    """`[c.as_dict() for c in contributions]` as JSON text, three times cheaper than
    building the dicts and json.dumps: the daily job writes 100,000 of these. Each number
    is printed to the digits as_dict rounds it to (`%.2f` rounds as `round(x, 2)` does,
    correctly, so it reads back as the same float; only trailing zeros may differ)."""
    return (
        "["
        + ", ".join(
            [
                _CONTRIBUTION_JSON
                % (
                    c.input,
                    c.value,
                    c.score,
                    c.weight,
                    c.contribution,
                    _json_string(c.source),
                )
                for c in contributions
            ]
        )
        + "]"
    )


@dataclass(frozen=True)
class Result:
    score: int | None
    band: str
    contributions: list[Contribution] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)

    def weakest(self) -> Contribution | None:
        """The measure that pulls the score down most: the largest share of
        weight left unearned."""
        if not self.contributions:
            return None
        return max(self.contributions, key=lambda c: c.weight * (100.0 - c.score))


def compute(
    measures: Sequence[Measure],
    inputs: Mapping[str, float | None],
    bands: Bands,
    sources: Mapping[str, str] | None = None,
) -> Result:
    """Score one account. Weights of measures without data are spread
    proportionally over the measures that have data. `sources` names where each
    input's value came from; the contributions keep it."""
    present = []
    missing = []
    weights = []
    for m in measures:
        given = inputs.get(m.input)
        if given is None:
            missing.append(m.name)
        else:
            present.append((m, given))
            weights.append(m.weight)
    total_weight = sum(weights)
    if not present or total_weight <= 0:
        return Result(score=None, band="", missing=missing)
    sources = sources or {}
    contributions = []
    parts = []
    for m, given in present:
        value = float(given)
        score = m.rule.score(value)
        weight = m.weight / total_weight
        part = score * weight
        parts.append(part)
        contributions.append(
            Contribution(m.name, value, score, weight, part, sources.get(m.input, ""))
        )
    total = round(sum(parts))
    return Result(score=total, band=bands.band(total), contributions=contributions, missing=missing)


def explain(result: Result) -> str:
    """One plain sentence naming what pulls the score down most."""
    if result.score is None:
        return "No score yet: none of the model's inputs has data for this account."
    weakest = result.weakest()
    if weakest is None or weakest.score >= 99.5:
        return "Every measure is at its best."
    label = INPUT_LABELS.get(Input(weakest.input), weakest.input)
    lost = weakest.weight * (100.0 - weakest.score)
    where = f", from {weakest.source}" if weakest.source else ""
    sentence = (
        f"{label} pulls the score down most: it scores {weakest.score:.0f}/100 "
        f"(value {weakest.value:g}{where}), costing {lost:.0f} points."
    )
    if result.missing:
        names = ", ".join(INPUT_LABELS.get(Input(m), m).split(" (")[0] for m in result.missing)
        sentence += f" No data for: {names}."
    return sentence

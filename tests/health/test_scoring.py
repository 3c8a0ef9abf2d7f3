from __future__ import annotations

import pytest

from success.health.scoring import (
    Bands,
    Direction,
    Input,
    Measure,
    Rule,
    RuleKind,
    compute,
    explain,
)

LINEAR_UP = Rule(RuleKind.LINEAR, Direction.HIGHER_IS_BETTER, low=20, high=80)
LINEAR_DOWN = Rule(RuleKind.LINEAR, Direction.LOWER_IS_BETTER, low=0, high=10)
STEPS_UP = Rule(
    RuleKind.STEPS, Direction.HIGHER_IS_BETTER, steps=((3.5, 50), (4.5, 100), (2.0, 20))
)
STEPS_DOWN = Rule(RuleKind.STEPS, Direction.LOWER_IS_BETTER, steps=((2, 100), (5, 60), (10, 20)))


@pytest.mark.parametrize(
    ("rule", "value", "expected"),
    [
        (LINEAR_UP, 10, 0),
        (LINEAR_UP, 20, 0),
        (LINEAR_UP, 50, 50),
        (LINEAR_UP, 80, 100),
        (LINEAR_UP, 500, 100),
        (LINEAR_DOWN, 0, 100),
        (LINEAR_DOWN, 2.5, 75),
        (LINEAR_DOWN, 12, 0),
        (STEPS_UP, 1.9, 0),
        (STEPS_UP, 2.0, 20),
        (STEPS_UP, 4.49, 50),
        (STEPS_UP, 4.5, 100),
        (STEPS_DOWN, 0, 100),
        (STEPS_DOWN, 2, 100),
        (STEPS_DOWN, 3, 60),
        (STEPS_DOWN, 10, 20),
        (STEPS_DOWN, 11, 0),
    ],
)
def test_rules_map_inputs_to_0_100_at_the_boundaries(
    rule: Rule, value: float, expected: float
) -> None:
    assert rule.score(value) == pytest.approx(expected)


MEASURES = [
    Measure(Input.ACTIVE_USERS_RATIO, 3, LINEAR_UP),
    Measure(Input.OPEN_TICKETS, 1, LINEAR_DOWN),
    Measure(Input.CSAT, 1, STEPS_UP),
]


def test_weighted_mean_of_measure_scores() -> None:
    # 3/5 * 50 + 1/5 * 75 + 1/5 * 100 = 30 + 15 + 20 = 65
    result = compute(
        MEASURES, {"active_users_ratio": 50, "open_tickets": 2.5, "csat": 4.6}, Bands()
    )
    assert result.score == 65
    assert result.band == "yellow"
    assert [round(c.contribution, 2) for c in result.contributions] == [30.0, 15.0, 20.0]
    assert result.missing == []


def test_missing_input_spreads_its_weight_instead_of_counting_as_zero() -> None:
    # CSAT missing: weights 3/4 and 1/4 -> 0.75 * 50 + 0.25 * 75 = 56.25
    result = compute(
        MEASURES, {"active_users_ratio": 50, "open_tickets": 2.5, "csat": None}, Bands()
    )
    assert result.score == 56
    assert result.missing == ["csat"]
    assert sum(c.weight for c in result.contributions) == pytest.approx(1.0)


def test_no_data_at_all_gives_no_score() -> None:
    result = compute(MEASURES, {}, Bands())
    assert (result.score, result.band) == (None, "")
    assert result.missing == ["active_users_ratio", "open_tickets", "csat"]
    assert explain(result).startswith("No score yet")


@pytest.mark.parametrize(
    ("score", "band"), [(70, "green"), (69, "yellow"), (40, "yellow"), (39, "red")]
)
def test_bands_follow_their_cut_offs(score: int, band: str) -> None:
    assert Bands(green_min=70, yellow_min=40).band(score) == band


def test_explanation_names_the_measure_that_costs_most() -> None:
    result = compute(MEASURES, {"active_users_ratio": 20, "open_tickets": 0, "csat": None}, Bands())
    # users: weight .75, score 0 -> costs 75 points; tickets cost nothing
    sentence = explain(result)
    assert sentence.startswith("Active users / seats purchased (%) pulls the score down most")
    assert "costing 75 points" in sentence
    assert "No data for: CSAT." in sentence


def test_breakdown_json_reads_back_as_the_contributions_dicts() -> None:
    """The daily job writes `breakdown_json`; pages and the API read what `as_dict`
    gave: the same floats, to the same rounding, for any value (halves, negatives,
    tiny and large numbers, a source needing JSON escapes)."""
    import json
    import random

    from success.health.scoring import Contribution, breakdown_json

    rng = random.Random(22)
    specials = [0.0, -0.0, 0.005, 0.015, 0.125, 2.675, -1.005, 1e-9, 123456.785, 99.95]
    values = specials + [rng.uniform(-1000, 1000) for _ in range(3000)]
    contributions = [
        Contribution(
            "csat",
            value,
            rng.choice(values) % 100,
            rng.random(),
            rng.uniform(0, 40),
            rng.choice(["", "HubSpot surveys", 'quoted "source" \\ é']),
        )
        for value in values
    ]
    assert json.loads(breakdown_json(contributions)) == [c.as_dict() for c in contributions]
    assert breakdown_json([]) == "[]"

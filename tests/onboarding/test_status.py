"""Status derivation at its date boundaries, without a database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pytest

from onboarding.models import PlanStatus
from onboarding.status import milestone_lateness, plan_derive

TODAY = date(2026, 3, 10)


@dataclass
class M:
    due_date: date
    required: bool = True
    completed_on: date | None = None
    skipped_on: date | None = None


def days(n: int) -> date:
    return TODAY + timedelta(days=n)


@pytest.mark.parametrize(
    ("offset", "expected"),
    [(-1, "late"), (0, "at_risk"), (3, "at_risk"), (4, "")],
)
def test_milestone_lateness_boundaries(offset: int, expected: str) -> None:
    assert milestone_lateness(M(due_date=days(offset)), TODAY) == expected


def test_done_or_skipped_milestones_are_never_late() -> None:
    assert milestone_lateness(M(due_date=days(-5), completed_on=days(-1)), TODAY) == ""
    assert milestone_lateness(M(due_date=days(-5), skipped_on=days(-1)), TODAY) == ""


def test_nothing_done_and_nothing_due_soon_is_not_started() -> None:
    derived = plan_derive([M(due_date=days(4)), M(due_date=days(20))], TODAY)
    assert derived.status == PlanStatus.NOT_STARTED
    assert derived.progress == 0


def test_required_milestone_due_in_three_days_puts_plan_at_risk() -> None:
    assert plan_derive([M(due_date=days(3))], TODAY).status == PlanStatus.AT_RISK


def test_required_milestone_due_in_four_days_is_not_at_risk() -> None:
    plan = [M(due_date=days(-2), completed_on=days(-2)), M(due_date=days(4))]
    assert plan_derive(plan, TODAY).status == PlanStatus.ON_TRACK


def test_required_milestone_due_yesterday_makes_plan_late() -> None:
    plan = [M(due_date=days(-3), completed_on=days(-3)), M(due_date=days(-1))]
    assert plan_derive(plan, TODAY).status == PlanStatus.LATE


def test_required_milestone_due_today_is_at_risk_not_late() -> None:
    plan = [M(due_date=days(-3), completed_on=days(-3)), M(due_date=TODAY)]
    assert plan_derive(plan, TODAY).status == PlanStatus.AT_RISK


def test_late_wins_over_at_risk() -> None:
    plan = [M(due_date=days(-1)), M(due_date=days(1))]
    assert plan_derive(plan, TODAY).status == PlanStatus.LATE


def test_optional_milestones_never_make_a_plan_late() -> None:
    plan = [M(due_date=days(-10), required=False), M(due_date=days(30))]
    assert plan_derive(plan, TODAY).status == PlanStatus.NOT_STARTED


def test_progress_counts_done_required_over_required() -> None:
    plan = [
        M(due_date=days(-5), completed_on=days(-5)),
        M(due_date=days(10)),
        M(due_date=days(10)),
        M(due_date=days(10), required=False, completed_on=days(-1)),
    ]
    derived = plan_derive(plan, TODAY)
    assert derived.progress == 33
    assert derived.status == PlanStatus.ON_TRACK


def test_all_required_done_is_completed_even_with_optional_open() -> None:
    plan = [
        M(due_date=days(-5), completed_on=days(-5)),
        M(due_date=days(-20), required=False),
    ]
    derived = plan_derive(plan, TODAY)
    assert derived.status == PlanStatus.COMPLETED
    assert derived.complete
    assert derived.progress == 100


def test_required_skipped_by_leader_leaves_the_denominator() -> None:
    plan = [
        M(due_date=days(-5), completed_on=days(-5)),
        M(due_date=days(-5), skipped_on=days(-1)),
        M(due_date=days(10)),
    ]
    assert plan_derive(plan, TODAY).progress == 50

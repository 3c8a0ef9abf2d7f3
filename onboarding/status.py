"""Plan status and progress, derived from the milestones and the date only.

Pure functions, so the rules are testable at their date boundaries without a
database, and so the services and the daily job agree by construction.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Protocol

AT_RISK_WITHIN_DAYS = 3


class MilestoneLike(Protocol):
    required: bool
    due_date: date
    completed_on: date | None
    skipped_on: date | None


@dataclass(frozen=True)
class Derived:
    status: str
    progress: int
    complete: bool


def milestone_lateness(milestone: MilestoneLike, today: date) -> str:
    """'late' when an open milestone is past due, 'at_risk' when it is due within
    AT_RISK_WITHIN_DAYS days (today included), '' otherwise."""
    if milestone.completed_on is not None or milestone.skipped_on is not None:
        return ""
    if milestone.due_date < today:
        return "late"
    if milestone.due_date <= today + timedelta(days=AT_RISK_WITHIN_DAYS):
        return "at_risk"
    return ""


def plan_derive(milestones: Iterable[MilestoneLike], today: date) -> Derived:
    """Status in order of precedence: completed (every required milestone done
    or skipped), late (a required milestone past due), at risk (a required
    milestone due within 3 days), not started (nothing done or skipped yet),
    on track. Progress is done required / required, in percent; a required
    milestone a leader skipped leaves the denominator."""
    from .models import PlanStatus

    items = list(milestones)
    required = [m for m in items if m.required]
    counted = [m for m in required if m.skipped_on is None]
    done = [m for m in counted if m.completed_on is not None]
    progress = round(100 * len(done) / len(counted)) if counted else 100 if required else 0
    complete = bool(required) and all(
        m.completed_on is not None or m.skipped_on is not None for m in required
    )
    lateness = {milestone_lateness(m, today) for m in required}
    if complete:
        status = PlanStatus.COMPLETED
    elif "late" in lateness:
        status = PlanStatus.LATE
    elif "at_risk" in lateness:
        status = PlanStatus.AT_RISK
    elif not any(m.completed_on is not None or m.skipped_on is not None for m in items):
        status = PlanStatus.NOT_STARTED
    else:
        status = PlanStatus.ON_TRACK
    return Derived(status=str(status), progress=progress, complete=complete)

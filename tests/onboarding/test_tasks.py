from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from accounts.models import Event
from onboarding.models import PlanHistory, PlanStatus
from onboarding.services import plans_refresh_all
from onboarding.tasks import onboarding_statuses_refresh
from tests.factories import OnboardingPlanFactory

pytestmark = pytest.mark.django_db


def test_daily_job_moves_plans_as_dates_pass_and_is_idempotent(csm: Any) -> None:
    today = timezone.localdate()
    plan = OnboardingPlanFactory.create(start_date=today)  # kickoff due in 3 days: at risk
    assert plan.status == PlanStatus.AT_RISK
    events = Event.objects.filter(account=plan.account).count()
    changes = plan.history.filter(action=PlanHistory.Action.STATUS_CHANGED).count()

    assert plans_refresh_all(today=today) == 0  # nothing moved yet
    assert Event.objects.filter(account=plan.account).count() == events

    later = today + timedelta(days=4)  # kickoff now a day overdue
    assert plans_refresh_all(today=later) == 1
    plan.refresh_from_db()
    assert plan.status == PlanStatus.LATE
    plan.account.refresh_from_db()
    assert plan.account.onboarding_status == "late"
    assert plan.history.filter(action=PlanHistory.Action.STATUS_CHANGED).count() == changes + 1
    events_after = Event.objects.filter(account=plan.account).count()
    assert events_after == events + 1

    assert plans_refresh_all(today=later) == 0
    assert Event.objects.filter(account=plan.account).count() == events_after
    assert plan.history.filter(action=PlanHistory.Action.STATUS_CHANGED).count() == changes + 1


def test_task_entry_point_reports_what_it_did(csm: Any) -> None:
    OnboardingPlanFactory.create()
    assert onboarding_statuses_refresh() == "0 plan(s) changed status"


def test_schedule_is_declared_once() -> None:
    from lifecycle.schedules import SCHEDULES

    specs = [s for s in SCHEDULES if s.func == "onboarding.tasks.onboarding_statuses_refresh"]
    assert len(specs) == 1

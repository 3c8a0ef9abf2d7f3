from __future__ import annotations

import pytest
from django.utils import timezone

from accounts.demo import build as accounts_build
from onboarding import demo
from onboarding.models import OnboardingPlan, OnboardingTemplate, PlanStatus

pytestmark = pytest.mark.django_db


def test_demo_builds_plans_in_every_state_once() -> None:
    today = timezone.localdate()
    accounts_build(accounts=120, seed=3, today=today)
    message = demo.build(seed=3, today=today)
    assert "onboarding plans" in message
    statuses = set(OnboardingPlan.objects.values_list("status", flat=True))
    assert statuses == set(PlanStatus.values)
    assert OnboardingPlan.objects.exclude(ttv_days=None).exists()
    count = OnboardingPlan.objects.count()
    templates = OnboardingTemplate.objects.count()

    assert "left as is" in demo.build(seed=3, today=today)
    assert OnboardingPlan.objects.count() == count
    assert OnboardingTemplate.objects.count() == templates


def test_demo_is_registered_with_the_project_builder() -> None:
    from lifecycle.demo import APP_BUILDERS

    assert "onboarding.demo.build" in APP_BUILDERS

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import Segment
from onboarding import selectors, services
from onboarding.models import MilestoneKind, PlanStatus
from tests.factories import (
    AccountFactory,
    MilestoneFactory,
    OnboardingPlanFactory,
    OnboardingTemplateFactory,
)

pytestmark = pytest.mark.django_db


def today() -> Any:
    return timezone.localdate()


def test_plans_list_annotates_the_next_open_milestone_and_sorts_late_first(csm: Any) -> None:
    fresh = OnboardingPlanFactory.create(start_date=today() + timedelta(days=5))
    late = OnboardingPlanFactory.create(start_date=today() - timedelta(days=12))
    services.milestone_complete(
        milestone=late.milestones.get(kind=MilestoneKind.KICKOFF), by=csm, on=today(), note=""
    )
    rows: list[Any] = list(selectors.plans_list())  # annotated: next_title, next_due
    assert [r.pk for r in rows] == [late.pk, fresh.pk]
    assert rows[0].status == PlanStatus.LATE
    assert rows[0].next_title == "Workspace configured"  # kickoff is done
    assert rows[0].next_due == late.start_date + timedelta(days=10)
    assert rows[1].next_title == "Kickoff call"


def test_templates_for_start_suggest_the_accounts_segment_first() -> None:
    OnboardingTemplateFactory.create(name="A", segments=[Segment.SMB])
    OnboardingTemplateFactory.create(name="B", segments=[Segment.ENTERPRISE])
    OnboardingTemplateFactory.create(name="C draft", segments=[Segment.ENTERPRISE], is_active=False)
    account = AccountFactory.create(segment=Segment.ENTERPRISE)
    assert [t.name for t in selectors.templates_for_start(account=account)] == ["B", "A"]


def test_account_without_onboarding_costs_no_query() -> None:
    account = AccountFactory.create()
    with CaptureQueriesContext(connection) as queries:
        assert selectors.account_plans(account=account) == []
    assert len(queries) == 0


def test_account_page_queries_do_not_grow_with_milestones(client: Any, csm: Any) -> None:
    plan = OnboardingPlanFactory.create(account=AccountFactory.create(owner=csm))
    client.force_login(csm)
    url = reverse("account", args=[plan.account_id])

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    before = count()
    for _ in range(45):
        MilestoneFactory.create(plan=plan)
    assert count() == before


def test_insights_on_time_rate_and_ttv_by_template_and_segment(csm: Any) -> None:
    template = OnboardingTemplateFactory.create(name="Standard")
    start = today() - timedelta(days=30)
    for segment, ttv_offset in [(Segment.SMB, 0), (Segment.SMB, 24), (Segment.ENTERPRISE, 10)]:
        account = AccountFactory.create(segment=segment, contract_start=start)
        plan = OnboardingPlanFactory.create(account=account, template=template, start_date=start)
        # first value due day 21: on time when completed by then
        services.milestone_complete(
            milestone=plan.milestones.get(is_first_value=True),
            by=csm,
            on=start + timedelta(days=ttv_offset),
            note="",
        )
    insights = selectors.onboarding_insights()
    (stats,) = insights.per_template
    assert (stats.milestones_done, stats.milestones_on_time, stats.on_time_rate) == (3, 2, 67)
    assert stats.ttv_median == 10
    by_segment = {g.label: g for g in insights.ttv_by_segment}
    assert by_segment["SMB"].values == [0, 24]
    assert by_segment["SMB"].median == 12
    assert [count for _label, count, _pct in by_segment["SMB"].buckets] == [1, 1, 0, 0, 0]
    assert by_segment["Enterprise"].median == 10

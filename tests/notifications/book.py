"""A CSM's book with one of everything a digest reports, dated around `now`
in the CSM's own zone."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from accounts.models import Account
from success.alerts.models import Alert, AlertRule, ExpansionSignal, RuleKind
from tests.factories import (
    AccountFactory,
    MilestoneFactory,
    OnboardingPlanFactory,
    RenewalFactory,
    SuccessTaskFactory,
)


def book(csm: Any, now: datetime, zone: Any) -> Account:
    today = now.astimezone(zone).date()
    account = AccountFactory.create(name=f"Acme of {csm.username}", owner=csm)
    rule, _ = AlertRule.objects.get_or_create(
        name="No login", defaults={"kind": RuleKind.NO_LOGIN, "days": 30}
    )
    other_rule, _ = AlertRule.objects.get_or_create(
        name="Health drop", defaults={"kind": RuleKind.HEALTH_DROP, "threshold": 20, "days": 7}
    )
    Alert.objects.create(
        account=account,
        rule=rule,
        owner=csm,
        message="No login for 30 days",
        due_on=today - timedelta(days=2),
        opened_at=now - timedelta(days=5),
    )
    Alert.objects.create(
        account=account,
        rule=other_rule,
        owner=csm,
        message="Health dropped 25%",
        due_on=today + timedelta(days=3),
        opened_at=now - timedelta(hours=1),
    )
    SuccessTaskFactory.create(
        account=account, assignee_user=csm, title="Send the ROI deck", due_date=today
    )
    SuccessTaskFactory.create(
        account=account,
        assignee_user=csm,
        title="Book the exec sponsor call",
        due_date=today - timedelta(days=1),
    )
    ExpansionSignal.objects.create(
        account=account, note="Asked for 50 more seats", follow_up_by=now + timedelta(hours=3)
    )
    RenewalFactory.create(
        account=account, renewal_date=today + timedelta(days=20), forecast_category="at_risk"
    )
    onboarding = AccountFactory.create(name=f"Newco of {csm.username}", owner=csm)
    plan = OnboardingPlanFactory.create(account=onboarding, start_date=today - timedelta(days=5))
    MilestoneFactory.create(plan=plan, title="Kick-off call", due_date=today - timedelta(days=3))
    return account

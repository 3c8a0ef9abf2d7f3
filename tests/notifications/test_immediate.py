"""Alerts whose rule is set to notify at once reach the owner by email (over
real SMTP) when the account's ARR is at or above the rule's threshold; the
others wait for the digest."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone

from lifecycle.notifications.models import Notification, RuleSetting
from success.alerts.models import AlertRule, RuleKind
from success.alerts.services import alerts_evaluate
from success.playbooks.models import Playbook
from tests.factories import AccountFactory, UsageSnapshotFactory

from .servers import SmtpServer, body


def test_churn_risk_above_the_arr_threshold_is_emailed_at_once(
    smtp: SmtpServer,
    csm: Any,
    default_health_model: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    today = timezone.localdate()
    Playbook.objects.all().delete()  # the default playbooks name the default rules
    AlertRule.objects.all().delete()
    rule = AlertRule.objects.create(name="Gone quiet", kind=RuleKind.NO_LOGIN, days=30)
    RuleSetting.objects.create(rule=rule, immediate=True, min_arr=Decimal("100000"))
    big = AccountFactory.create(name="Big Co", owner=csm, arr=Decimal("250000"))
    small = AccountFactory.create(name="Small Co", owner=csm, arr=Decimal("20000"))
    for account in (big, small):
        UsageSnapshotFactory.create(account=account, date=today - timedelta(days=2), logins_30d=0)
    with django_capture_on_commit_callbacks(execute=True):
        run = alerts_evaluate(today=today)
    assert run.opened["Gone quiet"] == 2
    assert [n.account for n in Notification.objects.all()] == [big]
    (message,) = smtp.messages
    assert message["Subject"].startswith("Alert: Big Co")
    assert "ARR 250,000" in body(message, "plain")


def test_a_rule_not_set_to_notify_waits_for_the_digest(csm: Any, default_health_model: Any) -> None:
    today = timezone.localdate()
    Playbook.objects.all().delete()  # the default playbooks name the default rules
    AlertRule.objects.all().delete()
    AlertRule.objects.create(name="Gone quiet", kind=RuleKind.NO_LOGIN, days=30)
    account = AccountFactory.create(owner=csm, arr=Decimal("250000"))
    UsageSnapshotFactory.create(account=account, date=today - timedelta(days=2), logins_30d=0)
    assert alerts_evaluate(today=today).opened["Gone quiet"] == 1
    assert not Notification.objects.exists()

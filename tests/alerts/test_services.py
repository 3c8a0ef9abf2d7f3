from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from accounts.models import Stage
from success.alerts import services
from success.alerts.models import Alert, AlertRule, ExpansionSignal, RuleKind
from success.health.models import HealthModel, HealthScore
from success.models import BusinessReview
from tests.factories import AccountFactory, UsageSnapshotFactory

pytestmark = pytest.mark.django_db
TODAY = date(2026, 11, 23)


def _score(account: Any, days_ago: int, score: int) -> None:
    HealthScore.objects.create(
        account=account,
        date=TODAY - timedelta(days=days_ago),
        model=HealthModel.objects.get(status="active"),
        score=score,
        band="green",
    )


def test_health_drop_rule_opens_one_alert_for_the_owner_and_not_twice(csm: Any) -> None:
    rule = AlertRule.objects.create(name="Drop", kind=RuleKind.HEALTH_DROP, threshold=20, days=7)
    falling = AccountFactory.create(owner=csm)
    _score(falling, 5, 80)
    _score(falling, 0, 60)  # 25% drop
    steady = AccountFactory.create(owner=csm)
    _score(steady, 5, 80)
    _score(steady, 0, 70)  # 12.5% drop
    run = services.alerts_evaluate(today=TODAY)
    alert = Alert.objects.get()
    assert (alert.account, alert.owner, alert.rule) == (falling, csm, rule)
    assert alert.message == "Health fell 25% in 7 days (80 → 60)"
    assert alert.due_on == TODAY + timedelta(days=3)
    assert run.opened == {"Drop": 1}
    assert services.alerts_evaluate(today=TODAY).opened == {"Drop": 0}
    assert Alert.objects.count() == 1


def test_alert_resolves_itself_when_the_condition_clears() -> None:
    AlertRule.objects.create(name="Drop", kind=RuleKind.HEALTH_DROP, threshold=20, days=7)
    account = AccountFactory.create()
    _score(account, 3, 90)
    _score(account, 0, 50)
    services.alerts_evaluate(today=TODAY)
    HealthScore.objects.filter(account=account, date=TODAY).update(score=88)
    run = services.alerts_evaluate(today=TODAY)
    assert run.cleared == {"Drop": 1}
    assert Alert.objects.get().status == Alert.Status.RESOLVED


def test_no_login_rule_matches_only_accounts_without_any_login() -> None:
    AlertRule.objects.create(name="Silent", kind=RuleKind.NO_LOGIN, days=30)
    silent = AccountFactory.create()
    UsageSnapshotFactory.create(account=silent, date=TODAY - timedelta(days=3), logins_30d=0)
    busy = AccountFactory.create()
    UsageSnapshotFactory.create(account=busy, date=TODAY - timedelta(days=3), logins_30d=12)
    churned = AccountFactory.create(stage=Stage.CHURNED)
    UsageSnapshotFactory.create(account=churned, date=TODAY - timedelta(days=3), logins_30d=0)
    services.alerts_evaluate(today=TODAY)
    assert list(Alert.objects.values_list("account", flat=True)) == [silent.pk]


def test_renewal_without_recent_review_rule() -> None:
    AlertRule.objects.create(
        name="Renewal", kind=RuleKind.RENEWAL_WITHOUT_REVIEW, days=90, second_days=120
    )
    neglected = AccountFactory.create(renewal_date=TODAY + timedelta(days=60))
    reviewed = AccountFactory.create(renewal_date=TODAY + timedelta(days=60))
    BusinessReview.objects.create(
        account=reviewed,
        scheduled_for=TODAY - timedelta(days=30),
        status="held",
        held_on=TODAY - timedelta(days=30),
    )
    AccountFactory.create(renewal_date=TODAY + timedelta(days=200))
    services.alerts_evaluate(today=TODAY)
    assert list(Alert.objects.values_list("account", flat=True)) == [neglected.pk]


def test_seat_expansion_rule_raises_a_signal_due_in_24_hours() -> None:
    AlertRule.objects.create(name="Expand", kind=RuleKind.SEAT_EXPANSION, threshold=80, minimum=5)
    hot = AccountFactory.create()
    UsageSnapshotFactory.create(
        account=hot,
        date=TODAY - timedelta(days=1),
        seats_used=90,
        seats_purchased=100,
        core_features_adopted=6,
    )
    cold = AccountFactory.create()
    UsageSnapshotFactory.create(
        account=cold,
        date=TODAY - timedelta(days=1),
        seats_used=95,
        seats_purchased=100,
        core_features_adopted=2,
    )
    run = services.alerts_evaluate(today=TODAY)
    signal = ExpansionSignal.objects.get()
    assert (signal.account, signal.source, run.signals) == (hot, "rule", 1)
    assert signal.follow_up_by - signal.raised_at == timedelta(hours=24)


def test_rule_needs_its_parameters() -> None:
    rule = AlertRule(name="x", kind=RuleKind.RENEWAL_WITHOUT_REVIEW, days=90)
    with pytest.raises(ValidationError) as exc:
        rule.full_clean()
    assert "second_days" in exc.value.message_dict


def test_dismissing_an_alert_needs_a_note(csm: Any) -> None:
    rule = AlertRule.objects.create(name="Late", kind=RuleKind.ONBOARDING_LATE)
    account = AccountFactory.create(owner=csm, onboarding_status="late")
    services.alerts_evaluate(today=TODAY)
    alert = Alert.objects.get(rule=rule)
    with pytest.raises(ValidationError):
        services.alert_close(alert=alert, status="dismissed", note=" ", by=csm)
    services.alert_close(alert=alert, status="resolved", note="Called them", by=csm)
    alert.refresh_from_db()
    assert (alert.status, alert.closed_by) == ("resolved", csm)
    assert account.events.filter(summary__contains="Called them").exists()


@pytest.mark.parametrize("accounts", [5, 40])
def test_evaluation_costs_the_same_queries_for_any_portfolio_size(
    accounts: int, django_assert_num_queries: Any
) -> None:
    AlertRule.objects.create(name="Silent", kind=RuleKind.NO_LOGIN, days=30)
    for _ in range(accounts):
        UsageSnapshotFactory.create(date=TODAY - timedelta(days=2), logins_30d=0)
    # savepoint, rules, usage, live alerts, owners, insert alerts, the rules' notification
    # settings (ALERTS_OPENED_HOOKS), insert events, release (nothing to resolve: Django
    # skips an UPDATE over an empty id list)
    with django_assert_num_queries(9):
        services.alerts_evaluate(today=TODAY)
    assert Alert.objects.count() == accounts


def test_a_fresh_install_has_the_standard_plays(django_db_setup: Any) -> None:
    from django.db import connection
    from django.db.migrations import RunPython
    from django.db.migrations.executor import MigrationExecutor

    # The autouse fixture emptied the table; re-run the data migration's function.
    executor = MigrationExecutor(connection)
    state = executor.loader.project_state(("alerts", "0002_default_rules"))
    migration = executor.loader.get_migration("alerts", "0002_default_rules")
    run_python = migration.operations[0]
    assert isinstance(run_python, RunPython)
    with connection.schema_editor() as editor:
        run_python.code(state.apps, editor)
    assert set(AlertRule.objects.values_list("kind", flat=True)) == set(RuleKind.values)

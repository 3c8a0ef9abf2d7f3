from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

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
    # The first plays, then issue 18's support plays.
    for name in ("0002_default_rules", "0005_default_support_rules"):
        state = executor.loader.project_state(("alerts", name))
        migration = executor.loader.get_migration("alerts", name)
        run_python = migration.operations[0]
        assert isinstance(run_python, RunPython)
        with connection.schema_editor() as editor:
            run_python.code(state.apps, editor)
    assert set(AlertRule.objects.values_list("kind", flat=True)) == set(RuleKind.values)


def _late_account(csm: Any) -> Any:
    return AccountFactory.create(owner=csm, onboarding_status="late")


def test_a_dismissed_alert_stays_quiet_while_its_condition_holds(csm: Any) -> None:
    AlertRule.objects.create(name="Late", kind=RuleKind.ONBOARDING_LATE)
    _late_account(csm)
    services.alerts_evaluate(today=TODAY)
    alert = Alert.objects.get()
    services.alert_close(alert=alert, status="dismissed", note="Known: data migration", by=csm)

    run = services.alerts_evaluate(today=TODAY + timedelta(days=1))
    assert (run.opened, run.reopened) == ({"Late": 0}, {"Late": 0})
    assert services.alerts_evaluate(today=TODAY + timedelta(days=60)).opened == {"Late": 0}
    alert.refresh_from_db()
    assert (Alert.objects.count(), alert.status) == (1, "dismissed")


def test_a_dismissed_alert_fires_again_once_the_condition_cleared_and_came_back(
    csm: Any,
) -> None:
    AlertRule.objects.create(name="Late", kind=RuleKind.ONBOARDING_LATE)
    account = _late_account(csm)
    services.alerts_evaluate(today=TODAY)
    dismissed = Alert.objects.get()
    services.alert_close(alert=dismissed, status="dismissed", note="Known", by=csm)

    account.onboarding_status = "on_track"
    account.save(update_fields=["onboarding_status"])
    services.alerts_evaluate(today=TODAY + timedelta(days=1))
    dismissed.refresh_from_db()
    assert dismissed.condition_cleared_at is not None
    assert dismissed.status == "dismissed"  # stays as the CSM left it

    account.onboarding_status = "late"
    account.save(update_fields=["onboarding_status"])
    run = services.alerts_evaluate(today=TODAY + timedelta(days=2))
    assert run.opened == {"Late": 1}
    assert Alert.objects.exclude(pk=dismissed.pk).get().status == "open"


def test_a_snoozed_alert_reopens_on_its_date_with_a_line_saying_why(csm: Any) -> None:
    AlertRule.objects.create(name="Late", kind=RuleKind.ONBOARDING_LATE)
    account = _late_account(csm)
    services.alerts_evaluate(today=TODAY)
    alert = Alert.objects.get()
    services.alert_close(alert=alert, status="dismissed", note="Waiting", by=csm, snooze_days=14)
    alert.refresh_from_db()
    until = alert.snoozed_until
    assert until is not None

    assert services.alerts_evaluate(today=until - timedelta(days=1)).reopened == {"Late": 0}
    run = services.alerts_evaluate(today=until)
    alert.refresh_from_db()
    assert run.reopened == {"Late": 1}
    assert (alert.status, alert.closed_at, alert.snoozed_until) == ("open", None, None)
    assert alert.reopen_note.startswith(f"Snoozed until {until:%b} {until.day}, {until.year}")
    assert Alert.objects.count() == 1
    assert account.events.filter(kind="alert", summary__contains="Snoozed until").exists()


def test_snoozing_is_only_for_dismissals(csm: Any) -> None:
    AlertRule.objects.create(name="Late", kind=RuleKind.ONBOARDING_LATE)
    _late_account(csm)
    services.alerts_evaluate(today=TODAY)
    alert = Alert.objects.get()
    with pytest.raises(ValidationError):
        services.alert_close(alert=alert, status="resolved", note="", by=csm, snooze_days=7)
    alert.refresh_from_db()
    assert alert.status == "open"


def test_a_resolved_alert_reopens_when_the_condition_still_holds_after_the_rule_s_days(
    csm: Any,
) -> None:
    AlertRule.objects.create(name="Late", kind=RuleKind.ONBOARDING_LATE, reopen_after_days=10)
    _late_account(csm)
    services.alerts_evaluate(today=TODAY)
    alert = Alert.objects.get()
    services.alert_close(alert=alert, status="resolved", note="Called them", by=csm)
    resolved_on = timezone.localdate()

    assert services.alerts_evaluate(today=resolved_on + timedelta(days=9)).reopened == {"Late": 0}
    run = services.alerts_evaluate(today=resolved_on + timedelta(days=10))
    alert.refresh_from_db()
    assert (run.reopened, run.opened) == ({"Late": 1}, {"Late": 0})
    assert alert.status == "open"
    assert "still holds 10 days after it was resolved" in alert.reopen_note


def test_a_resolved_alert_whose_condition_cleared_does_not_reopen(csm: Any) -> None:
    AlertRule.objects.create(name="Late", kind=RuleKind.ONBOARDING_LATE, reopen_after_days=10)
    account = _late_account(csm)
    services.alerts_evaluate(today=TODAY)
    services.alert_close(alert=Alert.objects.get(), status="resolved", note="Fixed", by=csm)
    account.onboarding_status = "on_track"
    account.save(update_fields=["onboarding_status"])
    run = services.alerts_evaluate(today=timezone.localdate() + timedelta(days=30))
    assert (run.reopened, Alert.objects.get().status) == ({"Late": 0}, "resolved")


def test_an_expansion_rule_raises_one_signal_per_firing_not_per_run(csm: Any) -> None:
    AlertRule.objects.create(name="Expand", kind=RuleKind.SEAT_EXPANSION, threshold=80, minimum=5)
    hot = AccountFactory.create(owner=csm)
    UsageSnapshotFactory.create(
        account=hot,
        date=TODAY - timedelta(days=1),
        seats_used=90,
        seats_purchased=100,
        core_features_adopted=6,
    )
    services.alerts_evaluate(today=TODAY)
    alert = Alert.objects.get()
    services.alert_close(alert=alert, status="dismissed", note="Budget frozen", by=csm)
    for days in (1, 2, 3):
        assert services.alerts_evaluate(today=TODAY + timedelta(days=days)).signals == 0
    signal = ExpansionSignal.objects.get()
    assert signal.alert == alert
    assert alert.account.events.filter(kind="alert").exists()


def _holding_states(accounts: int, csm: Any) -> None:
    """`accounts` late accounts in each state an evaluation handles: live, dismissed,
    snoozed until today, resolved long ago, and cleared (no longer late)."""
    rule = AlertRule.objects.create(name="Late", kind=RuleKind.ONBOARDING_LATE, reopen_after_days=5)
    long_ago = timezone.now() - timedelta(days=400)
    for state in ("open", "dismissed", "snoozed", "resolved", "cleared"):
        for _ in range(accounts):
            account = AccountFactory.create(
                owner=csm, onboarding_status="on_track" if state == "cleared" else "late"
            )
            Alert.objects.create(
                account=account,
                rule=rule,
                message="Late",
                due_on=TODAY,
                status="dismissed" if state == "snoozed" else state.replace("cleared", "open"),
                closed_at=None if state in ("open", "cleared") else long_ago,
                snoozed_until=TODAY if state == "snoozed" else None,
            )
    for _ in range(accounts):
        AccountFactory.create(owner=csm, onboarding_status="late")  # new ones


@pytest.mark.parametrize("accounts", [3, 30])
def test_evaluation_with_every_alert_state_costs_the_same_queries_for_any_size(
    accounts: int, csm: Any, django_assert_num_queries: Any
) -> None:
    _holding_states(accounts, csm)
    # savepoint, rules, late accounts, held alerts, owners of new ones, insert
    # alerts, the rule's notification settings (ALERTS_OPENED_HOOKS), update
    # reopened (one CASE per 2,000), insert events, resolve live cleared, release
    # closed cleared (nothing here), release savepoint
    with django_assert_num_queries(11):
        run = services.alerts_evaluate(today=TODAY)
    assert (run.opened, run.reopened, run.cleared) == (
        {"Late": accounts},
        {"Late": 2 * accounts},
        {"Late": accounts},
    )

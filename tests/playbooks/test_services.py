"""Playbook runs: started once per account, tasks in My work, actions, skip, snooze,
cancel, the daily trigger pass, and objectives read from data."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts.models import Account, Event, Stage
from success.alerts.models import Alert, AlertRule
from success.health.models import HealthModel, HealthScore
from success.models import Renewal, SuccessTask
from success.playbooks.models import (
    NotStarted,
    Playbook,
    PlaybookRun,
    PlaybookTrigger,
    RunStatus,
    RunStepStatus,
)
from success.playbooks.services import (
    playbook_save,
    playbooks_evaluate,
    run_cancel,
    run_snooze,
    run_start,
    run_step_complete,
    run_step_skip,
)
from success.selectors.work import my_work
from tests.factories import AccountFactory, RenewalFactory

from .conftest import steps

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()


def _alert(rule: AlertRule, account: Account, opened: date = TODAY) -> Alert:
    return Alert.objects.create(
        account=account,
        rule=rule,
        owner=account.owner,
        message="No login",
        due_on=opened + timedelta(days=3),
        opened_at=timezone.make_aware(datetime(opened.year, opened.month, opened.day, 9)),
    )


def test_a_run_puts_its_tasks_in_the_owners_my_work_due_by_their_offsets(
    reengage: Playbook, csm: Any
) -> None:
    account = AccountFactory.create(owner=csm)
    run = run_start(playbook=reengage, account=account, by=csm, today=TODAY)

    items = [i for i in my_work(user=csm, today=TODAY) if i.kind == "playbook"]
    assert [(i.title, i.due) for i in items] == [
        ("Check usage", TODAY),
        ("Call the champion", TODAY + timedelta(days=3)),
    ]
    assert items[0].detail.startswith("Playbook: Re-engage")
    assert run.objective_due == TODAY + timedelta(days=30)
    assert Event.objects.filter(account=account, summary__startswith="Playbook started").exists()


def test_one_live_run_per_account_and_playbook(reengage: Playbook, csm: Any) -> None:
    account = AccountFactory.create(owner=csm)
    run_start(playbook=reengage, account=account, by=csm, today=TODAY)
    with pytest.raises(ValidationError, match="already running"):
        run_start(playbook=reengage, account=account, by=csm, today=TODAY)
    assert PlaybookRun.objects.count() == 1


def test_leader_steps_go_to_the_cs_leader(admin_user: Any, csm: Any, leader: Any) -> None:
    playbook = playbook_save(
        by=admin_user,
        name="Escalate",
        description="",
        is_active=True,
        version={
            "trigger_kind": "manual",
            "objective_kind": "renewal_renewed",
            "objective_days": 60,
        },
        steps=steps(("Review with the CSM", 5), assignee="leader"),
    )
    run = run_start(
        playbook=playbook, account=AccountFactory.create(owner=csm), by=csm, today=TODAY
    )
    task = run.steps.get().task
    assert task is not None and task.assignee_user == leader


def test_actions_run_on_their_day_and_a_refused_one_is_kept_with_its_reason(
    admin_user: Any, csm: Any
) -> None:
    playbook = playbook_save(
        by=admin_user,
        name="Risk",
        description="",
        is_active=True,
        version={
            "trigger_kind": "manual",
            "objective_kind": "renewal_renewed",
            "objective_days": 90,
        },
        steps=[
            {
                "kind": "action",
                "title": "Mark at risk",
                "action": "change_stage",
                "action_value": Stage.AT_RISK,
                "due_offset_days": 0,
                "assignee": "owner",
            },
            {
                "kind": "action",
                "title": "Forecast at risk",
                "action": "set_forecast",
                "action_value": "at_risk",
                "due_offset_days": 2,
                "assignee": "owner",
            },
        ],
    )
    account = AccountFactory.create(owner=csm, stage=Stage.ADOPTION)
    run = run_start(playbook=playbook, account=account, by=csm, today=TODAY)

    account.refresh_from_db()
    assert account.stage == Stage.AT_RISK
    first, second = run.steps.order_by("due_date")
    assert first.status == RunStepStatus.DONE
    assert second.status == RunStepStatus.PENDING

    playbooks_evaluate(today=TODAY + timedelta(days=2))
    second.refresh_from_db()
    assert second.status == RunStepStatus.FAILED
    assert "no open renewal" in second.note
    run.refresh_from_db()
    assert run.status == RunStatus.COMPLETED


def test_skip_needs_a_reason_and_takes_the_task_out_of_my_work(
    reengage: Playbook, csm: Any
) -> None:
    run = run_start(
        playbook=reengage, account=AccountFactory.create(owner=csm), by=csm, today=TODAY
    )
    first, second = run.steps.order_by("due_date")
    with pytest.raises(ValidationError):
        run_step_skip(run_step=first, reason="  ", by=csm)
    run_step_skip(run_step=first, reason="Usage is fine; it was a data gap", by=csm)
    assert not SuccessTask.objects.filter(account=run.account, title__startswith="Check").exists()
    run_step_complete(run_step=second, by=csm)
    assert SuccessTask.objects.get(account=run.account).done_at is not None
    run.refresh_from_db()
    assert run.status == RunStatus.COMPLETED


def test_a_task_ticked_off_in_my_work_completes_its_step(reengage: Playbook, csm: Any) -> None:
    from success.services import task_set_done

    run = run_start(
        playbook=reengage, account=AccountFactory.create(owner=csm), by=csm, today=TODAY
    )
    for task in SuccessTask.objects.filter(account=run.account):
        task_set_done(task=task, done=True, by=csm)
    playbooks_evaluate(today=TODAY)
    run.refresh_from_db()
    assert run.status == RunStatus.COMPLETED
    assert set(run.steps.values_list("status", flat=True)) == {RunStepStatus.DONE}


def test_snooze_moves_open_tasks_and_the_daily_job_wakes_the_run(
    reengage: Playbook, csm: Any
) -> None:
    run = run_start(
        playbook=reengage, account=AccountFactory.create(owner=csm), by=csm, today=TODAY
    )
    with pytest.raises(ValidationError):
        run_snooze(run=run, until=TODAY, reason="x", by=csm, today=TODAY)
    run_snooze(
        run=run, until=TODAY + timedelta(days=14), reason="Customer on holiday", by=csm, today=TODAY
    )
    dues = SuccessTask.objects.filter(account=run.account).order_by("due_date")
    assert [t.due_date for t in dues] == [TODAY + timedelta(days=14), TODAY + timedelta(days=17)]

    playbooks_evaluate(today=TODAY + timedelta(days=13))
    run.refresh_from_db()
    assert run.status == RunStatus.SNOOZED
    playbooks_evaluate(today=TODAY + timedelta(days=14))
    run.refresh_from_db()
    assert run.status == RunStatus.RUNNING


def test_cancel_removes_open_tasks_and_keeps_done_ones(reengage: Playbook, csm: Any) -> None:
    run = run_start(
        playbook=reengage, account=AccountFactory.create(owner=csm), by=csm, today=TODAY
    )
    first = run.steps.order_by("due_date").first()
    assert first is not None
    run_step_complete(run_step=first, by=csm)
    with pytest.raises(ValidationError):
        run_cancel(run=run, reason="", by=csm)
    run_cancel(run=run, reason="Customer is churning anyway", by=csm)
    assert SuccessTask.objects.filter(account=run.account).count() == 1
    assert list(run.steps.order_by("due_date").values_list("status", flat=True)) == [
        RunStepStatus.DONE,
        RunStepStatus.CANCELLED,
    ]


def test_the_daily_job_starts_a_playbook_once_per_alert_and_records_what_it_did_not_start(
    reengage: Playbook, no_login_rule: AlertRule, csm: Any, django_assert_max_num_queries: Any
) -> None:
    accounts = AccountFactory.create_batch(3, owner=csm)
    alerts = [_alert(no_login_rule, a) for a in accounts]
    # The third account's run is snoozed from an earlier, hand-started run.
    earlier = run_start(playbook=reengage, account=accounts[2], by=csm, today=TODAY)
    run_snooze(run=earlier, until=TODAY + timedelta(days=30), reason="Busy", by=csm, today=TODAY)

    first = playbooks_evaluate(today=TODAY)
    second = playbooks_evaluate(today=TODAY)

    assert first.started == {"Re-engage": 2}
    assert first.not_started == 1
    assert second.started.get("Re-engage", 0) == 0
    assert PlaybookRun.objects.filter(trigger="alert_rule").count() == 2
    assert set(
        PlaybookRun.objects.filter(trigger="alert_rule").values_list("alert_id", flat=True)
    ) == {
        alerts[0].pk,
        alerts[1].pk,
    }
    hit = PlaybookTrigger.objects.get(account=accounts[2])
    assert (hit.run, hit.not_started) == (None, NotStarted.SNOOZED)


def test_alerts_opened_before_the_playbook_existed_do_not_start_it(
    reengage: Playbook, no_login_rule: AlertRule, csm: Any
) -> None:
    account = AccountFactory.create(owner=csm)
    alert = _alert(no_login_rule, account)
    Alert.objects.filter(pk=alert.pk).update(opened_at=reengage.created_at - timedelta(days=3))
    assert playbooks_evaluate(today=TODAY).started.get("Re-engage", 0) == 0


def test_objectives_are_read_from_data(
    admin_user: Any, csm: Any, default_health_model: Any
) -> None:
    playbook = playbook_save(
        by=admin_user,
        name="Back to yellow",
        description="",
        is_active=True,
        version={
            "trigger_kind": "manual",
            "objective_kind": "health_band",
            "objective_band": "yellow",
            "objective_days": 10,
        },
        steps=steps(("Call", 0)),
    )
    met, missed = AccountFactory.create_batch(2, owner=csm)
    model = HealthModel.objects.get(status=HealthModel.Status.ACTIVE)
    for account in (met, missed):
        run_start(playbook=playbook, account=account, by=csm, today=TODAY)
        HealthScore.objects.create(account=account, date=TODAY, model=model, score=30, band="red")
    HealthScore.objects.create(
        account=met, date=TODAY + timedelta(days=4), model=model, score=55, band="yellow"
    )
    HealthScore.objects.create(
        account=missed, date=TODAY + timedelta(days=15), model=model, score=75, band="green"
    )

    playbooks_evaluate(today=TODAY + timedelta(days=20))

    runs = {r.account_id: r.objective_met_on for r in PlaybookRun.objects.all()}
    assert runs == {met.pk: TODAY + timedelta(days=4), missed.pk: None}


def test_renewal_objective(admin_user: Any, csm: Any) -> None:
    playbook = playbook_save(
        by=admin_user,
        name="Save the renewal",
        description="",
        is_active=True,
        version={
            "trigger_kind": "manual",
            "objective_kind": "renewal_renewed",
            "objective_days": 30,
        },
        steps=steps(("Review", 0)),
    )
    account = AccountFactory.create(owner=csm)
    run_start(playbook=playbook, account=account, by=csm, today=TODAY)
    RenewalFactory.create(
        account=account, status=Renewal.Status.RENEWED, closed_on=TODAY + timedelta(days=9)
    )
    assert playbooks_evaluate(today=TODAY + timedelta(days=10)).objectives_met == 1


def test_saving_a_playbook_with_runs_makes_a_new_version(reengage: Playbook, csm: Any) -> None:
    run = run_start(
        playbook=reengage, account=AccountFactory.create(owner=csm), by=csm, today=TODAY
    )
    version = {
        "trigger_kind": "manual",
        "objective_kind": "renewal_renewed",
        "objective_days": 60,
    }
    playbook_save(
        by=None,
        playbook=reengage,
        name="Re-engage",
        description="",
        is_active=True,
        version=version,
        steps=steps(("Only step", 1)),
    )
    assert list(reengage.versions.values_list("number", flat=True)) == [2, 1]
    assert run.version.number == 1
    assert run.version.steps.count() == 2


def test_a_playbook_needs_steps_and_a_complete_trigger(admin_user: Any) -> None:
    with pytest.raises(ValidationError, match="at least one step"):
        playbook_save(
            by=admin_user,
            name="Empty",
            description="",
            is_active=True,
            version={
                "trigger_kind": "manual",
                "objective_kind": "renewal_renewed",
                "objective_days": 5,
            },
            steps=[],
        )
    with pytest.raises(ValidationError) as exc:
        playbook_save(
            by=admin_user,
            name="No rule",
            description="",
            is_active=True,
            version={
                "trigger_kind": "alert_rule",
                "objective_kind": "renewal_renewed",
                "objective_days": 5,
            },
            steps=steps(("Call", 0)),
        )
    assert "trigger_rule" in exc.value.message_dict
    assert not Playbook.objects.exists()


def test_the_daily_pass_costs_the_same_queries_for_2_or_20_new_alerts(
    reengage: Playbook, no_login_rule: AlertRule, csm: Any, django_assert_num_queries: Any
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for account in AccountFactory.create_batch(2, owner=csm):
        _alert(no_login_rule, account)
    with CaptureQueriesContext(connection) as few:
        assert playbooks_evaluate(today=TODAY).started == {"Re-engage": 2}
    for account in AccountFactory.create_batch(20, owner=csm):
        _alert(no_login_rule, account)
    with django_assert_num_queries(len(few.captured_queries)):
        assert playbooks_evaluate(today=TODAY).started == {"Re-engage": 20}
    assert SuccessTask.objects.filter(assignee_user=csm).count() == 44


@pytest.mark.parametrize(
    "kind", ["renewal_ahead", "stage_entered", "onboarding_late", "new_account"]
)
def test_lifecycle_events_start_playbooks_once(kind: str, admin_user: Any, csm: Any) -> None:
    from accounts.services import account_stage_change
    from tests.factories import MilestoneFactory, OnboardingPlanFactory

    version: dict[str, Any] = {
        "trigger_kind": kind,
        "objective_kind": "renewal_renewed",
        "objective_days": 90,
        "trigger_days": 90 if kind == "renewal_ahead" else None,
        "trigger_stage": Stage.AT_RISK if kind == "stage_entered" else "",
    }
    playbook = playbook_save(
        by=admin_user,
        name=kind,
        description="",
        is_active=True,
        version=version,
        steps=steps(("Act", 1)),
    )
    account = AccountFactory.create(owner=csm, stage=Stage.ADOPTION)
    quiet = AccountFactory.create(owner=csm, stage=Stage.ADOPTION)
    if kind == "renewal_ahead":
        RenewalFactory.create(account=account, renewal_date=TODAY + timedelta(days=60))
        RenewalFactory.create(account=quiet, renewal_date=TODAY + timedelta(days=200))
    elif kind == "stage_entered":
        account_stage_change(
            account=account, to_stage=Stage.AT_RISK, reason="Champion left", by=csm
        )
    elif kind == "onboarding_late":
        plan = OnboardingPlanFactory.create(account=account)
        MilestoneFactory.create(plan=plan, due_date=TODAY - timedelta(days=2))
    else:
        Account.objects.filter(pk=quiet.pk).update(created_at=timezone.now() - timedelta(days=400))

    playbooks_evaluate(today=TODAY)
    playbooks_evaluate(today=TODAY)

    assert list(
        PlaybookRun.objects.filter(playbook=playbook).values_list("account_id", flat=True)
    ) == [account.pk]


def test_marking_objectives_costs_the_same_queries_for_2_or_20_met(
    reengage: Playbook, no_login_rule: AlertRule, csm: Any, django_assert_num_queries: Any
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from success.playbooks.services import objectives_record

    def occurrences(n: int) -> None:
        for account in AccountFactory.create_batch(n, owner=csm):
            alert = _alert(no_login_rule, account)
            Alert.objects.filter(pk=alert.pk).update(condition_cleared_at=timezone.now())
            run_start(playbook=reengage, account=account, by=csm, today=TODAY)
            PlaybookTrigger.objects.create(
                playbook=reengage,
                account=AccountFactory.create(owner=csm),
                key=f"alert:{alert.pk}",
                fired_on=TODAY,
                not_started=NotStarted.SNOOZED,
                objective_due=TODAY + timedelta(days=30),
            )

    occurrences(1)
    with CaptureQueriesContext(connection) as few:
        assert objectives_record(today=TODAY) == 1
    occurrences(10)
    with django_assert_num_queries(len(few.captured_queries)):
        assert objectives_record(today=TODAY) == 10

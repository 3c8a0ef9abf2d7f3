"""The effectiveness page's numbers: runs against the same objective where the
playbook did not run, counted by hand here from the rows the test makes."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone

from success.alerts.models import Alert, AlertRule
from success.playbooks.models import NotStarted, Playbook, PlaybookRun, PlaybookTrigger
from success.playbooks.selectors import effectiveness
from success.playbooks.services import run_cancel, run_start
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db


def _cleared(rule: AlertRule, account: Any, opened: datetime, cleared: datetime | None) -> None:
    Alert.objects.create(
        account=account,
        rule=rule,
        message="No login",
        due_on=opened.date(),
        opened_at=opened,
        status=Alert.Status.RESOLVED if cleared else Alert.Status.DISMISSED,
        closed_at=cleared or opened,
        note="Condition cleared" if cleared else "",
        condition_cleared_at=cleared or opened + timedelta(days=90),
    )


def test_runs_are_compared_with_cancelled_runs_snoozed_triggers_and_alerts_before_the_playbook(
    reengage: Playbook, no_login_rule: AlertRule, csm: Any
) -> None:
    today = timezone.localdate()
    long_ago = today - timedelta(days=60)
    # Four runs whose windows closed: three met the objective (the alert cleared).
    for i in range(4):
        account = AccountFactory.create(owner=csm)
        run = run_start(playbook=reengage, account=account, by=csm, today=long_ago)
        if i < 3:
            met = long_ago + timedelta(days=5)
            PlaybookRun.objects.filter(pk=run.pk).update(objective_met_on=met)
    # One cancelled run that never met it: comparison.
    cancelled = run_start(
        playbook=reengage, account=AccountFactory.create(owner=csm), by=csm, today=long_ago
    )
    run_cancel(run=cancelled, reason="Wrong account", by=csm)
    # One snoozed occurrence that met it anyway: comparison.
    PlaybookTrigger.objects.create(
        playbook=reengage,
        account=AccountFactory.create(owner=csm),
        key="alert:1",
        fired_on=long_ago,
        not_started=NotStarted.SNOOZED,
        objective_due=long_ago + timedelta(days=30),
        objective_met_on=long_ago + timedelta(days=2),
    )
    # An occurrence while a run was already going: neither group.
    PlaybookTrigger.objects.create(
        playbook=reengage,
        account=AccountFactory.create(owner=csm),
        key="alert:2",
        fired_on=long_ago,
        not_started=NotStarted.ALREADY_RUNNING,
        objective_due=long_ago + timedelta(days=30),
    )
    # Two alerts of the rule before the playbook existed: one cleared in its window.
    before = reengage.created_at - timedelta(days=40)
    _cleared(no_login_rule, AccountFactory.create(), before, before + timedelta(days=4))
    _cleared(no_login_rule, AccountFactory.create(), before, None)
    # A run still inside its window and not met: undecided, counted nowhere yet.
    run_start(playbook=reengage, account=AccountFactory.create(owner=csm), by=csm, today=today)

    effect = effectiveness(reengage, today=today)

    assert (effect.treated.met, effect.treated.decided) == (3, 4)
    assert (effect.control.met, effect.control.decided) == (2, 4)
    assert effect.control_sources == {
        "Snoozed on the account": 1,
        "Cancelled": 1,
        "Before the playbook existed": 2,
    }
    assert effect.uplift == pytest.approx(25.0)
    assert effect.verdict.startswith("Too few decided cases")
    (version,) = effect.versions
    # Nobody finished the steps: the five runs not cancelled are all still running.
    assert (version.runs, version.cancelled, version.running) == (6, 1, 5)
    assert version.median_days == 5

"""A playbook's "Also create HubSpot tasks": the admin's switch, the CRM task rows its
runs open, and every way a step ends here marking its task owed to HubSpot
(tests/hubspot/test_playbook_tasks.py drives the push and sync against the sandbox)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Event
from accounts.support.models import Engagement
from success.alerts.models import AlertRule
from success.playbooks.models import Playbook, PlaybookRun, RunStepStatus
from success.playbooks.services import run_cancel, run_snooze, run_start, run_steps_follow_crm
from success.services import task_set_done
from tests.factories import AccountFactory

from .test_views import _form

pytestmark = pytest.mark.django_db


def _client(user: Any) -> Client:
    web = Client()
    web.force_login(user)
    return web


def _started(playbook: Playbook, csm: Any) -> PlaybookRun:
    playbook.crm_tasks = True
    playbook.save(update_fields=["crm_tasks"])
    account = AccountFactory.create(owner=csm)
    return run_start(playbook=playbook, account=account, by=csm, today=timezone.localdate())


def test_an_admin_ticks_hubspot_tasks_and_runs_open_them_for_the_owner(
    admin_user: Any, csm: Any, no_login_rule: AlertRule
) -> None:
    data = _form(no_login_rule, "Check usage", "Call the champion") | {"p-crm_tasks": "on"}
    assert _client(admin_user).post("/playbooks/new/", data).status_code == 302
    playbook = Playbook.objects.get()
    assert playbook.crm_tasks
    assert "Tasks also in HubSpot" in _client(admin_user).get(f"/playbooks/{playbook.pk}/").text

    run = run_start(
        playbook=playbook,
        account=AccountFactory.create(owner=csm),
        by=csm,
        today=timezone.localdate(),
    )

    rows = {s.step.title: s.engagement for s in run.steps.select_related("step", "engagement")}
    call = rows["Call the champion"]
    assert call is not None and call.kind == Engagement.Kind.TASK
    assert (call.owner, call.account, call.status) == (csm, run.account, "NOT_STARTED")
    assert call.hubspot_id is None and call.push_wanted_at is not None
    assert call.occurred_at.date() == timezone.localdate() + timedelta(days=2)
    assert call.subject == "Call the champion (Re-engage)"
    assert "HubSpot task on its way" in _client(csm).get(f"/playbooks/runs/{run.pk}/").text


def test_without_a_crm_plug_in_no_tasks_are_opened(csm: Any, reengage: Playbook) -> None:
    with override_settings(CRM_TASKS_CHANGED_HOOKS=[]):
        run = _started(reengage, csm)
    assert not Engagement.objects.exists()
    assert run.steps.filter(task__isnull=False).count() == 2


def test_ticking_the_task_off_in_my_work_completes_the_step_and_its_hubspot_task(
    csm: Any, reengage: Playbook
) -> None:
    run = _started(reengage, csm)
    step = run.steps.select_related("task", "engagement").get(step__title="Check usage")
    Engagement.objects.update(push_wanted_at=None)  # as if pushed
    assert step.task is not None

    task_set_done(task=step.task, done=True, by=csm)

    step.refresh_from_db()
    assert step.status == RunStepStatus.DONE
    row = Engagement.objects.get(playbook_step=step)
    assert (row.status, row.push_wanted_at is not None) == ("COMPLETED", True)
    other = Engagement.objects.get(playbook_step__step__title="Call the champion")
    assert (other.status, other.push_wanted_at) == ("NOT_STARTED", None)


def test_a_snooze_moves_and_a_cancel_completes_the_open_hubspot_tasks(
    csm: Any, reengage: Playbook
) -> None:
    run = _started(reengage, csm)
    today = timezone.localdate()
    before = {e.pk: e.occurred_at for e in Engagement.objects.all()}

    run_snooze(run=run, until=today + timedelta(days=7), reason="Holidays", by=csm, today=today)
    moved = {e.pk: e.occurred_at for e in Engagement.objects.all()}
    assert all(moved[pk] - before[pk] == timedelta(days=7) for pk in before)

    run.refresh_from_db()
    run_cancel(run=run, reason="Customer churned", by=csm)
    assert set(Engagement.objects.values_list("status", flat=True)) == {"COMPLETED"}
    assert not Engagement.objects.filter(push_wanted_at__isnull=True).exists()


def _done_in_crm(runs: list[PlaybookRun], *, every_step: bool) -> list[int]:
    """What a sync page writes when a person completes the tasks in HubSpot."""
    for run in runs:
        steps = list(run.steps.filter(engagement__isnull=False).order_by("pk"))
        for step in steps if every_step else steps[:1]:
            assert step.engagement_id is not None
            Engagement.objects.filter(pk=step.engagement_id).update(status="COMPLETED")
    return [run.account_id for run in runs]


def test_tasks_completed_in_hubspot_complete_steps_tasks_and_runs_here(
    csm: Any, reengage: Playbook
) -> None:
    whole, partly = _started(reengage, csm), _started(reengage, csm)
    accounts = _done_in_crm([whole], every_step=True) + _done_in_crm([partly], every_step=False)

    assert run_steps_follow_crm(accounts) == 3

    whole.refresh_from_db()
    partly.refresh_from_db()
    assert whole.status == "completed" and whole.finished_at is not None
    assert partly.status == "running"
    done = [s for s in partly.steps.select_related("task") if s.status == RunStepStatus.DONE]
    assert len(done) == 1 and done[0].task is not None and done[0].task.done_at is not None
    assert all(s.task.done_at for s in whole.steps.select_related("task") if s.task)
    summaries = list(Event.objects.filter(account=whole.account).values_list("summary", flat=True))
    assert "Playbook completed: Re-engage" in summaries
    assert sum(s.startswith("Done: ") for s in summaries) == 2
    # A second sync of the same records changes nothing.
    assert run_steps_follow_crm(accounts) == 0


def test_following_hubspot_completions_costs_the_same_queries_for_2_or_12_runs(
    csm: Any, reengage: Playbook
) -> None:
    def queries_for(n: int) -> int:
        runs = [_started(reengage, csm) for _ in range(n)]
        accounts = _done_in_crm(runs, every_step=True)
        with CaptureQueriesContext(connection) as captured:
            assert run_steps_follow_crm(accounts) == 2 * n
        return len(captured)

    assert queries_for(2) == queries_for(12)

# ruff: noqa: F811 -- fixtures from sync_support are used as test arguments
"""A playbook's tasks as HubSpot tasks, both ways, against the sandbox through the real
client: made on the company and owned by the CSM's owner, completed on either side,
never duplicated by a retry, none when the playbook does not ask for them."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.hubspot.inbound.importer import import_run, run_start
from accounts.hubspot.models import SyncChange, SyncRun, SyncSource
from accounts.hubspot.outbound.tasks_push import TASK_TO_COMPANY, tasks_push
from accounts.hubspot.sandbox import Sandbox, SandboxServer
from accounts.hubspot.transport.client import HubSpotClient
from accounts.hubspot.transport.http_retries import RetryPolicy
from accounts.models import Account, Event
from accounts.support.models import Engagement
from success.playbooks.models import Playbook, PlaybookRun, PlaybookRunStep, RunStepStatus
from success.playbooks.services import playbook_save, run_step_complete, run_step_skip
from success.playbooks.services import run_start as playbook_run_start
from tests.factories import AccountFactory, UserFactory

from .sync_support import (  # noqa: F401
    SECRET,
    TOKEN,
    capture,
    catch_up,
    client,
    clock_of,
    hubspot_settings,
    poll,
    portfolio,
    sync_clock,
    sync_sandbox,
    sync_server,
)

pytestmark = pytest.mark.django_db
TODAY = date(2026, 11, 2)


def _playbook(*, crm_tasks: bool) -> Playbook:
    return playbook_save(
        by=None,
        name="Re-engage",
        description="",
        is_active=True,
        crm_tasks=crm_tasks,
        version={
            "trigger_kind": "manual",
            "objective_kind": "health_band",
            "objective_band": "green",
            "objective_days": 30,
        },
        steps=[
            {
                "kind": "task",
                "title": "Check usage",
                "guidance": "Look at logins by seat",
                "due_offset_days": 0,
                "assignee": "owner",
            },
            {
                "kind": "task",
                "title": "Call the champion",
                "due_offset_days": 3,
                "assignee": "owner",
            },
        ],
    )


@pytest.fixture
def linked(client: HubSpotClient, sync_sandbox: Sandbox) -> dict[str, Any]:
    """Two companies imported from HubSpot, owned by owner 501 = our CSM."""
    csm = UserFactory.create(email="owner@example.com")
    ids = portfolio(sync_sandbox, companies=2, deals_per_company=0, owner_email="owner@example.com")
    import_run(run_start(SyncRun.Kind.IMPORT), client=client)
    account = Account.objects.get(hubspot_id=ids["companies"]["c0"])
    assert account.owner == csm
    catch_up(clock_of(sync_sandbox))
    return {"ids": ids, "account": account, "csm": csm}


def _tasks(sandbox: Sandbox) -> dict[str, Any]:
    return dict(sandbox.store.records["tasks"])


def _run(account: Account, playbook: Playbook) -> PlaybookRun:
    return playbook_run_start(playbook=playbook, account=account, by=None, today=TODAY)


def _crm(step: PlaybookRunStep) -> Engagement:
    assert step.engagement is not None
    return step.engagement


def _as_user(server: SandboxServer, task_id: str, properties: dict[str, str]) -> None:
    """A HubSpot user edits the task (the sandbox's control API, as the UI does)."""
    request = urllib.request.Request(
        f"{server.url}/_sandbox/objects/tasks/{task_id}",
        data=json.dumps({"properties": properties}).encode(),
        method="PATCH",
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"},
    )
    with urllib.request.urlopen(request, timeout=5) as answer:
        assert answer.status == 200


def test_a_started_playbook_makes_hubspot_tasks_on_the_company_owned_by_the_csm(
    linked: dict[str, Any], client: HubSpotClient, sync_sandbox: Sandbox
) -> None:
    run = _run(linked["account"], _playbook(crm_tasks=True))

    pushed = tasks_push(client)

    assert (pushed.created, pushed.failed, pushed.calls) == (2, 0, 1)  # one batch create
    tasks = _tasks(sync_sandbox)
    by_subject = {t.properties["hs_task_subject"]: t for t in tasks.values()}
    assert set(by_subject) == {"Check usage (Re-engage)", "Call the champion (Re-engage)"}
    first = by_subject["Check usage (Re-engage)"]
    assert first.properties["hs_task_status"] == "NOT_STARTED"
    assert first.properties["hubspot_owner_id"] == "501"
    assert "Look at logins by seat" in first.properties["hs_task_body"]
    assert first.properties["hs_timestamp"].startswith("2026-11-02T12:00:00")
    company = linked["ids"]["companies"]["c0"]
    links = sync_sandbox.store.associations[("tasks", first.id)]
    assert TASK_TO_COMPANY in links[("companies", company)]
    steps = {s.step.title: s for s in run.steps.select_related("engagement", "step")}
    assert _crm(steps["Check usage"]).hubspot_id == first.id
    assert _crm(steps["Check usage"]).push_wanted_at is None
    journal = SyncChange.objects.filter(object_type="task", field="created in HubSpot")
    assert journal.count() == 2 and {c.source for c in journal} == {SyncSource.PUSH}

    # Nothing owed any more: a second pass writes nothing.
    again = tasks_push(client)
    assert (again.created, again.updated, again.calls) == (0, 0, 0)
    assert len(_tasks(sync_sandbox)) == 2


def test_completing_in_hubspot_completes_the_step_here(
    linked: dict[str, Any],
    client: HubSpotClient,
    sync_sandbox: Sandbox,
    sync_server: SandboxServer,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    run = _run(linked["account"], _playbook(crm_tasks=True))
    tasks_push(client)
    step = run.steps.select_related("engagement", "task").get(step__title="Check usage")

    _as_user(sync_server, str(_crm(step).hubspot_id), {"hs_task_status": "COMPLETED"})
    with django_capture_on_commit_callbacks(execute=True):
        poll(client, sync_sandbox)

    step.refresh_from_db()
    assert step.status == RunStepStatus.DONE and step.finished_at is not None
    assert step.task is not None
    step.task.refresh_from_db()
    assert step.task.done_at is not None  # out of My work
    # The same timeline entry as when the CSM ticks it off.
    assert Event.objects.filter(
        account=linked["account"], summary="Done: Check usage (Re-engage)"
    ).exists()
    change = SyncChange.objects.get(object_type="task", field="status")
    assert (change.old_value, change.new_value, change.source) == (
        "NOT_STARTED",
        "COMPLETED",
        SyncSource.POLL,
    )
    # HubSpot already says COMPLETED: nothing owed back.
    _crm(step).refresh_from_db()
    assert _crm(step).push_wanted_at is None
    assert run.steps.get(step__title="Call the champion").status == RunStepStatus.PENDING


def test_a_completion_webhook_completes_the_step_here(
    linked: dict[str, Any],
    client: HubSpotClient,
    sync_sandbox: Sandbox,
    sync_server: SandboxServer,
    capture: dict[str, Any],
    hubspot_settings: None,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    run = _run(linked["account"], _playbook(crm_tasks=True))
    tasks_push(client)
    hooks = sync_sandbox.webhooks
    hooks.settings.target_url = f"http://127.0.0.1:{capture['port']}/hubspot/webhooks/"
    hooks.settings.client_secret = SECRET
    hooks.settings.batch_window_s = 0.01
    hooks.subscribe("object.propertyChange", "hs_task_status", object_name="task")
    step = run.steps.select_related("engagement").get(step__title="Call the champion")

    _as_user(sync_server, str(_crm(step).hubspot_id), {"hs_task_status": "COMPLETED"})
    assert hooks.wait_idle()
    with django_capture_on_commit_callbacks(execute=True):
        for headers, raw in capture["requests"]:
            answer = Client().post(
                "/hubspot/webhooks/",
                raw,
                content_type="application/json",
                headers={k: v for k, v in headers.items() if k.lower().startswith("x-hubspot")},
                SERVER_NAME="127.0.0.1",
                SERVER_PORT=str(capture["port"]),
            )
            assert answer.status_code == 204

    step.refresh_from_db()
    assert step.status == RunStepStatus.DONE
    change = SyncChange.objects.get(object_type="task", field="status")
    assert (change.new_value, change.source) == ("COMPLETED", SyncSource.WEBHOOK)


def test_completing_or_skipping_here_completes_it_in_hubspot(
    linked: dict[str, Any],
    client: HubSpotClient,
    sync_sandbox: Sandbox,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    run = _run(linked["account"], _playbook(crm_tasks=True))
    tasks_push(client)
    steps = {s.step.title: s for s in run.steps.select_related("engagement", "task", "step")}

    run_step_complete(run_step=steps["Check usage"], by=linked["csm"])
    run_step_skip(run_step=steps["Call the champion"], reason="Champion left", by=linked["csm"])
    pushed = tasks_push(client)

    assert (pushed.created, pushed.updated, pushed.calls) == (0, 2, 1)
    statuses = {t.properties["hs_task_status"] for t in _tasks(sync_sandbox).values()}
    assert statuses == {"COMPLETED"}
    run.refresh_from_db()
    assert run.status == "completed"
    # Our own writes read back change nothing here (no echo).
    before = SyncChange.objects.count()
    with django_capture_on_commit_callbacks(execute=True):
        poll(client, sync_sandbox)
    assert SyncChange.objects.filter(source=SyncSource.POLL).count() == 0
    assert SyncChange.objects.count() == before


def test_reopened_in_hubspot_after_done_here_stays_completed(
    linked: dict[str, Any],
    client: HubSpotClient,
    sync_sandbox: Sandbox,
    sync_server: SandboxServer,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    run = _run(linked["account"], _playbook(crm_tasks=True))
    tasks_push(client)
    step = run.steps.select_related("engagement", "task").get(step__title="Check usage")
    run_step_complete(run_step=step, by=linked["csm"])
    tasks_push(client)

    _as_user(sync_server, str(_crm(step).hubspot_id), {"hs_task_status": "NOT_STARTED"})
    with django_capture_on_commit_callbacks(execute=True):
        poll(client, sync_sandbox)
    tasks_push(client)

    step.refresh_from_db()
    assert step.status == RunStepStatus.DONE
    task = sync_sandbox.store.records["tasks"][str(_crm(step).hubspot_id)]
    assert task.properties["hs_task_status"] == "COMPLETED"


def test_a_create_whose_answer_was_lost_is_found_not_made_twice(
    linked: dict[str, Any], sync_sandbox: Sandbox, sync_server: SandboxServer
) -> None:
    run = _run(linked["account"], _playbook(crm_tasks=True))
    impatient = HubSpotClient(
        access_token=TOKEN,
        base_url=sync_server.url,
        timeout=(2.0, 0.5),
        policy=RetryPolicy(max_attempts=3, backoff_base=0.0, jitter=lambda: 0.0),
        sleep=lambda seconds: None,
    )
    # HubSpot makes the tasks but answers too late: the client gives up, never resends.
    sync_sandbox.faults.queue("slow:1.5")
    lost = tasks_push(impatient)
    assert (lost.created, lost.failed) == (0, 0)
    import time

    time.sleep(1.5)  # the slow answer lands in the sandbox
    assert len(_tasks(sync_sandbox)) == 2
    assert Engagement.objects.filter(hubspot_id__isnull=True).count() == 2

    clock_of(sync_sandbox).advance(seconds=5)  # past the search index delay
    found = tasks_push(impatient)

    assert (found.found, found.created) == (2, 0)
    assert len(_tasks(sync_sandbox)) == 2
    ids = set(run.steps.values_list("engagement__hubspot_id", flat=True))
    assert ids == set(_tasks(sync_sandbox))


def test_a_playbook_without_hubspot_tasks_makes_none(
    linked: dict[str, Any], client: HubSpotClient, sync_sandbox: Sandbox
) -> None:
    run = _run(linked["account"], _playbook(crm_tasks=False))

    pushed = tasks_push(client)

    assert run.steps.filter(engagement__isnull=False).count() == 0
    assert run.steps.exclude(task=None).count() == 2  # My work still has them
    assert (pushed.created, pushed.calls) == (0, 0)
    assert _tasks(sync_sandbox) == {}


def test_a_task_waits_for_its_company_to_reach_hubspot(
    linked: dict[str, Any], client: HubSpotClient, sync_sandbox: Sandbox
) -> None:
    local = AccountFactory.create(owner=linked["csm"], hubspot_id=None)
    _run(local, _playbook(crm_tasks=True))

    pushed = tasks_push(client)

    assert (pushed.created, pushed.waiting) == (0, 2)
    assert _tasks(sync_sandbox) == {}
    assert Engagement.objects.filter(push_wanted_at__isnull=False).count() == 2


def test_a_push_costs_the_same_queries_for_3_or_30_runs(
    client: HubSpotClient, sync_sandbox: Sandbox
) -> None:
    csm = UserFactory.create(email="owner@example.com")
    ids = portfolio(
        sync_sandbox, companies=30, deals_per_company=0, owner_email="owner@example.com"
    )
    import_run(run_start(SyncRun.Kind.IMPORT), client=client)
    playbook = _playbook(crm_tasks=True)
    accounts = list(Account.objects.filter(hubspot_id__in=ids["companies"].values()))
    assert all(a.owner == csm for a in accounts)

    def queries(chosen: list[Account]) -> int:
        for account in chosen:
            _run(account, playbook)
        with CaptureQueriesContext(connection) as captured:
            pushed = tasks_push(client)
        assert pushed.created == 2 * len(chosen)
        return len(captured)

    # One round (under 100 rows): owed rows, owners, mark sent, delete stray twins,
    # store ids, clear marks, journal, resolve issues, the next (empty) round... and the
    # savepoint pair: the same for 6 tasks or 54.
    assert queries(accounts[:3]) == queries(accounts[3:30])

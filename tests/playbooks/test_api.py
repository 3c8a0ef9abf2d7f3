"""/api/v1/playbook-runs/ (list, detail, start) and /api/v1/playbook-steps/ (complete, skip)."""

from __future__ import annotations

from typing import Any

import pytest

from success.models import SuccessTask
from success.playbooks.models import Playbook, PlaybookRun, RunStepStatus
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db
RUNS = "/api/v1/playbook-runs/"
STEPS = "/api/v1/playbook-steps/"


def test_start_list_complete_and_skip(reengage: Playbook, csm: Any, api_as: Any) -> None:
    account = AccountFactory.create(owner=csm)
    api = api_as(csm)

    started = api.post(RUNS, {"account": account.pk, "playbook": reengage.pk}, format="json")
    assert started.status_code == 201, started.content
    body = started.json()
    assert [s["title"] for s in body["steps"]] == ["Check usage", "Call the champion"]
    assert body["status"] == "running"

    again = api.post(RUNS, {"account": account.pk, "playbook": reengage.pk}, format="json")
    assert again.status_code == 409
    assert "already running" in again.json()["detail"]

    first, second = (s["id"] for s in body["steps"])
    done = api.post(f"{STEPS}{first}/complete/")
    assert done.status_code == 200
    assert done.json()["status"] == RunStepStatus.DONE
    assert api.post(f"{STEPS}{second}/skip/", {}, format="json").status_code == 400
    skipped = api.post(f"{STEPS}{second}/skip/", {"reason": "Spoke at the QBR"}, format="json")
    assert skipped.json()["status"] == RunStepStatus.SKIPPED
    # Twice (a retried request, two clients): a conflict with the step's state, 409 as
    # documented, not 400 (the schema fuzz found a well-formed repeat answered 400).
    twice = api.post(f"{STEPS}{first}/complete/")
    assert twice.status_code == 409
    assert twice.json() == {"detail": "This step is not open."}
    skipped_twice = api.post(f"{STEPS}{second}/skip/", {"reason": "Again"}, format="json")
    assert skipped_twice.status_code == 409

    listed = api.get(RUNS, {"status": "completed"}).json()["results"]
    assert [r["id"] for r in listed] == [body["id"]]
    assert SuccessTask.objects.filter(account=account, done_at__isnull=False).count() == 1


def test_a_csm_cannot_start_or_complete_on_another_csms_account(
    reengage: Playbook, csm: Any, other_csm: Any, api_as: Any
) -> None:
    theirs = AccountFactory.create(owner=other_csm)
    refused = api_as(csm).post(RUNS, {"account": theirs.pk, "playbook": reengage.pk}, format="json")
    assert refused.status_code == 403
    run = api_as(other_csm).post(
        RUNS, {"account": theirs.pk, "playbook": reengage.pk}, format="json"
    )
    step = run.json()["steps"][0]["id"]
    # A CSM reads only their own book: another's step is not found.
    assert api_as(csm).post(f"{STEPS}{step}/complete/").status_code == 404
    assert PlaybookRun.objects.get().steps.filter(status=RunStepStatus.PENDING).count() == 2


def test_viewers_read_but_cannot_start(
    reengage: Playbook, viewer: Any, csm: Any, api_as: Any
) -> None:
    account = AccountFactory.create(owner=csm)
    api_as(csm).post(RUNS, {"account": account.pk, "playbook": reengage.pk}, format="json")
    assert len(api_as(viewer).get(RUNS).json()["results"]) == 1
    response = api_as(viewer).post(
        RUNS, {"account": account.pk, "playbook": reengage.pk}, format="json"
    )
    assert response.status_code == 403


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"account": 0, "playbook": 1},
        {"account": "x", "playbook": 1},
        {"account": 999999, "playbook": 1},
    ],
)
def test_bad_start_requests_are_400_with_field_errors(
    body: dict[str, Any], reengage: Playbook, leader: Any, api_as: Any
) -> None:
    response = api_as(leader).post(RUNS, body, format="json")
    assert response.status_code == 400
    assert PlaybookRun.objects.count() == 0

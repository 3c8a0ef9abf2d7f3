"""Playbook pages: the admin's builder (versions), permissions, the account panel,
and flat query counts on the lists."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from success.alerts.models import AlertRule
from success.playbooks.models import Playbook, PlaybookRun
from success.playbooks.services import run_start
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db


def _client(user: Any) -> Client:
    web = Client()
    web.force_login(user)
    return web


def _form(rule: AlertRule | None, *titles: str, name: str = "Re-engage") -> dict[str, Any]:
    data: dict[str, Any] = {
        "p-name": name,
        "p-description": "When nobody logs in",
        "p-is_active": "on",
        "v-trigger_kind": "alert_rule" if rule else "manual",
        "v-trigger_rule": rule.pk if rule else "",
        "v-objective_kind": "alert_cleared" if rule else "renewal_renewed",
        "v-objective_days": "30",
        "s-TOTAL_FORMS": str(len(titles) + 2),
        "s-INITIAL_FORMS": "0",
        "s-MIN_NUM_FORMS": "0",
        "s-MAX_NUM_FORMS": "1000",
    }
    for i in range(len(titles) + 2):
        title = titles[i] if i < len(titles) else ""
        data |= {
            f"s-{i}-kind": "task",
            f"s-{i}-title": title,
            f"s-{i}-due_offset_days": str(i * 2),
            f"s-{i}-assignee": "owner",
        }
    return data


def test_an_admin_builds_a_playbook_and_blank_rows_are_ignored(
    admin_user: Any, no_login_rule: AlertRule
) -> None:
    response = _client(admin_user).post(
        "/playbooks/new/", _form(no_login_rule, "Check usage", "Call the champion")
    )
    playbook = Playbook.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/playbooks/{playbook.pk}/"
    version = playbook.versions.get()
    assert version.trigger_rule == no_login_rule
    assert list(version.steps.values_list("title", "due_offset_days")) == [
        ("Check usage", 0),
        ("Call the champion", 2),
    ]


def test_a_playbook_without_steps_or_with_a_missing_rule_re_renders_with_messages(
    admin_user: Any,
) -> None:
    web = _client(admin_user)
    no_steps = web.post("/playbooks/new/", _form(None))
    assert no_steps.status_code == 200
    assert "at least one step" in no_steps.content.decode()
    data = _form(None, "Call") | {"v-trigger_kind": "alert_rule"}
    no_rule = web.post("/playbooks/new/", data)
    assert no_rule.status_code == 200
    assert "Pick the alert rule" in no_rule.content.decode()
    assert not Playbook.objects.exists()


def test_only_admins_configure(csm: Any, leader: Any, viewer: Any, reengage: Playbook) -> None:
    for user in (csm, leader, viewer):
        web = _client(user)
        assert web.get("/playbooks/new/").status_code == 403
        assert web.get(f"/playbooks/{reengage.pk}/edit/").status_code == 403
        assert web.get(f"/playbooks/{reengage.pk}/").status_code == 200
        assert "New playbook" not in web.get("/playbooks/").content.decode()


def test_editing_a_playbook_with_runs_saves_a_new_version(
    admin_user: Any, csm: Any, reengage: Playbook, no_login_rule: AlertRule
) -> None:
    run_start(
        playbook=reengage,
        account=AccountFactory.create(owner=csm),
        by=csm,
        today=timezone.localdate(),
    )
    page = _client(admin_user).get(f"/playbooks/{reengage.pk}/edit/")
    assert "makes a new version" in page.content.decode()
    _client(admin_user).post(f"/playbooks/{reengage.pk}/edit/", _form(no_login_rule, "Only step"))
    assert list(reengage.versions.values_list("number", flat=True)) == [2, 1]


def test_a_csm_starts_one_from_the_account_page_and_a_viewer_cannot(
    csm: Any, viewer: Any, reengage: Playbook
) -> None:
    account = AccountFactory.create(owner=csm)
    assert f'action="/accounts/{account.pk}/playbooks/start/"' not in (
        _client(viewer).get(f"/accounts/{account.pk}/").content.decode()
    )
    assert (
        _client(viewer)
        .post(f"/accounts/{account.pk}/playbooks/start/", {"playbook": reengage.pk})
        .status_code
        == 403
    )
    page = _client(csm).get(f"/accounts/{account.pk}/")
    assert "Start a playbook" in page.content.decode()
    response = _client(csm).post(
        f"/accounts/{account.pk}/playbooks/start/", {"playbook": reengage.pk}
    )
    run = PlaybookRun.objects.get()
    assert response["Location"] == f"/playbooks/runs/{run.pk}/"
    assert "Re-engage" in _client(csm).get(f"/accounts/{account.pk}/").content.decode()
    # Run pages: the viewer reads the steps but is offered no write form.
    viewer_page = _client(viewer).get(f"/playbooks/runs/{run.pk}/").content.decode()
    assert "Check usage" in viewer_page
    assert 'method="post"' not in viewer_page.split("<main", 1)[1]


def _run_many(reengage: Playbook, csm: Any, n: int) -> None:
    today = timezone.localdate()
    for account in AccountFactory.create_batch(n, owner=csm):
        run_start(playbook=reengage, account=account, by=csm, today=today)


@pytest.mark.parametrize("url", ["/playbooks/runs/", "/playbooks/", "/my-work/"])
def test_list_pages_cost_the_same_queries_for_2_or_12_runs(
    url: str, leader: Any, csm: Any, reengage: Playbook, django_assert_num_queries: Any
) -> None:
    user = csm if url == "/my-work/" else leader
    web = _client(user)
    _run_many(reengage, csm, 2)
    web.get(url)  # warm the session and role caches
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        assert web.get(url).status_code == 200
    _run_many(reengage, csm, 10)
    with django_assert_num_queries(len(few.captured_queries)):
        assert web.get(url).status_code == 200


def test_the_effectiveness_page_says_when_the_sample_is_too_small(
    leader: Any, reengage: Playbook
) -> None:
    page = _client(leader).get(f"/playbooks/{reengage.pk}/").content.decode()
    assert "Too few decided cases to tell" in page


@pytest.mark.parametrize("total", ["99999999999999999999", "51"])
def test_a_post_claiming_more_steps_than_a_playbook_holds_is_refused_not_built(
    admin_user: Any, total: str, django_assert_max_num_queries: Any
) -> None:
    """Found by posting forms with odd values: a step count of 20 digits made Django
    build its default cap of 2,000 step forms, each querying the user select (a
    six-megabyte page, and a request past 30 s under load). Now the cap is the product's
    (50 steps): the form re-renders with the limit, nothing is saved."""
    data = _form(None, *[f"Step {i}" for i in range(51)]) | {"s-TOTAL_FORMS": total}
    with django_assert_max_num_queries(40):
        response = _client(admin_user).post("/playbooks/new/", data)
    assert response.status_code == 200
    assert "Please submit at most 50 forms." in response.content.decode()
    assert len(response.content) < 400_000
    assert not Playbook.objects.exists()

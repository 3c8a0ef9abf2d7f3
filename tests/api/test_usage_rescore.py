"""Usage pushed through the API rescores those accounts' health once committed."""

from __future__ import annotations

from typing import Any

from django.test import override_settings
from django.utils import timezone

from accounts.models import Account
from success.health.models import HealthScore
from tests.factories import AccountFactory

URL = "/api/v1/usage-snapshots/"


def _rows(*accounts: Any) -> list[dict[str, Any]]:
    today = timezone.localdate().isoformat()
    return [
        {
            "account": str(a.pk),
            "date": today,
            "active_users": 45,
            "seats_purchased": 50,
            "core_features_adopted": 6,
            "open_tickets": 1,
            "csat": 4.6,
            "nps": 40,
        }
        for a in accounts
    ]


def test_pushed_usage_leaves_a_fresh_health_score(
    leader: Any, api_as: Any, django_capture_on_commit_callbacks: Any
) -> None:
    pushed: Any = AccountFactory()
    also: Any = AccountFactory()
    untouched: Any = AccountFactory()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = api_as(leader).post(URL, {"rows": _rows(pushed, also)}, format="json")
    assert response.status_code == 200, response.content
    assert len(callbacks) == 1  # one hook, called once with both accounts
    today = timezone.localdate()
    scores = {s.account_id: s for s in HealthScore.objects.filter(date=today)}
    assert set(scores) == {pushed.pk, also.pk}
    assert untouched.pk not in scores
    assert scores[pushed.pk].breakdown, "the score keeps the breakdown that explains it"
    account = Account.objects.get(pk=pushed.pk)
    assert account.health_score == scores[pushed.pk].score
    assert account.health_band == scores[pushed.pk].band


def test_rejected_usage_rescores_nothing(
    leader: Any, api_as: Any, django_capture_on_commit_callbacks: Any
) -> None:
    account: Any = AccountFactory()
    rows = [*_rows(account), {"account": "nobody.example", "date": "2026-11-01"}]
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = api_as(leader).post(URL, {"rows": rows}, format="json")
    assert response.status_code == 400
    assert callbacks == []
    assert not HealthScore.objects.exists()


def test_hooks_come_from_settings(
    leader: Any, api_as: Any, django_capture_on_commit_callbacks: Any
) -> None:
    account: Any = AccountFactory()
    with (
        override_settings(USAGE_INGESTED_HOOKS=[]),
        django_capture_on_commit_callbacks(execute=True) as callbacks,
    ):
        response = api_as(leader).post(URL, {"rows": _rows(account)}, format="json")
    assert response.status_code == 200
    assert callbacks == []
    assert not HealthScore.objects.filter(account=account).exists()


def test_the_rescore_runs_as_a_queued_task(
    leader: Any, api_as: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from django_q.models import Task

    account: Any = AccountFactory()
    with django_capture_on_commit_callbacks(execute=True):
        api_as(leader).post(URL, {"rows": _rows(account)}, format="json")
    task = Task.objects.get(func="success.health.tasks.score_accounts")
    assert task.success and task.args == ([account.pk],)

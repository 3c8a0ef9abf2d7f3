"""Accounts tell integrations about changes only through ACCOUNT_CHANGED_HOOKS."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from accounts.services import account_update, accounts_changed_notify
from tests.factories import AccountFactory

CALLS: list[list[int]] = []


def record_changed(account_ids: list[int]) -> None:
    """A hook as an integration writes one: it gets the sorted ids, once committed."""
    CALLS.append(account_ids)


def test_account_changes_call_each_hook_with_the_ids_once_committed(
    db: Any, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.ACCOUNT_CHANGED_HOOKS = ["tests.accounts.test_account_changed_hooks.record_changed"]
    CALLS.clear()
    account = AccountFactory.create()
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        account_update(account=account, by=None, data={"name": "Renamed"})
        accounts_changed_notify(account_ids=[9, 3, 9])
        assert CALLS == []  # nothing before the commit
    assert [[account.pk], [3, 9]] == CALLS


def test_no_hook_no_call(db: Any, settings: Any, django_capture_on_commit_callbacks: Any) -> None:
    settings.ACCOUNT_CHANGED_HOOKS = []
    CALLS.clear()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        accounts_changed_notify(account_ids=[1])
    assert callbacks == []
    assert CALLS == []

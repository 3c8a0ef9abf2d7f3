"""The set-based writers behave like the ORM's bulk methods they replace."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts import bulk
from accounts.models import Account, Event, UsageSnapshot
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db


def test_upsert_inserts_new_rows_and_updates_only_the_named_fields() -> None:
    account = AccountFactory.create()
    first = timezone.now()
    row = {
        "account_id": account.pk,
        "date": date(2026, 1, 1),
        "active_users": 1,
        "csat": None,
        "created_at": first,
        "updated_at": first,
    }
    assert (
        bulk.upsert(UsageSnapshot, [row], unique=["account", "date"], update=["active_users"]) == 1
    )
    later = timezone.now()
    bulk.upsert(
        UsageSnapshot,
        [{**row, "active_users": 7, "csat": Decimal("4.5"), "created_at": later}],
        unique=["account", "date"],
        update=["active_users"],
    )
    snapshot = UsageSnapshot.objects.get()
    assert (snapshot.active_users, snapshot.csat, snapshot.created_at) == (7, None, first)


def test_update_changed_writes_only_rows_whose_values_differ() -> None:
    same = AccountFactory.create(health_score=50, health_band="yellow")
    moved = AccountFactory.create(health_score=50, health_band="yellow")
    unset = AccountFactory.create(health_score=None, health_band="")
    stamp = timezone.now()
    changed = bulk.update_changed(
        Account,
        {
            same.pk: {"health_score": 50, "health_band": "yellow"},
            moved.pk: {"health_score": 80, "health_band": "green"},
            unset.pk: {"health_score": 10, "health_band": "red"},
        },
        also={"updated_at": stamp},
    )
    assert changed == 2
    got = {
        a.pk: (a.health_score, a.health_band, a.updated_at == stamp) for a in Account.objects.all()
    }
    assert got == {
        same.pk: (50, "yellow", False),
        moved.pk: (80, "green", True),
        unset.pk: (10, "red", True),
    }


def test_update_changed_stamps_only_the_fields_whose_values_changed() -> None:
    account = AccountFactory.create(health_score=50, health_band="yellow")
    Account.objects.filter(pk=account.pk).update(field_changed_at={"name": 1})
    bulk.update_changed(
        Account,
        {account.pk: {"health_score": 50, "health_band": "green"}},
        also={"updated_at": timezone.now()},
        stamp=("field_changed_at", 1_800_000_000_000),
    )
    account.refresh_from_db()
    assert account.field_changed_at == {"name": 1, "health_band": 1_800_000_000_000}


def test_json_merge_keeps_the_keys_the_patch_does_not_name() -> None:
    account = AccountFactory.create()
    Account.objects.filter(pk=account.pk).update(field_changed_at={"name": 1, "stage": 2})
    Account.objects.filter(pk=account.pk).update(
        field_changed_at=bulk.JSONMerge("field_changed_at", {"stage": 3, "owner": 4})
    )
    account.refresh_from_db()
    assert account.field_changed_at == {"name": 1, "stage": 3, "owner": 4}


def test_insert_fills_defaults_and_returns_the_asked_columns() -> None:
    account = AccountFactory.create()
    found = bulk.insert(
        Event,
        [{"account_id": account.pk, "kind": Event.Kind.HUBSPOT, "summary": "one"}],
        returning=["id", "summary"],
    )
    assert [summary for _, summary in found] == ["one"]
    event = Event.objects.get(pk=found[0][0])
    # Left-out fields took their model defaults: a fresh dict, a current timestamp.
    assert event.data == {}
    assert abs((timezone.now() - event.occurred_at).total_seconds()) < 60


def test_insert_writes_json_and_null_foreign_keys() -> None:
    account = AccountFactory.create()
    rows = [
        {"account_id": account.pk, "kind": Event.Kind.HUBSPOT, "summary": f"e{i}", "data": {"i": i}}
        for i in range(3)
    ]
    found = bulk.insert(Event, rows, returning=["summary"])
    assert sorted(s for (s,) in found) == ["e0", "e1", "e2"]
    assert sorted(e.data["i"] for e in Event.objects.filter(account=account)) == [0, 1, 2]
    assert bulk.insert(Event, []) == []

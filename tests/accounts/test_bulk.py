"""The set-based writers behave like the ORM's bulk methods they replace."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.db.models import Model
from django.utils import timezone

from accounts import bulk, services
from accounts import demo as accounts_demo
from accounts.imports import import_apply
from accounts.models import Account, Event, ImportBatch, UsageSnapshot
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


def analyze_count(model: type[Model]) -> int:
    """How many times PostgreSQL has analysed the model's table (fresh, not the
    statistics snapshot this transaction may have cached)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT analyze_count FROM pg_stat_user_tables WHERE relname = %s",
            [model._meta.db_table],
        )
        return int(cursor.fetchone()[0])


def _usage_rows(accounts: list[Account], days: int) -> list[dict[str, Any]]:
    return [
        {"account_id": a.pk, "date": date(2026, 1, 1) + timedelta(days=d), "active_users": d}
        for a in accounts
        for d in range(days)
    ]


def test_usage_ingestion_of_thousands_of_rows_analyzes_the_usage_table(
    settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.USAGE_INGESTED_HOOKS = []
    assert settings.BULK_ANALYZE_MIN_ROWS == 5000
    accounts = [AccountFactory.create() for _ in range(50)]
    before = analyze_count(UsageSnapshot)
    with django_capture_on_commit_callbacks(execute=True):
        services.usage_snapshots_upsert(rows=_usage_rows(accounts, 99))  # 4,950 rows
    assert analyze_count(UsageSnapshot) == before
    with django_capture_on_commit_callbacks(execute=True):
        services.usage_snapshots_upsert(rows=_usage_rows(accounts, 100))  # 5,000 rows
    assert analyze_count(UsageSnapshot) == before + 1


def test_csv_import_of_many_accounts_analyzes_their_tables(
    leader: Any, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.BULK_ANALYZE_MIN_ROWS = 3  # 5,000 accounts one by one would be slow here
    content = "name,domain\n" + "".join(f"Imported {i},imported{i}.example\n" for i in range(3))
    batch = ImportBatch.objects.create(
        kind="accounts", filename="f.csv", content=content, created_by=leader
    )
    before = analyze_count(Account), analyze_count(Event)
    with django_capture_on_commit_callbacks(execute=True):
        assert import_apply(batch=batch, by=leader, valid_only=False) == 3
    assert (analyze_count(Account), analyze_count(Event)) == (before[0] + 1, before[1] + 1)


def test_demo_accounts_leave_their_tables_analysed(
    db: Any, django_capture_on_commit_callbacks: Any
) -> None:
    before = analyze_count(UsageSnapshot), analyze_count(Account)
    # The demo runs outside a transaction; the test's own one defers the ANALYZE.
    with django_capture_on_commit_callbacks(execute=True):
        accounts_demo.build(accounts=12, seed=5)
    assert (analyze_count(UsageSnapshot), analyze_count(Account)) == (
        before[0] + 1,
        before[1] + 1,
    )


def test_copy_insert_fills_defaults_and_stops_at_a_unique_violation() -> None:
    from django.db import IntegrityError, transaction

    account = AccountFactory.create()
    rows = [(account.pk, date(2026, 1, 1) + timedelta(days=d), d) for d in range(3)]
    columns = ["account", "date", "active_users"]
    with transaction.atomic():
        assert bulk.copy_insert(UsageSnapshot, rows, columns=columns) == 3
    found = UsageSnapshot.objects.order_by("date")
    assert [s.active_users for s in found] == [0, 1, 2]
    assert all(s.csat is None and s.created_at and s.updated_at for s in found)
    with pytest.raises(IntegrityError), transaction.atomic():
        bulk.copy_insert(UsageSnapshot, rows[:1], columns=columns)
    assert UsageSnapshot.objects.count() == 3


def test_copy_upsert_inserts_and_updates_only_the_named_fields() -> None:
    from django.db import transaction

    account = AccountFactory.create()
    first = timezone.now()
    UsageSnapshot.objects.create(
        account=account, date=date(2026, 1, 1), active_users=1, open_tickets=5
    )
    rows = [(account.pk, date(2026, 1, d), 7, Decimal("4.5")) for d in (1, 2)]
    with transaction.atomic():
        written = bulk.copy_upsert(
            UsageSnapshot,
            rows,
            columns=["account_id", "date", "active_users", "csat"],
            constants={"created_at": first, "updated_at": first},
            unique=["account", "date"],
            update=["active_users"],
        )
    assert written == 2
    kept, new = UsageSnapshot.objects.order_by("date")
    # The conflicting row took only active_users; the new row everything given.
    assert (kept.active_users, kept.csat, kept.open_tickets) == (7, None, 5)
    assert (new.active_users, new.csat, new.created_at) == (7, Decimal("4.5"), first)

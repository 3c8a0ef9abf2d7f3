"""The set-based writers behave like the ORM's bulk methods they replace."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts import bulk
from accounts.models import Account, UsageSnapshot
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

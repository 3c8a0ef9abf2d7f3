"""The account serializers' fast path (accounts.api.serializers.PlainFieldsFirst:
columns read with getattr, methods called, timestamps written by hand, a field
plan shared by every instance) writes what DRF's own ModelSerializer writes for
the same fields: compared here with plain DRF serializers over accounts with and
without an owner, owners with and without a name, empty and set optional fields,
amounts with cents, in UTC and in another time zone."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone
from rest_framework import serializers

from accounts.api.serializers import (
    AccountRefSerializer,
    AccountSerializer,
    OwnerSerializer,
    PlainFieldsFirst,
    account_rows,
    account_values,
    optional_choice,
)
from accounts.models import Account, ForecastCategory, HealthBand, User
from accounts.selectors import api_accounts
from tests.factories import AccountFactory, UserFactory

pytestmark = pytest.mark.django_db


class DrfOwner(serializers.ModelSerializer[User]):
    name = serializers.CharField(source="get_full_name", read_only=True)

    class Meta:
        model = User
        fields = OwnerSerializer.Meta.fields
        read_only_fields = fields


class DrfAccount(serializers.ModelSerializer[Account]):
    owner = DrfOwner(read_only=True, allow_null=True)
    health_band = optional_choice(HealthBand.choices)
    renewal_forecast_category = optional_choice(ForecastCategory.choices)

    class Meta:
        model = Account
        fields = AccountSerializer.Meta.fields
        read_only_fields = fields


class DrfAccountRef(serializers.ModelSerializer[Account]):
    owner = DrfOwner(read_only=True, allow_null=True)

    class Meta:
        model = Account
        fields = AccountRefSerializer.Meta.fields
        read_only_fields = fields


def _accounts() -> list[Account]:
    owners = [
        None,
        UserFactory.create(first_name="Ana", last_name="<Lopez>"),
        UserFactory.create(first_name="", last_name=""),
    ]
    for n in range(9):
        AccountFactory.create(
            owner=owners[n % 3],
            arr=Decimal("1234.5") if n % 2 else Decimal("90000"),
            hubspot_id=str(9000 + n) if n % 2 else None,
            health_score=None if n % 4 == 0 else 40 + n,
            health_band="" if n % 4 == 0 else HealthBand.GREEN,
            renewal_date=None if n == 3 else date.today() + timedelta(days=n),
            renewal_forecast_category="" if n % 2 else ForecastCategory.LIKELY,
            renewal_forecast_arr=None if n % 2 else Decimal("1000.01"),
            last_activity_at=None if n % 3 == 0 else timezone.now() - timedelta(days=n),
        )
    return list(api_accounts().order_by("pk"))


@pytest.mark.parametrize("zone", ["UTC", "America/New_York"])
def test_fast_path_writes_what_drf_writes(zone: str) -> None:
    accounts = _accounts()
    with timezone.override(zone):
        for _ in range(2):  # the second pass uses the shared plans
            fast: Any = AccountSerializer(accounts, many=True).data
            assert fast == DrfAccount(accounts, many=True).data
            ref: Any = AccountRefSerializer(accounts, many=True).data
            assert ref == DrfAccountRef(accounts, many=True).data
    # every field of these serializers is context-free: one plan per class serves all
    assert {AccountSerializer, OwnerSerializer} <= set(PlainFieldsFirst._shared_plans)
    assert len(fast) == 9 and fast[1]["owner"]["name"] == "Ana <Lopez>"
    assert fast[0]["owner"] is None and fast[2]["owner"]["name"] == ""
    offset = "Z" if zone == "UTC" else "-0"
    assert offset in fast[0]["created_at"]


@pytest.mark.parametrize("zone", ["UTC", "America/New_York"])
def test_the_lists_value_rows_write_what_drf_writes_for_the_accounts(zone: str) -> None:
    """The list endpoint serializes its page read as values (account_values,
    account_rows), not model instances: the same output as DRF's for the accounts."""
    accounts = _accounts()
    rows = account_rows(account_values(api_accounts().order_by("pk")))
    with timezone.override(zone):
        fast: Any = AccountSerializer(rows, many=True).data
        assert fast == DrfAccount(accounts, many=True).data
    assert fast[1]["owner"]["name"] == "Ana <Lopez>" and fast[0]["owner"] is None

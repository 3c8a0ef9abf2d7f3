"""The demo ARR history ends, for every account, at the account's ARR."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db.models import Case, DecimalField, F, Sum, When

from accounts.models import Account, Stage
from lifecycle.metrics import demo
from success.models import ArrMovement
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db
TODAY = date(2026, 11, 23)


def test_demo_ledger_ends_at_each_accounts_arr_and_churned_accounts_end_at_zero(db: Any) -> None:
    for i in range(30):
        AccountFactory.create(
            arr=Decimal(10000 + 1000 * i),
            contract_start=TODAY - timedelta(days=40 * i + 20),
            stage=Stage.CHURNED if i % 5 == 0 else Stage.ADOPTION,
        )
    demo.build(seed=3, today=TODAY)
    signed = Case(
        When(arr_movements__kind__in=["new", "expansion"], then=F("arr_movements__amount")),
        When(arr_movements__kind__in=["contraction", "churn"], then=-F("arr_movements__amount")),
        default=Decimal("0"),
        output_field=DecimalField(max_digits=16, decimal_places=2),
    )
    for account in Account.objects.annotate(ledger=Sum(signed)):
        assert account.ledger == account.arr, account
    churned = Account.objects.filter(
        stage=Stage.CHURNED, contract_start__lt=TODAY - timedelta(days=60)
    )
    assert churned.exists()
    assert not churned.exclude(arr=0).exists()
    assert ArrMovement.objects.filter(kind="new").count() == 30
    assert demo.build(seed=3, today=TODAY) == "ARR history exists; left as is"

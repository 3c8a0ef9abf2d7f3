from __future__ import annotations

from datetime import date
from decimal import Decimal

from accounts.models import Account
from success.models import ArrMovement


def move(account: Account, day: str, kind: str, amount: str) -> ArrMovement:
    """One ARR movement, as the renewal services record them."""
    return ArrMovement.objects.create(
        account=account, date=date.fromisoformat(day), kind=kind, amount=Decimal(amount)
    )

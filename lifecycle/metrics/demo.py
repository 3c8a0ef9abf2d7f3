"""Demo ARR history, so the metrics dashboard has retention to show.

The accounts demo writes accounts with today's ARR and no ledger. For each
account without ARR movements this records what its contract would have
left behind: a "new" movement at contract start, a renewal on each past
anniversary (with an expansion or contraction now and then, chosen so the
ledger ends at today's ARR), and for accounts in the churned stage a churn
in the last nine months (their ARR becomes zero, as closing a renewal as
churned does). Bulk writes, like the accounts demo. Idempotent: does
nothing once any "new" movement exists.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal

from django.db import transaction

from accounts.bulk import analyze
from accounts.models import Account, Stage
from success.models import ArrMovement

K = ArrMovement.Kind


def _history(rng: random.Random, account: Account, today: date) -> tuple[list[ArrMovement], bool]:
    start = account.contract_start or account.created_at.date()
    arr = account.arr
    churn = account.stage == Stage.CHURNED and (today - start).days > 60
    anniversaries = []
    k = 1
    while start + timedelta(days=365 * k) < today:
        anniversaries.append(start + timedelta(days=365 * k))
        k += 1
    changes: list[tuple[date, str, Decimal]] = []
    for day in anniversaries:
        roll = rng.random()
        if roll < 0.35:
            amount = (arr * Decimal(rng.choice(["0.1", "0.15", "0.2", "0.3"]))).quantize(
                Decimal("1")
            )
            changes.append((day, K.EXPANSION, amount))
        elif roll < 0.5:
            amount = (arr * Decimal(rng.choice(["0.05", "0.1", "0.15"]))).quantize(Decimal("1"))
            changes.append((day, K.CONTRACTION, amount))
    net = sum((a if k == K.EXPANSION else -a) for _d, k, a in changes)
    opening = arr - net
    if opening <= 0:
        changes, opening = [], arr
    rows = [ArrMovement(account=account, date=start, kind=K.NEW, amount=opening)]
    running = opening
    by_day = {d: (k, a) for d, k, a in changes}
    for day in anniversaries:
        kind_amount = by_day.get(day)
        kept = (
            running
            if not kind_amount or kind_amount[0] == K.EXPANSION
            else running - kind_amount[1]
        )
        rows.append(ArrMovement(account=account, date=day, kind=K.RENEWAL, amount=kept))
        if kind_amount:
            rows.append(
                ArrMovement(account=account, date=day, kind=kind_amount[0], amount=kind_amount[1])
            )
            running += kind_amount[1] if kind_amount[0] == K.EXPANSION else -kind_amount[1]
    if churn:
        earliest = max(start + timedelta(days=30), today - timedelta(days=270))
        day = earliest + timedelta(days=rng.randint(0, max((today - earliest).days - 1, 0)))
        rows = [r for r in rows if r.date < day]
        running = sum(
            (
                (r.amount if r.kind in (K.NEW, K.EXPANSION) else -r.amount)
                for r in rows
                if r.kind != K.RENEWAL
            ),
            Decimal("0"),
        )
        rows.append(ArrMovement(account=account, date=day, kind=K.CHURN, amount=running))
    return rows, churn


@transaction.atomic
def build(*, seed: int, today: date) -> str:
    if ArrMovement.objects.filter(kind=K.NEW).exists():
        return "ARR history exists; left as is"
    rng = random.Random(seed)
    accounts = Account.objects.exclude(arr_movements__isnull=False).order_by("pk")
    rows: list[ArrMovement] = []
    churned: list[int] = []
    for account in accounts.iterator(chunk_size=2000):
        history, gone = _history(rng, account, today)
        rows.extend(history)
        if gone:
            churned.append(account.pk)
        if len(rows) > 5000:
            ArrMovement.objects.bulk_create(rows)
            rows = []
    ArrMovement.objects.bulk_create(rows)
    Account.objects.filter(pk__in=churned).update(arr=Decimal("0"))
    analyze(ArrMovement)
    return f"ARR history for the portfolio ({len(churned)} churned accounts)"

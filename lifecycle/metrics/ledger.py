"""ARR figures recomputed from the ARR movement ledger (success.ArrMovement).

How ARR is read from the ledger:
- movement signs: new and expansion add, contraction and churn subtract,
  renewal rows are neutral (closing a renewal records the ARR it kept as a
  renewal row and any difference as a separate expansion or contraction row);
- ARR at a date = the signed sum of movements dated before it;
- an account with no "new" movement (bulk demo or imported accounts that
  predate the ledger) gets an implied one, computed in the query: its amount
  is what makes the ledger end at the account's current ARR
  (account.arr - signed sum of its other movements, never below zero). It is
  dated at contract start (creation day if unknown) when the account has no
  movements; once it has some (a renewal closed, a churn), at the earliest of
  contract start, creation day and first movement, because closing a renewal
  rolls contract start forward to the renewal date.

Retention uses the cohort of accounts with ARR at the start of the period:
GRR = (start - contraction - churn) / start and NRR adds expansion, where all
four sums are over that cohort. ARR of accounts that had none at the start
(new, or won back) is "new ARR", so start + new + expansion - contraction -
churn = end, exactly.

Everything is one query per call: an inner query groups movements per
account with one column per period boundary, an outer query sums those
columns with conditions. No Python loop over accounts.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from itertools import pairwise
from typing import Any

from django.db import connection
from django.db.models import (
    Case,
    Count,
    DateField,
    DecimalField,
    Exists,
    F,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Greatest, Least, TruncDate
from django.db.models.lookups import Exact, GreaterThan, IsNull, LessThan

from accounts.models import Account
from onboarding.models import OnboardingPlan
from success.models import ArrMovement

from .periods import Period
from .scope import Scope

ZERO = Decimal("0")
CENT = Decimal("0.01")
MONEY = DecimalField(max_digits=16, decimal_places=2)
K = ArrMovement.Kind


def money(value: Any) -> Decimal:
    """Database sums as Decimal cents (SQLite may hand back floats)."""
    if value is None:
        return ZERO
    if not isinstance(value, Decimal):
        value = Decimal(str(value))
    return value.quantize(CENT)


def _per_account(scope: Scope, boundaries: Sequence[date], *, with_plan: bool = False) -> QuerySet:
    """One row per account in scope: ARR at each boundary (s0, s1, ...) and, for
    each period between two boundaries, its expansion, contraction and churn
    (x0, c0, ch0, ...) and the day the account became a customer."""
    m = "arr_movements__"
    signed = Case(
        When(**{f"{m}kind__in": [K.NEW, K.EXPANSION]}, then=F(f"{m}amount")),
        When(**{f"{m}kind__in": [K.CONTRACTION, K.CHURN]}, then=-F(f"{m}amount")),
        default=Value(ZERO),
        output_field=MONEY,
    )
    created_on = TruncDate("created_at")
    ledger_total = Coalesce(Sum(signed), Value(ZERO), output_field=MONEY)
    has_new = Count("arr_movements", filter=Q(**{f"{m}kind": K.NEW}))
    implied_amount = Case(
        When(Exact(has_new, 0), then=Greatest(F("arr") - ledger_total, Value(ZERO))),
        default=Value(ZERO),
        output_field=MONEY,
    )
    first_movement = Min(f"{m}date")
    implied_on = Case(
        When(IsNull(first_movement, True), then=Coalesce("contract_start", created_on)),
        default=Least(Coalesce("contract_start", created_on), created_on, first_movement),
        output_field=DateField(),
    )
    qs = (
        Account.objects.filter(scope.q())
        .values("pk")
        .annotate(implied_amount=implied_amount, implied_on=implied_on)
    )
    columns: dict[str, Any] = {
        "became_customer": Coalesce(
            Min(f"{m}date", filter=Q(**{f"{m}kind": K.NEW})),
            Case(When(GreaterThan(F("implied_amount"), ZERO), then=F("implied_on"))),
            output_field=DateField(),
        )
    }
    for k, boundary in enumerate(boundaries):
        columns[f"s{k}"] = Coalesce(
            Sum(signed, filter=Q(**{f"{m}date__lt": boundary})), Value(ZERO), output_field=MONEY
        ) + Case(
            When(LessThan(F("implied_on"), boundary), then=F("implied_amount")),
            default=Value(ZERO),
            output_field=MONEY,
        )
    for i, (start, after) in enumerate(pairwise(boundaries)):
        in_period = Q(**{f"{m}date__gte": start, f"{m}date__lt": after})
        for prefix, kind in (("x", K.EXPANSION), ("c", K.CONTRACTION), ("ch", K.CHURN)):
            columns[f"{prefix}{i}"] = Coalesce(
                Sum(f"{m}amount", filter=in_period & Q(**{f"{m}kind": kind})),
                Value(ZERO),
                output_field=MONEY,
            )
    if with_plan:
        columns["has_plan"] = Exists(OnboardingPlan.objects.filter(account=OuterRef("pk")))
    return qs.annotate(**columns).values("pk", *columns)


def _date_param(day: date) -> Any:
    return connection.ops.adapt_datefield_value(day)


def _q(name: str) -> str:
    return "t." + connection.ops.quote_name(name)


@dataclass
class ArrFigures:
    period: Period
    start: Decimal
    end: Decimal
    new: Decimal
    expansion: Decimal
    contraction: Decimal
    churn: Decimal
    cohort_accounts: int
    churned_accounts: int
    new_accounts: int
    onboarded_accounts: int

    @property
    def grr(self) -> Decimal | None:
        if self.start <= 0:
            return None
        return (self.start - self.contraction - self.churn) / self.start * 100

    @property
    def nrr(self) -> Decimal | None:
        if self.start <= 0:
            return None
        return (self.start + self.expansion - self.contraction - self.churn) / self.start * 100

    @property
    def onboard_rate(self) -> Decimal | None:
        if not self.new_accounts:
            return None
        return Decimal(self.onboarded_accounts) / self.new_accounts * 100


def arr_figures(*, scope: Scope, periods: Sequence[Period]) -> list[ArrFigures]:
    """ARR at start and end, new, expansion, contraction and churn for each of
    `periods` (back to back, oldest first), plus new accounts and how many of
    them have an onboarding plan. One query."""
    boundaries = [p.start for p in periods] + [periods[-1].after]
    inner_sql, inner_params = _per_account(
        scope, boundaries, with_plan=True
    ).query.sql_with_params()
    selects: list[str] = []
    params: list[Any] = []
    for i in range(len(periods)):
        s, e = _q(f"s{i}"), _q(f"s{i + 1}")
        cohort = f"{s} > 0"
        selects += [
            f"SUM(CASE WHEN {cohort} THEN {s} ELSE 0 END)",
            f"SUM({e})",
            f"SUM(CASE WHEN {cohort} THEN 0 ELSE {e} END)",
            f"SUM(CASE WHEN {cohort} THEN {_q(f'x{i}')} ELSE 0 END)",
            f"SUM(CASE WHEN {cohort} THEN {_q(f'c{i}')} ELSE 0 END)",
            f"SUM(CASE WHEN {cohort} THEN {_q(f'ch{i}')} ELSE 0 END)",
            f"SUM(CASE WHEN {cohort} THEN 1 ELSE 0 END)",
            f"SUM(CASE WHEN {cohort} AND {_q(f'ch{i}')} > 0 THEN 1 ELSE 0 END)",
        ]
        became = _q("became_customer")
        new_in = f"{became} >= %s AND {became} < %s"
        selects += [
            f"SUM(CASE WHEN {new_in} THEN 1 ELSE 0 END)",
            f"SUM(CASE WHEN {new_in} AND {_q('has_plan')} THEN 1 ELSE 0 END)",
        ]
        bounds = [_date_param(boundaries[i]), _date_param(boundaries[i + 1])]
        params += bounds + bounds
    # The outer placeholders come before the inner ones in the final SQL.
    sql = f"SELECT {', '.join(selects)} FROM ({inner_sql}) t"
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, *inner_params])
        row = cursor.fetchone()
    out = []
    width = 10
    for i, period in enumerate(periods):
        v = row[i * width : (i + 1) * width]
        out.append(
            ArrFigures(
                period=period,
                start=money(v[0]),
                end=money(v[1]),
                new=money(v[2]),
                expansion=money(v[3]),
                contraction=money(v[4]),
                churn=money(v[5]),
                cohort_accounts=int(v[6] or 0),
                churned_accounts=int(v[7] or 0),
                new_accounts=int(v[8] or 0),
                onboarded_accounts=int(v[9] or 0),
            )
        )
    return out


# --- Drill-downs ------------------------------------------------------------

# metric -> (condition on the per-account row, the amount it is sorted by)
ARR_DRILLS: dict[str, tuple[str, str]] = {
    "arr_start": ("{s0} > 0", "{s0}"),
    "arr_end": ("{s1} <> 0", "{s1}"),
    "new_arr": ("{s0} <= 0 AND {s1} <> 0", "{s1}"),
    "expansion": ("{s0} > 0 AND {x0} > 0", "{x0}"),
    "contraction": ("{s0} > 0 AND {c0} > 0", "{c0}"),
    "churn": ("{s0} > 0 AND {ch0} > 0", "{ch0}"),
    "retention": ("{s0} > 0", "{ch0} + {c0}"),
}


@dataclass
class ArrRow:
    account_id: int
    start: Decimal
    end: Decimal
    expansion: Decimal
    contraction: Decimal
    churn: Decimal


def arr_drill_rows(
    *, scope: Scope, period: Period, metric: str, limit: int | None = None
) -> Iterator[ArrRow]:
    """Accounts behind one ARR figure of one period, largest amount first."""
    condition, amount = ARR_DRILLS[metric]
    inner_sql, inner_params = _per_account(
        scope, [period.start, period.after]
    ).query.sql_with_params()
    q = {n: _q(n) for n in ("pk", "s0", "s1", "x0", "c0", "ch0")}
    sql = (
        f"SELECT {q['pk']}, {q['s0']}, {q['s1']}, {q['x0']}, {q['c0']}, {q['ch0']} "
        f"FROM ({inner_sql}) t WHERE {condition.format(**q)} "
        f"ORDER BY ABS({amount.format(**q)}) DESC, {q['pk']}"
    )
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    with connection.cursor() as cursor:
        cursor.execute(sql, inner_params)
        for pk, s0, s1, x0, c0, ch0 in cursor.fetchall():
            yield ArrRow(pk, money(s0), money(s1), money(x0), money(c0), money(ch0))


@dataclass
class NewAccountRow:
    account_id: int
    became_customer: date
    has_plan: bool
    end: Decimal


def new_account_rows(
    *, scope: Scope, period: Period, limit: int | None = None
) -> Iterator[NewAccountRow]:
    """Accounts that became customers in the period, and whether they have an
    onboarding plan (the accounts behind the onboard rate)."""
    inner_sql, inner_params = _per_account(
        scope, [period.start, period.after], with_plan=True
    ).query.sql_with_params()
    q = {n: _q(n) for n in ("pk", "became_customer", "has_plan", "s1")}
    sql = (
        f"SELECT {q['pk']}, {q['became_customer']}, {q['has_plan']}, {q['s1']} "
        f"FROM ({inner_sql}) t WHERE {q['became_customer']} >= %s "
        f"AND {q['became_customer']} < %s ORDER BY {q['became_customer']}, {q['pk']}"
    )
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    # The WHERE placeholders follow the inner query's in the final SQL.
    params = [*inner_params, _date_param(period.start), _date_param(period.after)]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for pk, became, has_plan, s1 in cursor.fetchall():
            if isinstance(became, str):
                became = date.fromisoformat(became)
            yield NewAccountRow(pk, became, bool(has_plan), money(s1))

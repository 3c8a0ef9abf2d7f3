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

Retention uses the cohort of accounts that were customers before the period
started (their first "new" movement, or implied opening, is before its first
day): GRR = (ARR at start - contraction - churn) / ARR at start, and NRR adds
expansion, where contraction, churn and expansion are the cohort's. ARR at
start is the whole ledger before the first day. New ARR is what is left:
end - start - expansion + contraction + churn, i.e. accounts that started in
the period (and anything they did in it), so the bridge adds up exactly.
Known simplification: an account that churned and was won back counts in the
cohort from its first "new" movement on.

The dashboard's figures come from one query that returns grouped rows (by
period bucket and kind, a few dozen rows), never one row per account; only
accounts without a "new" movement are aggregated one by one. The
drill-downs use a per-account query for one period (`_per_account`).
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


KIND_CODES = {K.NEW: 1, K.EXPANSION: 2, K.CONTRACTION: 3, K.CHURN: 4, K.RENEWAL: 5}
SIGN = {1: 1, 2: 1, 3: -1, 4: -1, 5: 0}


class _Sql:
    """Raw SQL built in text order, so placeholders and params stay aligned."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.params: list[Any] = []

    def add(self, text: str, *params: Any) -> _Sql:
        self.parts.append(text)
        self.params.extend(params)
        return self

    def add_kind_code(self, expr: str) -> _Sql:
        self.add(f"CASE {expr}")
        for kind, code in KIND_CODES.items():
            self.add(f" WHEN %s THEN {code}", kind.value)
        return self.add(" ELSE 0 END")

    def bucket(self, expr: str, boundaries: Sequence[date]) -> _Sql:
        """0 before the first boundary, i + 1 inside period i, len after the last."""
        if connection.vendor == "postgresql":
            # A binary search in C, instead of a CASE per boundary per row.
            marks = ", ".join(["%s"] * len(boundaries))
            return self.add(
                f"width_bucket({expr}, ARRAY[{marks}]::date[])",
                *(_date_param(b) for b in boundaries),
            )
        self.add(f"CASE WHEN {expr} IS NULL THEN NULL")
        for k, boundary in enumerate(boundaries):
            self.add(f" WHEN {expr} < %s THEN {k}", _date_param(boundary))
        return self.add(f" ELSE {len(boundaries)} END")

    def period_start(self, bucket: str, boundaries: Sequence[date]) -> _Sql:
        """The first day of the period a bucket number stands for."""
        if connection.vendor == "postgresql":
            marks = ", ".join(["%s"] * len(boundaries))
            return self.add(
                f"(ARRAY[{marks}]::date[])[{bucket}]", *(_date_param(b) for b in boundaries)
            )
        self.add(f"CASE {bucket}")
        for k, boundary in enumerate(boundaries[:-1]):
            self.add(f" WHEN {k + 1} THEN %s", _date_param(boundary))
        return self.add(" END")

    @property
    def sql(self) -> str:
        return "".join(self.parts)


def _ledger_sql(scope: Scope, boundaries: Sequence[date]) -> _Sql:
    """Grouped rows, never one per account:
    0. implied openings (accounts without a "new" movement) by bucket;
    1. movements by bucket, kind and whether the account has an onboarding plan;
    2. expansion, contraction and churn inside the periods from accounts that
       were customers before the period started (the retention cohort).
    Only accounts without a "new" movement are aggregated one by one."""
    accounts = (
        Account.objects.filter(scope.q())
        .annotate(
            start_on=Coalesce("contract_start", TruncDate("created_at"), output_field=DateField()),
            created_on=TruncDate("created_at"),
            has_plan=Exists(OnboardingPlan.objects.filter(account=OuterRef("pk"))),
        )
        .order_by()
        .values("pk", "arr", "start_on", "created_on", "has_plan")
    )
    a_sql, a_params = accounts.query.sql_with_params()
    n = connection.ops.quote_name
    mv_table = ArrMovement._meta.db_table
    plans = OnboardingPlan._meta.db_table

    def least(x: str, y: str) -> str:
        return f"CASE WHEN {x} <= {y} THEN {x} ELSE {y} END"

    signed = (
        "CASE WHEN mv.kind IN (%s, %s) THEN mv.amount "
        "WHEN mv.kind IN (%s, %s) THEN -mv.amount ELSE 0 END"
    )
    signed_params = [K.NEW.value, K.EXPANSION.value, K.CONTRACTION.value, K.CHURN.value]
    start_on, created_on = f"a.{n('start_on')}", f"a.{n('created_on')}"
    q = _Sql()
    q.add(f"WITH a AS ({a_sql}), ", *a_params)
    q.add(
        f"fn AS (SELECT mv.account_id, MIN(mv.date) AS first_new FROM {mv_table} mv "
        "WHERE mv.kind = %s GROUP BY mv.account_id), ",
        K.NEW.value,
    )
    # Only accounts without a "new" movement need their movements summed.
    q.add(
        f"x AS (SELECT mv.account_id, SUM({signed}) AS total, MIN(mv.date) AS first_move "
        f"FROM {mv_table} mv WHERE NOT EXISTS "
        "(SELECT 1 FROM fn WHERE fn.account_id = mv.account_id) GROUP BY mv.account_id), ",
        *signed_params,
    )
    total = "COALESCE(x.total, 0)"
    q.add(
        f"imp AS (SELECT a.{n('pk')} AS pk, a.{n('has_plan')} AS has_plan, "
        f"CASE WHEN a.{n('arr')} > {total} THEN a.{n('arr')} - {total} ELSE 0 END AS amount, "
        f"CASE WHEN x.first_move IS NULL THEN {start_on} "
        f"ELSE {least(least(start_on, created_on), 'x.first_move')} END AS opened_on "
        f"FROM a LEFT JOIN fn ON fn.account_id = a.{n('pk')} "
        f"LEFT JOIN x ON x.account_id = a.{n('pk')} WHERE fn.account_id IS NULL) "
    )
    q.add("SELECT 0, ").bucket("opened_on", boundaries)
    q.add(
        ", CASE WHEN has_plan THEN 1 ELSE 0 END, 0, 0, SUM(amount), COUNT(*) FROM imp "
        "WHERE amount > 0 GROUP BY 2, 3 "
    )
    q.add("UNION ALL SELECT 1, bucket, kind_code, with_plan, 0, SUM(amount), COUNT(*) FROM (")
    q.add("SELECT mv.amount, ").add_kind_code("mv.kind").add(" AS kind_code, ")
    q.bucket("mv.date", boundaries)
    q.add(
        f" AS bucket, CASE WHEN mv.account_id IN (SELECT account_id FROM {plans}) "
        f"THEN 1 ELSE 0 END AS with_plan FROM {mv_table} mv"
    )
    if scope.is_filtered:
        q.add(f" JOIN a ON a.{n('pk')} = mv.account_id")
    q.add(") b GROUP BY bucket, kind_code, with_plan ")
    q.add("UNION ALL SELECT 2, w.bucket, w.kind_code, 1, 0, SUM(w.amount), COUNT(*) FROM (SELECT ")
    q.add("mv.account_id, mv.amount, ").add_kind_code("mv.kind").add(" AS kind_code, ")
    q.bucket("mv.date", boundaries)
    q.add(f" AS bucket FROM {mv_table} mv")
    if scope.is_filtered:
        q.add(f" JOIN a ON a.{n('pk')} = mv.account_id")
    q.add(
        " WHERE mv.date >= %s AND mv.date < %s AND mv.kind IN (%s, %s, %s)) w "
        "LEFT JOIN fn ON fn.account_id = w.account_id LEFT JOIN imp ON imp.pk = w.account_id "
        "WHERE COALESCE(fn.first_new, CASE WHEN imp.amount > 0 THEN imp.opened_on END) < ",
        _date_param(boundaries[0]),
        _date_param(boundaries[-1]),
        K.EXPANSION.value,
        K.CONTRACTION.value,
        K.CHURN.value,
    )
    q.period_start("w.bucket", boundaries)
    q.add(" GROUP BY w.bucket, w.kind_code")
    return q


def _fetch(sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall())


def arr_figures(*, scope: Scope, periods: Sequence[Period]) -> list[ArrFigures]:
    """ARR at start and end, new, expansion, contraction and churn for each of
    `periods` (back to back, oldest first), plus new accounts and how many of
    them have an onboarding plan. One query that returns grouped rows (at most
    a few per period and kind), summed here."""
    boundaries = [p.start for p in periods] + [periods[-1].after]
    q = _ledger_sql(scope, boundaries)
    n = len(periods)
    implied_before = [ZERO] * (n + 2)  # by bucket
    signed_in = [ZERO] * (n + 2)
    cohort_sum: dict[tuple[int, int], Decimal] = {}
    churned = [0] * (n + 2)  # churn movements of the cohort
    opened = [0] * (n + 2)  # new movements and implied openings
    onboarded = [0] * (n + 2)
    closed = [0] * (n + 2)  # churn movements
    new_code, churn_code = KIND_CODES[K.NEW], KIND_CODES[K.CHURN]
    for part, bucket, b2, b3, _b4, amount, count in _fetch(q.sql, q.params):
        if part == 0:  # implied openings: bucket, has plan
            implied_before[bucket] += money(amount)
            opened[bucket] += count
            onboarded[bucket] += count if b2 else 0
        elif part == 1:  # movements: bucket, kind code, has plan
            signed_in[bucket] += SIGN[b2] * money(amount)
            if b2 == new_code:
                opened[bucket] += count
                onboarded[bucket] += count if b3 else 0
            elif b2 == churn_code:
                closed[bucket] += count
        else:  # movements of the period's cohort: bucket, kind code
            cohort_sum[(bucket, b2)] = cohort_sum.get((bucket, b2), ZERO) + money(amount)
            if b2 == churn_code:
                churned[bucket] += count

    def ledger_before(k: int) -> Decimal:
        """ARR before boundary k: everything in buckets 0..k."""
        return sum(implied_before[: k + 1], ZERO) + sum(signed_in[: k + 1], ZERO)

    out = []
    for i, period in enumerate(periods):
        start, end = ledger_before(i), ledger_before(i + 1)
        expansion = cohort_sum.get((i + 1, KIND_CODES[K.EXPANSION]), ZERO)
        contraction = cohort_sum.get((i + 1, KIND_CODES[K.CONTRACTION]), ZERO)
        churn = cohort_sum.get((i + 1, KIND_CODES[K.CHURN]), ZERO)
        out.append(
            ArrFigures(
                period=period,
                start=start,
                end=end,
                new=end - start - expansion + contraction + churn,
                expansion=expansion,
                contraction=contraction,
                churn=churn,
                cohort_accounts=sum(opened[: i + 1]) - sum(closed[: i + 1]),
                churned_accounts=churned[i + 1],
                new_accounts=opened[i + 1],
                onboarded_accounts=onboarded[i + 1],
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

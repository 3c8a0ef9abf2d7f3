"""ARR figures recomputed from hand-built ledgers. Expected values are worked
out here from docs/domain.md's formulas, never read back from the code under test."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from accounts.models import Segment
from lifecycle.metrics.ledger import arr_drill_rows, arr_figures
from lifecycle.metrics.periods import Grain, period_containing, trailing_periods
from lifecycle.metrics.scope import Scope
from tests.factories import AccountFactory, UserFactory
from tests.metrics.ledger_rows import move

pytestmark = pytest.mark.django_db

Q2_2025 = period_containing(date(2025, 5, 1), Grain.QUARTER)
D = Decimal


def grr(start: Decimal, contraction: Decimal, churn: Decimal) -> Decimal:
    return (start - contraction - churn) / start * 100


def nrr(start: Decimal, expansion: Decimal, contraction: Decimal, churn: Decimal) -> Decimal:
    return (start + expansion - contraction - churn) / start * 100


def _long_ago() -> datetime:
    return timezone.make_aware(datetime(2023, 1, 1))


@pytest.fixture
def book(db: Any) -> dict[str, Any]:
    """Enterprise: 1,000,000 at the start of Q2 2025; in the quarter 50,000
    churns (first day), 20,000 contracts (last day), 120,000 expands, and a
    new account starts mid-quarter and expands. One SMB account predates it all."""
    maya = UserFactory.create(username="maya")
    tom = UserFactory.create(username="tom")
    ent = {"segment": Segment.ENTERPRISE, "created_at": _long_ago()}
    a1 = AccountFactory.create(name="Atlas", owner=maya, arr=D("620000"), **ent)
    a2 = AccountFactory.create(name="Birch", owner=maya, arr=D("280000"), **ent)
    a3 = AccountFactory.create(name="Cedar", owner=tom, arr=D("150000"), **ent)
    a4 = AccountFactory.create(name="Dune", owner=tom, arr=D("0"), **ent)
    a5 = AccountFactory.create(name="Ember", owner=tom, arr=D("90000"), **ent)
    move(a1, "2024-01-10", "new", "500000")
    move(a1, "2025-05-01", "expansion", "120000")
    move(a2, "2024-03-01", "new", "300000")
    move(a2, "2025-06-30", "contraction", "20000")
    move(a3, "2024-06-01", "new", "150000")
    move(a3, "2025-06-01", "renewal", "150000")  # neutral
    move(a4, "2024-02-01", "new", "50000")
    move(a4, "2025-04-01", "churn", "50000")
    move(a5, "2025-05-15", "new", "80000")  # starts mid-period...
    move(a5, "2025-06-01", "expansion", "10000")  # ...so this is new ARR, not expansion
    # No movements at all: an implied "new" of its ARR at contract start.
    legacy = AccountFactory.create(
        name="Legacy",
        owner=tom,
        segment=Segment.SMB,
        arr=D("100000"),
        contract_start=date(2023, 5, 1),
        created_at=_long_ago(),
    )
    return {"maya": maya, "tom": tom, "accounts": [a1, a2, a3, a4, a5], "legacy": legacy}


def test_enterprise_quarter_matches_the_formulas(book: dict[str, Any]) -> None:
    [f] = arr_figures(scope=Scope(segment=Segment.ENTERPRISE), periods=[Q2_2025])
    assert f.start == D("1000000.00")
    assert (f.churn, f.contraction, f.expansion) == (D("50000"), D("20000"), D("120000"))
    assert f.new == D("90000")
    assert f.end == D("1000000") - D("50000") - D("20000") + D("120000") + D("90000")
    assert f.grr == grr(D("1000000"), D("20000"), D("50000")) == D("93")
    assert f.nrr == nrr(D("1000000"), D("120000"), D("20000"), D("50000")) == D("105")
    assert (f.cohort_accounts, f.churned_accounts, f.new_accounts) == (4, 1, 1)


def test_an_account_without_a_new_movement_counts_from_its_contract_start(
    book: dict[str, Any],
) -> None:
    [f] = arr_figures(scope=Scope(), periods=[Q2_2025])
    start = D("1000000") + D("100000")
    assert f.start == start
    assert f.grr == grr(start, D("20000"), D("50000"))
    assert f.nrr == nrr(start, D("120000"), D("20000"), D("50000"))
    [before] = arr_figures(
        scope=Scope(), periods=[period_containing(date(2023, 4, 1), Grain.MONTH)]
    )
    assert (before.start, before.end) == (D("0"), D("0"))
    [that_month] = arr_figures(
        scope=Scope(), periods=[period_containing(date(2023, 5, 9), Grain.MONTH)]
    )
    assert (that_month.start, that_month.new, that_month.end) == (D("0"), D("100000"), D("100000"))
    assert that_month.grr is None  # nothing at the start: no retention to speak of


def test_owner_filter_keeps_only_their_book(book: dict[str, Any]) -> None:
    [f] = arr_figures(scope=Scope(owner_id=book["maya"].pk), periods=[Q2_2025])
    start = D("800000")
    assert (f.start, f.expansion, f.contraction, f.churn) == (start, D("120000"), D("20000"), 0)
    assert f.grr == grr(start, D("20000"), D("0"))
    assert f.nrr == nrr(start, D("120000"), D("20000"), D("0"))


def test_quiet_periods_keep_their_arr_and_full_retention(book: dict[str, Any]) -> None:
    periods = trailing_periods(period_containing(date(2025, 9, 1), Grain.QUARTER), count=3)
    q1, q2, q3 = arr_figures(scope=Scope(segment=Segment.ENTERPRISE), periods=periods)
    assert (q1.start, q1.end, q1.grr, q1.nrr) == (D("1000000"), D("1000000"), 100, 100)
    assert q2.end == q3.start == q3.end == D("1140000")
    assert (q3.grr, q3.nrr, q3.new) == (100, 100, 0)


def test_a_renewal_that_rolled_contract_start_forward_still_counts_its_history(db: Any) -> None:
    """Closing a renewal moves contract_start to the renewal date and records only
    the difference; the implied opening is dated at the account's creation."""
    account = AccountFactory.create(
        arr=D("220000"), contract_start=date(2025, 5, 1), created_at=_long_ago()
    )
    move(account, "2025-05-01", "renewal", "200000")
    move(account, "2025-05-01", "expansion", "20000")
    [f] = arr_figures(scope=Scope(), periods=[Q2_2025])
    assert (f.start, f.expansion, f.end) == (D("200000"), D("20000"), D("220000"))
    assert f.nrr == nrr(D("200000"), D("20000"), D("0"), D("0"))


def test_churn_of_an_account_without_ledger_history(db: Any) -> None:
    """Churn leaves ARR at zero; the implied opening is what churned."""
    account = AccountFactory.create(arr=D("0"), contract_start=date(2024, 1, 1))
    move(account, "2025-05-10", "churn", "30000")
    [f] = arr_figures(scope=Scope(), periods=[Q2_2025])
    assert (f.start, f.churn, f.end, f.grr) == (D("30000"), D("30000"), D("0"), D("0"))


def test_churn_drill_down_lists_the_churned_account_and_amount(book: dict[str, Any]) -> None:
    rows = list(arr_drill_rows(scope=Scope(), period=Q2_2025, metric="churn"))
    assert [(r.account_id, r.churn) for r in rows] == [(book["accounts"][3].pk, D("50000"))]
    expansion = list(arr_drill_rows(scope=Scope(), period=Q2_2025, metric="expansion"))
    assert [(r.account_id, r.expansion) for r in expansion] == [
        (book["accounts"][0].pk, D("120000"))
    ]
    new = list(arr_drill_rows(scope=Scope(), period=Q2_2025, metric="new_arr"))
    assert [(r.account_id, r.end) for r in new] == [(book["accounts"][4].pk, D("90000"))]

"""DeferredJoinPaginator (the portfolio's, for sorts plain_query does not write): the
same pages, rows and order as Django's Paginator, for sorts on the account, on the
owner (a join) and with ties, with and without orphans, in one query a page. The
owner sort's pages: tests/lifecycle/test_portfolio_sql.py."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.paginator import Paginator
from django.db.models import F

from accounts.models import Account
from accounts.pagination import DeferredJoinPaginator
from tests.factories import AccountFactory, UserFactory


@pytest.mark.parametrize(
    "ordering",
    [
        ("name", "pk"),
        ("-arr", "-pk"),
        ("owner__first_name", "pk"),
        (F("last_activity_at").desc(nulls_last=True), "-pk"),
    ],
)
@pytest.mark.parametrize("orphans", [0, 2])
@pytest.mark.parametrize("direct_rows", [0, 1000])  # every page by ids first; none
def test_same_pages_as_paginator(
    db: Any,
    ordering: tuple[Any, ...],
    orphans: int,
    direct_rows: int,
    django_assert_num_queries: Any,
    monkeypatch: Any,
) -> None:
    monkeypatch.setattr(DeferredJoinPaginator, "DIRECT_ROWS", direct_rows)
    owners = [UserFactory.create(first_name=n) for n in ("Zoe", "Ann", "Ann")]
    for i in range(23):
        AccountFactory.create(name=f"Acme {i % 4}", arr=1000 * (i % 5), owner=owners[i % 3])
    qs = Account.objects.select_related("owner").order_by(*ordering)
    plain = Paginator(qs, 5, orphans=orphans)
    deferred = DeferredJoinPaginator(qs, 5, orphans=orphans)
    assert deferred.num_pages == plain.num_pages
    for number in plain.page_range:
        expected = [a.pk for a in plain.page(number).object_list]
        page = deferred.page(number)
        with django_assert_num_queries(1):
            rows = list(page.object_list)
            assert all(a.owner for a in rows)  # joined, not read per row
        assert [a.pk for a in rows] == expected

"""DeferredJoinPaginator and OwnerOrderPaginator (the portfolio's): the same pages,
rows and order as Django's Paginator, for sorts on the account, on the owner (a
join) and with ties, with and without orphans, in one query a page."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.paginator import Paginator
from django.db.models import F

from accounts.models import Account
from accounts.pagination import DeferredJoinPaginator, OwnerOrderPaginator
from accounts.selectors import people
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


def _people() -> list[tuple[int, str]]:
    return [(p.pk, p.first_name) for p in people()]


@pytest.mark.parametrize("descending", [False, True])
@pytest.mark.parametrize("orphans", [0, 2])
@pytest.mark.parametrize("per_page", [3, 4, 7, 50])
def test_owner_order_pages_are_paginators(
    db: Any, descending: bool, orphans: int, per_page: int, django_assert_num_queries: Any
) -> None:
    # Two owners share a first name (their accounts interleave by id), one sorts
    # first as an empty name, one owns nothing, and some accounts have no owner.
    owners = [UserFactory.create(first_name=n) for n in ("Zoe", "Ann", "Ann", "", "Bob", "Mia")]
    for i in range(29):
        AccountFactory.create(owner=owners[i % 5] if i % 6 else None, segment="smb")
    AccountFactory.create(owner=owners[5], segment="enterprise")
    direction = "-" if descending else ""
    qs = Account.objects.filter(segment="smb").order_by(
        f"{direction}owner__first_name", f"{direction}pk"
    )
    plain = Paginator(qs, per_page, orphans=orphans)
    by_owner = OwnerOrderPaginator(
        qs, per_page, orphans=orphans, people=_people(), descending=descending
    )
    assert by_owner.count == plain.count == 29
    assert by_owner.num_pages == plain.num_pages
    for number in plain.page_range:
        expected = [a.pk for a in plain.page(number).object_list]
        page = by_owner.page(number)
        with django_assert_num_queries(1):  # one page, however many owners it spans
            assert [a.pk for a in page.object_list] == expected


def test_owner_order_reads_owners_it_was_not_given(db: Any) -> None:
    AccountFactory.create(owner=UserFactory.create(first_name="Zed"))
    given = _people()
    newer = UserFactory.create(first_name="Al")
    AccountFactory.create(owner=newer)
    qs = Account.objects.order_by("owner__first_name", "pk")
    by_owner = OwnerOrderPaginator(qs, 10, people=given)
    assert [a.owner for a in by_owner.page(1).object_list] == [a.owner for a in qs]


def test_owner_order_of_no_accounts_is_one_empty_page(db: Any) -> None:
    by_owner = OwnerOrderPaginator(
        Account.objects.order_by("owner__first_name", "pk"), 5, people=[]
    )
    assert (by_owner.count, by_owner.num_pages, list(by_owner.page(1).object_list)) == (0, 1, [])

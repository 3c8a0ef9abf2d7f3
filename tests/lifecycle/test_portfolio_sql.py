"""The portfolio's plain statements (accounts.portfolio_sql, PortfolioFilter.plain_query)
against the querysets they replace: for every sort, filter and page number (deep pages,
out of range, not numbers), the same count, page number, rows and order as Django's
Paginator over PortfolioFilter.qs, and the same row values as selectors.portfolio_rows."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core.paginator import Paginator
from django.db.models import F
from django.http import QueryDict
from django.utils import timezone

from accounts import portfolio_sql
from accounts.filters import PortfolioFilter
from accounts.models import Account, Segment, Stage
from accounts.portfolio_sql import portfolio_owner_page, portfolio_page
from accounts.roles import Role, role_of
from accounts.selectors import people, portfolio_rows
from tests.factories import AccountFactory, UserFactory

pytestmark = pytest.mark.django_db

PER_PAGE = 4


@pytest.fixture
def book(csm: Any) -> Any:
    """Accounts with ties, empty values, names to escape in a LIKE, owners who share
    a first name or have none, and archived ones."""
    owners = [
        csm,
        UserFactory.create(first_name="Ann", role=Role.CSM),
        UserFactory.create(first_name="Ann", role=Role.LEADER),
        UserFactory.create(first_name="", role=Role.CSM),
        UserFactory.create(first_name="Zoe", role=Role.CSM),
    ]
    today = timezone.localdate()
    now = timezone.now()
    stages = list(Stage.values)
    segments = list(Segment.values)
    for i in range(41):
        AccountFactory.create(
            name=["Acme 100%", "Beta_co", "acme", "Gamma", "Delta"][i % 5] + f" {i % 7}",
            domain="" if i % 9 == 0 else f"d{i}.example",
            owner=None if i % 6 == 0 else owners[i % 5],
            segment=segments[i % len(segments)],
            stage=stages[i % len(stages)],
            arr=Decimal(1000 * (i % 4)),
            renewal_date=None if i % 8 == 0 else today + timedelta(days=(i * 11) % 200 - 30),
            health_score=None if i % 5 == 0 else (i * 7) % 101,
            last_activity_at=None if i % 4 == 0 else now - timedelta(days=(i * 5) % 90),
            status=Account.Status.ARCHIVED if i % 10 == 3 else Account.Status.ACTIVE,
        )
    return owners


SORTS = ["name", "-name", "arr", "-arr", "health", "-health", "renewal", "-renewal"]
SORTS += ["stage", "-stage", "activity", "-activity", "owner", "-owner", "stage,-arr"]
FILTERS: list[dict[str, str]] = [
    {},
    {"owner": "me"},
    {"owner": "none"},
    {"q": "acme"},
    {"q": "100%"},
    {"q": "_co"},
    {"q": "  "},
    {"q": "ACME 1"},
    {"q": "3\nd10"},  # spans a name and a domain: no account, as either field reads it
    {"q": "a\\b"},
    {"segment": "smb", "stage": "adoption"},
    {"renewal_within": "60"},
    {"quiet_for": "30"},
    {"renewal_within": "-4"},  # invalid: not applied, as the queryset does
    {"q": "d1", "owner": "all", "quiet_for": "10"},
]
PAGES = [None, "1", "2", "3", "99", "0", "-1", "x", "2.0"]


def _reference(filterset: PortfolioFilter, number: str | None) -> tuple[int, int, list[int]]:
    qs = filterset.qs
    sort = filterset.form.cleaned_data.get("sort")
    if sort in (["owner"], ["-owner"]):  # unassigned last (SQLite puts NULLs first)
        qs = qs.order_by(*_owner_order(sort[0]))
    page = Paginator(qs, PER_PAGE).get_page(number)
    return page.paginator.count, page.number, [a.pk for a in page.object_list]


@pytest.mark.parametrize("direct_rows", [0, 1000])  # every page by its ids first; none
@pytest.mark.parametrize("sort", SORTS)
def test_plain_pages_are_the_querysets_pages(
    book: Any, csm: Any, sort: str, direct_rows: int, monkeypatch: Any
) -> None:
    monkeypatch.setattr(portfolio_sql, "DIRECT_ROWS", direct_rows)
    everyone = [(p.pk, p.first_name) for p in people()]
    for filters in FILTERS:
        data = QueryDict(mutable=True)
        data.update({"owner": "all", "sort": sort, **filters})
        filterset = PortfolioFilter(data, queryset=Account.objects.all(), user=csm)
        plain = filterset.plain_query()
        assert plain is not None
        for number in PAGES:
            if plain.by_owner is None:
                page = portfolio_page(plain, number, PER_PAGE)
            else:
                page = portfolio_owner_page(
                    plain, number, PER_PAGE, people=everyone, descending=plain.by_owner
                )
            got = (page.paginator.count, page.number, [a.pk for a in page.object_list])
            assert got == _reference(filterset, number), (sort, filters, number)


def test_plain_rows_are_the_selectors_rows(book: Any, csm: Any) -> None:
    data = QueryDict("owner=all&sort=-activity")
    filterset = PortfolioFilter(data, queryset=Account.objects.all(), user=csm)
    plain = filterset.plain_query()
    assert plain is not None
    page = portfolio_page(plain, 1, 100)
    assert page.object_list == portfolio_rows(filterset.qs)


@pytest.mark.parametrize("sort", ["owner,name", "bogus"])
def test_sorts_it_does_not_write_are_left_to_the_queryset(csm: Any, sort: str) -> None:
    data = QueryDict(f"owner=all&sort={sort}")
    assert PortfolioFilter(data, queryset=Account.objects.all(), user=csm).plain_query() is None


def test_owner_page_reads_owners_newer_than_people(csm: Any) -> None:
    AccountFactory.create(owner=UserFactory.create(first_name="Zed"))
    given = [(p.pk, p.first_name) for p in people()]
    AccountFactory.create(owner=UserFactory.create(first_name="Al"))
    data = QueryDict("owner=all&sort=owner")
    filterset = PortfolioFilter(data, queryset=Account.objects.all(), user=csm)
    plain = filterset.plain_query()
    assert plain is not None
    page = portfolio_owner_page(plain, 1, 10, people=given, descending=False)
    assert [a.pk for a in page.object_list] == _reference(filterset, "1")[2][:10]


def test_people_know_each_users_role(db: Any) -> None:
    users = [UserFactory.create(role=role) for role in Role] + [UserFactory.create()]
    users.append(UserFactory.create(is_superuser=True))
    both = UserFactory.create(role=Role.VIEWER)
    both.groups.add(*UserFactory.create(role=Role.CSM).groups.all())
    users.append(both)
    inactive = UserFactory.create(role=Role.CSM, is_active=False)
    users.append(inactive)
    known = {p.pk: p for p in people()}
    for user in users:
        fresh = type(user).objects.get(pk=user.pk)
        assert known[user.pk].role == role_of(fresh), user
    assert known[both.pk].assignable and not known[inactive.pk].assignable


def test_today_is_the_renewal_windows_first_day(csm: Any) -> None:
    today = timezone.localdate()
    for days in (-1, 0, 5, 6):
        AccountFactory.create(renewal_date=today + timedelta(days=days))
    data = QueryDict("owner=all&sort=renewal&renewal_within=5")
    filterset = PortfolioFilter(data, queryset=Account.objects.all(), user=csm)
    plain = filterset.plain_query()
    assert plain is not None
    page = portfolio_page(plain, 1, 10)
    assert [a.renewal_date for a in page.object_list] == [today, today + timedelta(days=5)]
    assert isinstance(page.object_list[0].renewal_date, date)


@pytest.mark.parametrize("per_page", [3, 7, 50])
@pytest.mark.parametrize("sort", ["owner", "-owner"])
def test_owner_pages_at_any_page_size_read_one_statement(
    book: Any, csm: Any, sort: str, per_page: int, django_assert_num_queries: Any
) -> None:
    everyone = [(p.pk, p.first_name) for p in people()]
    data = QueryDict(f"owner=all&sort={sort}")
    filterset = PortfolioFilter(data, queryset=Account.objects.all(), user=csm)
    plain = filterset.plain_query()
    assert plain is not None and plain.by_owner is not None
    expected = list(filterset.qs.order_by(*_owner_order(sort)).values_list("pk", flat=True))
    pages = Paginator(expected, per_page)
    for number in pages.page_range:
        with django_assert_num_queries(2):  # the owners' counts; the page, however many owners
            page = portfolio_owner_page(
                plain, number, per_page, people=everyone, descending=plain.by_owner
            )
        assert [a.pk for a in page.object_list] == list(pages.page(number).object_list)


def _owner_order(sort: str) -> tuple[Any, str]:
    if sort == "owner":
        return F("owner__first_name").asc(nulls_last=True), "pk"
    return F("owner__first_name").desc(nulls_first=True), "-pk"

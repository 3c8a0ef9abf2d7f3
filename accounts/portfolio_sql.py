"""The portfolio's count and page as plain SQL statements.

Building and compiling the filtered, sorted querysets (the count, the page, the
page's rows) cost the portfolio more Python than any other part of the page but
its frame, several times what PostgreSQL spent running them (docs/performance.md,
"Portfolio, fourth pass"). `PlainQuery` is what PortfolioFilter.filter_queryset
filters and sorts, as SQL over `accounts_account a` (PortfolioFilter.plain_query
writes it); a page is then one statement, the count and the page's rows together
(`portfolio_page`), or for the owner sort, one GROUP BY owner and one statement
for the page's rows (`portfolio_owner_page`, OwnerOrderPaginator's ranges). Same
rows, same order, same count as the querysets (tests/lifecycle/test_portfolio_sql.py
compares them for every filter and sort)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.paginator import EmptyPage, Page, PageNotAnInteger, Paginator

from lifecycle.ops.triggers import kept_by_triggers

from .models import SEARCH_SEPARATOR, Account, AccountHealthSort, LiveAccountSearch, User
from .pagination import owner_runs
from .plain_sql import fetch
from .selectors import PORTFOLIO_COLUMNS, PortfolioAccount

# The row's columns as PORTFOLIO_COLUMNS names them (the queryset path's list, the
# PortfolioAccount order): the account's own (by column), then its owner's.
_ACCOUNT_COLUMNS = [
    "id" if name == "pk" else name for name in PORTFOLIO_COLUMNS if "__" not in name
]
_OWNER_NAMES = [name.split("__", 1)[1] for name in PORTFOLIO_COLUMNS if "__" in name]
_ROW_FIELDS = (
    *(Account._meta.get_field(column.removesuffix("_id")) for column in _ACCOUNT_COLUMNS),
    *(User._meta.get_field(name) for name in _OWNER_NAMES),
)
_ROW_COLUMNS = ", ".join(
    [*(f"a.{column}" for column in _ACCOUNT_COLUMNS), *(f"u.{name}" for name in _OWNER_NAMES)]
)
_OWNER_JOIN = "LEFT OUTER JOIN accounts_user u ON u.id = a.owner_id"


@dataclass(frozen=True)
class PlainQuery:
    """Live accounts filtered by `where` (SQL over `accounts_account a`, ANDed, with
    `params` in order), sorted by `order`: (column, descending, NULLS modifier), or,
    with no `order`, by their owner's first name (`by_owner`: descending or not)."""

    where: tuple[str, ...]
    params: tuple[Any, ...]
    order: tuple[tuple[str, bool, str], ...]
    by_owner: bool | None = None
    # A cheaper statement counting the same accounts, with its parameters, where
    # there is one (the search alone: `live_search_count`); else COUNT(*) of `where`.
    count: tuple[str, tuple[Any, ...]] | None = None

    def count_sql(self) -> tuple[str, tuple[Any, ...]]:
        if self.count is not None:
            return self.count
        return f"SELECT COUNT(*) AS n FROM accounts_account a WHERE {self.where_sql}", self.params

    @property
    def where_sql(self) -> str:
        return " AND ".join(self.where)

    def order_sql(self, alias: str, elsewhere: Mapping[str, str] | None = None) -> str:
        """ORDER BY of `alias`'s columns, or of the expressions `elsewhere` gives
        for some of them."""
        elsewhere = elsewhere or {}
        return ", ".join(
            f"{elsewhere.get(column, f'{alias}.{column}')} {'DESC' if descending else 'ASC'}{nulls}"
            for column, descending, nulls in self.order
        )


class CountedPaginator(Paginator):
    """A Paginator whose count was read with its page (`portfolio_page`)."""

    def __init__(self, count: int, per_page: int) -> None:
        super().__init__((), per_page)
        self.__dict__["count"] = count  # Paginator.count is a cached property


def _number(number: Any) -> int:
    """Paginator.validate_number's integer, or 1 when it is not one (get_page)."""
    try:
        if isinstance(number, float) and not number.is_integer():
            raise ValueError
        return int(number)
    except (TypeError, ValueError):
        return 1


def _rows(rows: list[tuple[Any, ...]], skip: int = 0) -> list[PortfolioAccount]:
    return [PortfolioAccount._make(row[skip:]) for row in rows if row[skip] is not None]


def portfolio_page(
    query: PlainQuery, number: Any, per_page: int, *, known_count: int | None = None
) -> Page:
    """Paginator(...).get_page(number) of the query's accounts, its rows as
    PortfolioAccount, in one statement: the count, and the page's rows (a deep
    page's ids first, from the sort's index, then their rows). `known_count`: how
    many accounts the query holds, when the caller knows it exactly (the counts the
    database keeps, `LiveAccountCount`): the statement then reads the rows only."""
    wanted = _number(number)
    if known_count is not None:
        paginator = CountedPaginator(known_count, per_page)
        target = wanted if 1 <= wanted <= paginator.num_pages else paginator.num_pages
        return Page(_page_rows(query, target, per_page), target, paginator)
    guess = max(wanted, 1)
    count, rows = _count_and_rows(query, guess, per_page)
    paginator = CountedPaginator(count, per_page)
    # get_page: not a page number -> the first page; out of range -> the last.
    target = wanted if 1 <= wanted <= paginator.num_pages else paginator.num_pages
    if target != guess:
        count, rows = _count_and_rows(query, target, per_page)
        paginator = CountedPaginator(count, per_page)
        target = min(target, paginator.num_pages)  # fewer accounts than a moment ago
    return Page(rows, target, paginator)


# A page this near the start reads its rows directly; deeper pages read their ids
# from the sort's index first (DeferredJoinPaginator.DIRECT_ROWS).
DIRECT_ROWS = 1000


def _sorted(query: PlainQuery) -> tuple[str, str]:
    """What the page's accounts are picked from, and the order to pick them in: the
    accounts, by the sort's index on them; for the health sort, whose index is not
    on the account table (`AccountHealthSort`), the scores PostgreSQL's triggers
    keep, joined to their accounts. Same order: the kept score is the account's in
    the statement's snapshot."""
    if query.order and query.order[0][0] == "health_score":
        connection = kept_by_triggers(AccountHealthSort)
        if connection is not None:
            kept = {"health_score": "h.health_score", "id": "h.account_id"}
            table = AccountHealthSort._meta.db_table
            return (
                f"accounts_account a INNER JOIN {table} h ON h.account_id = a.id",
                query.order_sql("a", kept),
            )
    return "accounts_account a", query.order_sql("a")


def _page_sql(query: PlainQuery, offset: int) -> str:
    where = query.where_sql
    accounts, order = _sorted(query)
    if offset < DIRECT_ROWS:
        page = (
            f"SELECT {_ROW_COLUMNS} FROM {accounts} {_OWNER_JOIN} WHERE {where} "
            f"ORDER BY {order} LIMIT %s OFFSET %s"
        )
    else:
        page = (
            f"SELECT {_ROW_COLUMNS} FROM (SELECT a.id FROM {accounts} WHERE {where} "
            f"ORDER BY {order} LIMIT %s OFFSET %s) i "
            f"INNER JOIN accounts_account a ON a.id = i.id {_OWNER_JOIN}"
        )
    return page


def _page_rows(query: PlainQuery, number: int, per_page: int) -> list[PortfolioAccount]:
    offset = (number - 1) * per_page
    sql = f"SELECT p.* FROM ({_page_sql(query, offset)}) p ORDER BY {query.order_sql('p')}"
    return _rows(fetch(sql, [*query.params, per_page, offset], _ROW_FIELDS))


def _count_and_rows(
    query: PlainQuery, number: int, per_page: int
) -> tuple[int, list[PortfolioAccount]]:
    offset = (number - 1) * per_page
    page = _page_sql(query, offset)
    count, count_params = query.count_sql()
    # One row at least (the count) however many the page has.
    sql = (
        f"SELECT c.n, p.* FROM ({count}) c "
        f"LEFT OUTER JOIN ({page}) p ON 1 = 1 ORDER BY {query.order_sql('p')}"
    )
    rows = fetch(sql, [*count_params, *query.params, per_page, offset], (None, *_ROW_FIELDS))
    return rows[0][0], _rows(rows, skip=1)


def portfolio_owner_page(
    query: PlainQuery,
    number: Any,
    per_page: int,
    *,
    people: Sequence[tuple[int, str]],
    descending: bool,
    known_counts: dict[int | None, int] | None = None,
) -> Page:
    """OwnerOrderPaginator(...).get_page(number) of the query's accounts (sorted by
    their owner's first name, then id; no owner last, first when descending), its
    rows as PortfolioAccount: one GROUP BY owner (none when `known_counts` gives each
    owner's accounts), then one statement for the page's ids from each owner range it
    overlaps, with their rows."""
    where = query.where_sql
    counts = known_counts
    if counts is None:  # not kept by the database for this query: count them
        counts = dict(
            fetch(
                f"SELECT a.owner_id, COUNT(*) FROM accounts_account a WHERE {where} "
                "GROUP BY a.owner_id",
                query.params,
                (None, None),
            )
        )
    runs = owner_runs(counts, people)
    if runs is None:
        # An owner newer than `people` (assigned since they were read): read the
        # owners' first names again, in the database's order.
        assigned = [o for o in counts if o is not None]
        marks = ", ".join(["%s"] * len(assigned))
        runs = owner_runs(
            counts,
            fetch(
                f"SELECT id, first_name FROM accounts_user WHERE id IN ({marks}) "
                "ORDER BY first_name, id",
                assigned,
                (None, None),
            ),
        )
        assert runs is not None
    if descending:
        runs = runs[::-1]
    paginator = CountedPaginator(sum(n for _, n in runs), per_page)
    try:
        number = paginator.validate_number(number)
    except PageNotAnInteger:
        number = 1
    except EmptyPage:
        number = paginator.num_pages
    bottom = (number - 1) * per_page
    top = min(bottom + per_page, paginator.count)
    parts: list[str] = []
    params: list[Any] = []
    rank: dict[int | None, int] = {}
    start = 0
    direction = "DESC" if descending else "ASC"
    for index, (owners, n) in enumerate(runs):
        end = start + n
        if start < top and bottom < end:
            first, last = max(bottom, start) - start, min(top, end) - start
            match = (
                "a.owner_id IS NULL"
                if owners is None
                else f"a.owner_id IN ({', '.join(['%s'] * len(owners))})"
            )
            parts.append(
                f"SELECT r.id FROM (SELECT a.id FROM accounts_account a WHERE {where} "
                f"AND {match} ORDER BY a.id {direction} LIMIT %s OFFSET %s) r"
            )
            params.extend([*query.params, *(owners or ()), last - first, first])
            for owner in owners or (None,):
                rank[owner] = index
        start = end
    if not parts:
        return Page([], number, paginator)
    rows = _rows(
        fetch(
            f"SELECT {_ROW_COLUMNS} FROM accounts_account a {_OWNER_JOIN} "
            f"WHERE a.id IN ({' UNION ALL '.join(parts)})",
            params,
            _ROW_FIELDS,
        )
    )
    sign = -1 if descending else 1
    rows.sort(key=lambda row: (rank[row.owner_id], sign * row.pk))
    return Page(rows, number, paginator)


def live_search_count(term: str) -> tuple[str, tuple[Any, ...]] | None:
    """How many live accounts the search for `term` (stripped, not empty) finds, as
    a statement over the names and domains PostgreSQL's triggers keep
    (`LiveAccountSearch`): the same count as `name ILIKE %term% OR domain ILIKE
    %term%` over the accounts, from a tenth of the pages. None where nothing keeps
    them (not PostgreSQL) and for a term holding the separator (it could match
    across name and domain there): count on the accounts."""
    connection = kept_by_triggers(LiveAccountSearch)
    if connection is None or SEARCH_SEPARATOR in term:
        return None
    pattern = f"%{connection.ops.prep_for_like_query(term)}%"
    table = LiveAccountSearch._meta.db_table
    return f"SELECT COUNT(*) AS n FROM {table} s WHERE s.text LIKE UPPER(%s)", (pattern,)


def live_where() -> str:
    """The portfolio's accounts: archived ones (deleted or merged away in HubSpot)
    are not part of the book. The literal, not a parameter: PostgreSQL matches it
    to the live-account partial indexes however the statement is sent."""
    return f"NOT (a.status = '{Account.Status.ARCHIVED.value}')"


__all__ = [
    "CountedPaginator",
    "PlainQuery",
    "live_search_count",
    "live_where",
    "portfolio_owner_page",
    "portfolio_page",
]

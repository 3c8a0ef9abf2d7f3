"""Pages of a long, sorted list that read only their own rows."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.utils.functional import cached_property


class DeferredJoinPaginator(Paginator):
    """A page's ids first, then its rows, in one query: the rows are
    `WHERE id IN (SELECT id ... ORDER BY ... LIMIT n OFFSET m)`, in the same order.

    OFFSET still walks every row before the page, but the inner query walks them
    through an index (for the portfolio: its live-account indexes) instead of
    reading, joining and sorting the wide rows; page 200 of 10,000 accounts read
    5,000 account rows with their owners to keep 25 (docs/performance.md). Same
    pages, same rows, same order as Paginator."""

    object_list: QuerySet[Any]

    # A page this near the start is read as Paginator reads it, in one query without
    # the inner one: its rows are found as fast either way, and one query costs
    # Django half as much to build (the portfolio's first pages are most of its views).
    DIRECT_ROWS = 1000

    def __init__(
        self,
        object_list: QuerySet[Any],
        per_page: int,
        *,
        known_count: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(object_list, per_page, **kwargs)
        self.known_count = known_count

    @cached_property
    def count(self) -> int:
        """`known_count` when the caller knows it exactly already (the portfolio's
        kept counts), else Paginator's COUNT(*)."""
        return self.object_list.count() if self.known_count is None else self.known_count

    def page(self, number: Any) -> Page:
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if top + self.orphans >= self.count:
            top = self.count
        if bottom < self.DIRECT_ROWS:
            return Page(self.object_list[bottom:top], number, self)
        ids = self.object_list.values("pk")[bottom:top]
        return Page(self.object_list.filter(pk__in=ids), number, self)


def owner_runs(
    counts: dict[int | None, int], people: Iterable[tuple[int, str]]
) -> list[tuple[list[int] | None, int]] | None:
    """The runs of the owner order, ascending: the owners of each (owners who share
    a first name are one run; None: the accounts without an owner, last) and how
    many accounts it holds, from each owner's count of accounts and `people` (id,
    first name) in the database's order of first name; None when an owner in
    `counts` is not among `people`."""
    left = dict(counts)
    runs: list[tuple[list[int] | None, int]] = []
    named: list[int] = []
    first_name: str | None = None
    for pk, name in [*people, (None, None)]:
        if named and name != first_name:
            runs.append((named, sum(left.pop(o) for o in named)))
            named = []
        if pk is not None and pk in left:
            named.append(pk)
            first_name = name
    if None in left:  # no owner: no first name, last in ascending order
        runs.append((None, left.pop(None)))
    return None if left else runs

"""Pages of a long, sorted list that read only their own rows."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import Count, Q, QuerySet
from django.utils.functional import cached_property

from .models import User


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


class OwnerOrderPaginator(DeferredJoinPaginator):
    """Pages of accounts in their owner's first-name order, ties (and accounts of
    owners who share a first name) by id, accounts without an owner last (first when
    descending): `ORDER BY owner.first_name, id` without joining and sorting every
    account. The count is one GROUP BY owner over the owner index, and a page reads
    only its own ids from each owner's (owner, id) range it overlaps.

    `people` are (id, first name) of every user, in the database's order of first
    name: the collation's order, which Python's sort would not match. Same pages,
    same rows, same order as Paginator over `ORDER BY owner__first_name, pk`
    (tests/accounts/test_pagination.py).

    `known_counts` ({owner id or None: accounts}, owners with none left out), when the
    caller knows exactly how many accounts of the list each owner has (the portfolio's
    kept counts), replace the GROUP BY."""

    def __init__(
        self,
        object_list: QuerySet[Any],
        per_page: int,
        *,
        people: Sequence[tuple[int, str]],
        descending: bool = False,
        known_counts: dict[int | None, int] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(object_list, per_page, **kwargs)
        self.people = people
        self.descending = descending
        self.known_counts = known_counts

    @cached_property
    def groups(self) -> list[tuple[Q, int]]:
        """Each run of the page order: the accounts it holds, and how many. Owners
        who share a first name are one run (their accounts interleave by id)."""
        counts = self.known_counts
        if counts is None:
            counts = dict(
                self.object_list.order_by().values_list("owner_id").annotate(n=Count("pk"))
            )
        groups = _runs(counts, self.people)
        if groups is None:
            # An owner newer than `people` (assigned since they were read): read
            # the owners' first names again, in the database's order.
            people = User.objects.filter(pk__in=[o for o in counts if o is not None])
            groups = _runs(
                counts, people.order_by("first_name", "pk").values_list("pk", "first_name")
            )
        assert groups is not None
        return groups[::-1] if self.descending else groups

    @cached_property
    def count(self) -> int:
        return sum(n for _, n in self.groups)

    def page(self, number: Any) -> Page:
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if top + self.orphans >= self.count:
            top = self.count
        base = self.object_list.order_by("-pk" if self.descending else "pk").values("pk")
        parts = []
        start = 0
        for accounts, n in self.groups:
            end = start + n
            if start < top and bottom < end:
                first, last = max(bottom, start) - start, min(top, end) - start
                parts.append(base.filter(accounts)[first:last])
            start = end
        if not parts:
            return Page(self.object_list.none(), number, self)
        ids = parts[0].union(*parts[1:], all=True) if len(parts) > 1 else parts[0]
        return Page(self.object_list.filter(pk__in=ids), number, self)


def _runs(
    counts: dict[int | None, int], people: Iterable[tuple[int, str]]
) -> list[tuple[Q, int]] | None:
    """OwnerOrderPaginator.groups, ascending, or None when an owner in `counts` is
    not among `people`."""
    left = dict(counts)
    runs: list[tuple[Q, int]] = []
    named: list[int] = []
    first_name: str | None = None
    for pk, name in [*people, (None, None)]:
        if named and name != first_name:
            runs.append((Q(owner_id__in=named), sum(left.pop(o) for o in named)))
            named = []
        if pk is not None and pk in left:
            named.append(pk)
            first_name = name
    if None in left:  # no owner: no first name, last in ascending order
        runs.append((Q(owner__isnull=True), left.pop(None)))
    return None if left else runs

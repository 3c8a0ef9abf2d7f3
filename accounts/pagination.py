"""Pages of a long, sorted list that read only their own rows."""

from __future__ import annotations

from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet


class DeferredJoinPaginator(Paginator):
    """A page's ids first, then its rows, in one query: the rows are
    `WHERE id IN (SELECT id ... ORDER BY ... LIMIT n OFFSET m)`, in the same order.

    OFFSET still walks every row before the page, but the inner query walks them
    through an index (for the portfolio: its live-account indexes) instead of
    reading, joining and sorting the wide rows; page 200 of 10,000 accounts read
    5,000 account rows with their owners to keep 25 (docs/performance.md). Same
    pages, same rows, same order as Paginator."""

    object_list: QuerySet[Any]

    def page(self, number: Any) -> Page:
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if top + self.orphans >= self.count:
            top = self.count
        ids = self.object_list.values("pk")[bottom:top]
        return Page(self.object_list.filter(pk__in=ids), number, self)

"""Write pages of HubSpot records into our tables with a fixed number of queries: one
writer per object type (`companies`, `deals`, `contacts`, sharing `page_context`), and
here the registry of writers. Each registered writer first applies the merges and
restores the page shows (lifecycle_events.py: archiving, restoring and merging records).

Each `*_page_write` reads the page's local twins in one query, then writes new rows,
changed rows, journal rows and quarantine rows in one bulk statement each, inside one
transaction (the caller's, with the cursor). Never a query per record.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from accounts.hubspot.inbound.companies import companies_page_write
from accounts.hubspot.inbound.contacts import contacts_page_write
from accounts.hubspot.inbound.deals import deals_page_write
from accounts.hubspot.inbound.lifecycle_events import (
    accounts_restore,
    page_states_apply,
    record_merge,
    records_archive,
)
from accounts.hubspot.inbound.page_context import PageResult, SyncContext
from accounts.hubspot.rules.mapping import Record

PageWriter = Callable[[Sequence[Record], SyncContext], PageResult]

__all__ = [
    "PAGE_WRITERS",
    "PageResult",
    "SyncContext",
    "accounts_restore",
    "companies_page_write",
    "contacts_page_write",
    "deals_page_write",
    "record_merge",
    "records_archive",
]


def _states_first(object_type: str, writer: PageWriter) -> PageWriter:
    def write(records: Sequence[Record], ctx: SyncContext) -> PageResult:
        page_states_apply(object_type, records, ctx)
        return writer(records, ctx)

    write.__name__ = writer.__name__
    write.__doc__ = writer.__doc__
    return write


PAGE_WRITERS: dict[str, PageWriter] = {
    "companies": _states_first("companies", companies_page_write),
    "deals": _states_first("deals", deals_page_write),
    "contacts": _states_first("contacts", contacts_page_write),
}

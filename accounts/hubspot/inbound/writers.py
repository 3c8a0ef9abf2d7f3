"""Write pages of HubSpot records into our tables with a fixed number of queries: one
writer per object type (`companies`, `deals`, `contacts`, sharing `page_context`; the
support objects `tickets`, `feedback_submissions` and the engagements over
`support_pages`), and here the registry of writers. Each registered writer first applies
the merges and restores the page shows (lifecycle_events.py: archiving, restoring and
merging records).

Each `*_page_write` reads the page's local twins in one query, then writes new rows,
changed rows, journal rows and quarantine rows in one bulk statement each, inside one
transaction (the caller's, with the cursor). Never a query per record.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from accounts.hubspot.inbound.companies import companies_page_write
from accounts.hubspot.inbound.contacts import contacts_page_write
from accounts.hubspot.inbound.deals import deals_page_write
from accounts.hubspot.inbound.engagements import ENGAGEMENT_WRITERS
from accounts.hubspot.inbound.feedback import feedback_page_write
from accounts.hubspot.inbound.lifecycle_events import (
    SUPPORT_SPECS,
    accounts_restore,
    page_states_apply,
    record_merge,
    records_archive,
)
from accounts.hubspot.inbound.page_context import PageResult, SyncContext
from accounts.hubspot.inbound.tickets import tickets_page_write
from accounts.hubspot.rules.mapping import Record

PageWriter = Callable[[Sequence[Record], SyncContext], PageResult]

__all__ = [
    "PAGE_WRITERS",
    "SUPPORT_SPECS",
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
    "tickets": _states_first("tickets", tickets_page_write),
    "feedback_submissions": _states_first("feedback_submissions", feedback_page_write),
    **{t: _states_first(t, w) for t, w in ENGAGEMENT_WRITERS.items()},
}

"""Write pages of HubSpot records into our tables with a fixed number of queries: one
writer per object type (`companies`, `deals`, `contacts`, sharing `page_context`), and
here the registry of writers plus archiving, restoring and merging records.

Each `*_page_write` reads the page's local twins in one query, then writes new rows,
changed rows, journal rows and quarantine rows in one bulk statement each, inside one
transaction (the caller's, with the cursor). Never a query per record.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts.hubspot.inbound.companies import companies_page_write
from accounts.hubspot.inbound.contacts import contacts_page_write
from accounts.hubspot.inbound.deals import arr_from_won_deals, deals_page_write
from accounts.hubspot.inbound.engagements import ENGAGEMENT_WRITERS, ENGAGEMENTS
from accounts.hubspot.inbound.feedback import FEEDBACK, feedback_page_write
from accounts.hubspot.inbound.page_context import PageJournal, PageResult, SyncContext
from accounts.hubspot.inbound.support_pages import support_archive
from accounts.hubspot.inbound.tickets import TICKETS, tickets_page_write
from accounts.hubspot.rules import mapping
from accounts.models import (
    Account,
    Contact,
    Deal,
)

__all__ = [
    "PAGE_WRITERS",
    "PageResult",
    "SyncContext",
    "account_restore",
    "companies_page_write",
    "contacts_page_write",
    "deals_page_write",
    "record_merge",
    "records_archive",
]

PAGE_WRITERS = {
    "companies": companies_page_write,
    "deals": deals_page_write,
    "contacts": contacts_page_write,
    "tickets": tickets_page_write,
    "feedback_submissions": feedback_page_write,
    **ENGAGEMENT_WRITERS,
}
SUPPORT_SPECS = {"tickets": TICKETS, "feedback_submissions": FEEDBACK, **ENGAGEMENTS}


def records_archive(object_type: str, hubspot_ids: Sequence[str], ctx: SyncContext) -> int:
    """A HubSpot deletion archives the local account (never deletes it or its CS data).
    Deals and contacts are archived: out of lists and ARR, kept for the CS data that
    names them, and back when HubSpot restores them."""
    ids = [str(i) for i in hubspot_ids]
    if not ids:
        return 0
    if object_type in SUPPORT_SPECS:
        return support_archive(SUPPORT_SPECS[object_type], ids, ctx)
    journal = PageJournal(ctx)
    if object_type == "companies":
        accounts = list(
            Account.objects.filter(hubspot_id__in=ids)
            .exclude(status=Account.Status.ARCHIVED)
            .only("pk", "hubspot_id", "status")
        )
        for account in accounts:
            journal.add(
                object_type="account",
                object_id=account.pk,
                hubspot_id=account.hubspot_id or "",
                account_id=account.pk,
                field="status",
                old=account.status,
                new=Account.Status.ARCHIVED,
            )
        with transaction.atomic():
            Account.objects.filter(pk__in=[a.pk for a in accounts]).update(
                status=Account.Status.ARCHIVED, updated_at=timezone.now()
            )
            journal.save()
        return len(accounts)
    model: type[Deal] | type[Contact] = Deal if object_type == "deals" else Contact
    rows = list(
        model.objects.filter(hubspot_id__in=ids, archived_at__isnull=True).values_list(
            "pk", "hubspot_id", "account_id"
        )
    )
    for pk, hid, account_id in rows:
        journal.add(
            object_type=object_type.removesuffix("s"),
            object_id=pk,
            hubspot_id=hid or "",
            account_id=account_id,
            field="archived",
            old="",
            new="deleted in HubSpot",
        )
    with transaction.atomic():
        model.objects.filter(pk__in=[pk for pk, _, _ in rows]).update(
            archived_at=timezone.now(), updated_at=timezone.now()
        )
        touched = {account_id for _, _, account_id in rows}
        if object_type == "deals" and ctx.config.arr_source == mapping.WON_DEALS and touched:
            arr_from_won_deals(touched, journal)
        journal.save()
    return len(rows)


def account_restore(hubspot_id: str, ctx: SyncContext) -> bool:
    """A restored HubSpot company makes its archived account active again."""
    account = Account.objects.filter(hubspot_id=hubspot_id, status=Account.Status.ARCHIVED).first()
    if account is None:
        return False
    journal = PageJournal(ctx)
    journal.add(
        object_type="account",
        object_id=account.pk,
        hubspot_id=hubspot_id,
        account_id=account.pk,
        field="status",
        old=account.status,
        new=Account.Status.ACTIVE,
    )
    with transaction.atomic():
        Account.objects.filter(pk=account.pk).update(
            status=Account.Status.ACTIVE, updated_at=timezone.now()
        )
        journal.save()
    return True


def record_merge(
    object_type: str, *, survivor_id: str, merged_ids: Sequence[str], ctx: SyncContext
) -> None:
    """HubSpot merged records: point our record at the survivor's id and keep our data.

    When we hold several of the merged records, the one already linked to the survivor
    (else the first we find) keeps the link; the others move their deals and contacts
    to it, are unlinked and (accounts) archived, so no CS data is lost or duplicated."""
    ids = list(dict.fromkeys([survivor_id, *merged_ids]))
    models: dict[str, Any] = {"companies": Account, "deals": Deal, "contacts": Contact}
    if object_type not in models and object_type != "tickets":
        return  # only tickets among the support objects merge
    model: Any = models.get(object_type) or TICKETS.model
    label = object_type.removesuffix("s").replace("companie", "account")
    rows = sorted(model.objects.filter(hubspot_id__in=ids), key=lambda r: ids.index(r.hubspot_id))
    if not rows:
        return
    keeper, others = rows[0], rows[1:]
    journal = PageJournal(ctx)

    def account_of(row: Any) -> int | None:
        return row.pk if object_type == "companies" else row.account_id

    with transaction.atomic():
        for row in others:
            journal.add(
                object_type=label,
                object_id=row.pk,
                hubspot_id=row.hubspot_id,
                account_id=account_of(row),
                field="merged_into",
                old=row.hubspot_id,
                new=f"{survivor_id} (ours: #{keeper.pk})",
            )
            if object_type == "companies":
                Deal.objects.filter(account=row).update(account=keeper)
                Contact.objects.filter(account=row).update(account=keeper)
                model.objects.filter(pk=row.pk).update(
                    hubspot_id=None, status=Account.Status.ARCHIVED
                )
            else:
                model.objects.filter(pk=row.pk).update(hubspot_id=None)
        if keeper.hubspot_id != survivor_id:
            journal.add(
                object_type=label,
                object_id=keeper.pk,
                hubspot_id=survivor_id,
                account_id=account_of(keeper),
                field="hubspot_id",
                old=keeper.hubspot_id,
                new=survivor_id,
            )
            model.objects.filter(pk=keeper.pk).update(hubspot_id=survivor_id)
        journal.save()

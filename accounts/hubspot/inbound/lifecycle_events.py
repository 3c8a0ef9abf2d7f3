"""Deletions, restores and merges, applied from what HubSpot holds now.

Webhooks are at-least-once and unordered: a deletion can arrive after the restore that
undid it, a restore can be lost, and a merge can be seen only by polling. So no event is
applied as it says. A deletion or restore event makes us re-read the record (events.py):
a record HubSpot answers live is live here (its archived twin made active again, before
the page is written: `page_states_apply`), one it does not answer is archived
(`records_archive`). A survivor of a merge lists the ids it absorbed in
`hs_merged_object_ids`, in search results as in batch reads, so polling and webhooks
follow merges the same way (`record_merge`), and the merged-away account's CS data moves
to the survivor (accounts.merges).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.hubspot.inbound.deals import arr_from_won_deals
from accounts.hubspot.inbound.engagements import ENGAGEMENTS
from accounts.hubspot.inbound.feedback import FEEDBACK
from accounts.hubspot.inbound.objects import MERGED_PROPERTY
from accounts.hubspot.inbound.page_context import PageJournal, SyncContext
from accounts.hubspot.inbound.support_pages import SupportSpec, support_archive
from accounts.hubspot.inbound.tickets import TICKETS
from accounts.hubspot.models import SyncConflict
from accounts.hubspot.rules import mapping
from accounts.hubspot.rules.fields import ACCOUNT_ID_PROPERTY
from accounts.hubspot.rules.mapping import Record
from accounts.merges import account_merge
from accounts.models import Account, Contact, Deal, id_or_none

# The support objects: deleted ones archived through their spec, restored by being
# written again (support_pages.py); only tickets among them merge.
SUPPORT_SPECS: dict[str, SupportSpec] = {
    "tickets": TICKETS,
    "feedback_submissions": FEEDBACK,
    **ENGAGEMENTS,
}
MODELS: dict[str, Any] = {
    "companies": Account,
    "deals": Deal,
    "contacts": Contact,
    "tickets": TICKETS.model,
}
LABELS = {"companies": "account", "deals": "deal", "contacts": "contact", "tickets": "ticket"}


def merged_ids_of(record: Record) -> list[str]:
    """The ids a record absorbed in HubSpot merges (`1;2;3`), itself left out."""
    raw = str(mapping.prop(record, MERGED_PROPERTY) or "")
    return [i for i in dict.fromkeys(p.strip() for p in raw.split(";")) if i and i != record["id"]]


def page_states_apply(object_type: str, records: Sequence[Record], ctx: SyncContext) -> None:
    """Before a page of live records is written: follow the merges they carry, and make
    active again the accounts whose company HubSpot shows live (a restore, whether or not
    its webhook came). One query, none for pages of deals or contacts without merges.
    Support records other than tickets never merge; a restored one is live again when
    its page is written."""
    if object_type not in MODELS:
        return
    merges = {str(r["id"]): ids for r in records if (ids := merged_ids_of(r))}
    absorbed = {i for ids in merges.values() for i in ids}
    wanted = Q(hubspot_id__in=absorbed) if absorbed else Q()
    if object_type == "companies":
        live = [str(r["id"]) for r in records]
        wanted = wanted | Q(hubspot_id__in=live, status=Account.Status.ARCHIVED)
    if not wanted:
        return
    found = {
        row["hubspot_id"]: row["status"] if object_type == "companies" else ""
        for row in MODELS[object_type]
        .objects.filter(wanted)
        .values("hubspot_id", *(["status"] if object_type == "companies" else []))
    }
    for record in records:
        hid = str(record["id"])
        if any(i in found for i in merges.get(hid, ())):
            ours = str(mapping.prop(record, ACCOUNT_ID_PROPERTY) or "")
            record_merge(
                object_type,
                survivor_id=hid,
                merged_ids=merges[hid],
                ctx=ctx,
                keeper_pk=id_or_none(ours),
            )
    if object_type == "companies":
        page_ids = [str(r["id"]) for r in records]
        restored = [h for h in page_ids if found.get(h) == Account.Status.ARCHIVED]
        if restored:
            accounts_restore(restored, ctx)


def records_archive(object_type: str, hubspot_ids: Sequence[str], ctx: SyncContext) -> int:
    """Archive the twins of records HubSpot no longer has (callers asked it: a re-read,
    the list of archived records). An account is archived, never deleted, with its CS
    data; deals and contacts leave lists and ARR, kept for the CS data that names them,
    and come back when HubSpot restores them."""
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
        return _accounts_status_set(accounts, Account.Status.ARCHIVED, journal)
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


def accounts_restore(hubspot_ids: Sequence[str], ctx: SyncContext) -> int:
    """Companies HubSpot holds live make their archived accounts active again (a restore,
    seen by its webhook, a poll or the archived sweep). CS edits made meanwhile are
    pushed by the next pass: the accounts changed since their last check."""
    accounts = list(
        Account.objects.filter(hubspot_id__in=list(hubspot_ids), status=Account.Status.ARCHIVED)
    )
    if not accounts:
        return 0
    return _accounts_status_set(accounts, Account.Status.ACTIVE, PageJournal(ctx))


def _accounts_status_set(accounts: list[Account], status: str, journal: PageJournal) -> int:
    """Archive or restore accounts in one update, each change journalled."""
    for account in accounts:
        journal.add(
            object_type="account",
            object_id=account.pk,
            hubspot_id=account.hubspot_id or "",
            account_id=account.pk,
            field="status",
            old=account.status,
            new=status,
        )
    with transaction.atomic():
        Account.objects.filter(pk__in=[a.pk for a in accounts]).update(
            status=status, updated_at=timezone.now()
        )
        journal.save()
    return len(accounts)


def record_merge(
    object_type: str,
    *,
    survivor_id: str,
    merged_ids: Sequence[str],
    ctx: SyncContext,
    keeper_pk: int | None = None,
) -> None:
    """HubSpot merged records: point our record at the survivor's id and keep our data.

    When we hold several of the merged records, the one the survivor names as ours
    (`keeper_pk`, its lifecycle_account_id), else the one linked to the survivor, else
    the first we find keeps the link. The others are unlinked and archived; a merged
    account's CS data (renewals, plans, reviews, health, alerts, usage, timeline, deals,
    contacts...) moves to the keeper, which says on its timeline what moved."""
    if object_type not in MODELS:
        return  # only tickets among the support objects merge
    ids = list(dict.fromkeys([survivor_id, *merged_ids]))
    model = MODELS[object_type]
    rows = sorted(model.objects.filter(hubspot_id__in=ids), key=lambda r: ids.index(r.hubspot_id))
    if not rows:
        return
    keeper = next((r for r in rows if r.pk == keeper_pk), rows[0])
    others = [r for r in rows if r.pk != keeper.pk]
    label = LABELS[object_type]
    journal = PageJournal(ctx)
    with transaction.atomic():
        for row in others:
            journal.add(
                object_type=label,
                object_id=row.pk,
                hubspot_id=row.hubspot_id,
                account_id=row.pk if object_type == "companies" else row.account_id,
                field="merged_into",
                old=row.hubspot_id,
                new=f"{survivor_id} (ours: #{keeper.pk})",
            )
            _merge_away(object_type, row, keeper, survivor_id)
        if keeper.hubspot_id != survivor_id:
            journal.add(
                object_type=label,
                object_id=keeper.pk,
                hubspot_id=survivor_id,
                account_id=keeper.pk if object_type == "companies" else keeper.account_id,
                field="hubspot_id",
                old=keeper.hubspot_id,
                new=survivor_id,
            )
            model.objects.filter(pk=keeper.pk).update(hubspot_id=survivor_id)
        if object_type == "companies" and others and ctx.config.arr_source == mapping.WON_DEALS:
            arr_from_won_deals({keeper.pk}, journal)
        journal.save()


def _merge_away(object_type: str, row: Any, keeper: Any, survivor_id: str) -> None:
    """Unlink one merged-away record; an account hands everything it has to the keeper
    (its open sync conflicts are closed: its values are no longer HubSpot's to hold)."""
    now = timezone.now()
    if object_type != "companies":
        type(row).objects.filter(pk=row.pk).update(hubspot_id=None, archived_at=now)
        return
    SyncConflict.objects.filter(account=row, status=SyncConflict.Status.OPEN).update(
        status=SyncConflict.Status.RESOLVED,
        resolution=f"HubSpot merged this company into {survivor_id}",
        resolved_at=now,
    )
    account_merge(
        survivor=keeper,
        merged=row,
        why=f"HubSpot merged company {row.hubspot_id} into {survivor_id}",
    )

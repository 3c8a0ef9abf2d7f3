"""Write one page of HubSpot deals (fixed number of queries), with ARR from won deals
where configured and deals Lifecycle made linked back to their HubSpot twins."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Q, Sum
from django.utils import timezone

from accounts import bulk
from accounts.hubspot.inbound.page_context import (
    DEAL_FIELDS,
    PageJournal,
    PageResult,
    SyncContext,
    account_ids_for,
    changed_fields,
    issues_save,
)
from accounts.hubspot.rules import mapping
from accounts.hubspot.rules.deal_properties import deal_fingerprint
from accounts.hubspot.rules.fields import DEAL_ID_PROPERTY
from accounts.hubspot.rules.mapping import Record, Unmappable
from accounts.models import (
    Account,
    Deal,
    id_or_none,
)


@dataclass
class _OurDeals:
    """What a page says of the deals Lifecycle made: the records to write, the HubSpot
    ids whose pushed fingerprint follows what HubSpot holds now, and the records that
    claim a deal of ours already linked to another HubSpot deal."""

    records: list[Record]
    follow: set[str] = field(default_factory=set)
    refused: dict[str, tuple[str, Record]] = field(default_factory=dict)


def _lifecycle_deals_link(
    records: Sequence[Record], result: PageResult, journal: PageJournal
) -> _OurDeals:
    """Deals Lifecycle made come back from HubSpot carrying `lifecycle_deal_id`: linked
    (their id noted, if a crash kept us from noting it at push time), never duplicated.
    A second HubSpot deal with the id of a deal we already link (a deleted copy restored
    beside the one a person recreated) never takes the link: it is quarantined. A deal
    of ours archived because HubSpot deleted it is active again when HubSpot shows it
    live (a person restored it there). HubSpot's edits to them (a rep closing the
    renewal) are applied like any deal's when our copy is as we last pushed it; when
    ours changed too, ours is pushed over them."""
    ours = {
        str(r["id"]): mapping.prop(r, DEAL_ID_PROPERTY)
        for r in records
        if id_or_none(mapping.prop(r, DEAL_ID_PROPERTY))
    }
    if not ours:
        return _OurDeals(list(records))
    deals = {
        str(d.pk): d
        for d in Deal.objects.filter(
            pk__in=[int(v) for v in ours.values()], created_in_lifecycle=True
        ).select_related("pipeline", "stage")
    }
    found = _OurDeals([])
    restored: list[Deal] = []
    for record in records:
        hid, deal = str(record["id"]), deals.get(ours.get(str(record["id"]), ""))
        if deal is None:
            found.records.append(record)
        elif deal.hubspot_id is None:
            Deal.objects.filter(pk=deal.pk).update(hubspot_id=hid)
            result.skipped += 1  # not yet confirmed pushed: the push pass upserts ours
        elif deal.hubspot_id != hid:
            found.refused[hid] = (_second_copy(deal, hid), record)
        else:
            if deal.archived_at is not None:
                restored.append(deal)
            if deal.hubspot_pushed_hash and _pushed_as_is(deal):
                found.follow.add(hid)
                found.records.append(record)
            else:
                result.skipped += 1
    _restored_journal(restored, journal)
    return found


def _second_copy(deal: Deal, hid: str) -> str:
    return (
        f"HubSpot deal {hid} carries lifecycle_deal_id {deal.pk}, which is Lifecycle deal "
        f"{deal.name}, linked to HubSpot deal {deal.hubspot_id}: delete or merge the copy"
    )


def _restored_journal(deals: list[Deal], journal: PageJournal) -> None:
    """Our deals HubSpot shows live again leave the archive (journaled)."""
    if not deals:
        return
    for deal in deals:
        journal.add(
            object_type="deal",
            object_id=deal.pk,
            hubspot_id=deal.hubspot_id or "",
            account_id=deal.account_id,
            field="archived",
            old="deleted in HubSpot",
            new="restored in HubSpot",
        )
    Deal.objects.filter(pk__in=[d.pk for d in deals]).update(archived_at=None)


def _pushed_as_is(deal: Deal) -> bool:
    """Our deal holds what we last wrote to HubSpot (no edit of ours waits to go)."""
    try:
        return deal_fingerprint(deal) == deal.hubspot_pushed_hash
    except ValueError:
        return False


def _fingerprints_follow(hids: set[str]) -> None:
    """Our deals that took HubSpot's edits: what HubSpot holds is now what we hold, so
    the push pass has nothing to send back."""
    now = timezone.now()
    for deal in Deal.objects.filter(hubspot_id__in=list(hids)).select_related("pipeline", "stage"):
        Deal.objects.filter(pk=deal.pk).update(
            hubspot_pushed_hash=deal_fingerprint(deal),
            hubspot_pushed_at=max(now, deal.updated_at),
        )


def deals_page_write(records: Sequence[Record], ctx: SyncContext) -> PageResult:
    """Upsert deals by hubspot_id; stage by internal pipeline and stage ids; account by
    the (primary) associated company. Recomputes ARR when it is the sum of won deals."""
    result = PageResult()
    journal = PageJournal(ctx)
    ours = _lifecycle_deals_link(records, result, journal)
    mapped, failed = _deals_map(ours.records, ctx)
    failed.update(ours.refused)
    page = _DealsPlaced(ctx=ctx, journal=journal, result=result).place(mapped)
    with transaction.atomic():
        if page.new:
            for pk, hid in bulk.insert(
                Deal, list(page.new.values()), returning=["id", "hubspot_id"]
            ):
                journal.created(
                    pk,
                    page.new[hid]["name"],
                    object_type="deal",
                    hubspot_id=hid,
                    account_id=page.new[hid]["account_id"],
                )
        if page.changed:
            Deal.objects.bulk_update(page.changed, [*journal.changed_fields(), "updated_at"])
            followed = ours.follow & {d.hubspot_id for d in page.changed if d.hubspot_id}
            if followed:
                _fingerprints_follow(followed)
        if ctx.config.arr_source == mapping.WON_DEALS and page.touched:
            arr_from_won_deals(page.touched, journal)
        journal.save()
        issues_save(ctx, "deals", failed, mapped.keys())
    result.created += len(page.new)
    result.updated += len(page.changed)
    result.quarantined += len(failed)
    return result


def _deals_map(
    records: Sequence[Record], ctx: SyncContext
) -> tuple[dict[str, dict[str, Any]], dict[str, tuple[str, Record]]]:
    """Each deal's fields (a record HubSpot sends is live: not archived here), or why
    it cannot be mapped."""
    accounts = account_ids_for(records)
    mapped: dict[str, dict[str, Any]] = {}
    failed: dict[str, tuple[str, Record]] = {}
    for record in records:
        hid = str(record["id"])
        try:
            mapped[hid] = {
                **mapping.deal_fields(record, stages=ctx.stages, accounts=accounts),
                "archived_at": None,
            }
        except Unmappable as exc:
            failed[hid] = (exc.reason, record)
    return mapped, failed


@dataclass
class _DealsPlaced:
    """Where each mapped deal of a page goes: a new row, a changed one, or nowhere."""

    ctx: SyncContext
    journal: PageJournal
    result: PageResult
    now: datetime = field(default_factory=timezone.now)
    new: dict[str, dict[str, Any]] = field(default_factory=dict)
    changed: list[Deal] = field(default_factory=list)
    touched: set[int] = field(default_factory=set)

    def place(self, mapped: dict[str, dict[str, Any]]) -> _DealsPlaced:
        existing = {
            d.hubspot_id: d
            for d in Deal.objects.filter(hubspot_id__in=list(mapped)).only(
                "pk", "hubspot_id", *DEAL_FIELDS
            )
        }
        for hid, values in mapped.items():
            deal = existing.get(hid)
            if deal is None:
                self._new(hid, values)
            else:
                self._update(deal, hid, values)
        return self

    def _new(self, hid: str, values: dict[str, Any]) -> None:
        renewal = values["pipeline_id"] in self.ctx.renewal_pipelines
        self.new[hid] = {
            **values,
            "hubspot_id": hid,
            "kind": Deal.Kind.RENEWAL if renewal else Deal.Kind.NEW,
            "created_at": self.now,
            "updated_at": self.now,
        }
        self.touched.add(values["account_id"])

    def _update(self, deal: Deal, hid: str, values: dict[str, Any]) -> None:
        old = changed_fields(deal, values, DEAL_FIELDS)
        if not old:
            self.result.unchanged += 1
            return
        self.touched |= {deal.account_id, values["account_id"]}
        self.journal.apply(
            deal,
            object_type="deal",
            hubspot_id=hid,
            account_id=values["account_id"],
            old=old,
            values=values,
        )
        deal.updated_at = self.now
        self.changed.append(deal)


def arr_from_won_deals(account_pks: Iterable[int], journal: PageJournal) -> None:
    """ARR = the sum of each account's deals in won stages (two queries)."""
    accounts = list(
        Account.objects.filter(pk__in=list(account_pks))
        .annotate(
            won=Sum(
                "deals__amount",
                filter=Q(deals__stage__is_won=True, deals__archived_at__isnull=True),
            )
        )
        .only("pk", "arr", "hubspot_id")
    )
    changed = []
    for account in accounts:
        won = (account.won or Decimal("0")).quantize(Decimal("0.01"))
        if account.arr != won:
            journal.add(
                object_type="account",
                object_id=account.pk,
                hubspot_id=account.hubspot_id or "",
                account_id=account.pk,
                field="arr",
                old=account.arr,
                new=won,
            )
            account.arr = won
            account.updated_at = timezone.now()
            changed.append(account)
    if changed:
        Account.objects.bulk_update(changed, ["arr", "updated_at"])

"""Write one page of HubSpot deals (fixed number of queries), with ARR from won deals
where configured and deals Lifecycle made linked back to their HubSpot twins."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Q, Sum
from django.utils import timezone

from accounts.hubspot.inbound.apply import changes_sort, created_insert
from accounts.hubspot.inbound.page_context import (
    DEAL_FIELDS,
    PageJournal,
    PageResult,
    SyncContext,
    account_ids_for,
    issues_save,
)
from accounts.hubspot.rules import mapping
from accounts.hubspot.rules.deal_properties import deal_fingerprint
from accounts.hubspot.rules.mapping import Record, Unmappable
from accounts.models import (
    Account,
    Deal,
)


def _lifecycle_deals_link(
    records: Sequence[Record], result: PageResult
) -> tuple[list[Record], set[str]]:
    """Deals Lifecycle made come back from HubSpot carrying `lifecycle_deal_id`: linked
    (their id noted, if a crash kept us from noting it at push time), never duplicated.
    HubSpot's edits to them (a rep closing the renewal) are applied like any deal's
    when our copy is as we last pushed it; when ours changed too, ours is pushed over
    them. Returns the records to write, and the ids of our deals among them, whose
    pushed fingerprint must follow what HubSpot now holds."""
    from accounts.hubspot.rules.fields import DEAL_ID_PROPERTY

    ours = {
        str(r["id"]): mapping.prop(r, DEAL_ID_PROPERTY)
        for r in records
        if mapping.prop(r, DEAL_ID_PROPERTY).isdigit()
    }
    if not ours:
        return list(records), set()
    deals = {
        str(d.pk): d
        for d in Deal.objects.filter(
            pk__in=[int(v) for v in ours.values()], created_in_lifecycle=True
        ).select_related("pipeline", "stage")
    }
    follow: set[str] = set()
    for hid, pk in ours.items():
        deal = deals.get(pk)
        if deal is None:
            continue
        if deal.hubspot_id != hid:
            Deal.objects.filter(pk=deal.pk).update(hubspot_id=hid)
            continue  # not yet confirmed pushed: the push pass upserts ours
        if deal.hubspot_pushed_hash and _pushed_as_is(deal):
            follow.add(hid)
    result.skipped += sum(1 for hid, pk in ours.items() if pk in deals and hid not in follow)
    return [r for r in records if ours.get(str(r["id"])) not in deals or r["id"] in follow], follow


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


def _new_kind(values: dict[str, Any], ctx: SyncContext) -> str:
    """A deal HubSpot made is a renewal in a renewal pipeline, else new business."""
    return Deal.Kind.RENEWAL if values["pipeline_id"] in ctx.renewal_pipelines else Deal.Kind.NEW


def deals_page_write(records: Sequence[Record], ctx: SyncContext) -> PageResult:
    """Upsert deals by hubspot_id; stage by internal pipeline and stage ids; account by
    the (primary) associated company. Recomputes ARR when it is the sum of won deals."""
    result = PageResult()
    records, follow = _lifecycle_deals_link(records, result)
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
    existing = {
        d.hubspot_id: d
        for d in Deal.objects.filter(hubspot_id__in=list(mapped)).only(
            "pk", "hubspot_id", *DEAL_FIELDS
        )
    }
    journal = PageJournal(ctx)
    touched_accounts: set[int] = set()
    new, changed = changes_sort(
        mapped,
        existing,
        fields=DEAL_FIELDS,
        object_type="deal",
        journal=journal,
        result=result,
        now=timezone.now(),
        new_extra=lambda values: {"kind": _new_kind(values, ctx)},
        before_change=lambda deal, values: touched_accounts.update(
            {deal.account_id, values["account_id"]}
        ),
    )
    touched_accounts |= {values["account_id"] for values in new.values()}
    with transaction.atomic():
        created_insert(Deal, new, object_type="deal", journal=journal)
        if changed:
            Deal.objects.bulk_update(changed, [*journal.changed_fields(), "updated_at"])
            followed = follow & {d.hubspot_id for d in changed if d.hubspot_id}
            if followed:
                _fingerprints_follow(followed)
        if ctx.config.arr_source == mapping.WON_DEALS and touched_accounts:
            arr_from_won_deals(touched_accounts, journal)
        journal.save()
        issues_save(ctx, "deals", failed, mapped.keys())
    result.created += len(new)
    result.updated += len(changed)
    result.quarantined += len(failed)
    return result


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

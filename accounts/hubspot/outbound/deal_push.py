"""Deals made in Lifecycle (renewals, expansions) pushed to HubSpot, associated to their
company and upserted on `lifecycle_deal_id`; a fingerprint of what was pushed tells
which changed since."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from accounts.hubspot.models import SyncChange, SyncIssue, SyncSource
from accounts.hubspot.outbound import failures
from accounts.hubspot.rules import fields as fieldspecs
from accounts.hubspot.rules.deal_properties import deal_properties, properties_hash
from accounts.hubspot.rules.field_rules import CHECK_MARGIN, Outcome
from accounts.hubspot.transport.client import HubSpotClient
from accounts.hubspot.transport.errors import HubSpotError
from accounts.models import Deal

logger = logging.getLogger(__name__)


# -- deals made in Lifecycle ---------------------------------------------------------------

BATCH = 100  # deals per HubSpot batch upsert
CHUNK = 500  # deals read per database round trip
DEAL_ID_PROPERTY = fieldspecs.DEAL_ID_PROPERTY
DEAL_TO_COMPANY_PRIMARY = 5  # HUBSPOT_DEFINED association type


def dirty_deals() -> Any:
    """Deals made in Lifecycle, of linked accounts, changed since HubSpot took them.
    A deal deleted in HubSpot (archived here) stays deleted: the next forecast change
    must not make it again; a person recreates it (accounts.services.deal_recreate)."""
    return (
        Deal.objects.filter(
            created_in_lifecycle=True,
            account__hubspot_id__isnull=False,
            archived_at__isnull=True,
        )
        .filter(Q(hubspot_pushed_at__isnull=True) | Q(updated_at__gt=F("hubspot_pushed_at")))
        .select_related("account", "pipeline", "stage")
        .order_by("pk")
    )


def _deal_key(deal: Deal) -> str:
    return f"lifecycle:{deal.pk}"


def deals_push_pass(client: HubSpotClient) -> Outcome:
    """Create or update in HubSpot the deals Lifecycle made (renewals, expansions),
    associated to their company. Upserts on the unique `lifecycle_deal_id`, so a write
    retried after a crash finds the deal it made instead of making another."""
    outcome = Outcome()
    last_pk = 0
    while True:
        checked = timezone.now() - CHECK_MARGIN
        deals = list(dirty_deals().filter(pk__gt=last_pk)[:CHUNK])
        if not deals:
            return outcome
        last_pk = deals[-1].pk
        outcome.add(_deals_push_chunk(client, deals, checked=checked))


def _deals_push_chunk(client: HubSpotClient, deals: list[Deal], *, checked: datetime) -> Outcome:
    outcome = Outcome()
    batch = _DealBatch.of(deals)
    done = _deals_send(client, batch, outcome)
    _deals_saved(batch, done, checked=checked)
    outcome.pushed += len(done)
    outcome.failed += len(batch.failed)
    return outcome


@dataclass
class _DealBatch:
    """A chunk of dirty deals sorted out: the properties to send per deal pk, the deals
    that failed (and why), and those touched with nothing HubSpot holds changed."""

    by_pk: dict[str, Deal]
    inputs: dict[str, dict[str, str]] = field(default_factory=dict)
    failed: dict[Deal, str] = field(default_factory=dict)
    unchanged: list[Deal] = field(default_factory=list)

    @classmethod
    def of(cls, deals: list[Deal]) -> _DealBatch:
        batch = cls(by_pk={str(d.pk): d for d in deals})
        keys = {_deal_key(d) for d in deals} | {d.hubspot_id for d in deals if d.hubspot_id}
        open_issues = {
            i.hubspot_id: i.last_seen_at
            for i in SyncIssue.objects.filter(
                object_type="deals", hubspot_id__in=keys, resolved_at__isnull=True
            )
        }
        for deal in deals:
            seen = open_issues.get(deal.hubspot_id or _deal_key(deal))
            if seen is not None and deal.updated_at <= seen:
                continue  # quarantined; tried again once the deal changes
            try:
                properties = deal_properties(deal)
            except ValueError as exc:
                batch.failed[deal] = str(exc)
                continue
            if deal.hubspot_id and properties_hash(properties) == deal.hubspot_pushed_hash:
                batch.unchanged.append(deal)  # touched, but nothing HubSpot holds changed
                continue
            batch.inputs[str(deal.pk)] = properties
        return batch


def _deals_send(client: HubSpotClient, batch: _DealBatch, outcome: Outcome) -> list[Deal]:
    """Upsert the batch's deals 100 at a time and associate the ones HubSpot took to
    their companies; the deals done (none when the associations failed: the deals
    exist, and are associated on their next push)."""
    items = list(batch.inputs.items())
    done: list[Deal] = []
    for start in range(0, len(items), BATCH):
        chunk = items[start : start + BATCH]
        payload = [{"id": pk, "properties": props} for pk, props in chunk]
        outcome.calls += 1
        try:
            result = client.batch_upsert("deals", payload, id_property=DEAL_ID_PROPERTY)
        except HubSpotError as exc:
            outcome.calls += 1
            if not failures.from_error(exc).refused:
                # HubSpot is down or busy: the deals stay due (never quarantined for it)
                # and the next pass sends them again.
                outcome.failed += len(chunk)
                continue
            for pk, _ in chunk:
                batch.failed[batch.by_pk[pk]] = exc.message or str(exc)
            continue
        for row in result.results:
            made = batch.by_pk.get(str((row.get("properties") or {}).get(DEAL_ID_PROPERTY, "")))
            if made is not None:
                made.hubspot_id = str(row["id"])
                done.append(made)
        for error in result.errors:
            for pk in (error.get("context") or {}).get("ids") or []:
                if str(pk) in batch.by_pk:
                    batch.failed[batch.by_pk[str(pk)]] = str(error.get("message", ""))
    links = [
        (d.hubspot_id or "", d.account.hubspot_id or "", DEAL_TO_COMPANY_PRIMARY) for d in done
    ]
    if links:
        try:
            client.create_associations("deals", "companies", links)
            outcome.calls += -(-len(links) // BATCH)
        except HubSpotError as exc:
            logger.warning("HubSpot deal associations failed: %s", exc)
            return []
    return done


@transaction.atomic
def _deals_saved(batch: _DealBatch, done: list[Deal], *, checked: datetime) -> None:
    """Note what HubSpot took (its id, the fingerprint, the journal) and quarantine what
    it refused, one statement each where the rows allow."""
    now = timezone.now()
    for deal in done:
        Deal.objects.filter(pk=deal.pk).update(
            hubspot_id=deal.hubspot_id,
            hubspot_pushed_at=checked,
            hubspot_pushed_hash=properties_hash(batch.inputs[str(deal.pk)]),
        )
    if batch.unchanged:
        Deal.objects.filter(pk__in=[d.pk for d in batch.unchanged]).update(
            hubspot_pushed_at=checked
        )
    if done:
        SyncChange.objects.bulk_create(
            [
                SyncChange(
                    account_id=d.account_id,
                    object_type="deal",
                    object_id=d.pk,
                    hubspot_id=d.hubspot_id or "",
                    field="pushed",
                    old_value="",
                    new_value=f"{d.name}: {d.amount} ({d.stage.label})",
                    source=SyncSource.PUSH,
                    at=now,
                )
                for d in done
            ]
        )
        SyncIssue.objects.filter(
            object_type="deals",
            hubspot_id__in=[_deal_key(d) for d in done],
            resolved_at__isnull=True,
        ).update(resolved_at=now)
    if batch.failed:
        SyncIssue.objects.bulk_create(
            [
                SyncIssue(
                    object_type="deals",
                    hubspot_id=deal.hubspot_id or _deal_key(deal),
                    reason=f"Push of Lifecycle deal {deal.name} failed: {message}"[:500],
                    payload={"deal": deal.pk, "account": deal.account_id},
                    source=SyncSource.PUSH,
                    first_seen_at=now,
                    last_seen_at=now,
                )
                for deal, message in batch.failed.items()
            ],
            update_conflicts=True,
            unique_fields=["object_type", "hubspot_id"],
            update_fields=["reason", "payload", "source", "last_seen_at", "resolved_at"],
        )

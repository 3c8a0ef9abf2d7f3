"""Apply stored webhook events: in occurredAt order, once each, following merges.

Events only say *that* a record changed; we read its current state with batch reads
and apply that, so duplicates and events that arrive out of order cannot roll a field
back. Deletions and restores are re-read like any change (lifecycle_events.py): a record
HubSpot answers live is live here, one it no longer returns is archived, whatever order
the events came in.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone

from accounts.hubspot.inbound.created_echoes import created_echoes
from accounts.hubspot.inbound.objects import OBJECT_ORDER, properties_for, with_associations
from accounts.hubspot.inbound.writers import (
    PAGE_WRITERS,
    PageResult,
    SyncContext,
    record_merge,
    records_archive,
)
from accounts.hubspot.models import SyncIssue, SyncSource, WebhookEvent
from accounts.hubspot.rules import mapping
from accounts.hubspot.rules.provenance import EventValue, event_value
from accounts.hubspot.transport.client import HubSpotClient
from accounts.hubspot.transport.errors import HubSpotError
from accounts.hubspot.webhooks import REFUSED_OBJECT_TYPE, event_object_type

logger = logging.getLogger(__name__)
BATCH = 500


@dataclass
class Plan:
    """What to do per (object type, id), built from events in occurredAt order."""

    actions: dict[tuple[str, str], str] = field(default_factory=dict)
    change_sources: dict[str, str] = field(default_factory=dict)
    merges: list[tuple[str, str, list[str]]] = field(default_factory=list)
    # Company property changes as the events carried them, with who made them.
    values: dict[str, list[EventValue]] = field(default_factory=dict)

    def mark(self, object_type: str, object_id: str, action: str, change_source: str) -> None:
        key = (object_type, object_id)
        previous = self.actions.get(key)
        if action == "fetch" and previous in ("delete", "restore"):
            action = "restore"  # a change after a deletion means the record came back
        self.actions[key] = action
        if change_source:
            self.change_sources[object_id] = change_source


def plan_events(events: list[WebhookEvent]) -> Plan:
    plan = Plan()
    for event in sorted(events, key=lambda e: (e.occurred_ms, e.pk)):
        data = event.payload
        kind, _, action = event.subscription_type.partition(".")
        object_type = event_object_type(data) or ""
        oid = str(data["objectId"])
        source = event.change_source
        if action == "merge":
            survivor = str(data.get("newObjectId") or data.get("primaryObjectId") or oid)
            gone = [str(i) for i in data.get("mergedObjectIds") or []]
            primary = str(data.get("primaryObjectId") or survivor)
            merged = [i for i in dict.fromkeys([primary, *gone]) if i != survivor]
            plan.merges.append((object_type, survivor, merged))
            for old in merged:
                plan.actions.pop((object_type, old), None)
            plan.mark(object_type, survivor, "fetch", source)
        elif action == "deletion":
            plan.mark(object_type, oid, "delete", source)
        elif action == "restore":
            plan.mark(object_type, oid, "restore", source)
        elif action == "associationChange" and kind == "object":
            plan.mark(object_type, oid, "fetch", source)  # re-read its companies
        elif action == "associationChange":
            # A deal's or contact's company changed: re-read the deal or contact.
            for side, sid in (("from", data.get("fromObjectId")), ("to", data.get("toObjectId"))):
                assoc = str(data.get("associationType", "")).upper()
                target = _association_target(kind, side, assoc)
                if target and sid is not None:
                    plan.mark(target, str(sid), "fetch", source)
        else:
            if action == "propertyChange" and object_type == "companies":
                plan.values.setdefault(oid, []).append(event_value(data, int(event.occurred_ms)))
            plan.mark(object_type, oid, "fetch", source)
    return plan


def _association_target(kind: str, side: str, association: str) -> str | None:
    """Which end of an association change we sync a field from (deal/contact -> company)."""
    if side == "from":
        return {"deal": "deals", "contact": "contacts", "ticket": "tickets"}.get(kind)
    if association.endswith("_TO_DEAL"):
        return "deals"
    if association.endswith("_TO_CONTACT"):
        return "contacts"
    if association.endswith("_TO_TICKET"):
        return "tickets"
    return None


def events_pending() -> bool:
    return WebhookEvent.objects.filter(processed_at__isnull=True).exists()


def events_apply(
    *, client: HubSpotClient, config: mapping.MappingConfig | None = None, limit: int = BATCH
) -> int:
    """Apply pending events (oldest first, `limit` at a time until none are left).

    A batch that fails for a reason other than HubSpot being unavailable is applied
    again one event at a time, and an event that fails alone is quarantined with its
    reason: one poison event never holds back the ones behind it. HubSpot being
    unavailable (429, 5xx, timeouts) leaves the events pending for the next run."""
    config = config or mapping.MappingConfig()
    applied = 0
    while True:
        events = list(
            WebhookEvent.objects.filter(processed_at__isnull=True).order_by("occurred_ms", "id")[
                :limit
            ]
        )
        if not events:
            return applied
        try:
            outcome = _apply(events, client=client, config=config)
        except Exception as exc:
            if _transient(exc):
                raise
            for event in events:
                _apply_alone(event, client=client, config=config)
        else:
            WebhookEvent.objects.filter(pk__in=[e.pk for e in events]).update(
                processed_at=timezone.now(), outcome=outcome[:200]
            )
        applied += len(events)


def _transient(exc: Exception) -> bool:
    """HubSpot could not answer now (rate limit, outage, timeout): try again later."""
    return isinstance(exc, HubSpotError) and (exc.status in (0, 423, 429) or exc.status >= 500)


def _apply_alone(
    event: WebhookEvent, *, client: HubSpotClient, config: mapping.MappingConfig
) -> None:
    try:
        outcome = _apply([event], client=client, config=config)
    except Exception as exc:
        if _transient(exc):
            raise
        reason = f"{type(exc).__name__}: {exc}"[:300]
        logger.warning("HubSpot webhook event %s quarantined: %s", event.pk, reason)
        issue_quarantine_event(event, reason=reason)
        outcome = f"quarantined: {reason}"
    WebhookEvent.objects.filter(pk=event.pk).update(
        processed_at=timezone.now(), outcome=outcome[:200]
    )


def issue_quarantine_event(event: WebhookEvent, *, reason: str) -> None:
    """A sync issue for an event we could not apply, named by the event."""
    SyncIssue.objects.update_or_create(
        object_type=REFUSED_OBJECT_TYPE,
        hubspot_id=f"event-{event.pk}",
        defaults={
            "reason": f"Webhook event could not be applied: {reason}"[:500],
            "payload": {"event": event.payload},
            "source": SyncSource.WEBHOOK,
            "last_seen_at": timezone.now(),
        },
    )


def _apply(
    events: list[WebhookEvent], *, client: HubSpotClient, config: mapping.MappingConfig
) -> str:
    plan = plan_events(events)
    ctx = SyncContext(
        source=SyncSource.WEBHOOK,
        config=config,
        change_sources=plan.change_sources,
        event_values=plan.values,
    ).load()
    echoes = created_echoes(events, ctx.rules)  # our own creates coming back: not read
    for oid in echoes:
        plan.actions.pop(("companies", oid), None)
    for object_type, survivor, merged in plan.merges:
        record_merge(object_type, survivor_id=survivor, merged_ids=merged, ctx=ctx)
    total = PageResult()
    archived = 0
    for object_type in OBJECT_ORDER:
        # Deletions and restores too are re-read: what HubSpot holds now decides, not
        # the event (a deletion retried after the restore must not archive a live record).
        fetch = [oid for (t, oid) in plan.actions if t == object_type]
        if not fetch:
            continue
        found = client.batch_read(
            object_type, fetch, properties=properties_for(object_type, config)
        )
        records = with_associations(client, object_type, found.results)
        returned = {str(r["id"]) for r in records}
        # Asked for an old id and got the survivor: that record was merged away.
        missing = [oid for oid in fetch if oid not in returned and not _aliased(oid, found)]
        if records:
            total.add(PAGE_WRITERS[object_type](records, ctx))  # restores what is live
        archived += records_archive(object_type, missing, ctx)
    return (
        f"created {total.created}, updated {total.updated}, quarantined {total.quarantined}, "
        f"archived {archived}, merges {len(plan.merges)}, echoes of our creates {len(echoes)}"
    )


def _aliased(oid: str, found: Any) -> bool:
    """True when HubSpot answered an id with another record (a merge survivor)."""
    missing = {str(i) for e in found.errors for i in (e.get("context") or {}).get("ids", [])}
    return oid not in missing

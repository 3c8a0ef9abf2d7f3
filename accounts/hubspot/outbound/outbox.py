"""The outbox of the push pass: every write to HubSpot is journaled (`SyncChange`, status
SENT, "sent, unconfirmed") and committed before its batch is sent, and marked CONFIRMED
or FAILED by HubSpot's answer in the transaction that journals the next batch (right
after the answer, for the last). A worker killed between the two leaves rows that say
"sent, unconfirmed", never none; a later pass that reads our value back in HubSpot
confirms them (rules/outbox_seen.py)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Case, Value, When

from accounts import bulk
from accounts.hubspot.models import SyncChange, SyncChangeStatus
from accounts.hubspot.outbound import failures
from accounts.hubspot.rules.mapping import parse_ms
from accounts.hubspot.transport.client import HubSpotClient
from accounts.hubspot.transport.errors import HubSpotError

BATCH = 100  # companies per HubSpot batch update


@dataclass
class Sent:
    """What HubSpot answered for the writes of one pass."""

    confirmed: dict[str, int] = field(default_factory=dict)  # id -> when HubSpot wrote it
    errors: dict[str, failures.Failure] = field(default_factory=dict)
    calls: int = 0


def outbox_send(
    client: HubSpotClient,
    inputs: dict[str, dict[str, str]],
    journal: dict[str, list[dict[str, Any]]],
) -> Sent:
    """Write `inputs` ({company id: properties}) 100 companies per call, each batch's
    journal rows ({company id: rows}) committed as SENT before the call and marked
    CONFIRMED or FAILED after it."""
    sent = Sent()
    items = list(inputs.items())
    answered: tuple[Sequence[tuple[Any, ...]], dict[str, int]] | None = None
    for start in range(0, len(items), BATCH):
        batch = dict(items[start : start + BATCH])
        with transaction.atomic():
            # The previous batch's answer is noted in the transaction that journals
            # this one (one commit a batch): either commits before this batch is sent.
            if answered is not None:
                _mark(*answered)
            rows = [dict(row, status=SyncChangeStatus.SENT) for h in batch for row in journal[h]]
            ids = bulk.insert(SyncChange, rows, returning=["id", "hubspot_id"])
        confirmed, errors, calls = _send(client, batch)
        sent.confirmed.update(confirmed)
        sent.errors.update(errors)
        sent.calls += calls
        answered = (ids, confirmed)
    if answered is not None:
        _mark(*answered)
    return sent


def _mark(ids: Sequence[tuple[Any, ...]], confirmed: dict[str, int]) -> None:
    """CONFIRMED or FAILED, by HubSpot's answer, in one statement."""
    done = [pk for pk, hid in ids if hid in confirmed]
    rows = SyncChange.objects.filter(pk__in=[pk for pk, _ in ids])
    if len(done) == len(ids):
        status: Any = SyncChangeStatus.CONFIRMED
    elif not done:
        status = SyncChangeStatus.FAILED
    else:
        status = Case(
            When(pk__in=done, then=Value(SyncChangeStatus.CONFIRMED)),
            default=Value(SyncChangeStatus.FAILED),
        )
    if ids:
        rows.update(status=status)


def _send(
    client: HubSpotClient, inputs: dict[str, dict[str, str]]
) -> tuple[dict[str, int], dict[str, failures.Failure], int]:
    """Batch-update companies; ({id HubSpot confirmed: when it wrote it (its clock)},
    {id: why it failed}, calls). A batch HubSpot refuses as a whole (4xx) is retried one
    record at a time, so one bad record cannot hold back the other 99."""
    if not inputs:
        return {}, {}, 0
    payload: list[dict[str, Any]] = [
        {"id": hid, "properties": props} for hid, props in inputs.items()
    ]
    try:
        result = client.batch_update("companies", payload)
    except HubSpotError as exc:
        failure = failures.from_error(exc)
        if not failure.refused:
            return {}, dict.fromkeys(inputs, failure), 1
        return _send_one_by_one(client, payload)
    confirmed = {str(r.get("id")): _written_ms(r) for r in result.results}
    errors = {}
    for error in result.errors:
        for hid in (error.get("context") or {}).get("ids") or []:
            errors[str(hid)] = failures.from_entry(error)
    return confirmed, errors, -(-len(payload) // BATCH)


def _send_one_by_one(
    client: HubSpotClient, payload: list[dict[str, Any]]
) -> tuple[dict[str, int], dict[str, failures.Failure], int]:
    confirmed: dict[str, int] = {}
    errors: dict[str, failures.Failure] = {}
    for item in payload:
        try:
            record = client.update("companies", item["id"], properties=item["properties"])
            confirmed[item["id"]] = _written_ms(record if isinstance(record, dict) else {})
        except HubSpotError as single:
            errors[item["id"]] = failures.from_error(single)
    return confirmed, errors, 1 + len(payload)


def _written_ms(record: dict[str, Any]) -> int:
    """When HubSpot recorded the write, by its own clock (the record's updatedAt)."""
    props = record.get("properties") or {}
    return parse_ms(str(record.get("updatedAt") or props.get("hs_lastmodifieddate") or ""))

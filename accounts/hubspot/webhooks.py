"""HubSpot webhooks: verify the signature, store the events in one insert, enqueue the
task that applies them, and answer well within HubSpot's 5 s.

Signatures: v3 (HMAC-SHA256 of method + full URI + body + timestamp, base64, timestamp
at most 5 minutes old) when its headers are present, else v1 (sha256 of secret + body,
hex). v1 carries no timestamp, so a replayed v1 delivery is only harmless because
every event is de-duplicated on insert.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import time
from dataclasses import dataclass, field
from typing import Any

from django.db import connection
from django.db.models import F
from django.utils import timezone

from accounts.hubspot.models import SyncIssue, SyncSource, WebhookEvent

REFUSED_OBJECT_TYPE = "webhook"

MAX_AGE_MS = 5 * 60 * 1000
MAX_EVENTS = 1000
SUBSCRIPTION_OBJECTS = {
    "company": "companies",
    "deal": "deals",
    "contact": "contacts",
    "ticket": "tickets",
}
# Generic `object.*` events name their type by objectTypeId (HubSpot's generic webhooks:
# the only ones feedback submissions and engagements have).
OBJECT_TYPE_IDS = {
    "0-1": "contacts",
    "0-2": "companies",
    "0-3": "deals",
    "0-5": "tickets",
    "0-19": "feedback_submissions",
    "0-27": "tasks",
    "0-46": "notes",
    "0-47": "meetings",
    "0-48": "calls",
    "0-49": "emails",
}
# HubSpot record ids are 64-bit integers; milliseconds up to the end of year 9999.
MAX_OBJECT_ID = 2**63 - 1
MAX_OCCURRED_MS = 253_402_300_799_999
_DIGITS = re.compile(r"[0-9]{1,19}", re.ASCII)
_SUBSCRIPTION = re.compile(r"([a-z]{1,20})\.([A-Za-z]{1,40})", re.ASCII)
_ID_FIELDS = ("primaryObjectId", "newObjectId", "fromObjectId", "toObjectId")


class Rejected(Exception):
    """A delivery we refuse; `status` is what we answer (401 or 400)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass(frozen=True)
class Delivery:
    method: str
    uri: str
    body: bytes
    headers: dict[str, str]  # lower-cased names


def _sign_v3(secret: str, method: str, uri: str, body: bytes, timestamp: str) -> str:
    source = method.encode() + uri.encode() + body + timestamp.encode()
    return base64.b64encode(hmac.new(secret.encode(), source, hashlib.sha256).digest()).decode()


def signature_verify(delivery: Delivery, *, secret: str, now_ms: int | None = None) -> str:
    """The signature version that matched; raises Rejected(401) otherwise."""
    if not secret:
        raise Rejected(401, "HUBSPOT_CLIENT_SECRET is not set; cannot verify webhooks")
    headers = delivery.headers
    v3 = headers.get("x-hubspot-signature-v3", "")
    if v3:
        stamp = headers.get("x-hubspot-request-timestamp", "")
        if not _DIGITS.fullmatch(stamp):
            raise Rejected(401, "v3 signature without a valid X-HubSpot-Request-Timestamp")
        now = int(time.time() * 1000) if now_ms is None else now_ms
        if abs(now - int(stamp)) > MAX_AGE_MS:
            raise Rejected(401, f"stale request: timestamp {stamp} is over 5 minutes old")
        expected = _sign_v3(secret, delivery.method, delivery.uri, delivery.body, stamp)
        if not hmac.compare_digest(expected.encode(), v3.encode()):
            raise Rejected(401, "v3 signature does not match")
        return "v3"
    v1 = headers.get("x-hubspot-signature", "")
    version = headers.get("x-hubspot-signature-version", "v1").lower()
    if v1 and version == "v1":
        expected = hashlib.sha256(secret.encode() + delivery.body).hexdigest()
        if not hmac.compare_digest(expected.encode(), v1.lower().encode()):
            raise Rejected(401, "v1 signature does not match")
        return "v1"
    raise Rejected(401, "unsigned request (no X-HubSpot-Signature-v3 or v1 headers)")


@dataclass
class Parsed:
    """A delivery's events: those we store and apply, and those refused one by one
    (with the reason), so one malformed event never sends the rest back to HubSpot."""

    events: list[dict[str, Any]] = field(default_factory=list)
    refused: list[tuple[dict[str, Any] | Any, str]] = field(default_factory=list)


def events_parse(body: bytes) -> Parsed:
    """The delivery's events; Rejected(400) when the body is not a list of events.
    Events that are not what HubSpot sends are set aside in `refused` with the reason."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise Rejected(400, f"body is not JSON: {str(exc)[:200]}") from None
    if not isinstance(data, list) or not data or len(data) > MAX_EVENTS:
        raise Rejected(400, "body must be a non-empty JSON array of events")
    parsed = Parsed()
    for event in data:
        if (
            isinstance(event, dict)
            and "objectId" not in event
            and str(event.get("subscriptionType", "")).endswith(".associationChange")
        ):
            # HubSpot's association events name only the two ends: the record is `from`.
            event["objectId"] = event.get("fromObjectId")
        reason = event_problem(event)
        if reason:
            parsed.refused.append((event, reason))
        else:
            parsed.events.append(event)
    return parsed


def _is_id(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return 0 < value <= MAX_OBJECT_ID
    return (
        isinstance(value, str)
        and bool(_DIGITS.fullmatch(value))
        and 0 < int(value) <= MAX_OBJECT_ID
    )


def _is_epoch_ms(value: Any) -> bool:
    if isinstance(value, str) and _DIGITS.fullmatch(value):
        value = int(value)
    return type(value) is int and 0 <= value <= MAX_OCCURRED_MS


def _has_nul(value: Any, depth: int = 0) -> bool:
    """PostgreSQL's jsonb and text refuse NUL characters anywhere."""
    if depth > 20:
        return True
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k, depth + 1) or _has_nul(v, depth + 1) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v, depth + 1) for v in value)
    return False


def event_object_type(event: dict[str, Any]) -> str | None:
    """The object type an event is about: by its subscription type's prefix, or, for
    generic `object.*` events, by objectTypeId; None when we do not know it."""
    kind = str(event.get("subscriptionType", "")).partition(".")[0]
    if kind == "object":
        return OBJECT_TYPE_IDS.get(str(event.get("objectTypeId", "")))
    return SUBSCRIPTION_OBJECTS.get(kind)


def event_problem(event: Any) -> str:
    """Why this is not an event HubSpot would send (empty when it is one)."""
    if not isinstance(event, dict):
        return "an event must be a JSON object"
    kind = event.get("subscriptionType")
    match = _SUBSCRIPTION.fullmatch(kind) if isinstance(kind, str) else None
    if not match or event_object_type(event) is None:
        return "unsupported subscriptionType"
    if not _is_id(event.get("objectId")):
        return "objectId missing or not a HubSpot id"
    if not _is_epoch_ms(event.get("occurredAt")):
        return "occurredAt missing or not epoch milliseconds"
    for name in _ID_FIELDS:
        if event.get(name) is not None and not _is_id(event[name]):
            return f"{name} is not a HubSpot id"
    merged = event.get("mergedObjectIds")
    if merged is not None and not (
        isinstance(merged, list) and len(merged) <= 1000 and all(_is_id(i) for i in merged)
    ):
        return "mergedObjectIds is not a list of HubSpot ids"
    for name in ("propertyName", "changeSource", "sourceId"):
        if event.get(name) is not None and not isinstance(event[name], str | int):
            return f"{name} is not a string"
    if _has_nul(event):
        return "a value contains a NUL character or is nested too deeply"
    return ""


def refused_summary(event: Any) -> dict[str, Any]:
    """What we keep of a refused event: its scalar fields, NULs and long values cut,
    so the quarantine row itself can always be stored."""
    if not isinstance(event, dict):
        return {"event": {"value": repr(event)[:300].replace("\x00", "\\0")}}
    kept: dict[str, Any] = {}
    for key, value in list(event.items())[:30]:
        text = value if isinstance(value, str) else json.dumps(value, default=str)[:300]
        kept[str(key)[:60].replace("\x00", "\\0")] = text[:300].replace("\x00", "\\0")
    return {"event": kept}


def dedupe_key(event: dict[str, Any]) -> str:
    """What the event says, without the fields that change between deliveries
    (eventId is not unique; attemptNumber grows on retries)."""
    said = {k: v for k, v in event.items() if k not in {"eventId", "attemptNumber"}}
    return hashlib.sha256(json.dumps(said, sort_keys=True, default=str).encode()).hexdigest()


def events_store(events: list[dict[str, Any]]) -> int:
    """Store the events in one INSERT; repeats (same key) are dropped by the insert.
    Returns how many were new."""
    rows = [
        WebhookEvent(
            dedupe_key=dedupe_key(e),
            subscription_type=str(e["subscriptionType"])[:60],
            object_id=str(e["objectId"]),
            occurred_ms=int(e["occurredAt"]),
            portal_id=str(e.get("portalId", ""))[:32],
            change_source=str(e.get("changeSource", ""))[:40],
            payload=e,
        )
        for e in events
    ]
    unique = list({r.dedupe_key: r for r in rows}.values())
    table = WebhookEvent._meta.db_table
    columns = [
        "dedupe_key",
        "subscription_type",
        "object_id",
        "occurred_ms",
        "portal_id",
        "change_source",
        "payload",
        "received_at",
        "outcome",
    ]
    placeholders = ", ".join(["(" + ", ".join(["%s"] * len(columns)) + ")"] * len(unique))
    params: list[Any] = []
    now = timezone.now()
    for r in unique:
        params += [
            r.dedupe_key,
            r.subscription_type,
            r.object_id,
            r.occurred_ms,
            r.portal_id,
            r.change_source,
            json.dumps(r.payload),
            now,
            "",
        ]
    sql = (
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES {placeholders} "
        f"ON CONFLICT (dedupe_key) DO NOTHING RETURNING id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return len(cursor.fetchall())


def events_quarantine(refused: list[tuple[Any, str]]) -> int:
    """Keep each refused event as a sync issue (shown on the issues page with its
    reason), once per distinct event: a retried delivery bumps its attempts."""
    now = timezone.now()
    for event, reason in refused:
        summary = refused_summary(event)
        key = hashlib.sha256(json.dumps(summary, sort_keys=True).encode()).hexdigest()[:32]
        issue, created = SyncIssue.objects.get_or_create(
            object_type=REFUSED_OBJECT_TYPE,
            hubspot_id=key,
            defaults={
                "reason": f"Webhook event refused: {reason}",
                "payload": summary,
                "source": SyncSource.WEBHOOK,
            },
        )
        if not created:
            SyncIssue.objects.filter(pk=issue.pk).update(
                attempts=F("attempts") + 1, last_seen_at=now, resolved_at=None
            )
    return len(refused)

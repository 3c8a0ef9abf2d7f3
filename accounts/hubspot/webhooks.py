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
import time
from dataclasses import dataclass
from typing import Any

from django.db import connection

from accounts.hubspot.models import WebhookEvent

MAX_AGE_MS = 5 * 60 * 1000
MAX_EVENTS = 1000
SUBSCRIPTION_OBJECTS = {"company": "companies", "deal": "deals", "contact": "contacts"}


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
        if not stamp.isdigit():
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


def events_parse(body: bytes) -> list[dict[str, Any]]:
    """The delivery's events; Rejected(400) when the body is not a list of events."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise Rejected(400, f"body is not JSON: {exc}") from None
    if not isinstance(data, list) or not data or len(data) > MAX_EVENTS:
        raise Rejected(400, "body must be a non-empty JSON array of events")
    for event in data:
        if not isinstance(event, dict):
            raise Rejected(400, "each event must be an object")
        kind = str(event.get("subscriptionType", ""))
        if "." not in kind or kind.split(".", 1)[0] not in SUBSCRIPTION_OBJECTS:
            raise Rejected(400, f"unsupported subscriptionType {kind!r}")
        if not str(event.get("objectId", "")).isdigit():
            raise Rejected(400, "objectId missing or not a number")
        if not str(event.get("occurredAt", "")).isdigit():
            raise Rejected(400, "occurredAt missing or not epoch milliseconds")
    return data


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
    from django.utils import timezone

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

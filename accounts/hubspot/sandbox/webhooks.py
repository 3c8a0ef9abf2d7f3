"""Webhook delivery as HubSpot does it: subscriptions, batches of up to 100 events,
v3 and v1 signatures, retries on failure, and optional duplicates and reordering."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import random
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any

from .store import SANDBOX_APP_ID, Event, Source
from .support_schema import SUPPORT_SINGULAR, SUPPORT_TYPE_IDS

# A generic subscription's objectName ("note") -> the objectTypeId its events carry.
OBJECT_NAME_IDS = {SUPPORT_SINGULAR[t]: tid for t, tid in SUPPORT_TYPE_IDS.items()}

logger = logging.getLogger(__name__)

# HubSpot retries up to 10 times over about a day; tests compress this.
HUBSPOT_RETRY_DELAYS = [60.0, 120, 300, 600, 1200, 2400, 3600, 7200, 14400, 28800]


def signature_v3(*, secret: str, method: str, uri: str, body: str, timestamp: str) -> str:
    source = f"{method}{uri}{body}{timestamp}".encode()
    return base64.b64encode(hmac.new(secret.encode(), source, hashlib.sha256).digest()).decode()


def signature_v1(*, secret: str, body: str) -> str:
    return hashlib.sha256(f"{secret}{body}".encode()).hexdigest()


@dataclass
class WebhookSettings:
    target_url: str = ""
    client_secret: str = "sandbox-client-secret"
    app_id: int = SANDBOX_APP_ID
    portal_id: int = 424242
    # Each: {"id": int, "subscriptionType": "company.propertyChange", "propertyName": "name"}
    subscriptions: list[dict[str, Any]] = field(default_factory=list)
    max_batch: int = 100
    batch_window_s: float = 0.05
    timeout_s: float = 5.0
    retry_delays: list[float] = field(default_factory=lambda: list(HUBSPOT_RETRY_DELAYS))
    duplicate_rate: float = 0.0
    reorder: bool = False
    max_in_flight: int = 10  # HubSpot sends up to 10 requests at once
    # Shift the signed timestamp (e.g. -600 to test that stale deliveries are refused).
    timestamp_offset_s: float = 0.0


@dataclass
class Delivery:
    """One POST attempt, kept for tests and the state dump."""

    status: int
    events: list[dict[str, Any]]
    error: str = ""


class WebhookDispatcher:
    """Turns store events into deliveries on a background thread."""

    def __init__(self, settings: WebhookSettings | None = None, *, seed: int = 0) -> None:
        self.settings = settings or WebhookSettings()
        self.random = random.Random(seed)
        self.deliveries: list[Delivery] = []
        self.dead: list[dict[str, Any]] = []
        self._pending: list[tuple[float, dict[str, Any]]] = []
        self._in_flight = 0
        self._cond = threading.Condition()
        self._stop = False
        self._thread: threading.Thread | None = None
        self._next_subscription = 1

    def subscribe(
        self, subscription_type: str, property_name: str = "", *, object_name: str = ""
    ) -> dict[str, Any]:
        """`object_name` (e.g. "note") scopes a generic `object.*` subscription to one
        object type, as HubSpot's generic subscriptions are made per object."""
        with self._cond:
            sub = {
                "id": self._next_subscription,
                "subscriptionType": subscription_type,
                "propertyName": property_name,
                "objectName": object_name,
                "active": True,
            }
            self._next_subscription += 1
            self.settings.subscriptions.append(sub)
            return sub

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="sandbox-webhooks", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        with self._cond:
            self._stop = True
            self._cond.notify_all()
        if self._thread:
            self._thread.join(timeout=1)

    def on_event(self, event: Event) -> None:
        """Store listener: queue one delivery per matching subscription."""
        s = self.settings
        if not s.target_url:
            return
        source: Source = event.get("_source", Source())
        for sub in s.subscriptions:
            if not sub.get("active", True) or sub["subscriptionType"] != event["subscriptionType"]:
                continue
            if sub.get("propertyName") and sub["propertyName"] != event.get("propertyName"):
                continue
            if sub.get("objectName") and OBJECT_NAME_IDS.get(sub["objectName"]) != event.get(
                "objectTypeId"
            ):
                continue
            payload = {k: v for k, v in event.items() if not k.startswith("_")}
            payload.update(
                eventId=self.random.randint(1, 2**31),
                subscriptionId=sub["id"],
                portalId=s.portal_id,
                appId=s.app_id,
                attemptNumber=0,
                changeSource=source.change_source,
                sourceId=source.recorded_id,
            )
            payload["objectId"] = int(payload["objectId"])
            copies = 2 if self.random.random() < s.duplicate_rate else 1
            with self._cond:
                for _ in range(copies):
                    self._pending.append((time.monotonic(), dict(payload)))
                self._cond.notify_all()

    def wait_idle(self, timeout: float = 5.0) -> bool:
        """True once nothing is queued or in flight (retries scheduled later count as queued)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._pending or self._in_flight:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(min(left, 0.02))
            return True

    def _take_due(self) -> list[dict[str, Any]]:
        now = time.monotonic()
        due = [item for item in self._pending if item[0] <= now][: self.settings.max_batch]
        for item in due:
            self._pending.remove(item)
        return [event for _, event in due]

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._stop and (
                    self._in_flight >= self.settings.max_in_flight
                    or not any(t <= time.monotonic() for t, _ in self._pending)
                ):
                    nearest = min((t for t, _ in self._pending), default=None)
                    wait = 0.2 if nearest is None else max(0.001, nearest - time.monotonic())
                    self._cond.wait(min(wait, 0.2))
                if self._stop:
                    return
                self._in_flight += 1
            time.sleep(self.settings.batch_window_s)  # let a burst of edits share one POST
            with self._cond:
                batch = self._take_due()
                if not batch:
                    self._in_flight -= 1
                    self._cond.notify_all()
                    continue
            threading.Thread(target=self._deliver_then_release, args=(batch,), daemon=True).start()

    def _deliver_then_release(self, batch: list[dict[str, Any]]) -> None:
        try:
            self._deliver(batch)
        finally:
            with self._cond:
                self._in_flight -= 1
                self._cond.notify_all()

    def _deliver(self, batch: list[dict[str, Any]]) -> None:
        s = self.settings
        if s.reorder:
            self.random.shuffle(batch)
        body = json.dumps(batch)
        timestamp = str(int((time.time() + s.timestamp_offset_s) * 1000))
        headers = {
            "Content-Type": "application/json",
            "X-HubSpot-Signature-v3": signature_v3(
                secret=s.client_secret,
                method="POST",
                uri=s.target_url,
                body=body,
                timestamp=timestamp,
            ),
            "X-HubSpot-Request-Timestamp": timestamp,
            "X-HubSpot-Signature": signature_v1(secret=s.client_secret, body=body),
            "X-HubSpot-Signature-Version": "v1",
        }
        request = urllib.request.Request(s.target_url, data=body.encode(), headers=headers)
        status, error = 0, ""
        try:
            with urllib.request.urlopen(request, timeout=s.timeout_s) as response:
                status = response.status
        except urllib.error.HTTPError as exc:
            status, error = exc.code, str(exc)
        except (OSError, TimeoutError) as exc:
            error = str(exc)
        with self._cond:
            self.deliveries.append(Delivery(status, batch, error))
        if 200 <= status < 300:
            return
        logger.info("webhook delivery failed (%s %s); will retry", status, error)
        with self._cond:
            for event in batch:
                attempt = event["attemptNumber"]
                if attempt >= len(s.retry_delays):
                    self.dead.append(event)
                    continue
                due = time.monotonic() + s.retry_delays[attempt]
                self._pending.append((due, {**event, "attemptNumber": attempt + 1}))
            self._cond.notify_all()

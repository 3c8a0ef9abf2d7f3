"""Sending the outbox. A delivery is claimed with a lease (one UPDATE that only
one worker can win), sent, then marked sent. A worker killed mid-send leaves a
lease that runs out; the sweep claims it again, so nothing is lost, and the
claim makes two live workers never send the same delivery. Failures are
retried with exponential backoff (Slack's Retry-After honoured) and, after
NOTIFY_MAX_ATTEMPTS, marked failed for an admin to see and retry."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone

from . import transports
from .models import Delivery

log = logging.getLogger(__name__)


@dataclass
class Outcome:
    sent: list[int] = field(default_factory=list)
    retrying: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)

    @property
    def summary(self) -> str:
        return f"sent {len(self.sent)}, retrying {len(self.retrying)}, failed {len(self.failed)}"


def claimable(now: datetime) -> Q:
    return Q(status=Delivery.Status.PENDING, next_attempt_at__lte=now) | Q(
        status=Delivery.Status.SENDING, lease_until__lt=now
    )


def delivery_claim(*, delivery_id: int, now: datetime) -> Delivery | None:
    """Take the delivery for this worker, or None when it is sent, failed, not
    due yet or another worker holds a live lease on it."""
    lease = now + timedelta(seconds=settings.NOTIFY_LEASE_SECONDS)
    won = Delivery.objects.filter(claimable(now), pk=delivery_id).update(
        status=Delivery.Status.SENDING, lease_until=lease, attempts=F("attempts") + 1
    )
    if not won:
        return None
    return Delivery.objects.select_related("notification", "webhook").get(pk=delivery_id)


def backoff_seconds(attempts: int, retry_after: float | None) -> float:
    base = float(settings.NOTIFY_RETRY_BASE_SECONDS) * 2 ** max(attempts - 1, 0)
    return min(max(base, retry_after or 0.0), 3600.0)


def delivery_send(*, delivery_id: int, inline_wait: float = 0.0) -> str:
    """Send one delivery. Retries that can wait at most `inline_wait` seconds in
    all happen here (the task that follows an event uses this, so a Slack 429
    or 500 is over within seconds); longer ones are left to the sweep."""
    waited = 0.0
    while True:
        delivery = delivery_claim(delivery_id=delivery_id, now=timezone.now())
        if delivery is None:
            return "skipped"
        mine = Q(pk=delivery.pk, status=Delivery.Status.SENDING, attempts=delivery.attempts)
        try:
            transports.send(delivery)
        except transports.Retryable as exc:
            wait = backoff_seconds(delivery.attempts, exc.retry_after)
            if delivery.attempts >= settings.NOTIFY_MAX_ATTEMPTS:
                Delivery.objects.filter(mine).update(
                    status=Delivery.Status.FAILED, last_error=str(exc)[:2000], lease_until=None
                )
                log.warning("delivery %s failed for good: %s", delivery.pk, exc)
                return "failed"
            Delivery.objects.filter(mine).update(
                status=Delivery.Status.PENDING,
                last_error=str(exc)[:2000],
                lease_until=None,
                next_attempt_at=timezone.now() + timedelta(seconds=wait),
            )
            log.info("delivery %s: %s; retry in %.1f s", delivery.pk, exc, wait)
            if waited + wait > inline_wait:
                return "retrying"
            time.sleep(wait)
            waited += wait
        except transports.Permanent as exc:
            Delivery.objects.filter(mine).update(
                status=Delivery.Status.FAILED, last_error=str(exc)[:2000], lease_until=None
            )
            log.warning("delivery %s refused: %s", delivery.pk, exc)
            return "failed"
        else:
            Delivery.objects.filter(mine).update(
                status=Delivery.Status.SENT, sent_at=timezone.now(), lease_until=None
            )
            return "sent"


def deliveries_due(*, now: datetime, limit: int = 500) -> list[int]:
    return list(
        Delivery.objects.filter(claimable(now))
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )


def deliveries_send(*, ids: list[int], inline_wait: float = 0.0) -> Outcome:
    outcome = Outcome()
    for pk in ids:
        result = delivery_send(delivery_id=pk, inline_wait=inline_wait)
        if result == "sent":
            outcome.sent.append(pk)
        elif result == "retrying":
            outcome.retrying.append(pk)
        elif result == "failed":
            outcome.failed.append(pk)
    return outcome

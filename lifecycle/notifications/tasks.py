"""django-q2 entry points: send queued deliveries, sweep what is due or was
left by a dead worker, and queue the digests whose local hour has come."""

from __future__ import annotations

from django.conf import settings
from django.utils import timezone
from django_q.tasks import async_task

from . import digest, outbox


def enqueue_deliveries(ids: list[int]) -> None:
    """on_commit of the event's transaction: one task for its deliveries."""
    if ids:
        async_task("lifecycle.notifications.tasks.deliver", ids, group="notifications")


def deliver(ids: list[int]) -> str:
    """Send these deliveries now; short retries (Slack's 429, a 500) happen
    inline so a notification arrives within seconds, longer ones go to the sweep."""
    outcome = outbox.deliveries_send(ids=ids, inline_wait=settings.NOTIFY_INLINE_RETRY_SECONDS)
    return (
        f"sent {len(outcome.sent)}, retrying {len(outcome.retrying)}, failed {len(outcome.failed)}"
    )


def deliveries_sweep() -> str:
    """Every minute: deliveries whose retry time came, or whose worker died
    mid-send (lease run out)."""
    ids = outbox.deliveries_due(now=timezone.now())
    outcome = outbox.deliveries_send(ids=ids)
    return (
        f"sent {len(outcome.sent)}, retrying {len(outcome.retrying)}, failed {len(outcome.failed)}"
    )


def digests_send() -> str:
    """Every ten minutes: queue the digests of people whose local hour came."""
    return f"queued {digest.digests_send_due(now=timezone.now())} digests"

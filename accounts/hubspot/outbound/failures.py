"""What a failed push means for its record: retried by itself, or quarantined.

HubSpot refusing a record as invalid (a 4xx answer, or a 207 error entry: a value its
property will not take, a company that is gone, a unique value another record holds)
will refuse it again until the record changes: it is quarantined at once with
HubSpot's reason, and held until the account changes or a person retries it from the
issues page. Anything else (429, 5xx, timeouts, dropped connections, a write HubSpot did
not confirm) says nothing about the record: it stays due and is retried with a
backoff (HUBSPOT_PUSH_RETRY_SECONDS, doubling per failure in a row, at most
HUBSPOT_PUSH_RETRY_MAX_SECONDS), never quarantined. A call the circuit breaker held
back was not attempted and does not count at all."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings

from accounts.hubspot.models import SyncIssue, SyncSource, SyncState
from accounts.hubspot.transport.errors import HubSpotError
from accounts.hubspot.transport.guard import CircuitOpen

# Statuses that mean "this record, as sent, is not acceptable".
REFUSING_STATUSES = frozenset({400, 404, 409, 410, 422})
# 207 error entries that are about HubSpot's state, not the record.
TRANSIENT_CATEGORIES = frozenset(
    {"RATE_LIMIT", "RATE_LIMITS", "INTERNAL_ERROR", "SERVICE_UNAVAILABLE", "TIMEOUT", "LOCKED"}
)


@dataclass(frozen=True)
class Failure:
    message: str
    refused: bool = False  # HubSpot refused the record as invalid: quarantine it
    attempted: bool = True  # False when the circuit breaker held the call back


UNCONFIRMED = Failure("HubSpot did not confirm the write")


def from_error(exc: HubSpotError) -> Failure:
    """A failed call, for each record it carried."""
    if isinstance(exc, CircuitOpen):
        return Failure(exc.message, attempted=False)
    return Failure(exc.message or str(exc), refused=exc.status in REFUSING_STATUSES)


def from_entry(error: dict[str, Any]) -> Failure:
    """One entry of a 207 answer's `errors[]`."""
    category = str(error.get("category", ""))
    return Failure(str(error.get("message", "")), refused=category not in TRANSIENT_CATEGORIES)


def backoff(failures: int) -> timedelta:
    base = float(getattr(settings, "HUBSPOT_PUSH_RETRY_SECONDS", 30))
    most = float(getattr(settings, "HUBSPOT_PUSH_RETRY_MAX_SECONDS", 600))
    return timedelta(seconds=min(most, base * 2 ** max(failures - 1, 0)))


def retry_due(state: SyncState, now: datetime) -> bool:
    """A record that failed for a transient reason waits out its backoff."""
    if not state.push_failures or state.pushed_at is None:
        return True
    return now >= state.pushed_at + backoff(state.push_failures)


def failure_apply(
    state: SyncState,
    failure: Failure,
    *,
    hubspot_id: str,
    properties: dict[str, str],
    now: datetime,
) -> SyncIssue | None:
    """Count one failed write on the record's state; the sync issue to open when HubSpot
    refused it (the caller saves both)."""
    if not failure.attempted:
        return None
    state.pushed_at = now  # the last attempt
    if not failure.refused:
        state.push_failures += 1
        return None
    state.push_failures = 0
    return SyncIssue(
        object_type="companies",
        hubspot_id=hubspot_id,
        reason=f"HubSpot refused the write: {failure.message}"[:500],
        payload={"properties": properties},
        source=SyncSource.PUSH,
        first_seen_at=now,
        last_seen_at=now,
    )


def refusals(hubspot_ids: Iterable[str]) -> dict[str, datetime]:
    """{company id: when HubSpot last refused our write} of the open push issues (one
    query): a refused account is held until it changes after that."""
    return dict(
        SyncIssue.objects.filter(
            object_type="companies",
            source=SyncSource.PUSH,
            hubspot_id__in=list(hubspot_ids),
            resolved_at__isnull=True,
        ).values_list("hubspot_id", "last_seen_at")
    )


def held(refused: dict[str, datetime], hubspot_id: str, updated_at: datetime) -> bool:
    seen = refused.get(hubspot_id)
    return seen is not None and updated_at <= seen


def issues_resolve(hubspot_ids: Iterable[str], now: datetime) -> int:
    """Open push issues of companies whose write HubSpot has now taken."""
    ids = list(hubspot_ids)
    if not ids:
        return 0
    return SyncIssue.objects.filter(
        object_type="companies",
        source=SyncSource.PUSH,
        hubspot_id__in=ids,
        resolved_at__isnull=True,
    ).update(resolved_at=now)

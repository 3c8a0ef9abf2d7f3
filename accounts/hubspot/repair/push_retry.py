"""Retry from the issues page, for pushes: every open push issue (a company write or
create HubSpot refused, a Lifecycle deal it would not take) is released and the push
pass runs at once, so what an admin fixed in HubSpot (an option put back, a duplicate
merged) goes through without editing each account again. What HubSpot still refuses is
quarantined again with its current reason."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

from accounts.hubspot.models import SyncIssue, SyncSource, SyncState
from accounts.hubspot.outbound.push import push_lock, push_pass
from accounts.hubspot.rules.field_rules import Outcome
from accounts.hubspot.transport.client import HubSpotClient

CREATE_PREFIX = "lifecycle-account:"  # outbound/creates.issue_key


@transaction.atomic
def push_issues_release(*, now: datetime) -> int:
    """Resolve the open push issues and make their accounts due again; how many."""
    issues = SyncIssue.objects.filter(source=SyncSource.PUSH, resolved_at__isnull=True)
    rows = list(issues.values_list("pk", "object_type", "hubspot_id"))
    writes = [
        hid for _, kind, hid in rows if kind == "companies" and not hid.startswith(CREATE_PREFIX)
    ]
    if writes:
        SyncState.objects.filter(account__hubspot_id__in=writes).update(
            checked_at=None, push_failures=0
        )
    # Resolved, the record is no longer held: creates and deals are tried again by the
    # pass, and a refusal re-opens the same issue with HubSpot's current reason.
    SyncIssue.objects.filter(pk__in=[pk for pk, _, _ in rows]).update(resolved_at=now)
    return len(rows)


def push_retry(*, client: HubSpotClient, now: datetime, wait_seconds: float = 60.0) -> Outcome:
    """Release the push issues, then one push pass (after the one running, if any)."""
    outcome = Outcome()
    if not push_issues_release(now=now):
        return outcome
    with push_lock(wait_seconds=wait_seconds) as locked:
        if locked:
            outcome = push_pass(client)
    return outcome

"""Confirming the outbox's unconfirmed writes from what HubSpot is seen to hold.

A worker killed after its batch update landed but before it noted HubSpot's answer
leaves the batch's journal rows "sent, unconfirmed" (outbound/outbox.py). Whichever pass
next finds our value in HubSpot confirms them: the push pass reading before it writes,
or inbound sync (poll, webhook) meeting the write as an agreement of both sides."""

from __future__ import annotations

from collections.abc import Iterable

from accounts.hubspot.models import SyncChange, SyncChangeStatus, SyncSource


def unconfirmed_accounts(account_ids: Iterable[int]) -> set[int]:
    """The accounts among `account_ids` with a write still "sent, unconfirmed"."""
    return set(
        SyncChange.objects.filter(
            status=SyncChangeStatus.SENT, source=SyncSource.PUSH, account_id__in=list(account_ids)
        ).values_list("account_id", flat=True)
    )


def outbox_confirm_seen(seen: Iterable[tuple[int, str, str]]) -> int:
    """Confirm unconfirmed writes ({(account id, field, value)}) a pass found in HubSpot:
    the write of a worker that died before HubSpot answered it did land."""
    wanted = set(seen)
    if not wanted:
        return 0
    rows = SyncChange.objects.filter(
        status=SyncChangeStatus.SENT,
        source=SyncSource.PUSH,
        account_id__in={a for a, _, _ in wanted},
    ).values_list("pk", "account_id", "field", "new_value")
    found = [pk for pk, a, f, v in rows if (a, f, v) in wanted]
    if found:
        SyncChange.objects.filter(pk__in=found).update(status=SyncChangeStatus.CONFIRMED)
    return len(found)

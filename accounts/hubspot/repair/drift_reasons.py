"""Why an account's values differ between the two sides, as far as sync knows: the
drift report lists every account whose values differ and says which of these it is,
so nothing sync is (or thinks it is) working on hides a stranded account."""

from __future__ import annotations

from collections.abc import Iterable

from accounts.hubspot.models import Drift, SyncIssue, SyncSource
from accounts.hubspot.rules import field_rules, sync_state, threeway
from accounts.models import Account


def refused_ids(hubspot_ids: Iterable[str]) -> set[str]:
    """Companies with an open push issue (HubSpot refused our write), one query."""
    return set(
        SyncIssue.objects.filter(
            object_type="companies",
            source=SyncSource.PUSH,
            hubspot_id__in=list(hubspot_ids),
            resolved_at__isnull=True,
        ).values_list("hubspot_id", flat=True)
    )


def drift_reason(
    account: Account,
    rules: list[threeway.Rule],
    *,
    differ: dict[str, list[str]],
    conflicted: set[str],
    refused: bool,
) -> str:
    """The first that holds: refused, retrying, conflict, push due, HubSpot changed
    since sync read it, or unexplained. `differ` is {field key: [ours, HubSpot's]}."""
    state = getattr(account, "hubspot_state", None)
    if refused:
        return Drift.Reason.PUSH_REFUSED
    if state is not None and state.push_failures:
        return Drift.Reason.PUSH_RETRYING
    if conflicted & set(differ):
        return Drift.Reason.CONFLICT
    by_key = {r.key: r for r in rules}
    if any(
        by_key[key].pushes
        and field_rules.ours_value(by_key[key], account) != sync_state.base_of(state, key)
        for key in differ
        if key in by_key
    ):
        return Drift.Reason.PUSH_DUE
    if any(
        theirs != sync_state.remote_of(state, by_key[key])
        for key, (_, theirs) in differ.items()
        if key in by_key
    ):
        return Drift.Reason.NOT_READ
    return Drift.Reason.UNEXPLAINED

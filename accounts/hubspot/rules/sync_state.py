"""The per-account two-way bookkeeping (`SyncState`): one typed `FieldSync` per synced
field (accounts/hubspot/field_state.py), and the one set-based save. Both directions
save through `states_save`, the commit a crash can fall before (the next pass then sees
the same differences)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from accounts import bulk
from accounts.hubspot.field_state import FieldSync, Written, states_to_json
from accounts.hubspot.models import SyncState
from accounts.hubspot.rules import fields as fieldspecs
from accounts.hubspot.rules.field_rules import epoch_ms
from accounts.hubspot.rules.threeway import Rule

__all__ = [
    "FieldSync",
    "Written",
    "agree",
    "base_of",
    "field_of",
    "id_written",
    "remote_of",
    "states_save",
]
ID_KEY = fieldspecs.ACCOUNT_ID_PROPERTY  # the ledger of our account id in HubSpot


def field_of(state: SyncState, rule: Rule) -> FieldSync:
    """The rule's field of the state (made empty when sync never saw it). HubSpot's value
    as seen under another property (the admin re-pointed the field) does not count."""
    entry = state.fields.get(rule.key)
    if entry is None:
        entry = state.fields[rule.key] = FieldSync(prop=rule.property)
    elif entry.prop and entry.prop != rule.property:
        entry.prop, entry.remote, entry.remote_ms, entry.remote_by = rule.property, None, 0, ""
        entry.written, entry.reset_ms = None, 0
    return entry


def base_of(state: SyncState | None, key: str) -> str | None:
    entry = state.fields.get(key) if state is not None else None
    return entry.base if entry is not None else None


def remote_of(state: SyncState | None, rule: Rule) -> str | None:
    """HubSpot's value of the rule's field as sync last saw it (None: never read)."""
    entry = state.fields.get(rule.key) if state is not None else None
    if entry is None or entry.prop != rule.property:
        return None
    return entry.remote


def agree(state: SyncState, rule: Rule, value: str, now: datetime) -> None:
    """`value` is now what both sides agree on for the rule's field."""
    field_of(state, rule).agree(value, epoch_ms(now))


def id_written(state: SyncState) -> bool:
    """Our account id has been written to the company."""
    entry = state.fields.get(ID_KEY)
    return entry is not None and entry.written is not None


def id_write(state: SyncState, account_pk: int, at_ms: int) -> None:
    state.fields[ID_KEY] = FieldSync(
        prop=ID_KEY, base=str(account_pk), base_ms=at_ms, written=Written(str(account_pk), at_ms)
    )


STATE_FIELDS = ("fields", "remote_ms", "pushed_at", "push_failures", "checked_at")


def states_save(states: Iterable[SyncState]) -> None:
    """Insert or update the states in one set-based statement."""
    rows = [
        {
            "account_id": s.account_id,
            "fields": states_to_json(s.fields),
            "remote_ms": s.remote_ms,
            "pushed_at": s.pushed_at,
            "push_failures": s.push_failures,
            "checked_at": s.checked_at,
        }
        for s in states
    ]
    bulk.upsert(SyncState, rows, unique=["account"], update=STATE_FIELDS)

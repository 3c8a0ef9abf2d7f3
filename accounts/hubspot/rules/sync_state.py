"""The per-account two-way bookkeeping (`SyncState`): what both sides agreed on, and
its one set-based save. Both directions save through `states_save`, the commit a crash
can fall before (the next pass then sees the same differences)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from accounts import bulk
from accounts.hubspot.models import SyncState
from accounts.hubspot.rules.field_rules import epoch_ms
from accounts.hubspot.rules.threeway import Rule


def agree(state: SyncState, rule: Rule, value: str, now: datetime) -> None:
    """`value` is now what both sides agree on for the rule's field."""
    state.base[rule.key] = value
    state.base_at[rule.key] = epoch_ms(now)


STATE_FIELDS = (
    "base",
    "base_at",
    "remote",
    "remote_ms",
    "remote_at",
    "written",
    "pushed_at",
    "push_failures",
    "checked_at",
)


def states_save(states: Iterable[SyncState]) -> None:
    """Insert or update the states in one set-based statement."""
    rows = [
        {"account_id": s.account_id, **{name: getattr(s, name) for name in STATE_FIELDS}}
        for s in states
    ]
    bulk.upsert(SyncState, rows, unique=["account"], update=STATE_FIELDS)

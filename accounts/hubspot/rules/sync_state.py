"""The per-account two-way bookkeeping (`SyncState`): what both sides agreed on, and
its one set-based save. Both directions save through `states_save`, the commit a crash
can fall before (the next pass then sees the same differences)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, NamedTuple

from accounts import bulk
from accounts.hubspot.models import SyncState
from accounts.hubspot.rules.field_rules import epoch_ms
from accounts.hubspot.rules.threeway import Rule


class Written(NamedTuple):
    """One entry of `SyncState.written`, the ledger of what we wrote to a HubSpot
    property: the value, when we wrote it, when the sides last agreed before that write,
    and when our edit was made (epoch ms each). Stored as a four-item JSON list; read
    and written only through this type, never by position."""

    value: str
    written_ms: int
    agreed_before_ms: int
    ours_ms: int

    @classmethod
    def of(cls, state: SyncState, prop: str) -> Written | None:
        """The entry for `prop`, or None when we never wrote it."""
        raw = state.written.get(prop)
        return cls.from_json(raw) if raw else None

    @classmethod
    def from_json(cls, raw: list[Any]) -> Written:
        return cls(str(raw[0]), int(raw[1]), int(raw[2]), int(raw[3]))

    def to_json(self) -> list[Any]:
        return list(self)


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

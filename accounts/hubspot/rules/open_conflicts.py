"""An open conflict follows both sides until a person decides.

While a two-way field waits in an open conflict, sync neither pushes nor pulls it: the
conflict holds the two values a person chooses between. Those stay current: a later
edit on either side replaces that side's value in the conflict (an admin never chooses
between values nobody holds any more), and when both sides come to hold the same value
by themselves the conflict closes with that value as the new base, journaled. Both
directions call `follow` for a field with an open conflict instead of deciding it:
inbound sync when HubSpot's value may have moved, the push pass when ours may have.

HubSpot's side is its current value, except when that value is our own write (the
conflict opened on a person's edit our write had already replaced): the person's value
is the one the conflict holds for HubSpot until HubSpot changes again."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from accounts import bulk
from accounts.hubspot.field_state import FieldSync
from accounts.hubspot.models import SyncChange, SyncConflict, SyncSource
from accounts.hubspot.rules import provenance
from accounts.hubspot.rules.field_rules import _at, epoch_ms, journal_row, ours_ms
from accounts.hubspot.rules.threeway import Rule
from accounts.models import Account

CLOSED_NOTE = "both sides came to hold this value; conflict closed"


@dataclass
class OpenConflicts:
    """The open conflicts of a set of accounts, by (account, field), and what following
    the sides changed in them (saved by `save`, in the caller's transaction)."""

    now: datetime
    by_field: dict[tuple[int, str], SyncConflict] = field(default_factory=dict)
    changed: dict[int, SyncConflict] = field(default_factory=dict)
    journal: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def load(cls, account_ids: Iterable[int], now: datetime) -> OpenConflicts:
        ids = list(account_ids)
        if not ids:
            return cls(now=now)
        rows = SyncConflict.objects.filter(account_id__in=ids, status=SyncConflict.Status.OPEN)
        return cls(now=now, by_field={(c.account_id, c.field): c for c in rows})

    def keys(self) -> set[tuple[int, str]]:
        return set(self.by_field)

    def holds(self, account: Account, rule: Rule) -> bool:
        return (account.pk, rule.key) in self.by_field

    def follow(
        self, account: Account, rule: Rule, entry: FieldSync, *, ours: str, theirs_ms: int
    ) -> None:
        """Bring the field's open conflict up to both sides' values; close it when they
        agree (their value becomes the base)."""
        conflict = self.by_field[(account.pk, rule.key)]
        theirs = conflict.theirs
        if entry.remote is not None and not provenance.by_us(entry.remote_by):
            theirs = entry.remote
        if ours == theirs:
            self._close(account, rule, entry, conflict, theirs)
            return
        if (conflict.ours, conflict.theirs) == (ours, theirs):
            return
        if conflict.ours != ours:
            conflict.ours, conflict.ours_at = ours, _at(ours_ms(rule, account))
        if conflict.theirs != theirs:
            conflict.theirs, conflict.theirs_at = theirs, _at(theirs_ms)
        self.changed[conflict.pk] = conflict

    def _close(
        self, account: Account, rule: Rule, entry: FieldSync, conflict: SyncConflict, value: str
    ) -> None:
        # The value neither side holds any more is the one the journal names as replaced.
        old = conflict.ours if conflict.ours != value else conflict.theirs
        conflict.status = SyncConflict.Status.RESOLVED
        conflict.resolution = value
        conflict.resolved_at = self.now
        entry.agree(value, epoch_ms(self.now))
        self.changed[conflict.pk] = conflict
        del self.by_field[(account.pk, rule.key)]
        self.journal.append(
            journal_row(
                account,
                key=rule.spec.attribute,
                old=old,
                new=value,
                source=SyncSource.RESOLVE,
                at=self.now,
                note=CLOSED_NOTE,
            )
        )

    def save(self) -> None:
        if self.changed:
            SyncConflict.objects.bulk_update(
                list(self.changed.values()),
                ["ours", "ours_at", "theirs", "theirs_at", "status", "resolution", "resolved_at"],
            )
        bulk.insert(SyncChange, self.journal)
        self.changed, self.journal = {}, []

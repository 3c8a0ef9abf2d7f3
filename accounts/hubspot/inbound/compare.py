"""Inbound half of two-way sync: the accounts of a page HubSpot sent (import, poll,
webhook) compared three ways with the agreed base (`SyncState`), so our own writes
coming back change nothing and edits on both sides are settled by the field's policy."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field as dc_field
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db.models import Exists, OuterRef
from django.utils import timezone

from accounts.hubspot.models import SyncChange, SyncChangeStatus, SyncConflict, SyncState
from accounts.hubspot.rules import fields as fieldspecs
from accounts.hubspot.rules import sync_state
from accounts.hubspot.rules.field_rules import (
    Outcome,
    Pull,
    _conflict,
    _event_change,
    _latest_undecided,
    _theirs,
    epoch_ms,
    local_value,
    ours_ms,
    ours_reset,
    ours_value,
)
from accounts.hubspot.rules.mapping import Unmappable
from accounts.hubspot.rules.open_conflicts import OpenConflicts
from accounts.hubspot.rules.outbox_seen import outbox_confirm_seen
from accounts.hubspot.rules.provenance import EventValue
from accounts.hubspot.rules.sync_state import FieldSync
from accounts.hubspot.rules.threeway import Action, Rule, decide
from accounts.models import Account
from accounts.services import accounts_changed_notify

logger = logging.getLogger(__name__)


# -- inbound -----------------------------------------------------------------------------


def inbound_compare(
    pairs: Sequence[tuple[Account, dict[str, Any]]],
    rules: Sequence[Rule],
    *,
    modified_ms: dict[str, int],
    event_values: dict[str, list[EventValue]] | None = None,
    defer_latest: bool | None = None,
) -> tuple[Outcome, dict[str, str], list[Pull]]:
    """Compare HubSpot's records with their linked accounts, field by field, and apply
    what HubSpot alone changed (set on the account objects; the caller saves them).

    Records HubSpot's values and the new base in each account's SyncState, opens
    conflicts, and marks accounts with something to push for the next push pass.
    `event_values` ({hubspot id: [EventValue]}, from webhooks) say who set a value and
    when, and show a person's HubSpot edit that our own later write replaced before we
    read it; it is judged by the field's policy instead of vanishing. Our own writes
    are recognised by provenance (our app wrote them), never by timing.

    A latest-wins field both sides changed is judged on when each value was set: ours
    from `Account.field_changed_at`, HubSpot's from a webhook's occurredAt or else its
    property history, which the push pass reads (`defer_latest`, the default while
    pushes are on); without it, the record's hs_lastmodifieddate stands in.

    Returns the outcome, {hubspot id: reason} for values we could not read, and the
    pulled fields for the caller to save and journal with its own changes."""
    outcome = Outcome()
    unreadable: dict[str, str] = {}
    journal: list[Pull] = []
    if not pairs or not rules:
        return outcome, unreadable, journal
    if defer_latest is None:
        defer_latest = bool(getattr(settings, "HUBSPOT_PUSH_ENABLED", True))
    # With each state, whether its account has an open conflict or a write journaled
    # "sent, unconfirmed" (in the same statement: either is read only when there is one).
    states: dict[int, SyncState] = {
        s.account_id: s
        for s in SyncState.objects.filter(account_id__in=[a.pk for a, _ in pairs]).annotate(
            conflicted=Exists(
                SyncConflict.objects.filter(
                    account_id=OuterRef("account_id"), status=SyncConflict.Status.OPEN
                )
            ),
            unconfirmed=Exists(
                SyncChange.objects.filter(
                    account_id=OuterRef("account_id"), status=SyncChangeStatus.SENT
                )
            ),
        )
    }
    conflicts: list[SyncConflict] = []
    agreed: list[tuple[int, str, str]] = []
    behind: list[int] = []  # accounts whose HubSpot values our decisions left behind
    # Fields waiting in an open conflict: not decided, but the conflict follows HubSpot.
    held = OpenConflicts.load(
        (pk for pk, s in states.items() if getattr(s, "conflicted", False)), timezone.now()
    )
    for account, record in pairs:
        state = states.get(account.pk) or SyncState(account=account)
        states[account.pk] = state
        hid = str(record.get("id", account.hubspot_id or ""))
        compare = _AccountCompare(
            account=account,
            state=state,
            events=(event_values or {}).get(hid, []),
            record_ms=modified_ms.get(hid, 0),
            defer_latest=defer_latest,
            held=held,
        )
        problem = compare.record(record, rules)
        if problem:
            unreadable[hid] = problem
        outcome.pulled += compare.pulled
        outcome.agreed += compare.agreed
        journal.extend(compare.journal)
        if getattr(state, "unconfirmed", False):
            agreed.extend(compare.agreed_values)
        conflicts.extend(compare.conflicts)
        if compare.needs_push:
            behind.append(account.pk)
        if compare.changed:
            outcome.changed_accounts.append(account)
    sync_state.states_save(states.values())
    held.save()
    # Both sides hold a value we wrote: a write whose worker died before noting
    # HubSpot's answer landed.
    outbox_confirm_seen(agreed)
    # Pushed within seconds (once committed), as a Lifecycle edit is, not at the next
    # scheduled pass.
    accounts_changed_notify(account_ids=behind)
    if conflicts:
        made = SyncConflict.objects.bulk_create(conflicts, ignore_conflicts=True)
        outcome.conflicts += len(made)
    return outcome, unreadable, journal


@dataclass
class _AccountCompare:
    """One account's two-way fields against one HubSpot record."""

    account: Account
    state: SyncState
    events: Sequence[EventValue]
    record_ms: int
    defer_latest: bool
    held: OpenConflicts
    now: datetime = dc_field(default_factory=timezone.now)
    pulled: int = 0
    agreed: int = 0
    changed: bool = False
    needs_push: bool = False
    journal: list[Pull] = dc_field(default_factory=list)
    conflicts: list[SyncConflict] = dc_field(default_factory=list)
    agreed_values: list[tuple[int, str, str]] = dc_field(default_factory=list)

    def record(self, record: dict[str, Any], rules: Sequence[Rule]) -> str:
        """Compare every rule's field; why a value could not be read ("" when all could)."""
        unreadable = ""
        for rule in rules:
            theirs, problem = _theirs(rule, record)
            unreadable = problem or unreadable
            if theirs is not None:
                self.field(rule, theirs)
        self.state.remote_ms = max(self.state.remote_ms, self.record_ms)
        if self.needs_push:
            self.state.checked_at = None  # the push pass looks at it next time
        return unreadable

    def field(self, rule: Rule, theirs: str) -> None:
        entry = sync_state.field_of(self.state, rule)
        entry.seen(rule.property, theirs)
        said = _event_change(rule, theirs, self.events)
        if said is not None:
            entry.remote_ms, entry.remote_by = said.occurred_ms, said.by
            if not said.ours and theirs == entry.base and said.occurred_ms > entry.base_ms:
                # A person set the agreed value again after the agreement (A -> C -> A):
                # an edit like any other, judged by its time.
                entry.reset_ms = said.occurred_ms
        ours = ours_value(rule, self.account)
        if self.held.holds(self.account, rule):
            self.held.follow(
                self.account, rule, entry, ours=ours, theirs_ms=entry.remote_ms or self.record_ms
            )
            return
        overwritten = _overwritten(rule, entry, theirs, self.events)
        if overwritten is not None and self._overwritten_judged(rule, entry, ours, overwritten):
            return
        if (
            self.defer_latest
            and not entry.remote_ms
            and _latest_undecided(
                rule,
                ours=ours,
                theirs=theirs,
                base=entry.base,
                ours_reset=ours_reset(rule, self.account, entry, ours),
            )
        ):
            self.needs_push = True  # the push pass reads HubSpot's history, then decides
            return
        self._decided(rule, entry, ours, theirs)

    def _decided(self, rule: Rule, entry: FieldSync, ours: str, theirs: str) -> None:
        theirs_ms = entry.remote_ms or self.record_ms
        decision = decide(
            rule,
            ours=ours,
            theirs=theirs,
            base=entry.base,
            ours_ms=ours_ms(rule, self.account),
            theirs_ms=theirs_ms,
            theirs_reset=entry.reset_ms > 0,
            ours_reset=ours_reset(rule, self.account, entry, ours),
        )
        if decision.action == Action.PULL:
            note = decision.reason if entry.base is not None and ours != entry.base else ""
            self._pull(rule, theirs, note)
            sync_state.agree(self.state, rule, theirs, self.now)
        elif decision.action == Action.AGREE:
            sync_state.agree(self.state, rule, theirs, self.now)
            self.agreed += 1
            self.agreed_values.append((self.account.pk, rule.spec.attribute, theirs))
        elif decision.action == Action.PUSH:
            self.needs_push = True
        elif decision.action == Action.CONFLICT:
            self.conflicts.append(
                _conflict(
                    self.account,
                    rule,
                    base=entry.base,
                    ours=ours,
                    theirs=theirs,
                    theirs_ms=theirs_ms,
                )
            )

    def _overwritten_judged(
        self, rule: Rule, entry: FieldSync, ours: str, edit: EventValue
    ) -> bool:
        """Judge a person's edit our write replaced; True when nothing more is to do."""
        value = rule.spec.canonical_remote(edit.value)
        if rule.policy == fieldspecs.ASK:
            self.conflicts.append(
                _conflict(
                    self.account,
                    rule,
                    base=entry.base,
                    ours=ours,
                    theirs=value,
                    theirs_ms=edit.occurred_ms,
                )
            )
            return True
        assert entry.written is not None
        if edit.occurred_ms > entry.written.ours_ms:
            # HubSpot's edit was the later one: it wins, here and (next push) there.
            self._pull(rule, value, "HubSpot's overwritten edit is later")
            self.needs_push = True
            return True
        self.journal.append(
            Pull(
                self.account,
                rule.spec.attribute,
                value,
                "Lifecycle's later edit kept",
                applied=False,
                new=ours,
            )
        )
        return False

    def _pull(self, rule: Rule, value: str, note: str) -> None:
        old_value = getattr(self.account, rule.spec.attribute)
        setattr(self.account, rule.spec.attribute, local_value(rule, value))
        self.journal.append(Pull(self.account, rule.spec.attribute, old_value, note))
        self.pulled += 1
        self.changed = True


def _overwritten(
    rule: Rule, entry: FieldSync, theirs: str, events: Sequence[EventValue]
) -> EventValue | None:
    """A person's edit of a two-way field that our own write replaced before we saw
    it: HubSpot holds what we wrote, and a webhook event that is not our app's
    (provenance, not timing, tells ours apart) says the field held another value after
    the sides last agreed and before HubSpot recorded our write (both instants as
    HubSpot's clock gave them: our write's from HubSpot's answer to it)."""
    written = entry.written
    if rule.owner != fieldspecs.TWO_WAY or written is None or theirs != written.value:
        return None
    found: EventValue | None = None
    for event in events:
        if event.prop != rule.property or event.ours:
            continue
        if not written.agreed_before_ms < event.occurred_ms < written.written_ms:
            continue
        try:
            value = rule.spec.canonical_remote(event.value)
        except Unmappable:
            continue
        if value != written.value and (found is None or event.occurred_ms > found.occurred_ms):
            found = event
    return found


def initial_state(
    account_pk: int, record: dict[str, Any], rules: Sequence[Rule], *, modified_ms: int
) -> dict[str, Any]:
    """SyncState row of an account just created from a HubSpot company: HubSpot's
    values of the fields we pulled are the agreed base; Lifecycle-owned ones are left
    for the push pass."""
    now_ms = epoch_ms(timezone.now())
    fields: dict[str, FieldSync] = {}
    for rule in rules:
        theirs, _ = _theirs(rule, record)
        if theirs is None:
            continue
        entry = fields[rule.key] = FieldSync(prop=rule.property, remote=theirs)
        if rule.pulls:
            entry.agree(theirs, now_ms)
    return {
        "account_id": account_pk,
        "fields": fields,
        "remote_ms": modified_ms,
        "push_failures": 0,
    }


def pulled_values(record: dict[str, Any], rules: Sequence[Rule]) -> dict[str, Any]:
    """Our field values from a new company's two-way fields (HubSpot-owned ones come
    from the import's own mapping)."""
    values = {}
    for rule in rules:
        if rule.owner != fieldspecs.TWO_WAY:
            continue
        theirs, _ = _theirs(rule, record)
        if theirs is not None:
            values[rule.spec.attribute] = local_value(rule, theirs)
    return values

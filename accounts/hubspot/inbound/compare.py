"""Inbound half of two-way sync: the accounts of a page HubSpot sent (import, poll,
webhook) compared three ways with the agreed base (`SyncState`), so our own writes
coming back change nothing and edits on both sides are settled by the field's policy."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.utils import timezone

from accounts.hubspot.models import SyncConflict, SyncState
from accounts.hubspot.rules import fields as fieldspecs
from accounts.hubspot.rules import sync_state
from accounts.hubspot.rules.field_rules import (
    Outcome,
    Pull,
    _conflict,
    _event_ms,
    _latest_undecided,
    _theirs,
    epoch_ms,
    local_value,
    ours_ms,
    ours_value,
)
from accounts.hubspot.rules.mapping import Unmappable
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
    event_values: dict[str, list[tuple[str, str, int]]] | None = None,
    defer_latest: bool | None = None,
) -> tuple[Outcome, dict[str, str], list[Pull]]:
    """Compare HubSpot's records with their linked accounts, field by field, and apply
    what HubSpot alone changed (set on the account objects; the caller saves them).

    Records the remote values and the new base in each account's SyncState, opens
    conflicts, and marks accounts with something to push for the next push pass.
    `event_values` ({hubspot id: [(property, value, occurredAt ms)]}, from webhooks)
    show HubSpot edits that our own later write overwrote before we read them; they
    are judged by the field's policy instead of vanishing.

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
    now = timezone.now()
    states = {
        s.account_id: s for s in SyncState.objects.filter(account_id__in=[a.pk for a, _ in pairs])
    }
    conflicts: list[SyncConflict] = []
    behind: list[int] = []  # accounts whose HubSpot values our decisions left behind
    for account, record in pairs:
        state = states.get(account.pk) or SyncState(account=account)
        states[account.pk] = state
        hid = str(record.get("id", account.hubspot_id or ""))
        theirs_ms = modified_ms.get(hid, 0)
        events = (event_values or {}).get(hid, [])
        needs_push = False
        changed = False
        for rule in rules:
            theirs, problem = _theirs(rule, record)
            if problem:
                unreadable[hid] = problem
            if theirs is None:
                continue
            if state.remote.get(rule.property) != theirs:
                state.remote_at.pop(rule.property, None)  # a new value: when, not yet known
            exact = _event_ms(rule, theirs, events)
            if exact:
                state.remote_at[rule.property] = exact
            state.remote[rule.property] = theirs
            ours = ours_value(rule, account)
            base = state.base.get(rule.key)
            overwritten = _overwritten(rule, state, theirs, events)
            if overwritten is not None:
                value, occurred = overwritten
                if rule.policy == fieldspecs.ASK:
                    conflicts.append(
                        _conflict(
                            account, rule, base=base, ours=ours, theirs=value, theirs_ms=occurred
                        )
                    )
                    continue
                written = sync_state.Written.of(state, rule.property)
                if written is not None and occurred > written.ours_ms:
                    # HubSpot's edit was the later one: it wins, here and (next push) there.
                    old_value = getattr(account, rule.spec.attribute)
                    setattr(account, rule.spec.attribute, local_value(rule, value))
                    note = "HubSpot's overwritten edit is later"
                    journal.append(Pull(account, rule.spec.attribute, old_value, note))
                    needs_push = changed = True
                    outcome.pulled += 1
                    continue
                journal.append(
                    Pull(
                        account,
                        rule.spec.attribute,
                        value,
                        "Lifecycle's later edit kept",
                        applied=False,
                        new=ours,
                    )
                )
            theirs_at = int(state.remote_at.get(rule.property) or 0)
            if (
                defer_latest
                and not theirs_at
                and _latest_undecided(rule, ours=ours, theirs=theirs, base=base)
            ):
                needs_push = True  # the push pass reads HubSpot's history, then decides
                continue
            decision = decide(
                rule,
                ours=ours,
                theirs=theirs,
                base=base,
                ours_ms=ours_ms(rule, account),
                theirs_ms=theirs_at or theirs_ms,
            )
            if decision.action == Action.PULL:
                old_value = getattr(account, rule.spec.attribute)
                setattr(account, rule.spec.attribute, local_value(rule, decision.value))
                note = decision.reason if base is not None and ours != base else ""
                journal.append(Pull(account, rule.spec.attribute, old_value, note))
                sync_state.agree(state, rule, theirs, now)
                outcome.pulled += 1
                changed = True
            elif decision.action == Action.AGREE:
                sync_state.agree(state, rule, theirs, now)
                outcome.agreed += 1
            elif decision.action == Action.PUSH:
                needs_push = True
            elif decision.action == Action.CONFLICT:
                conflicts.append(
                    _conflict(
                        account,
                        rule,
                        base=base,
                        ours=ours,
                        theirs=theirs,
                        theirs_ms=theirs_at or theirs_ms,
                    )
                )
        state.remote_ms = max(state.remote_ms, theirs_ms)
        if needs_push:
            state.checked_at = None  # the push pass looks at it next time
            behind.append(account.pk)
        if changed:
            outcome.changed_accounts.append(account)
    sync_state.states_save(states.values())
    # Pushed within seconds (once committed), as a Lifecycle edit is, not at the next
    # scheduled pass.
    accounts_changed_notify(account_ids=behind)
    if conflicts:
        made = SyncConflict.objects.bulk_create(conflicts, ignore_conflicts=True)
        outcome.conflicts += len(made)
    return outcome, unreadable, journal


def _overwritten(
    rule: Rule, state: SyncState, theirs: str, events: Sequence[tuple[str, str, int]]
) -> tuple[str, int] | None:
    """A two-way field's HubSpot edit that our own write replaced before we saw it:
    HubSpot now holds what we wrote, and an event says it held another value after the
    sides last agreed and before our write. The latest such (value, occurredAt)."""
    written = sync_state.Written.of(state, rule.property)
    if rule.owner != fieldspecs.TWO_WAY or written is None or theirs != written.value:
        return None
    value_written, written_ms, agreed_before = (
        written.value,
        written.written_ms,
        written.agreed_before_ms,
    )
    found: tuple[str, int] | None = None
    for prop, raw, occurred in events:
        if prop != rule.property or not agreed_before < occurred < written_ms:
            continue
        try:
            value = rule.spec.canonical_remote(raw)
        except Unmappable:
            continue
        if value != value_written and (found is None or occurred > found[1]):
            found = (value, occurred)
    return found


def initial_state(
    account_pk: int, record: dict[str, Any], rules: Sequence[Rule], *, modified_ms: int
) -> dict[str, Any]:
    """SyncState row of an account just created from a HubSpot company: HubSpot's
    values of the fields we pulled are the agreed base; Lifecycle-owned ones are left
    for the push pass."""
    now = timezone.now()
    base, base_at, remote = {}, {}, {}
    for rule in rules:
        theirs, _ = _theirs(rule, record)
        if theirs is None:
            continue
        remote[rule.property] = theirs
        if rule.pulls:
            base[rule.key] = theirs
            base_at[rule.key] = epoch_ms(now)
    return {
        "account_id": account_pk,
        "base": base,
        "base_at": base_at,
        "remote": remote,
        "remote_ms": modified_ms,
        "written": {},
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

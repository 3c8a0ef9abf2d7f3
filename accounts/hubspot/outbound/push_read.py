"""Read before write: before the push pass writes a company, it reads what HubSpot holds
now for the fields it is about to decide on (100 companies per call), and, for values
that changed since the sides last agreed, their property history (50 per call): who set
each value and when. The decision then runs on HubSpot's current values, so a value that
appeared since the base is never overwritten unseen, and our own earlier writes are
recognised by provenance (our app wrote them), not by timing.

A value equal to the base may still be a HubSpot edit: a person changed it and then
changed it back (A -> C -> A) after our own edit. Its history is read too when the
company was modified after our edit of a two-way field, which the common push (nothing
touched the company in HubSpot since our edit) never is: it makes no history call."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from accounts.hubspot.field_state import FieldSync
from accounts.hubspot.inbound.objects import MERGED_PROPERTY
from accounts.hubspot.models import SyncState
from accounts.hubspot.rules import fields as fieldspecs
from accounts.hubspot.rules import provenance, sync_state
from accounts.hubspot.rules.field_rules import _theirs, ours_ms, ours_value
from accounts.hubspot.rules.mapping import parse_ms
from accounts.hubspot.rules.threeway import Rule
from accounts.hubspot.transport.client import HubSpotClient
from accounts.hubspot.transport.errors import HubSpotError
from accounts.models import Account

logger = logging.getLogger(__name__)
READ_BATCH = 100  # batch read of current values
HISTORY_BATCH = 50  # HubSpot's cap on batch reads with propertiesWithHistory


def current_read(
    client: HubSpotClient,
    accounts: Sequence[Account],
    states: dict[int, SyncState],
    rules: Sequence[Rule],
    *,
    ours: dict[int, dict[str, str]] | None = None,
    merged_away: set[int] | None = None,
) -> int:
    """HubSpot's current values of the rules' properties for `accounts`, into their
    states, then the history of the values that changed since the base. Returns the
    calls made (`ours`: our canonical values by account and rule key, when already
    computed). When HubSpot cannot answer, the last-seen values stand (the write that
    follows then meets the same failure and is retried).

    A company merged into another still answers by its old id, with the survivor's id
    and values: the accounts linked to such an old id (the merge not yet applied here)
    go into `merged_away`, so the push does not write their values onto the survivor."""
    if not accounts:
        return 0
    by_hid = {a.hubspot_id or "": a for a in accounts}
    calls = -(-len(by_hid) // READ_BATCH)
    try:
        result = client.batch_read(
            "companies", sorted(by_hid), properties=[*(r.property for r in rules), MERGED_PROPERTY]
        )
    except HubSpotError as exc:
        logger.warning("HubSpot's current values could not be read: %s", exc)
        return calls
    for record in result.results:
        merged = str((record.get("properties") or {}).get(MERGED_PROPERTY) or "").split(";")
        for old_id in merged:
            if merged_away is not None and old_id in by_hid and old_id != str(record.get("id")):
                merged_away.add(by_hid[old_id].pk)
        account = by_hid.get(str(record.get("id")))
        if account is None:
            continue
        state = states[account.pk]
        props = record.get("properties") or {}
        state.remote_ms = max(
            state.remote_ms, parse_ms(str(props.get("hs_lastmodifieddate") or ""))
        )
        for rule in rules:
            theirs, _ = _theirs(rule, record)
            if theirs is not None:
                sync_state.field_of(state, rule).seen(rule.property, theirs)
    return calls + _history_read(client, accounts, states, rules, ours)


def _unexplained(rule: Rule, entry: FieldSync, ours: str) -> bool:
    """HubSpot's value changed since the base (or holds a value where the sides never
    agreed), differs from ours, and we do not know who set it or when."""
    return (
        entry.remote is not None
        and entry.remote != entry.base
        and entry.remote != ours
        and not entry.remote_by
        and (entry.base is not None or entry.remote != "")
    )


def _maybe_reset(rule: Rule, entry: FieldSync, ours: str, ours_at: int, record_ms: int) -> bool:
    """HubSpot's value of a two-way field is the base and ours is not, but the company
    was modified after both the agreement and our edit: a person may have changed the
    field and changed it back since (A -> C -> A), an edit later than ours."""
    return (
        rule.owner == fieldspecs.TWO_WAY
        and entry.base is not None
        and entry.remote == entry.base
        and ours != entry.base
        and not entry.reset_ms
        and record_ms > max(entry.base_ms, ours_at)
    )


def _history_read(
    client: HubSpotClient,
    accounts: Sequence[Account],
    states: dict[int, SyncState],
    rules: Sequence[Rule],
    ours: dict[int, dict[str, str]] | None,
) -> int:
    """Who set, and when, each value that changed since the base (into `remote_by` and
    `remote_ms`). A value our app wrote (an earlier write of ours, its answer lost to a
    timeout or a kill) becomes the base: HubSpot did not change it, we did."""
    wanted: dict[str, set[str]] = {}
    for account in accounts:
        state = states[account.pk]
        values = ours[account.pk] if ours is not None else None
        for rule in rules:
            entry = sync_state.field_of(state, rule)
            value = values[rule.key] if values is not None else ours_value(rule, account)
            if _unexplained(rule, entry, value) or _maybe_reset(
                rule, entry, value, ours_ms(rule, account), state.remote_ms
            ):
                wanted.setdefault(account.hubspot_id or "", set()).add(rule.property)
    if not wanted:
        return 0
    calls = -(-len(wanted) // HISTORY_BATCH)
    properties = sorted(set().union(*wanted.values()))
    try:
        result = client.batch_read("companies", sorted(wanted), properties_with_history=properties)
    except HubSpotError as exc:
        logger.warning("HubSpot property history could not be read: %s", exc)
        return calls
    by_hid = {a.hubspot_id: states[a.pk] for a in accounts}
    rules_by_property = {r.property: r for r in rules}
    for row in result.results:
        hid = str(row.get("id"))
        read = by_hid.get(hid)
        if read is None:
            continue
        history = row.get("propertiesWithHistory") or {}
        for prop in wanted.get(hid, ()):
            rule = rules_by_property[prop]
            _explain(rule, sync_state.field_of(read, rule), history.get(prop) or [], read)
    return calls


def _explain(rule: Rule, entry: FieldSync, history: list[dict], state: SyncState) -> None:
    assert entry.remote is not None
    change = provenance.current_change(rule, history, entry.remote)
    if change is None:
        entry.remote_ms = entry.remote_ms or state.remote_ms  # no history: the record's time
        return
    entry.remote_ms, entry.remote_by = change.at_ms, change.by
    if change.ours:
        entry.agree(entry.remote, change.at_ms)
    elif entry.remote == entry.base and change.at_ms > entry.base_ms:
        # Someone set the agreed value again after the agreement: their edit.
        entry.reset_ms = change.at_ms

"""Two-way sync of account fields: rules, the agreed base, pushes and conflicts.

Inbound (import, poll, webhook pages) calls `inbound_compare` for the accounts of a
page; the push pass (`push_pass`) writes what only we changed, in batches of 100. Both
use the three-way comparison of `threeway.decide` against the per-account
`SyncState.base`, so:
- our own writes coming back (webhooks, polls) match the base and are neither applied
  nor pushed again (no ping-pong), and `SyncState.written` keeps the ledger of what we
  wrote, and when;
- many edits between two passes are one write (the pass reads current values);
- a crash anywhere loses nothing: no queue in memory, the next pass sees the same
  differences, and re-sending a write HubSpot already took changes nothing.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.db import connection, models, transaction
from django.db.models import F, Q
from django.utils import timezone

from accounts import bulk
from accounts.models import Account, Deal, User

from .. import fields as fieldspecs
from ..client import HubSpotClient
from ..errors import HubSpotError
from ..mapping import WON_DEALS, MappingConfig, Unmappable, parse_ms
from ..models import FieldRule, SyncChange, SyncConflict, SyncIssue, SyncSource, SyncState
from .threeway import Action, Decision, Rule, decide

logger = logging.getLogger(__name__)
BATCH = 100  # companies per HubSpot batch update
CHUNK = 500  # accounts read, compared and saved per database round trip
MAX_PUSH_FAILURES = 3
CHECK_MARGIN = timedelta(seconds=10)


# -- rules -------------------------------------------------------------------------------


def rules_load(config: MappingConfig | None = None) -> list[Rule]:
    """Every synced field with its configured owner and policy (defaults for fields an
    admin never touched). ARR is left out when it is the sum of won deals."""
    config = config or MappingConfig()
    saved = {r.field: r for r in FieldRule.objects.all()}
    rules = []
    for spec in fieldspecs.ACCOUNT_FIELDS:
        if spec.key == "arr" and config.arr_source == WON_DEALS:
            continue
        row = saved.get(spec.key)
        default_property = (
            config.arr_property if spec.key == "arr" and config.arr_property else spec.property
        )
        owner = row.owner if row and row.owner in spec.owners else spec.default_owner
        rules.append(
            Rule(
                spec=spec,
                property=row.property if row else default_property,
                owner=owner,
                policy=row.policy if row else fieldspecs.LATEST,
            )
        )
    return rules


def rule_save(*, key: str, owner: str, policy: str, prop: str, by: User | None) -> FieldRule:
    """An admin's choice for one field, validated against what the field allows."""
    spec = fieldspecs.BY_KEY.get(key)
    if spec is None:
        raise ValueError(f"{key} is not a synced field")
    if owner not in spec.owners:
        raise ValueError(f"{spec.label} cannot be {owner}")
    rule, _ = FieldRule.objects.update_or_create(
        field=key,
        defaults={
            "owner": owner,
            "policy": policy,
            "property": prop or spec.property,
            "updated_at": timezone.now(),
            "updated_by": by,
        },
    )
    return rule


def remote_properties(rules: Iterable[Rule]) -> list[str]:
    """The company properties inbound sync must read to compare every rule."""
    return [r.property for r in rules]


# -- helpers -----------------------------------------------------------------------------


def epoch_ms(when: datetime | None) -> int:
    return int(when.timestamp() * 1000) if when else 0


def _theirs(rule: Rule, record: dict[str, Any]) -> tuple[str | None, str]:
    """HubSpot's canonical value of a rule's property in a record (None when the record
    does not carry it), and why it could not be read ("" when it could)."""
    props = record.get("properties") or {}
    if rule.property not in props:
        return None, ""
    try:
        return rule.spec.canonical_remote(props.get(rule.property)), ""
    except Unmappable as exc:
        return None, exc.reason


def ours_value(rule: Rule, account: Account) -> str:
    return rule.spec.canonical_local(getattr(account, rule.spec.attribute))


def ours_ms(rule: Rule, account: Account) -> int:
    """When our value of the field last changed: its own stamp, else the account's."""
    stamps = account.field_changed_at if isinstance(account.field_changed_at, dict) else {}
    return int(stamps.get(rule.spec.attribute) or 0) or epoch_ms(account.updated_at)


def _theirs_ms(state: SyncState, rule: Rule) -> int:
    """When HubSpot set its value of the field: exactly if known, else the record's
    modified time."""
    return int(state.remote_at.get(rule.property) or 0) or state.remote_ms


def _timed(rule: Rule) -> bool:
    """A field whose conflicts the change times decide."""
    return rule.owner == fieldspecs.TWO_WAY and rule.policy == fieldspecs.LATEST


def _latest_undecided(rule: Rule, *, ours: str, theirs: str | None, base: str | None) -> bool:
    """Both sides changed a latest-wins field to different values: the decision needs
    when HubSpot's value was set."""
    return (
        _timed(rule)
        and theirs is not None
        and ours != theirs
        and (base is None or (ours != base and theirs != base))
    )


def _event_ms(rule: Rule, value: str, events: Sequence[tuple[str, str, int]]) -> int:
    """When a webhook said HubSpot's property took this value (0 when none did)."""
    found = 0
    for prop, raw, occurred in events:
        if prop != rule.property:
            continue
        try:
            if rule.spec.canonical_remote(raw) == value:
                found = max(found, occurred)
        except Unmappable:
            continue
    return found


def _at(ms: int) -> datetime | None:
    return datetime.fromtimestamp(ms / 1000, tz=UTC) if ms else None


def local_value(rule: Rule, value: str) -> Any:
    """A canonical value as our field holds it."""
    return rule.spec.from_hubspot(value) if value != "" else _empty(rule)


def _empty(rule: Rule) -> Any:
    model_field = Account._meta.get_field(rule.spec.attribute)
    assert isinstance(model_field, models.Field)
    return None if model_field.null else model_field.get_default()


@dataclass(frozen=True)
class Pull:
    """A field inbound sync set on an account (its new value is on the account), or,
    when not `applied`, an edit it judged and kept ours over; `note` says why."""

    account: Account
    attribute: str
    old: Any
    note: str = ""
    applied: bool = True
    new: Any = None


@dataclass
class Outcome:
    pulled: int = 0
    pushed: int = 0
    agreed: int = 0
    conflicts: int = 0
    failed: int = 0
    quarantined: int = 0
    calls: int = 0
    changed_accounts: list[Account] = field(default_factory=list)

    def add(self, other: Outcome) -> None:
        for name in ("pulled", "pushed", "agreed", "conflicts", "failed", "quarantined", "calls"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


def journal_row(
    account: Account,
    *,
    key: str,
    old: str,
    new: str,
    source: str,
    at: datetime,
    note: str = "",
    change_source: str = "",
) -> dict[str, Any]:
    """An account's journal row, as fields (for `bulk.insert` or `create(**row)`);
    `note` says why when a policy decided (both sides changed)."""
    return {
        "account_id": account.pk,
        "object_type": "account",
        "object_id": account.pk,
        "hubspot_id": account.hubspot_id or "",
        "field": key,
        "old_value": old,
        "new_value": new,
        "source": source,
        "change_source": change_source[:40],
        "note": note[:100],
        "at": at,
    }


def _conflict(
    account: Account, rule: Rule, *, base: str | None, ours: str, theirs: str, theirs_ms: int
) -> SyncConflict:
    return SyncConflict(
        account=account,
        field=rule.key,
        base_value=base or "",
        ours=ours,
        ours_at=_at(ours_ms(rule, account)),
        theirs=theirs,
        theirs_at=_at(theirs_ms),
    )


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
                if occurred > int(state.written[rule.property][3]):
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
                _agree(state, rule, theirs, now)
                outcome.pulled += 1
                changed = True
            elif decision.action == Action.AGREE:
                _agree(state, rule, theirs, now)
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
        if changed:
            outcome.changed_accounts.append(account)
    _states_save(states.values())
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
    written = state.written.get(rule.property)
    if rule.owner != fieldspecs.TWO_WAY or not written or theirs != written[0]:
        return None
    value_written, written_ms, agreed_before = written[0], int(written[1]), int(written[2])
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


def _agree(state: SyncState, rule: Rule, value: str, now: datetime) -> None:
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


def _states_save(states: Iterable[SyncState]) -> None:
    """Insert or update the states in one set-based statement."""
    rows = [
        {"account_id": s.account_id, **{name: getattr(s, name) for name in STATE_FIELDS}}
        for s in states
    ]
    bulk.upsert(SyncState, rows, unique=["account"], update=STATE_FIELDS)


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


# -- outbound ----------------------------------------------------------------------------


def dirty_accounts() -> Any:
    """Linked accounts changed since their last check, or never checked."""
    return (
        Account.objects.filter(hubspot_id__isnull=False, status=Account.Status.ACTIVE)
        .filter(
            Q(hubspot_state__isnull=True)
            | Q(hubspot_state__checked_at__isnull=True)
            | Q(updated_at__gt=F("hubspot_state__checked_at"))
        )
        .order_by("pk")
    )


PUSH_LOCK = 0x4C434850  # "LCHP": the advisory lock of the push pass


@contextmanager
def push_lock(wait_seconds: float = 60.0) -> Iterator[bool]:
    """One push pass at a time across workers (two at once would read the same
    differences and write them twice). PostgreSQL advisory lock; waits for a running
    pass to finish, so edits it did not read are pushed right after. Other databases
    (SQLite for trying the app) run passes as they come: a repeat write is harmless."""
    if connection.vendor != "postgresql":
        yield True
        return
    deadline = time.monotonic() + wait_seconds
    with connection.cursor() as cursor:
        while True:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [PUSH_LOCK])
            if cursor.fetchone()[0]:
                break
            if time.monotonic() > deadline:
                yield False
                return
            time.sleep(0.2)
    try:
        yield True
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [PUSH_LOCK])


def push_pass(client: HubSpotClient, *, rules: Sequence[Rule] | None = None) -> Outcome:
    """Write to HubSpot what only Lifecycle changed, 100 companies per call, after
    making the companies of accounts that have none (creates.py).

    HubSpot's value is the one inbound sync last saw (`SyncState.remote`); webhooks
    keep it seconds old. A 207 partial failure retries only the failed records next
    time; a record that fails MAX_PUSH_FAILURES times in a row is quarantined with
    HubSpot's message and the rest go on."""
    from .creates import companies_create

    rules = list(rules if rules is not None else rules_load())
    outcome = Outcome()
    made = companies_create(client, rules=rules)
    outcome.calls += made.calls
    outcome.pushed += made.created
    outcome.failed += made.failed
    # Checked as of a little before the read: an edit whose transaction commits after
    # our read stamped updated_at before it, and must stay "dirty". The dirty ids are
    # read once (one scan), their accounts a chunk at a time by primary key.
    checked = timezone.now() - CHECK_MARGIN
    ids = list(dirty_accounts().values_list("pk", flat=True))
    for start in range(0, len(ids), CHUNK):
        chunk = list(
            Account.objects.filter(
                pk__in=ids[start : start + CHUNK],
                hubspot_id__isnull=False,
                status=Account.Status.ACTIVE,
            )
            .select_related("hubspot_state")
            .order_by("pk")
        )
        if chunk:
            outcome.add(_push_chunk(client, chunk, rules, checked=checked))
    outcome.add(deals_push_pass(client))
    return outcome


def _push_chunk(
    client: HubSpotClient, accounts: list[Account], rules: Sequence[Rule], *, checked: datetime
) -> Outcome:
    outcome = Outcome()
    now = timezone.now()
    states: dict[int, SyncState] = {}
    inputs: dict[str, dict[str, str]] = {}
    plans: dict[str, list[tuple[Rule, Decision, str]]] = {}
    conflicts: list[SyncConflict] = []
    pulled: list[dict[str, Any]] = []
    changed_accounts: list[Account] = []
    for account in accounts:
        states[account.pk] = getattr(account, "hubspot_state", None) or SyncState(account=account)
    outcome.calls += _history_read(client, accounts, states, rules)
    timed_rules = {r.key: _timed(r) for r in rules}
    for account in accounts:
        state = states[account.pk]
        hid = account.hubspot_id or ""
        if _quarantined(state, account):
            continue  # tried MAX_PUSH_FAILURES times; again once the account changes
        for rule in rules:
            ours = ours_value(rule, account)
            theirs = state.remote.get(rule.property)
            base = state.base.get(rule.key)
            decision = decide(
                rule,
                ours=ours,
                theirs=theirs,
                base=base,
                ours_ms=ours_ms(rule, account) if timed_rules[rule.key] else 0,
                theirs_ms=_theirs_ms(state, rule) if timed_rules[rule.key] else 0,
            )
            if decision.action == Action.PUSH:
                inputs.setdefault(hid, {})[rule.property] = decision.value
                plans.setdefault(hid, []).append((rule, decision, theirs or ""))
            elif decision.action == Action.AGREE:
                _agree(state, rule, decision.value, now)
            elif decision.action == Action.PULL:
                setattr(account, rule.spec.attribute, local_value(rule, decision.value))
                pulled.append(
                    journal_row(
                        account,
                        key=rule.spec.attribute,
                        old=ours,
                        new=decision.value,
                        source=SyncSource.POLL,
                        at=now,
                    )
                )
                _agree(state, rule, decision.value, now)
                changed_accounts.append(account)
                outcome.pulled += 1
            elif decision.action == Action.CONFLICT and theirs is not None:
                conflicts.append(
                    _conflict(
                        account,
                        rule,
                        base=base,
                        ours=ours,
                        theirs=theirs,
                        theirs_ms=_theirs_ms(state, rule),
                    )
                )
    for account in accounts:
        # Our id rides along with the first write, for upserts and for people reading
        # the company in HubSpot.
        pushing = inputs.get(account.hubspot_id or "")
        if pushing is not None and fieldspecs.ACCOUNT_ID_PROPERTY not in states[account.pk].written:
            pushing[fieldspecs.ACCOUNT_ID_PROPERTY] = str(account.pk)
    succeeded: set[str] = set()
    errors: dict[str, str] = {}
    items = list(inputs.items())
    for start in range(0, len(items), BATCH):
        ok, failed, calls = _send(client, dict(items[start : start + BATCH]))
        succeeded |= ok
        errors.update(failed)
        outcome.calls += calls
    by_hid = {a.hubspot_id: a for a in accounts}
    journal: list[dict[str, Any]] = list(pulled)
    issues: list[SyncIssue] = []
    for hid, properties in inputs.items():
        account = by_hid[hid]
        state = states[account.pk]
        if hid in succeeded:
            for rule, decision, theirs in plans[hid]:
                agreed_before = int(state.base_at.get(rule.key, 0))
                _agree(state, rule, decision.value, now)
                state.remote[rule.property] = decision.value
                # The ledger: what we wrote, when, when the sides last agreed before
                # it, and when our edit was made (to judge edits it overwrote).
                state.written[rule.property] = [
                    decision.value,
                    epoch_ms(now),
                    agreed_before,
                    ours_ms(rule, account),
                ]
                journal.append(
                    journal_row(
                        account,
                        key=rule.spec.attribute,
                        old=theirs,
                        new=decision.value,
                        source=SyncSource.PUSH,
                        at=now,
                        note=decision.reason,
                    )
                )
            if fieldspecs.ACCOUNT_ID_PROPERTY in properties:
                state.written[fieldspecs.ACCOUNT_ID_PROPERTY] = [
                    str(account.pk),
                    epoch_ms(now),
                    0,
                    0,
                ]
            state.pushed_at = now
            state.push_failures = 0
            outcome.pushed += 1
            continue
        state.push_failures += 1
        state.pushed_at = now  # the last attempt
        outcome.failed += 1
        message = errors.get(hid, "HubSpot did not confirm the write")
        if state.push_failures >= MAX_PUSH_FAILURES:
            issues.append(
                SyncIssue(
                    object_type="companies",
                    hubspot_id=hid,
                    reason=f"Push failed {state.push_failures} times: {message}"[:500],
                    payload={"properties": properties},
                    source=SyncSource.PUSH,
                    first_seen_at=now,
                    last_seen_at=now,
                )
            )
            outcome.quarantined += 1
    with transaction.atomic():
        for account in accounts:
            state = states[account.pk]
            failed_now = account.hubspot_id in inputs and account.hubspot_id not in succeeded
            quarantined = failed_now and state.push_failures >= MAX_PUSH_FAILURES
            # Checked: until the account changes again, unless it must be retried.
            state.checked_at = None if failed_now and not quarantined else checked
        if changed_accounts:
            Account.objects.bulk_update(
                changed_accounts, [*sorted({r["field"] for r in pulled}), "updated_at"]
            )
        _states_save(states.values())
        bulk.insert(SyncChange, journal)
        if conflicts:
            outcome.conflicts += len(
                SyncConflict.objects.bulk_create(conflicts, ignore_conflicts=True)
            )
        if issues:
            SyncIssue.objects.bulk_create(
                issues,
                update_conflicts=True,
                unique_fields=["object_type", "hubspot_id"],
                update_fields=["reason", "payload", "source", "last_seen_at", "resolved_at"],
            )
    return outcome


HISTORY_BATCH = 50  # HubSpot's cap on batch reads with propertiesWithHistory


def _history_read(
    client: HubSpotClient,
    accounts: Sequence[Account],
    states: dict[int, SyncState],
    rules: Sequence[Rule],
) -> int:
    """For latest-wins fields both sides changed, learn from HubSpot's property history
    when its current value was set (into `SyncState.remote_at`). Only those records
    and properties are read, 50 per call. Returns the calls made; when HubSpot cannot
    answer, the record's modified time stands in."""
    wanted: dict[str, set[str]] = {}
    rules_by_property = {r.property: r for r in rules}
    timed = [r for r in rules if _timed(r)]
    for account in accounts if timed else ():
        state = states[account.pk]
        for rule in timed:
            theirs = state.remote.get(rule.property)
            if rule.property in state.remote_at or not _latest_undecided(
                rule, ours=ours_value(rule, account), theirs=theirs, base=state.base.get(rule.key)
            ):
                continue
            wanted.setdefault(account.hubspot_id or "", set()).add(rule.property)
    if not wanted:
        return 0
    by_hid = {a.hubspot_id: states[a.pk] for a in accounts}
    properties = sorted(set().union(*wanted.values()))
    try:
        result = client.batch_read("companies", sorted(wanted), properties_with_history=properties)
    except HubSpotError as exc:
        logger.warning("HubSpot property history could not be read: %s", exc)
        return -(-len(wanted) // HISTORY_BATCH)
    for row in result.results:
        read = by_hid.get(str(row.get("id")))
        if read is None:
            continue
        history = row.get("propertiesWithHistory") or {}
        for prop in wanted.get(str(row.get("id")), ()):
            rule = rules_by_property[prop]
            theirs = read.remote.get(prop)
            for entry in history.get(prop) or []:  # newest first
                try:
                    value = rule.spec.canonical_remote(entry.get("value"))
                except Unmappable:
                    continue
                if value == theirs:
                    read.remote_at[prop] = parse_ms(str(entry.get("timestamp") or ""))
                    break
            else:
                read.remote_at[prop] = read.remote_ms  # no history: the record's time
    return -(-len(wanted) // HISTORY_BATCH)


def _quarantined(state: SyncState, account: Account) -> bool:
    """Failed too often, and unchanged since the last attempt."""
    return (
        state.push_failures >= MAX_PUSH_FAILURES
        and state.pushed_at is not None
        and account.updated_at <= state.pushed_at
    )


def _send(
    client: HubSpotClient, inputs: dict[str, dict[str, str]]
) -> tuple[set[str], dict[str, str], int]:
    """Batch-update companies; (ids HubSpot confirmed, {id: error message}, calls).
    A batch HubSpot rejects as a whole (400) is retried one record at a time, so one
    bad record cannot hold back the other 99."""
    if not inputs:
        return set(), {}, 0
    payload: list[dict[str, Any]] = [
        {"id": hid, "properties": props} for hid, props in inputs.items()
    ]
    try:
        result = client.batch_update("companies", payload)
    except HubSpotError as exc:
        if exc.status != 400:
            return set(), dict.fromkeys(inputs, str(exc)), 1
        ok: set[str] = set()
        errors: dict[str, str] = {}
        for item in payload:
            try:
                client.update("companies", item["id"], properties=item["properties"])
                ok.add(item["id"])
            except HubSpotError as single:
                errors[item["id"]] = single.message or str(single)
        return ok, errors, 1 + len(payload)
    succeeded = {str(r.get("id")) for r in result.results}
    errors = {}
    for error in result.errors:
        for hid in (error.get("context") or {}).get("ids") or []:
            errors[str(hid)] = str(error.get("message", ""))
    return succeeded, errors, -(-len(payload) // BATCH)


# -- conflicts ---------------------------------------------------------------------------


def conflict_resolve(conflict: SyncConflict, *, value: str, by: User) -> SyncConflict:
    """A person's answer: `value` (canonical) becomes ours now and HubSpot's at the next
    push. Done by setting the base to HubSpot's current value, so the next pass sees
    "only Lifecycle changed" and pushes (or agrees, if HubSpot holds it already)."""
    rules = {r.key: r for r in rules_load()}
    rule = rules.get(conflict.field)
    if rule is None:
        raise ValueError(f"{conflict.field} is not synced any more")
    try:
        local = local_value(rule, value)
        canonical = rule.spec.canonical_local(local)
    except (Unmappable, ValueError, ArithmeticError) as exc:
        raise ValueError(f"{value!r} is not a valid {rule.spec.label}: {exc}") from exc
    now = timezone.now()
    with transaction.atomic():
        account = Account.objects.select_for_update().get(pk=conflict.account_id)
        state, _ = SyncState.objects.get_or_create(account=account)
        old = ours_value(rule, account)
        setattr(account, rule.spec.attribute, local)
        account.save(update_fields=[rule.spec.attribute, "updated_at"])
        theirs = state.remote.get(rule.property)
        if theirs is not None:
            _agree(state, rule, theirs, now)
        state.checked_at = None
        state.save()
        conflict.status = SyncConflict.Status.RESOLVED
        conflict.resolution = canonical
        conflict.resolved_by = by
        conflict.resolved_at = now
        conflict.save(update_fields=["status", "resolution", "resolved_by", "resolved_at"])
        SyncChange.objects.create(
            **journal_row(
                account,
                key=rule.spec.attribute,
                old=old,
                new=canonical,
                source=SyncSource.RESOLVE,
                at=now,
                change_source=by.get_full_name() or by.email or by.username,
            )
        )
    return conflict


# -- provisioning ------------------------------------------------------------------------


@dataclass
class Provisioned:
    group_created: bool = False
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)


def _created(create: Callable[[], Any]) -> bool:
    """Run a create; another worker provisioning at the same moment (409) is fine."""
    try:
        create()
    except HubSpotError as exc:
        if exc.status == 409:
            return False
        raise
    return True


def provision(client: HubSpotClient) -> Provisioned:
    """Make the portal hold what Lifecycle writes: the property group, each custom
    company property with its type, enumeration options in step with our choices, and
    the unique `lifecycle_account_id`. Idempotent: run on connect and before pushes."""
    done = Provisioned()
    for object_type in ("companies", "deals"):
        groups = {g.get("name") for g in client.property_groups(object_type)}
        if fieldspecs.PROPERTY_GROUP["name"] not in groups:
            done.group_created |= _created(
                partial(client.create_property_group, object_type, dict(fieldspecs.PROPERTY_GROUP))
            )
    deal_props = {p["name"] for p in client.properties("deals")}
    if DEAL_ID_PROPERTY not in deal_props and _created(
        partial(client.create_property, "deals", fieldspecs.DEAL_ID_DEFINITION)
    ):
        done.created.append(DEAL_ID_PROPERTY)
    existing = {p["name"]: p for p in client.properties("companies")}
    for definition in fieldspecs.definitions():
        current = existing.get(definition["name"])
        if current is None:
            if _created(partial(client.create_property, "companies", definition)):
                done.created.append(definition["name"])
            continue
        wanted = [(o["value"], o["label"]) for o in definition.get("options") or []]
        have = [(o.get("value"), o.get("label")) for o in current.get("options") or []]
        if wanted and wanted != have:
            client.update_property(
                "companies", definition["name"], {"options": definition["options"]}
            )
            done.updated.append(definition["name"])
    return done


# -- deals made in Lifecycle ---------------------------------------------------------------

DEAL_ID_PROPERTY = fieldspecs.DEAL_ID_PROPERTY
DEAL_TO_COMPANY_PRIMARY = 5  # HUBSPOT_DEFINED association type


def dirty_deals() -> Any:
    """Deals made in Lifecycle, of linked accounts, changed since HubSpot took them."""
    return (
        Deal.objects.filter(created_in_lifecycle=True, account__hubspot_id__isnull=False)
        .filter(Q(hubspot_pushed_at__isnull=True) | Q(updated_at__gt=F("hubspot_pushed_at")))
        .select_related("account", "pipeline", "stage")
        .order_by("pk")
    )


def _hash(properties: dict[str, str]) -> str:
    return hashlib.sha256(json.dumps(properties, sort_keys=True).encode()).hexdigest()


def _deal_key(deal: Deal) -> str:
    return f"lifecycle:{deal.pk}"


def _deal_properties(deal: Deal) -> dict[str, str]:
    """The deal as HubSpot stores it; ValueError when its pipeline is not HubSpot's."""
    if not deal.pipeline.hubspot_id or not deal.stage.hubspot_id:
        raise ValueError(
            f"pipeline {deal.pipeline.label} / stage {deal.stage.label} is not a HubSpot "
            "pipeline stage: map the renewal pipeline to one imported from HubSpot"
        )
    close = ""
    if deal.close_date:
        close = str(int(datetime(*deal.close_date.timetuple()[:3], tzinfo=UTC).timestamp() * 1000))
    return {
        DEAL_ID_PROPERTY: str(deal.pk),
        "dealname": deal.name,
        "amount": fieldspecs.canonical_number(deal.amount),
        "closedate": close,
        "pipeline": deal.pipeline.hubspot_id,
        "dealstage": deal.stage.hubspot_id,
    }


def deal_fingerprint(deal: Deal) -> str:
    """The hash of the deal as HubSpot stores it (ValueError: not a HubSpot pipeline)."""
    return _hash(_deal_properties(deal))


def deals_push_pass(client: HubSpotClient) -> Outcome:
    """Create or update in HubSpot the deals Lifecycle made (renewals, expansions),
    associated to their company. Upserts on the unique `lifecycle_deal_id`, so a write
    retried after a crash finds the deal it made instead of making another."""
    outcome = Outcome()
    last_pk = 0
    while True:
        checked = timezone.now() - CHECK_MARGIN
        deals = list(dirty_deals().filter(pk__gt=last_pk)[:CHUNK])
        if not deals:
            return outcome
        last_pk = deals[-1].pk
        outcome.add(_deals_push_chunk(client, deals, checked=checked))


def _deals_push_chunk(client: HubSpotClient, deals: list[Deal], *, checked: datetime) -> Outcome:
    outcome = Outcome()
    now = timezone.now()
    keys = {_deal_key(d) for d in deals} | {d.hubspot_id for d in deals if d.hubspot_id}
    open_issues = {
        i.hubspot_id: i.last_seen_at
        for i in SyncIssue.objects.filter(
            object_type="deals", hubspot_id__in=keys, resolved_at__isnull=True
        )
    }
    inputs: dict[str, dict[str, str]] = {}
    failed: dict[Deal, str] = {}
    done: list[Deal] = []
    unchanged: list[Deal] = []
    for deal in deals:
        seen = open_issues.get(deal.hubspot_id or _deal_key(deal))
        if seen is not None and deal.updated_at <= seen:
            continue  # quarantined; tried again once the deal changes
        try:
            properties = _deal_properties(deal)
        except ValueError as exc:
            failed[deal] = str(exc)
            continue
        if deal.hubspot_id and _hash(properties) == deal.hubspot_pushed_hash:
            unchanged.append(deal)  # touched, but nothing HubSpot holds changed
            continue
        inputs[str(deal.pk)] = properties
    by_pk = {str(d.pk): d for d in deals}
    items = list(inputs.items())
    links: list[tuple[str, str, int]] = []
    for start in range(0, len(items), BATCH):
        chunk = items[start : start + BATCH]
        payload = [{"id": pk, "properties": props} for pk, props in chunk]
        try:
            result = client.batch_upsert("deals", payload, id_property=DEAL_ID_PROPERTY)
        except HubSpotError as exc:
            for pk, _ in chunk:
                failed[by_pk[pk]] = exc.message or str(exc)
            outcome.calls += 1
            continue
        outcome.calls += 1
        for row in result.results:
            pk = str((row.get("properties") or {}).get(DEAL_ID_PROPERTY, ""))
            made = by_pk.get(pk)
            if made is None:
                continue
            made.hubspot_id = str(row["id"])
            links.append((made.hubspot_id, made.account.hubspot_id or "", DEAL_TO_COMPANY_PRIMARY))
            done.append(made)
        for error in result.errors:
            for pk in (error.get("context") or {}).get("ids") or []:
                if str(pk) in by_pk:
                    failed[by_pk[str(pk)]] = str(error.get("message", ""))
    if links:
        try:
            client.create_associations("deals", "companies", links)
            outcome.calls += -(-len(links) // BATCH)
        except HubSpotError as exc:
            # The deals exist; the association is made again on their next push.
            logger.warning("HubSpot deal associations failed: %s", exc)
            done = []
    with transaction.atomic():
        for deal in done:
            Deal.objects.filter(pk=deal.pk).update(
                hubspot_id=deal.hubspot_id,
                hubspot_pushed_at=checked,
                hubspot_pushed_hash=_hash(inputs[str(deal.pk)]),
            )
        if unchanged:
            Deal.objects.filter(pk__in=[d.pk for d in unchanged]).update(hubspot_pushed_at=checked)
        if done:
            SyncChange.objects.bulk_create(
                [
                    SyncChange(
                        account_id=d.account_id,
                        object_type="deal",
                        object_id=d.pk,
                        hubspot_id=d.hubspot_id or "",
                        field="pushed",
                        old_value="",
                        new_value=f"{d.name}: {d.amount} ({d.stage.label})",
                        source=SyncSource.PUSH,
                        at=now,
                    )
                    for d in done
                ]
            )
            SyncIssue.objects.filter(
                object_type="deals",
                hubspot_id__in=[_deal_key(d) for d in done],
                resolved_at__isnull=True,
            ).update(resolved_at=now)
        if failed:
            SyncIssue.objects.bulk_create(
                [
                    SyncIssue(
                        object_type="deals",
                        hubspot_id=deal.hubspot_id or _deal_key(deal),
                        reason=f"Push of Lifecycle deal {deal.name} failed: {message}"[:500],
                        payload={"deal": deal.pk, "account": deal.account_id},
                        source=SyncSource.PUSH,
                        first_seen_at=now,
                        last_seen_at=now,
                    )
                    for deal, message in failed.items()
                ],
                update_conflicts=True,
                unique_fields=["object_type", "hubspot_id"],
                update_fields=["reason", "payload", "source", "last_seen_at", "resolved_at"],
            )
    outcome.pushed += len(done)
    outcome.failed += len(failed)
    return outcome

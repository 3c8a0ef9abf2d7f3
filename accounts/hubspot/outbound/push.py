"""Outbound half of two-way sync: the push pass. Under one advisory lock it reads the
accounts whose synced fields changed since the base, reads what HubSpot holds now for
them (push_read.py: current values, and property history where a value changed since
the base), decides per field (threeway) on that, and writes in batches of 100 companies
through the outbox (outbox.py: journaled before the send, confirmed after). A crash
loses nothing: the next pass sees the same differences, and the journal what was sent.

The accounts are pushed in PUSH_PARTITIONS partitions (account id modulo), each under
an advisory lock of its own taken without waiting, a group of partitions at a time
(enough to fill a chunk, so batches stay full). A pass skips a partition another process
holds (and says so in `Outcome.deferred`, so a pass is queued again), which lets helper
tasks (`accounts_push`, queued by a large pass through `fan_out`) push other partitions
of the same work on other workers at the same time. An account is only ever pushed by
the one process holding its partition; creates, deals and provisioning stay with the
pass holding the pass lock."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from accounts import bulk
from accounts.hubspot.field_state import FieldSync, Written
from accounts.hubspot.models import SyncChange, SyncConflict, SyncIssue, SyncSource, SyncState
from accounts.hubspot.outbound import failures, push_read
from accounts.hubspot.outbound.deal_push import deals_push_pass
from accounts.hubspot.outbound.outbox import Sent, outbox_send
from accounts.hubspot.rules import fields as fieldspecs
from accounts.hubspot.rules import provenance, sync_state
from accounts.hubspot.rules.field_rules import (
    CHECK_MARGIN,
    Outcome,
    _conflict,
    _latest_undecided,
    _theirs_ms,
    _timed,
    epoch_ms,
    journal_row,
    local_value,
    ours_ms,
    ours_reset,
    ours_value,
    rules_load,
)
from accounts.hubspot.rules.open_conflicts import OpenConflicts
from accounts.hubspot.rules.outbox_seen import outbox_confirm_seen, unconfirmed_accounts
from accounts.hubspot.rules.threeway import Action, Decision, Rule, decide
from accounts.hubspot.transport.client import HubSpotClient
from accounts.models import Account

logger = logging.getLogger(__name__)
CHUNK = 500  # accounts read, compared and saved per database round trip


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
# Due accounts are pushed in this many partitions (id modulo), each under the advisory
# lock (PUSH_LOCK, partition): two processes never push the same account at once.
PUSH_PARTITIONS = 16


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


@contextmanager
def partition_lock(partition: int) -> Iterator[bool]:
    """The lock of one partition of the due accounts, taken without waiting: False when
    another process holds it (it is pushing those accounts now)."""
    if connection.vendor != "postgresql":
        yield True
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [PUSH_LOCK, partition])
        if not cursor.fetchone()[0]:
            yield False
            return
    try:
        yield True
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [PUSH_LOCK, partition])


def push_pass(
    client: HubSpotClient,
    *,
    rules: Sequence[Rule] | None = None,
    fan_out: Callable[[int], None] | None = None,
    on_deferred: Callable[[], None] | None = None,
) -> Outcome:
    """Write to HubSpot what only Lifecycle changed, 100 companies per call, after
    making the companies of accounts that have none (creates.py). `fan_out` and
    `on_deferred`: see accounts_push.

    HubSpot's value is the one it holds when the pass runs (read before write), never
    only the one inbound sync last saw. A 207 partial failure retries only the failed
    records: a record HubSpot refuses as invalid is quarantined with its reason, one
    that failed for a transient reason is retried after a backoff (failures.py)."""
    from accounts.hubspot.outbound.creates import companies_create

    rules = list(rules if rules is not None else rules_load())
    outcome = Outcome()
    made = companies_create(client, rules=rules)
    outcome.calls += made.calls
    outcome.pushed += made.created
    outcome.failed += made.failed
    outcome.add(accounts_push(client, rules=rules, fan_out=fan_out, on_deferred=on_deferred))
    outcome.add(deals_push_pass(client))
    return outcome


def accounts_push(
    client: HubSpotClient,
    *,
    rules: Sequence[Rule] | None = None,
    fan_out: Callable[[int], None] | None = None,
    on_deferred: Callable[[], None] | None = None,
) -> Outcome:
    """Push the due accounts partition by partition, skipping the partitions another
    process holds. `fan_out(n)` is called with the number of due accounts before any is
    pushed (the task queues helpers for a large pass). When partitions were skipped and
    `on_deferred` is given, it is called (the task notes that a pass is wanted, which
    the holder queues when it ends), then the skipped partitions are tried once more: a
    holder that finished in between is not counted on to see the note. What is still
    held is counted in `deferred`. Helper tasks call this alone, without on_deferred:
    a partition another process holds is that process's work."""
    rules = list(rules if rules is not None else rules_load())
    outcome = Outcome()
    # Checked as of a little before the read: an edit whose transaction commits after
    # our read stamped updated_at before it, and must stay "dirty". The dirty ids are
    # read once (one scan), their accounts a chunk at a time by primary key.
    checked = timezone.now() - CHECK_MARGIN
    ids = list(dirty_accounts().values_list("pk", flat=True))
    if fan_out is not None and ids:
        fan_out(len(ids))
    partitions: dict[int, list[int]] = {}
    for pk in ids:
        partitions.setdefault(pk % PUSH_PARTITIONS, []).append(pk)
    held = _partitions_push(client, partitions, rules, checked, outcome)
    if held and on_deferred is not None:
        on_deferred()
        held = _partitions_push(client, {n: partitions[n] for n in held}, rules, checked, outcome)
    outcome.deferred += len(held)
    return outcome


def _partitions_push(
    client: HubSpotClient,
    partitions: dict[int, list[int]],
    rules: Sequence[Rule],
    checked: datetime,
    outcome: Outcome,
) -> list[int]:
    """Push the due accounts of these partitions, a group of partitions at a time: as
    many as it takes to fill a chunk (CHUNK accounts), so a small pass makes the same
    100-company batches as one without partitions, and a large one leaves groups for its
    helpers. Returns the partitions another process held (skipped)."""
    held: list[int] = []
    pending = sorted(partitions)
    while pending:
        with ExitStack() as locks:
            group: list[int] = []
            while pending and len(group) < CHUNK:
                partition = pending.pop(0)
                if locks.enter_context(partition_lock(partition)):
                    group += partitions[partition]
                else:
                    held.append(partition)
            group.sort()
            for start in range(0, len(group), CHUNK):
                # Still due: another process may have pushed some since the ids were read.
                chunk = list(
                    dirty_accounts()
                    .filter(pk__in=group[start : start + CHUNK])
                    .select_related("hubspot_state")
                )
                if chunk:
                    outcome.add(_push_chunk(client, chunk, rules, checked=checked))
    return held


def _push_chunk(
    client: HubSpotClient, accounts: list[Account], rules: Sequence[Rule], *, checked: datetime
) -> Outcome:
    """Read what HubSpot holds now for the accounts with something to write, decide
    each field on it, write through the outbox, and save what both sides agree on."""
    outcome = Outcome()
    now = timezone.now()
    states = {a.pk: getattr(a, "hubspot_state", None) or SyncState(account=a) for a in accounts}
    refusals = failures.refusals(a.hubspot_id or "" for a in accounts)
    # Refused by HubSpot (held until the account changes), or backing off after a
    # transient failure (looked at again by the next pass).
    waiting_ids = {a.pk for a in accounts if not failures.retry_due(states[a.pk], now)}
    live = [
        a
        for a in accounts
        if a.pk not in waiting_ids and not failures.held(refusals, a.hubspot_id or "", a.updated_at)
    ]
    # Fields waiting in an open conflict: not written, but the conflict follows our value.
    held = OpenConflicts.load((a.pk for a in live), now)
    waiting = held.keys()
    # Our value of each field, canonical, once per account (read, history and plan all
    # compare it; a pull below changes only its own field's).
    ours = {a.pk: {r.key: ours_value(r, a) for r in rules} for a in live}
    to_read = _to_read(live, states, rules, waiting, ours)
    merged_away: set[int] = set()
    outcome.calls += push_read.current_read(
        client, to_read, states, rules, ours=ours, merged_away=merged_away
    )
    # Linked to a company HubSpot merged into another: left to the merge (poll or
    # webhook), which archives them; due until then, never written onto the survivor.
    waiting_ids |= merged_away
    plan = _Plan(now=now, held=held, unconfirmed=unconfirmed_accounts(a.pk for a in live))
    for account in live:
        if account.pk not in merged_away:
            plan.account(account, states[account.pk], rules, ours[account.pk])
    outbox_confirm_seen(plan.seen)
    sent = outbox_send(client, plan.inputs, plan.journal)
    outcome.calls += sent.calls
    issues = _results(plan, sent, states, accounts, outcome)
    refused = {issue.hubspot_id for issue in issues}
    with transaction.atomic():
        # Someone changed a field this chunk would pull since it read the account (a
        # person's edit while HubSpot was read): that account's pulls are dropped, its
        # base left as it was, and it stays due, so the next pass decides on the edit.
        raced = _pulls_raced(plan)
        waiting_ids |= raced
        for account in accounts:
            state = states[account.pk]
            hid = account.hubspot_id or ""
            failed_now = hid in plan.inputs and hid not in sent.confirmed and hid not in refused
            # Checked: until the account changes again, unless it must be retried.
            state.checked_at = None if failed_now or account.pk in waiting_ids else checked
            if account.pk not in waiting_ids and hid not in plan.inputs:
                # Nothing left to retry: HubSpot holds what we would write (a write that
                # landed though its answer was lost), so no backoff stays behind.
                state.push_failures = 0
        if plan.changed_accounts:
            fields = sorted({r["field"] for r in plan.pulled})
            Account.objects.bulk_update(plan.changed_accounts, [*fields, "updated_at"])
        sync_state.states_save(states.values())
        failures.issues_resolve(set(sent.confirmed) & set(refusals), now)
        bulk.insert(SyncChange, plan.pulled)
        if plan.conflicts:
            made = SyncConflict.objects.bulk_create(plan.conflicts, ignore_conflicts=True)
            outcome.conflicts += len(made)
        _issues_save(issues)
        held.save()
    outcome.pulled += len(plan.pulled)
    return outcome


def _to_read(
    accounts: Sequence[Account],
    states: dict[int, SyncState],
    rules: Sequence[Rule],
    waiting: set[tuple[int, str]],
    ours: dict[int, dict[str, str]],
) -> list[Account]:
    """Accounts with a field the push pass may write or must time: Lifecycle changed a
    field it may push since the base, or both sides changed a latest-wins field (not
    one whose conflict waits for a person)."""
    wanted = []
    for account in accounts:
        state = states[account.pk]
        values = ours[account.pk]
        for rule in rules:
            if (account.pk, rule.key) in waiting:
                continue
            value = values[rule.key]
            base = sync_state.base_of(state, rule.key)
            theirs = sync_state.remote_of(state, rule)
            reset = ours_reset(rule, account, state.fields.get(rule.key), value)
            if (rule.pushes and (value != base or reset)) or _latest_undecided(
                rule, ours=value, theirs=theirs, base=base, ours_reset=reset
            ):
                wanted.append(account)
                break
    return wanted


@dataclass
class _Plan:
    """The decisions of one chunk: what to write (with its journal rows, sent through
    the outbox), what to pull, which conflicts to open."""

    now: datetime
    held: OpenConflicts
    inputs: dict[str, dict[str, str]] = field(default_factory=dict)
    journal: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    writes: dict[str, list[tuple[Rule, str]]] = field(default_factory=dict)
    pulled: list[dict[str, Any]] = field(default_factory=list)
    changed_accounts: list[Account] = field(default_factory=list)
    conflicts: list[SyncConflict] = field(default_factory=list)
    # Accounts with writes "sent, unconfirmed", and (account, field, value) of theirs
    # HubSpot holds as we do: confirms those writes.
    unconfirmed: set[int] = field(default_factory=set)
    seen: list[tuple[int, str, str]] = field(default_factory=list)
    # Each pull: the account, its rule, our value as read, and the base before it.
    pulls: list[tuple[Account, Rule, str, FieldSync, str | None, int]] = field(default_factory=list)

    def account(
        self, account: Account, state: SyncState, rules: Sequence[Rule], values: dict[str, str]
    ) -> None:
        for rule in rules:
            entry = sync_state.field_of(state, rule)
            ours = values[rule.key]
            if self.held.holds(account, rule):
                self.held.follow(account, rule, entry, ours=ours, theirs_ms=_theirs_ms(state, rule))
                continue
            timed = _timed(rule)
            decision = decide(
                rule,
                ours=ours,
                theirs=entry.remote,
                base=entry.base,
                ours_ms=ours_ms(rule, account) if timed else 0,
                theirs_ms=_theirs_ms(state, rule) if timed else 0,
                theirs_reset=entry.reset_ms > 0,
                ours_reset=ours_reset(rule, account, entry, ours),
            )
            if decision.action == Action.PUSH:
                self._write(account, rule, entry, decision)
            elif decision.action == Action.AGREE:
                entry.agree(decision.value, epoch_ms(self.now))
            elif decision.action == Action.PULL:
                self._pull(account, rule, entry, ours, decision)
            elif decision.action == Action.CONFLICT and entry.remote is not None:
                self.conflicts.append(
                    _conflict(
                        account,
                        rule,
                        base=entry.base,
                        ours=ours,
                        theirs=entry.remote,
                        theirs_ms=_theirs_ms(state, rule),
                    )
                )
            if entry.remote == ours and account.pk in self.unconfirmed:
                # Also when it is the base already: a write that put the base back over
                # another author's edit, whose worker died, and that inbound then agreed.
                self.seen.append((account.pk, rule.spec.attribute, ours))
        hid = account.hubspot_id or ""
        if hid in self.inputs and not sync_state.id_written(state):
            # Our id rides along with the first write, for upserts and for people
            # reading the company in HubSpot.
            self.inputs[hid][fieldspecs.ACCOUNT_ID_PROPERTY] = str(account.pk)

    def _write(self, account: Account, rule: Rule, entry: FieldSync, decision: Decision) -> None:
        hid = account.hubspot_id or ""
        theirs = entry.remote or ""
        # Whose value this write replaces, when it is another author's edit.
        overwritten = entry.changed_remotely()
        self.inputs.setdefault(hid, {})[rule.property] = decision.value
        self.writes.setdefault(hid, []).append((rule, decision.value))
        self.journal.setdefault(hid, []).append(
            journal_row(
                account,
                key=rule.spec.attribute,
                old=theirs,
                new=decision.value,
                source=SyncSource.PUSH,
                at=self.now,
                note=decision.reason,
                old_by=entry.remote_by if overwritten else "",
            )
        )

    def _pull(
        self, account: Account, rule: Rule, entry: FieldSync, ours: str, decision: Decision
    ) -> None:
        value = decision.value
        setattr(account, rule.spec.attribute, local_value(rule, value))
        self.pulled.append(
            journal_row(
                account,
                key=rule.spec.attribute,
                old=ours,
                new=value,
                source=SyncSource.POLL,
                at=self.now,
                note=decision.reason if entry.base is not None and ours != entry.base else "",
                change_source=entry.remote_by,
            )
        )
        self.pulls.append((account, rule, ours, entry, entry.base, entry.base_ms))
        entry.agree(value, epoch_ms(self.now))
        if account not in self.changed_accounts:
            self.changed_accounts.append(account)


def _pulls_raced(plan: _Plan) -> set[int]:
    """The accounts whose pulled fields no longer hold the value the plan read, locked
    until the chunk commits (an edit from now on waits, then lands after the pull, newer
    and due); their pulls are taken out of the plan and their bases put back."""
    if not plan.pulls:
        return set()
    pks = {account.pk for account, *_ in plan.pulls}
    locked = Account.objects.select_for_update(of=("self",)).filter(pk__in=pks).order_by("pk")
    fresh = {a.pk: a for a in locked}
    raced = {
        account.pk
        for account, rule, ours, *_ in plan.pulls
        if account.pk not in fresh or ours_value(rule, fresh[account.pk]) != ours
    }
    if raced:
        for account, _rule, _ours, entry, base, base_ms in plan.pulls:
            if account.pk in raced:
                entry.base, entry.base_ms = base, base_ms
        plan.pulled = [row for row in plan.pulled if row["account_id"] not in raced]
        plan.changed_accounts = [a for a in plan.changed_accounts if a.pk not in raced]
        logger.info("HubSpot push: %s accounts edited while read, left due", len(raced))
    return raced


def _results(
    plan: _Plan,
    sent: Sent,
    states: dict[int, SyncState],
    accounts: Sequence[Account],
    outcome: Outcome,
) -> list[SyncIssue]:
    """Note in the states what HubSpot took (the new base, and our write's ledger with
    the time HubSpot recorded it) and count what it did not: a record HubSpot refused
    becomes an issue, one that failed for a transient reason backs off (failures.py)."""
    by_hid = {a.hubspot_id: a for a in accounts}
    issues: list[SyncIssue] = []
    now_ms = epoch_ms(plan.now)
    for hid, properties in plan.inputs.items():
        account = by_hid[hid]
        state = states[account.pk]
        if hid in sent.confirmed:
            written_ms = sent.confirmed[hid] or now_ms
            for rule, value in plan.writes.get(hid, ()):
                entry = sync_state.field_of(state, rule)
                # When HubSpot's value before ours was set, by HubSpot's clock like
                # written_ms: edits in between are ones our write replaced.
                agreed_before = entry.remote_ms or state.remote_ms
                entry.agree(value, written_ms)
                entry.remote, entry.remote_ms = value, written_ms
                entry.remote_by = provenance.our_author()
                entry.written = Written(value, written_ms, agreed_before, ours_ms(rule, account))
            if fieldspecs.ACCOUNT_ID_PROPERTY in properties:
                sync_state.id_write(state, account.pk, written_ms)
            state.pushed_at = plan.now
            state.push_failures = 0
            outcome.pushed += 1
            continue
        failure = sent.errors.get(hid, failures.UNCONFIRMED)
        issue = failures.failure_apply(
            state, failure, hubspot_id=hid, properties=properties, now=plan.now
        )
        outcome.failed += 1
        if issue is not None:
            issues.append(issue)
            outcome.quarantined += 1
    return issues


def _issues_save(issues: list[SyncIssue]) -> None:
    if issues:
        SyncIssue.objects.bulk_create(
            issues,
            update_conflicts=True,
            unique_fields=["object_type", "hubspot_id"],
            update_fields=["reason", "payload", "source", "last_seen_at", "resolved_at"],
        )

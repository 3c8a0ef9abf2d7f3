"""Outbound half of two-way sync: the push pass. Under one advisory lock it reads the
accounts whose synced fields changed since the base, decides per field (threeway), reads
property history where timing decides, and writes what only we changed in batches of
100 companies. A crash loses nothing: the next pass sees the same differences."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from accounts import bulk
from accounts.hubspot.models import SyncChange, SyncConflict, SyncIssue, SyncSource, SyncState
from accounts.hubspot.outbound import failures
from accounts.hubspot.outbound.deal_push import deals_push_pass
from accounts.hubspot.rules import fields as fieldspecs
from accounts.hubspot.rules import sync_state
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
    ours_value,
    rules_load,
)
from accounts.hubspot.rules.mapping import Unmappable, parse_ms
from accounts.hubspot.rules.threeway import Action, Decision, Rule, decide
from accounts.hubspot.transport.client import HubSpotClient
from accounts.hubspot.transport.errors import HubSpotError
from accounts.models import Account

logger = logging.getLogger(__name__)
BATCH = 100  # companies per HubSpot batch update
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
    keep it seconds old. A 207 partial failure retries only the failed records: a
    record HubSpot refuses as invalid is quarantined with its reason, one that failed
    for a transient reason is retried after a backoff (outbound/failures.py)."""
    from accounts.hubspot.outbound.creates import companies_create

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
    waiting: set[int] = set()
    refusals = failures.refusals(a.hubspot_id or "" for a in accounts)
    for account in accounts:
        state = states[account.pk]
        hid = account.hubspot_id or ""
        if failures.held(refusals, hid, account.updated_at):
            continue  # HubSpot refused it; again once the account changes
        if not failures.retry_due(state, now):
            waiting.add(account.pk)  # backing off after a transient failure
            continue
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
                sync_state.agree(state, rule, decision.value, now)
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
                sync_state.agree(state, rule, decision.value, now)
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
    errors: dict[str, failures.Failure] = {}
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
                sync_state.agree(state, rule, decision.value, now)
                state.remote[rule.property] = decision.value
                # The ledger: what we wrote, when, when the sides last agreed before
                # it, and when our edit was made (to judge edits it overwrote).
                state.written[rule.property] = sync_state.Written(
                    value=decision.value,
                    written_ms=epoch_ms(now),
                    agreed_before_ms=agreed_before,
                    ours_ms=ours_ms(rule, account),
                ).to_json()
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
                state.written[fieldspecs.ACCOUNT_ID_PROPERTY] = sync_state.Written(
                    value=str(account.pk), written_ms=epoch_ms(now), agreed_before_ms=0, ours_ms=0
                ).to_json()
            state.pushed_at = now
            state.push_failures = 0
            outcome.pushed += 1
            continue
        outcome.failed += 1
        failure = errors.get(hid, failures.UNCONFIRMED)
        issue = failures.failure_apply(
            state, failure, hubspot_id=hid, properties=properties, now=now
        )
        if issue is not None:
            issues.append(issue)
            outcome.quarantined += 1
    refused = {issue.hubspot_id for issue in issues}
    with transaction.atomic():
        for account in accounts:
            state = states[account.pk]
            hid = account.hubspot_id or ""
            failed_now = hid in inputs and hid not in succeeded and hid not in refused
            # Checked: until the account changes again, unless it must be retried.
            state.checked_at = None if failed_now or account.pk in waiting else checked
        if changed_accounts:
            Account.objects.bulk_update(
                changed_accounts, [*sorted({r["field"] for r in pulled}), "updated_at"]
            )
        sync_state.states_save(states.values())
        failures.issues_resolve(succeeded & set(refusals), now)
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


def _send(
    client: HubSpotClient, inputs: dict[str, dict[str, str]]
) -> tuple[set[str], dict[str, failures.Failure], int]:
    """Batch-update companies; (ids HubSpot confirmed, {id: failure}, calls).
    A batch HubSpot refuses as a whole (4xx) is retried one record at a time, so one
    bad record cannot hold back the other 99."""
    if not inputs:
        return set(), {}, 0
    payload: list[dict[str, Any]] = [
        {"id": hid, "properties": props} for hid, props in inputs.items()
    ]
    try:
        result = client.batch_update("companies", payload)
    except HubSpotError as exc:
        if not failures.from_error(exc).refused:
            return set(), dict.fromkeys(inputs, failures.from_error(exc)), 1
        ok: set[str] = set()
        errors: dict[str, failures.Failure] = {}
        for item in payload:
            try:
                client.update("companies", item["id"], properties=item["properties"])
                ok.add(item["id"])
            except HubSpotError as single:
                errors[item["id"]] = failures.from_error(single)
        return ok, errors, 1 + len(payload)
    succeeded = {str(r.get("id")) for r in result.results}
    errors = {}
    for error in result.errors:
        for hid in (error.get("context") or {}).get("ids") or []:
            errors[str(hid)] = failures.from_entry(error)
    return succeeded, errors, -(-len(payload) // BATCH)

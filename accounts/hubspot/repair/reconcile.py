"""After an outage, and to catch what sync missed: replay and reconciliation.

- `replay_run`: re-read everything HubSpot modified in a time window and apply it as
  sync does (three-way, journaled). Moves no cursor and writes only differences, so it
  is safe to run as often as wanted.
- `reconcile_run`: list every HubSpot company (100 per call) and compare ids and a
  hash of the synced fields with ours; every account whose values differ is stored as
  `Drift` with the reason as far as sync knows it (drift_reasons.py: a push due, retrying
  or refused, an open conflict, a HubSpot edit not yet read, or none), for an admin to
  repair. Nothing sync is working on hides an account it has in fact stranded.
"""

from __future__ import annotations

import hashlib
import json
import logging
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from accounts.hubspot.inbound.objects import OBJECT_ORDER, properties_for, with_associations
from accounts.hubspot.inbound.poller import changed_pages
from accounts.hubspot.inbound.writers import PAGE_WRITERS, SyncContext, records_archive
from accounts.hubspot.models import Drift, SyncChange, SyncConflict, SyncRun, SyncSource, SyncState
from accounts.hubspot.repair import drift_reasons
from accounts.hubspot.rules import field_rules, mapping, sync_state, threeway
from accounts.hubspot.rules import fields as fieldspecs
from accounts.hubspot.runs import run_tracked
from accounts.hubspot.transport.client import HubSpotClient
from accounts.models import Account, User

logger = logging.getLogger(__name__)


def replay_run(run: SyncRun, *, client: HubSpotClient) -> SyncRun:
    """Apply what HubSpot modified between run.cursors["since_ms"] and ["until_ms"]."""
    since, until = int(run.cursors["since_ms"]), int(run.cursors["until_ms"])
    with run_tracked(run):
        ctx = SyncContext(source=SyncSource.REPLAY, run=run).load()
        for object_type in OBJECT_ORDER:
            SyncRun.objects.filter(pk=run.pk).update(phase=object_type)
            pages = changed_pages(
                client,
                object_type,
                since_ms=since,
                until_ms=until,
                properties=properties_for(object_type, ctx.config),
            )
            for records in pages:
                records = with_associations(client, object_type, records)
                with transaction.atomic():
                    result = PAGE_WRITERS[object_type](records, ctx)
                    SyncRun.objects.filter(pk=run.pk).update(
                        records_done=F("records_done") + len(records),
                        created=F("created") + result.created,
                        updated=F("updated") + result.updated,
                        quarantined=F("quarantined") + result.quarantined,
                        heartbeat_at=timezone.now(),
                    )
    run.refresh_from_db()
    return run


def _digest(values: dict[str, str]) -> str:
    return hashlib.sha256(json.dumps(values, sort_keys=True).encode()).hexdigest()


def reconcile_run(run: SyncRun, *, client: HubSpotClient) -> SyncRun:
    """Compare every HubSpot company with its account; store the drift found."""
    rules = field_rules.rules_load()
    with run_tracked(run, phase="companies") as finishing:
        seen: set[str] = set()
        for records in client.list_pages(
            "companies", properties=[*field_rules.remote_properties(rules), "name"]
        ):
            drifts = _compare_page(run, records, rules)
            seen.update(str(r["id"]) for r in records)
            Drift.objects.bulk_create(drifts)
            SyncRun.objects.filter(pk=run.pk).update(
                records_done=F("records_done") + len(records), heartbeat_at=timezone.now()
            )
        gone = (
            Account.objects.filter(hubspot_id__isnull=False, status=Account.Status.ACTIVE)
            .exclude(hubspot_id__in=seen)
            .values_list("pk", "hubspot_id")
        )
        Drift.objects.bulk_create(
            [
                Drift(run=run, kind=Drift.Kind.MISSING_THERE, account_id=pk, hubspot_id=hid or "")
                for pk, hid in gone.iterator()
            ]
        )
        finishing["skipped"] = Drift.objects.filter(run=run).count()
    run.refresh_from_db()
    return run


def _compare_page(
    run: SyncRun, records: list[dict[str, Any]], rules: list[threeway.Rule]
) -> list[Drift]:
    ids = [str(r["id"]) for r in records]
    accounts = {
        a.hubspot_id: a
        for a in Account.objects.filter(hubspot_id__in=ids).select_related("hubspot_state")
    }
    busy = set(
        SyncConflict.objects.filter(
            account__hubspot_id__in=ids, status=SyncConflict.Status.OPEN
        ).values_list("account__hubspot_id", "field")
    )
    refused = drift_reasons.refused_ids(ids)
    drifts = []
    for record in records:
        hid = str(record["id"])
        account = accounts.get(hid)
        if account is None:
            drifts.append(Drift(run=run, kind=Drift.Kind.MISSING_HERE, hubspot_id=hid))
            continue
        ours, theirs = {}, {}
        for rule in rules:
            try:
                theirs[rule.key] = rule.spec.canonical_remote(
                    (record.get("properties") or {}).get(rule.property)
                )
            except mapping.Unmappable:
                theirs[rule.key] = str((record.get("properties") or {}).get(rule.property))
            ours[rule.key] = field_rules.ours_value(rule, account)
        if _digest(ours) == _digest(theirs):
            continue
        differ = {key: [ours[key], theirs[key]] for key in ours if ours[key] != theirs[key]}
        reason = drift_reasons.drift_reason(
            account,
            rules,
            differ=differ,
            conflicted={key for h, key in busy if h == hid},
            refused=hid in refused,
        )
        drifts.append(
            Drift(
                run=run,
                kind=Drift.Kind.FIELDS,
                account=account,
                hubspot_id=hid,
                fields=differ,
                reason=reason,
            )
        )
    return drifts


def drift_repair(drift: Drift, *, client: HubSpotClient, by: User) -> str:
    """Repair one drift the way its fields are owned: HubSpot-owned values are pulled,
    Lifecycle-owned ones pushed at the next pass, a two-way field becomes a conflict for
    a person; a company missing here is imported, an account whose company is gone is
    archived (its CS data kept). Returns what was done."""
    now = timezone.now()
    ctx = SyncContext(source=SyncSource.REPAIR).load()
    done = ""
    if drift.kind == Drift.Kind.MISSING_HERE:
        found = client.batch_read(
            "companies", [drift.hubspot_id], properties=properties_for("companies", ctx.config)
        )
        if found.results:
            result = PAGE_WRITERS["companies"](found.results, ctx)
            done = f"imported ({result.created} created, {result.quarantined} quarantined)"
        else:
            done = "HubSpot no longer has it"
    elif drift.kind == Drift.Kind.MISSING_THERE:
        archived = records_archive("companies", [drift.hubspot_id], ctx)
        done = "account archived" if archived else "already archived"
    else:
        done = _fields_repair(drift, now=now)
    Drift.objects.filter(pk=drift.pk).update(repaired_at=now, repaired_by=by)
    logger.info("Drift %s repaired by %s: %s", drift.pk, by.pk, done)
    return done


def _fields_repair(drift: Drift, *, now: Any) -> str:
    rules = {r.key: r for r in field_rules.rules_load()}
    assert drift.account is not None
    account = Account.objects.get(pk=drift.account.pk)
    state, _ = SyncState.objects.get_or_create(account=account)
    pulled, pushed, asked = [], [], []
    changed: list[str] = []
    for key, (ours, theirs) in drift.fields.items():
        rule = rules.get(key)
        if rule is None:
            continue
        entry = sync_state.field_of(state, rule)
        entry.seen(rule.property, theirs)
        if rule.owner == fieldspecs.HUBSPOT:
            old = getattr(account, rule.spec.attribute)
            setattr(account, rule.spec.attribute, field_rules.local_value(rule, theirs))
            changed.append(rule.spec.attribute)
            entry.agree(theirs, field_rules.epoch_ms(now))
            SyncChange.objects.create(
                **field_rules.journal_row(
                    account,
                    key=rule.spec.attribute,
                    old=mapping.display(old),
                    new=theirs,
                    source=SyncSource.REPAIR,
                    at=now,
                    note="drift repaired from HubSpot",
                )
            )
            pulled.append(rule.spec.label)
        elif rule.owner == fieldspecs.LIFECYCLE:
            # So the next pass sees "only Lifecycle changed".
            entry.agree(theirs, field_rules.epoch_ms(now))
            state.checked_at = None
            pushed.append(rule.spec.label)
        else:
            SyncConflict.objects.get_or_create(
                account=account,
                field=key,
                status=SyncConflict.Status.OPEN,
                defaults={"ours": ours, "theirs": theirs, "base_value": entry.base or ""},
            )
            asked.append(rule.spec.label)
    with transaction.atomic():
        if changed:
            account.save(update_fields=[*changed, "updated_at"])
        state.save()
    parts = []
    if pulled:
        parts.append(f"pulled {', '.join(pulled)}")
    if pushed:
        parts.append(f"will push {', '.join(pushed)}")
    if asked:
        parts.append(f"conflict opened for {', '.join(asked)}")
    return "; ".join(parts) or "nothing left to repair"

"""Playbook tasks as HubSpot tasks (docs/hubspot.md, "Playbook tasks").

Lifecycle opens a CRM task as an `Engagement` row (kind task, no HubSpot id yet) marked
`push_wanted_at`; a completion, skip, cancel or snooze here marks it again. This pass
creates the new ones (batch create, associated to the company with task->company type
192, owned by the assignee's HubSpot owner) and writes the status and due time of the
changed ones (batch update), 100 per call through the client's rate budget, journalling
each write (`SyncChange`, source push).

No duplicates on retry: HubSpot has no unique property on tasks to upsert on, so the
row's `create_sent_at` is committed before the create is sent and each task's body ends
with a marker naming the row; a row sent before whose answer was lost is looked up
(search on subject and due time, confirmed by the marker) before it is created again.
The mark is cleared only if no later change came meanwhile, so that change is pushed
next. A task HubSpot refuses is quarantined (`SyncIssue`) until the row changes again.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from accounts import bulk
from accounts.hubspot.models import SyncChange, SyncIssue, SyncSource
from accounts.hubspot.transport.client import HubSpotClient
from accounts.hubspot.transport.errors import HubSpotError
from accounts.models import OwnerLink
from accounts.support.models import Engagement

logger = logging.getLogger(__name__)
OBJECT_TYPE = "tasks"
TASK_TO_COMPANY = 192  # HUBSPOT_DEFINED task -> company (HubSpot's v4 association types)
BATCH = 100
MARKER = "[lifecycle-task:{pk}]"
MARKER_RE = re.compile(r"\[lifecycle-task:(\d+)\]")


@dataclass
class TasksPushed:
    created: int = 0
    found: int = 0  # sent before, found in HubSpot instead of created again
    updated: int = 0
    failed: int = 0
    waiting: int = 0  # their company is not in HubSpot yet
    calls: int = 0


def issue_key(pk: int) -> str:
    return f"lifecycle-task:{pk}"


def owed() -> QuerySet[Engagement]:
    """Tasks Lifecycle changed that HubSpot was not told of, but those quarantined and
    unchanged since."""
    held = Q()
    for key, seen in SyncIssue.objects.filter(
        object_type=OBJECT_TYPE,
        source=SyncSource.PUSH,
        resolved_at__isnull=True,
        hubspot_id__startswith="lifecycle-task:",
    ).values_list("hubspot_id", "last_seen_at"):
        held |= Q(pk=int(key.rsplit(":", 1)[1]), push_wanted_at__lte=seen)
    rows = Engagement.objects.filter(
        kind=Engagement.Kind.TASK, push_wanted_at__isnull=False, archived_at__isnull=True
    )
    return rows.exclude(held) if held else rows


def tasks_push(client: HubSpotClient) -> TasksPushed:
    """Create and update every task owed to HubSpot, 100 rows a round."""
    outcome = TasksPushed()
    last_pk = 0
    while True:
        rows = list(owed().filter(pk__gt=last_pk).select_related("account").order_by("pk")[:BATCH])
        if not rows:
            return outcome
        last_pk = rows[-1].pk
        ready = [r for r in rows if r.account.hubspot_id]
        outcome.waiting += len(rows) - len(ready)
        owners = dict(
            OwnerLink.objects.filter(
                user_id__in={r.owner_id for r in ready if r.owner_id}
            ).values_list("user_id", "hubspot_owner_id")
        )
        new = [r for r in ready if not r.hubspot_id]
        changed = [r for r in ready if r.hubspot_id]
        _create(client, new, owners, outcome)
        _update(client, changed, owners, outcome)


def _ms(row: Engagement) -> str:
    return str(int(row.occurred_at.timestamp() * 1000))


def _properties(row: Engagement, owners: dict[int, str], *, new: bool) -> dict[str, str]:
    values = {
        "hs_task_status": row.status,
        "hs_timestamp": _ms(row),
        "hubspot_owner_id": owners.get(row.owner_id or 0, ""),
    }
    if new:
        body = f"{row.text}\n\n{MARKER.format(pk=row.pk)}".strip()
        values |= {"hs_task_subject": row.subject, "hs_task_body": body, "hs_task_type": "TODO"}
    return values


def _create(
    client: HubSpotClient, rows: list[Engagement], owners: dict[int, str], outcome: TasksPushed
) -> None:
    if not rows:
        return
    made = _look_up(client, [r for r in rows if r.create_sent_at], outcome)
    fresh = [r for r in rows if r.pk not in made]
    errors: dict[int, str] = {}
    if fresh:
        # Committed before sending: should the answer be lost, the next pass looks first.
        Engagement.objects.filter(pk__in=[r.pk for r in fresh]).update(
            create_sent_at=timezone.now()
        )
        inputs = [
            {
                "properties": _properties(r, owners, new=True),
                "associations": [
                    {
                        "to": {"id": r.account.hubspot_id},
                        "types": [
                            {
                                "associationCategory": "HUBSPOT_DEFINED",
                                "associationTypeId": TASK_TO_COMPANY,
                            }
                        ],
                    }
                ],
            }
            for r in fresh
        ]
        try:
            result = client.batch_create(OBJECT_TYPE, inputs)
            outcome.calls += (len(inputs) + BATCH - 1) // BATCH
            created = _by_marker(result.results)
            made |= created
            outcome.created += len(created)
            message = "; ".join(str(e.get("message", "")) for e in result.errors)
            errors = {r.pk: message for r in fresh if r.pk not in created and message}
        except HubSpotError as exc:
            outcome.calls += 1
            if _refused(exc):
                errors = {r.pk: exc.message or str(exc) for r in fresh}
            else:  # maybe made: looked up (create_sent_at) on the next pass
                logger.warning("HubSpot task create unanswered; looked up next pass: %s", exc)
    _record(rows, made, errors, field="created in HubSpot", outcome=outcome)


def _refused(exc: HubSpotError) -> bool:
    """HubSpot said no to what we sent (a 4xx other than the rate limit): quarantined.
    Anything else (timeouts, 5xx, 429) is tried again on the next pass."""
    return 400 <= exc.status < 500 and exc.status != 429


def _by_marker(results: list[dict[str, Any]]) -> dict[int, str]:
    """{row pk: HubSpot id} read from the marker in each task's body (batch results come
    in no promised order)."""
    found: dict[int, str] = {}
    for record in results:
        match = MARKER_RE.search(str((record.get("properties") or {}).get("hs_task_body") or ""))
        if match:
            found[int(match.group(1))] = str(record["id"])
    return found


def _look_up(client: HubSpotClient, rows: list[Engagement], outcome: TasksPushed) -> dict[int, str]:
    """Rows whose create was sent before: the task HubSpot made for each, if any (a
    search on the subject and due time, confirmed by the marker in the body)."""
    found: dict[int, str] = {}
    for row in rows:
        filters = [
            {"propertyName": "hs_task_subject", "operator": "EQ", "value": row.subject},
            {"propertyName": "hs_timestamp", "operator": "EQ", "value": _ms(row)},
        ]
        try:
            page = client.search_page(
                OBJECT_TYPE,
                filter_groups=[{"filters": filters}],
                properties=["hs_task_body", "hs_task_subject"],
            )
        except HubSpotError as exc:
            logger.warning("HubSpot task lookup failed; tried again next pass: %s", exc)
            outcome.calls += 1
            continue
        outcome.calls += 1
        hit = _by_marker(page.results).get(row.pk)
        if hit:
            found[row.pk] = hit
    outcome.found += len(found)
    return found


def _update(
    client: HubSpotClient, rows: list[Engagement], owners: dict[int, str], outcome: TasksPushed
) -> None:
    if not rows:
        return
    inputs = [
        {"id": str(r.hubspot_id), "properties": _properties(r, owners, new=False)} for r in rows
    ]
    done: dict[int, str] = {}
    errors: dict[int, str] = {}
    by_hid = {str(r.hubspot_id): r.pk for r in rows}
    try:
        result = client.batch_update(OBJECT_TYPE, inputs)
        outcome.calls += (len(inputs) + BATCH - 1) // BATCH
        done = {by_hid[str(rec["id"])]: str(rec["id"]) for rec in result.results}
        for error in result.errors:
            for hid in (error.get("context") or {}).get("ids") or []:
                if str(hid) in by_hid:
                    errors[by_hid[str(hid)]] = str(error.get("message", ""))
    except HubSpotError as exc:
        outcome.calls += 1
        if _refused(exc):
            errors = {r.pk: exc.message or str(exc) for r in rows}
        else:  # an update is safe to send again: the next pass does
            logger.warning("HubSpot task update failed; sent again next pass: %s", exc)
    outcome.updated += len(done)
    _record(rows, done, errors, field="status", outcome=outcome)


def _record(
    rows: list[Engagement],
    made: dict[int, str],
    errors: dict[int, str],
    *,
    field: str,
    outcome: TasksPushed,
) -> None:
    """Store HubSpot's ids, clear the marks of rows unchanged since they were read,
    journal each write and quarantine refusals: one transaction."""
    now = timezone.now()
    done = [row for row in rows if row.pk in made]
    journal = [
        SyncChange(
            account_id=row.account_id,
            object_type="task",
            object_id=row.pk,
            hubspot_id=made[row.pk],
            field=field,
            old_value="",
            new_value=row.subject[:200] if not row.hubspot_id else row.status,
            source=SyncSource.PUSH,
            at=now,
        )
        for row in done
    ]
    with transaction.atomic():
        new = [row for row in done if not row.hubspot_id]
        if new:
            # Sync may have read a new task before we stored its id: one row each.
            Engagement.objects.filter(
                kind=Engagement.Kind.TASK, hubspot_id__in=[made[r.pk] for r in new]
            ).exclude(pk__in=[r.pk for r in new]).delete()
            bulk.update_changed(
                Engagement, {r.pk: {"hubspot_id": made[r.pk]} for r in new}, also={}
            )
        if done:
            _marks_clear(done)
        SyncChange.objects.bulk_create(journal)
        SyncIssue.objects.filter(
            object_type=OBJECT_TYPE,
            hubspot_id__in=[issue_key(pk) for pk in made],
            resolved_at__isnull=True,
        ).update(resolved_at=now)
        if errors:
            _quarantine(rows, errors, now)
            outcome.failed += len(errors)


def _marks_clear(rows: list[Engagement]) -> None:
    """Clear `push_wanted_at` where it is still the value read (one UPDATE): a row
    changed since keeps its mark and is pushed next."""
    if connection.vendor != "postgresql":  # SQLite (make run): row by row
        for row in rows:
            Engagement.objects.filter(pk=row.pk, push_wanted_at=row.push_wanted_at).update(
                push_wanted_at=None
            )
        return
    table = connection.ops.quote_name(Engagement._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} AS e SET push_wanted_at = NULL "
            "FROM unnest(%s::bigint[], %s::timestamptz[]) AS r(pk, at) "
            "WHERE e.id = r.pk AND e.push_wanted_at = r.at",
            [[r.pk for r in rows], [r.push_wanted_at for r in rows]],
        )


def _quarantine(rows: list[Engagement], errors: dict[int, str], now: Any) -> None:
    subjects = {r.pk: r.subject for r in rows}
    SyncIssue.objects.bulk_create(
        [
            SyncIssue(
                object_type=OBJECT_TYPE,
                hubspot_id=issue_key(pk),
                reason=f"Writing the HubSpot task “{subjects[pk]}” failed: {message}"[:500],
                payload={"engagement": pk},
                source=SyncSource.PUSH,
                first_seen_at=now,
                last_seen_at=now,
            )
            for pk, message in errors.items()
        ],
        update_conflicts=True,
        unique_fields=["object_type", "hubspot_id"],
        update_fields=["reason", "payload", "source", "last_seen_at", "resolved_at"],
    )

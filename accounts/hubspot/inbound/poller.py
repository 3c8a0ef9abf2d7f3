"""Incremental sync: search each type for records modified since the stored cursor.

Search answers at most 10,000 results per query and a month-end bulk edit can stamp
more records than that with one instant. So the pager sorts ascending by the modified
date, and when a query reaches the cap it restarts past the last (modified, id) pair:
first the records stamped with exactly that instant, sorted by hs_object_id (a total
order, so restarts there are exact), then everything strictly later. Nothing is skipped
and no query is repeated forever. The cursor never passes this poll's start less a small
overlap, because HubSpot's index lags writes by a few seconds; re-applying an
unchanged record writes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from accounts.hubspot.inbound.cursors import OVERLAP_MS
from accounts.hubspot.inbound.importer import owners_import, pipelines_import
from accounts.hubspot.inbound.objects import OBJECT_ORDER, properties_for, with_associations
from accounts.hubspot.inbound.reapply import POLL_RETRY_LIMIT, issues_reapply
from accounts.hubspot.inbound.restores import restores_heal
from accounts.hubspot.inbound.tickets import ticket_pipelines_import
from accounts.hubspot.inbound.writers import PAGE_WRITERS, PageResult, SyncContext, records_archive
from accounts.hubspot.models import SyncCursor, SyncRun, SyncSource
from accounts.hubspot.rules import mapping
from accounts.hubspot.runs import run_tracked
from accounts.hubspot.transport.client import SEARCH_PAGE_MAX, HubSpotClient

logger = logging.getLogger(__name__)

SEARCH_CAP = 10_000
Record = dict[str, Any]


@dataclass
class Position:
    """The last (modified ms, hs_object_id) pair seen."""

    modified_ms: int
    object_id: int


def _filter(prop: str, op: str, value: int) -> dict[str, Any]:
    return {"propertyName": prop, "operator": op, "value": str(value)}


def changed_pages(
    client: HubSpotClient,
    object_type: str,
    *,
    since_ms: int,
    properties: Sequence[str],
    page_size: int = SEARCH_PAGE_MAX,
    cap: int = SEARCH_CAP,
    until_ms: int | None = None,
) -> Iterator[list[Record]]:
    """Pages of records modified at or after `since_ms` (and, with `until_ms`, at or
    before it), ascending, each record once (a record modified again during the walk
    may come twice; applying is idempotent)."""
    modified = mapping.MODIFIED_PROPERTY[object_type]
    wanted = list(dict.fromkeys([*properties, modified, "hs_object_id"]))
    lower = since_ms
    while True:
        last: Position | None = None
        # Ids seen at the latest instant, so the by-id pass over it yields only the rest.
        at_last: set[int] = set()
        offset = 0
        while True:
            if offset + page_size > cap:
                break
            page = client.search_page(
                object_type,
                filter_groups=[
                    {
                        "filters": [
                            _filter(modified, "GTE", lower),
                            *([_filter(modified, "LTE", until_ms)] if until_ms else []),
                        ]
                    }
                ],
                sorts=[{"propertyName": modified, "direction": "ASCENDING"}],
                properties=wanted,
                limit=page_size,
                after=str(offset) if offset else None,
            )
            if page.results:
                yield page.results
                for record in page.results:
                    instant = mapping.parse_ms(mapping.prop(record, modified))
                    if last is None or instant != last.modified_ms:
                        at_last = set()
                    last = Position(instant, int(record["id"]))
                    at_last.add(last.object_id)
            if page.after is None:
                return
            offset = int(page.after)
        if last is None:
            return
        # At the cap: finish the instant we stopped in by id, then go strictly past it.
        for page_records in _same_instant(
            client, object_type, modified, last.modified_ms, wanted, page_size, cap
        ):
            fresh = [r for r in page_records if int(r["id"]) not in at_last]
            if fresh:
                yield fresh
        lower = last.modified_ms + 1


def _same_instant(
    client: HubSpotClient,
    object_type: str,
    modified: str,
    instant: int,
    properties: list[str],
    page_size: int,
    cap: int,
) -> Iterator[list[Record]]:
    after_id = 0
    while True:
        offset = 0
        last_id = None
        while offset + page_size <= cap:
            page = client.search_page(
                object_type,
                filter_groups=[
                    {
                        "filters": [
                            _filter(modified, "EQ", instant),
                            _filter("hs_object_id", "GT", after_id),
                        ]
                    }
                ],
                sorts=[{"propertyName": "hs_object_id", "direction": "ASCENDING"}],
                properties=properties,
                limit=page_size,
                after=str(offset) if offset else None,
            )
            if page.results:
                yield page.results
                last_id = int(page.results[-1]["id"])
            if page.after is None:
                return
            offset = int(page.after)
        if last_id is None:
            return
        after_id = last_id


def poll_run(
    run: SyncRun,
    *,
    client: HubSpotClient,
    config: mapping.MappingConfig | None = None,
    page_size: int = SEARCH_PAGE_MAX,
    cap: int = SEARCH_CAP,
    overlap_ms: int = OVERLAP_MS,
) -> SyncRun:
    """One incremental sync of every type; each page is written with the new cursor."""
    config = config or mapping.MappingConfig()
    with run_tracked(run):
        run.refresh_from_db()
        # Cheap (one call each) and it lets new stages and owners map without an import.
        owners_import(client)
        pipelines_import(client)
        if "tickets" in OBJECT_ORDER:
            ticket_pipelines_import(client)
        ctx = SyncContext(source=SyncSource.POLL, run=run, config=config).load()
        for object_type in OBJECT_ORDER:
            _poll_type(run, object_type, client, ctx, page_size, cap, overlap_ms)
        retried = issues_reapply(client=client, ctx=ctx, limit=POLL_RETRY_LIMIT)
        SyncRun.objects.filter(pk=run.pk).update(
            created=F("created") + retried.created, updated=F("updated") + retried.updated
        )
    run.refresh_from_db()
    return run


def now_ms() -> int:
    return int(timezone.now().timestamp() * 1000)


def _poll_type(
    run: SyncRun,
    object_type: str,
    client: HubSpotClient,
    ctx: SyncContext,
    page_size: int,
    cap: int,
    overlap_ms: int,
) -> None:
    """Everything modified since the cursor. The next cursor is the last instant seen,
    but never later than this poll's start less the overlap: records changed just
    before we asked may not have reached the search index yet."""
    cursor, _ = SyncCursor.objects.get_or_create(object_type=object_type)
    SyncRun.objects.filter(pk=run.pk).update(phase=object_type)
    visible_before = now_ms() - overlap_ms
    since = cursor.since_ms
    modified = mapping.MODIFIED_PROPERTY[object_type]
    writer = PAGE_WRITERS[object_type]
    high: Position | None = None
    pages = changed_pages(
        client,
        object_type,
        since_ms=since,
        properties=properties_for(object_type, ctx.config),
        page_size=page_size,
        cap=cap,
    )
    for records in pages:
        records = with_associations(client, object_type, records)
        for record in records:
            seen = Position(mapping.parse_ms(mapping.prop(record, modified)), int(record["id"]))
            if high is None or (seen.modified_ms, seen.object_id) > (
                high.modified_ms,
                high.object_id,
            ):
                high = seen
        assert high is not None
        with transaction.atomic():
            result: PageResult = writer(records, ctx)
            # Mid-walk, the instant we are in may hold more records: resume at it.
            SyncCursor.objects.filter(pk=cursor.pk).update(
                since_ms=max(since, min(high.modified_ms, visible_before)),
                modified_ms=high.modified_ms,
                last_id=high.object_id,
                updated_at=timezone.now(),
            )
            SyncRun.objects.filter(pk=run.pk).update(
                records_done=F("records_done") + len(records),
                created=F("created") + result.created,
                updated=F("updated") + result.updated,
                quarantined=F("quarantined") + result.quarantined,
                skipped=F("skipped") + result.skipped,
                heartbeat_at=timezone.now(),
            )
    done = visible_before if high is None else min(high.modified_ms + 1, visible_before)
    SyncCursor.objects.filter(pk=cursor.pk).update(
        since_ms=max(since, done), updated_at=timezone.now()
    )


def archived_sweep(
    run: SyncRun,
    *,
    client: HubSpotClient,
    page_size: int = 100,
    config: mapping.MappingConfig | None = None,
) -> SyncRun:
    """List archived records of each type (deletes never show in search) and archive
    their local twins. Catches deletions whose webhook we missed; then re-reads what we
    hold archived and HubSpot no longer lists (restores whose webhook we missed)."""
    ctx = SyncContext(source=SyncSource.POLL, run=run, config=config or mapping.MappingConfig())
    archived = 0
    listed: dict[str, set[str]] = {}
    with run_tracked(run) as finishing:
        for object_type in OBJECT_ORDER:
            after = None
            while True:
                records, after = client.list_page(
                    object_type, archived=True, page_size=page_size, after=after
                )
                ids = [str(r["id"]) for r in records]
                listed.setdefault(object_type, set()).update(ids)
                archived += records_archive(object_type, ids, ctx)
                SyncRun.objects.filter(pk=run.pk).update(
                    records_done=F("records_done") + len(records), heartbeat_at=timezone.now()
                )
                if not after:
                    break
        restored = restores_heal(client=client, ctx=ctx, archived_there=listed)
        finishing["updated"] = archived + restored
    run.refresh_from_db()
    return run

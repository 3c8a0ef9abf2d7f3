"""The full import: owners, pipelines, then companies, deals and contacts page by page.

Pages are streamed from HubSpot's list endpoint (never all in memory) and each page is
written with the run's `after` cursor in one transaction, so a crash loses at most the
page in flight and `import_run` continues from the last committed page.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from accounts.bulk import analyze
from accounts.hubspot.inbound.cursors import OVERLAP_MS, cursors_start_at
from accounts.hubspot.inbound.objects import (
    LISTED_ASSOCIATIONS,
    OBJECT_ORDER,
    properties_for,
    with_associations,
    with_listed_associations,
)
from accounts.hubspot.inbound.tickets import ticket_pipelines_import
from accounts.hubspot.inbound.writers import PAGE_WRITERS, PageResult, SyncContext
from accounts.hubspot.models import SyncRun, SyncSource
from accounts.hubspot.rules import mapping
from accounts.hubspot.rules.mapping import Record
from accounts.hubspot.runs import run_tracked, run_update
from accounts.hubspot.transport.client import HubSpotClient
from accounts.hubspot.transport.errors import HubSpotError
from accounts.models import OwnerLink, Pipeline, PipelineStage, User

logger = logging.getLogger(__name__)

ProgressCallback = Callable[[SyncRun, PageResult], None]


def owners_import(client: HubSpotClient) -> dict[str, int]:
    """OwnerLink per HubSpot owner; unlinked ones are matched to users by email. A link
    an admin made by hand is never overwritten."""
    owners = client.owners()
    users = {
        email.lower(): pk
        for pk, email in User.objects.filter(is_active=True)
        .exclude(email="")
        .values_list("pk", "email")
    }
    existing = {o.hubspot_owner_id: o for o in OwnerLink.objects.all()}
    rows = []
    for owner in owners:
        oid = str(owner["id"])
        email = str(owner.get("email") or "")
        link = existing.get(oid)
        user_pk = link.user_id if link and link.user_id else users.get(email.lower())
        rows.append(
            OwnerLink(
                hubspot_owner_id=oid,
                email=email,
                first_name=str(owner.get("firstName") or "")[:150],
                last_name=str(owner.get("lastName") or "")[:150],
                user_id=user_pk,
            )
        )
    if rows:
        OwnerLink.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["hubspot_owner_id"],
            update_fields=["email", "first_name", "last_name", "user"],
        )
    matched = sum(1 for r in rows if r.user_id)
    return {"owners": len(rows), "matched": matched, "unmatched": len(rows) - matched}


def _link_by_label(data: Record) -> None:
    """A pipeline made in Lifecycle (the renewals pipeline) that HubSpot now has too is
    linked by its label, and its stages by theirs, instead of being duplicated."""
    hid = str(data["id"])
    if Pipeline.objects.filter(hubspot_id=hid).exists():
        return
    local = Pipeline.objects.filter(hubspot_id__isnull=True, label=data.get("label")).first()
    if local is None:
        return
    Pipeline.objects.filter(pk=local.pk).update(hubspot_id=hid)
    for stage in data.get("stages") or []:
        PipelineStage.objects.filter(
            pipeline=local, hubspot_id__isnull=True, label=stage.get("label")
        ).update(hubspot_id=str(stage["id"]))


def pipelines_import(client: HubSpotClient) -> int:
    """Deal pipelines and their stages, by HubSpot's internal ids."""
    pipelines = client.pipelines("deals")
    count = 0
    with transaction.atomic():
        for data in pipelines:
            _link_by_label(data)
            pipeline, _ = Pipeline.objects.update_or_create(
                hubspot_id=str(data["id"]),
                defaults={
                    "label": str(data.get("label", ""))[:200],
                    "display_order": max(int(data.get("displayOrder") or 0), 0),
                },
            )
            stages = [
                PipelineStage(pipeline=pipeline, hubspot_id=str(s["id"]), **mapping.stage_fields(s))
                for s in data.get("stages") or []
            ]
            if stages:
                PipelineStage.objects.bulk_create(
                    stages,
                    update_conflicts=True,
                    unique_fields=["pipeline", "hubspot_id"],
                    update_fields=["label", "display_order", "is_closed", "is_won", "probability"],
                )
            count += len(stages)
    return count


def estimate_total(client: HubSpotClient, object_type: str) -> int:
    """How many records a type holds, from a one-result search (0 if search fails)."""
    try:
        return client.search_page(object_type, limit=1).total
    except HubSpotError as exc:
        logger.warning("HubSpot count of %s failed: %s", object_type, exc)
        return 0


class _Estimate:
    """The run's record count (for its progress), from one one-result search per type,
    made between list pages rather than before them: search has its own limit (5 per
    second), so searches spaced SPACING apart never wait and cost the list pages
    nothing, where ten in a row held the import ~2 s for the search budget."""

    SPACING = 0.3  # seconds: at most four searches in any 1.1 s (the budget's cap)

    def __init__(self, run: SyncRun, client: HubSpotClient) -> None:
        self.run, self.client = run, client
        self.pending = [] if run.records_estimated else list(OBJECT_ORDER)
        self.total = 0
        self.last = -self.SPACING

    def step(self, *, finish: bool = False) -> None:
        """One search if its turn has come (all the rest when `finish`)."""
        while self.pending and (finish or time.monotonic() - self.last >= self.SPACING):
            self.total += estimate_total(self.client, self.pending.pop(0))
            self.last = time.monotonic()
            if not self.pending:
                run_update(self.run, records_estimated=self.total)
            if not finish:
                return


def run_start(kind: str) -> SyncRun:
    return SyncRun.objects.create(kind=kind, status=SyncRun.Status.QUEUED)


def import_run(
    run: SyncRun,
    *,
    client: HubSpotClient,
    config: mapping.MappingConfig | None = None,
    page_size: int = 100,
    on_page: ProgressCallback | None = None,
) -> SyncRun:
    """Run (or resume) a full import. Object types already done are skipped and the one
    in progress continues from its stored `after` cursor."""
    config = config or mapping.MappingConfig()
    resumed = {"started_at": run.started_at} if run.started_at else {}
    # The last committed page's cursor is saved with it, so a failed import resumes there.
    with run_tracked(run, error="", finished_at=None, **resumed):
        run_update(run, phase="owners")
        owners_import(client)
        run_update(run, phase="pipelines")
        pipelines_import(client)
        if "tickets" in OBJECT_ORDER:
            ticket_pipelines_import(client)
        estimate = _Estimate(run, client)
        estimate.step()
        ctx = SyncContext(source=SyncSource.IMPORT, run=run, config=config).load()
        for object_type in OBJECT_ORDER:
            _object_import(run, object_type, client, ctx, page_size, on_page, estimate.step)
        estimate.step(finish=True)
        assert run.started_at is not None
        cursors_start_at(int(run.started_at.timestamp() * 1000) - OVERLAP_MS)
    analyze("accounts", rows=run.records_done)  # fresh planner statistics, see bulk.analyze
    analyze("support", rows=run.records_done)
    return run


def _object_import(
    run: SyncRun,
    object_type: str,
    client: HubSpotClient,
    ctx: SyncContext,
    page_size: int,
    on_page: ProgressCallback | None,
    between_pages: Callable[[], None] = lambda: None,
) -> None:
    state = dict(run.cursors.get(object_type) or {})
    if state.get("done"):
        return
    run_update(run, phase=object_type)
    writer = PAGE_WRITERS[object_type]
    after = state.get("after") or None
    properties = properties_for(object_type, ctx.config)
    while True:
        # HubSpot first, outside any transaction (the rate budget writes its own rows).
        listed = LISTED_ASSOCIATIONS.get(object_type, ())
        records, next_after = client.list_page(
            object_type,
            properties=properties,
            page_size=page_size,
            after=after,
            associations=listed,
        )
        if listed:
            records = with_listed_associations(client, object_type, records)
        else:
            # Companies by v4 association type id, which alone tells the primary one.
            records = with_associations(client, object_type, records)
        with transaction.atomic():
            result = writer(records, ctx)
            cursors = {**run.cursors, object_type: {"after": next_after, "done": not next_after}}
            counts = {
                "records_done": F("records_done") + len(records),
                "created": F("created") + result.created,
                "updated": F("updated") + result.updated,
                "quarantined": F("quarantined") + result.quarantined,
                "skipped": F("skipped") + result.skipped,
            }
            SyncRun.objects.filter(pk=run.pk).update(
                cursors=cursors, heartbeat_at=timezone.now(), **counts
            )
        run.cursors = cursors
        run.refresh_from_db(fields=["records_done", "created", "updated", "quarantined", "skipped"])
        if on_page is not None:
            on_page(run, result)
        between_pages()
        if not next_after:
            return
        after = next_after


def resumable_import() -> SyncRun | None:
    """The latest import that did not finish (crashed or failed), if any."""
    latest = SyncRun.objects.filter(kind=SyncRun.Kind.IMPORT).order_by("-created_at", "-id")
    run = latest.first()
    if run is not None and run.status in (SyncRun.Status.RUNNING, SyncRun.Status.FAILED):
        return run
    return None

"""What every page writer shares: the page's result counts, the sync context (source,
run, mapping, rules, owners and stages loaded once), the journal that collects changes
and timeline events for one bulk insert, and the quarantine of unmappable records."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.utils import timezone

from accounts import bulk
from accounts.hubspot.models import SyncChange, SyncIssue, SyncRun, SyncSource
from accounts.hubspot.rules import field_rules, mapping, threeway
from accounts.hubspot.rules.mapping import MappingConfig, OwnerRef, Record, StageRef
from accounts.hubspot.rules.provenance import EventValue
from accounts.hubspot.rules.support_mapping import TicketStageRef
from accounts.models import (
    Account,
    OwnerLink,
    Pipeline,
    PipelineStage,
)

ACCOUNT_FIELDS = ("name", "domain", "owner_id", "arr")
# archived_at: a record HubSpot sends is not deleted there, so a restore un-archives it.
DEAL_FIELDS = (
    "name",
    "amount",
    "close_date",
    "pipeline_id",
    "stage_id",
    "account_id",
    "archived_at",
)
CONTACT_FIELDS = ("name", "email", "title", "account_id", "archived_at")


@dataclass
class PageResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    quarantined: int = 0
    skipped: int = 0

    @property
    def seen(self) -> int:
        return self.created + self.updated + self.unchanged + self.quarantined + self.skipped

    def add(self, other: PageResult) -> None:
        self.created += other.created
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.quarantined += other.quarantined
        self.skipped += other.skipped


@dataclass
class SyncContext:
    """What a run writes with: its source, its mapping and the lookups every page needs
    (owners, stages), loaded once per run with `load()`."""

    source: str
    run: SyncRun | None = None
    config: MappingConfig = field(default_factory=MappingConfig)
    # HubSpot's changeSource per record id, when a webhook told us.
    change_sources: dict[str, str] = field(default_factory=dict)
    # Company property changes webhook events carried, with who made each.
    event_values: dict[str, list[EventValue]] = field(default_factory=dict)
    owners: dict[str, OwnerRef] = field(default_factory=dict)
    stages: dict[tuple[str, str], StageRef] = field(default_factory=dict)
    renewal_pipelines: set[int] = field(default_factory=set)
    rules: list[threeway.Rule] = field(default_factory=list)
    # Companies a person chose to import as new accounts despite a same-name account.
    create_new: set[str] = field(default_factory=set)
    # Ticket stages, loaded by the first ticket page (inbound/tickets.py).
    ticket_stages: dict[tuple[str, str], TicketStageRef] | None = None

    def load(self) -> SyncContext:
        self.owners = {
            link.hubspot_owner_id: OwnerRef(email=link.email, user_pk=link.user_id)
            for link in OwnerLink.objects.order_by("pk")
        }
        self.rules = field_rules.rules_load(self.config, owners=self.owners)
        self.stages = {
            (s.pipeline.hubspot_id or "", s.hubspot_id or ""): StageRef(
                pipeline_pk=s.pipeline_id, stage_pk=s.pk, is_won=s.is_won
            )
            for s in PipelineStage.objects.select_related("pipeline").filter(
                hubspot_id__isnull=False, pipeline__hubspot_id__isnull=False
            )
        }
        self.renewal_pipelines = set(
            Pipeline.objects.filter(is_renewal=True).values_list("pk", flat=True)
        )
        return self


@dataclass
class PageJournal:
    ctx: SyncContext
    at: datetime = field(default_factory=timezone.now)
    rows: list[dict[str, Any]] = field(default_factory=list)

    def add(
        self,
        *,
        object_type: str,
        object_id: int,
        hubspot_id: str,
        account_id: int | None,
        field: str,
        old: Any,
        new: Any,
        note: str = "",
    ) -> None:
        self.rows.append(
            {
                "account_id": account_id,
                "object_type": object_type,
                "object_id": object_id,
                "hubspot_id": hubspot_id,
                "field": field,
                "old_value": mapping.display(old),
                "new_value": mapping.display(new),
                "source": self.ctx.source,
                "change_source": self.ctx.change_sources.get(hubspot_id, "")[:40],
                "run_id": self.ctx.run.pk if self.ctx.run else None,
                "note": note[:100],
                "at": self.at,
            }
        )

    def apply(
        self,
        obj: Any,
        *,
        object_type: str,
        hubspot_id: str,
        account_id: int | None,
        old: Mapping[str, Any],
        values: Mapping[str, Any],
    ) -> None:
        """Set each changed field on `obj` and journal its old and new value."""
        for name, previous in old.items():
            setattr(obj, name, values[name])
            self.add(
                object_type=object_type,
                object_id=obj.pk,
                hubspot_id=hubspot_id,
                account_id=account_id,
                field=name,
                old=previous,
                new=values[name],
            )

    def created(
        self, pk: int, name: str, *, object_type: str, hubspot_id: str, account_id: int | None
    ) -> None:
        """Journal a record created from HubSpot (once the insert gave it a pk)."""
        self.add(
            object_type=object_type,
            object_id=pk,
            hubspot_id=hubspot_id,
            account_id=account_id,
            field="created",
            old="",
            new=name,
        )

    def changed_fields(self) -> list[str]:
        """The fields this page changed, for bulk_update."""
        return sorted({c["field"] for c in self.rows if c["field"] != "created"})

    def save(self) -> None:
        bulk.insert(SyncChange, self.rows)


def issues_save(
    ctx: SyncContext,
    object_type: str,
    failed: Mapping[str, tuple[str, Record]],
    ok: Iterable[str],
    candidates: Mapping[str, list[dict[str, Any]]] | None = None,
) -> None:
    """Quarantine what failed (one upsert) and resolve what now maps (one update)."""
    now = timezone.now()
    candidates = candidates or {}
    if failed:
        SyncIssue.objects.bulk_create(
            [
                SyncIssue(
                    object_type=object_type,
                    hubspot_id=hid,
                    reason=reason[:500],
                    payload=record,
                    candidates=candidates.get(hid, []),
                    source=ctx.source,
                    first_seen_at=now,
                    last_seen_at=now,
                    resolved_at=None,
                )
                for hid, (reason, record) in failed.items()
            ],
            update_conflicts=True,
            unique_fields=["object_type", "hubspot_id"],
            update_fields=[
                "reason",
                "payload",
                "candidates",
                "source",
                "last_seen_at",
                "resolved_at",
            ],
        )
    ok = list(ok)
    if ok:
        # A refused push is not fixed by reading the record: the push resolves its own.
        SyncIssue.objects.filter(
            object_type=object_type, hubspot_id__in=ok, resolved_at__isnull=True
        ).exclude(source=SyncSource.PUSH).update(resolved_at=now)


OWNER_ISSUES = "owners"  # SyncIssue.object_type of a HubSpot owner Lifecycle cannot name


def owner_issues_save(ctx: SyncContext, records: Mapping[str, Record]) -> None:
    """One sync issue per HubSpot owner of these companies that Lifecycle cannot name
    (unknown, or not mapped to a user), listing the companies it owns: they are written
    without an owner, never held back, and get it once an admin maps the owner
    (inbound/owner_issues.py). No query when every owner is known."""
    unknown: dict[str, tuple[str, list[str]]] = {}
    for hid, record in records.items():
        owner_id = mapping.prop(record, mapping.OWNER_PROPERTY)
        problem = mapping.owner_problem(owner_id, ctx.owners)
        if problem:
            unknown.setdefault(owner_id, (problem, []))[1].append(hid)
    if not unknown:
        return
    now = timezone.now()
    before = dict(
        SyncIssue.objects.filter(
            object_type=OWNER_ISSUES, hubspot_id__in=list(unknown), resolved_at__isnull=True
        ).values_list("hubspot_id", "payload")
    )
    issues = []
    for owner_id, (problem, hids) in unknown.items():
        earlier = (before.get(owner_id) or {}).get("companies", [])
        companies = sorted({*earlier, *hids}, key=lambda h: (len(h), h))
        owned = f"{len(companies)} compan{'y has' if len(companies) == 1 else 'ies have'}"
        issues.append(
            SyncIssue(
                object_type=OWNER_ISSUES,
                hubspot_id=owner_id,
                reason=(
                    f"{problem}: {owned} no owner in Lifecycle until it is mapped "
                    "(every other field syncs as usual)"
                )[:500],
                payload={"owner_id": owner_id, "companies": companies},
                source=ctx.source,
                first_seen_at=now,
                last_seen_at=now,
                resolved_at=None,
            )
        )
    SyncIssue.objects.bulk_create(
        issues,
        update_conflicts=True,
        unique_fields=["object_type", "hubspot_id"],
        update_fields=["reason", "payload", "source", "last_seen_at", "resolved_at"],
    )


def changed_fields(obj: Any, values: Mapping[str, Any], fields: Sequence[str]) -> dict[str, Any]:
    """{field: old value} for each mapped field whose value changes."""
    return {f: getattr(obj, f) for f in fields if f in values and getattr(obj, f) != values[f]}


def account_ids_for(records: Sequence[Record]) -> dict[str, int]:
    """Local account pks of every company the records are associated with (one query)."""
    ids = {c for r in records for c in mapping.associated_ids(r, "companies")}
    if not ids:
        return {}
    rows = Account.objects.filter(hubspot_id__in=ids).values_list("hubspot_id", "pk")
    return {str(h): pk for h, pk in rows}

"""The page writer tickets, feedback submissions and engagements share: upsert by
`hubspot_id` with a fixed number of queries per page, as deals and contacts are written.

One query reads the page's accounts, one its contacts, one the existing rows; then new
rows, changed rows, journal rows and quarantine rows go in one bulk statement each,
inside one transaction (the caller's, with the cursor). Records out of scope (no synced
company, no contact we hold) are counted as skipped.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import models, transaction
from django.utils import timezone

from accounts import bulk
from accounts.hubspot.inbound.page_context import (
    PageJournal,
    PageResult,
    SyncContext,
    account_ids_for,
    changed_fields,
    issues_save,
)
from accounts.hubspot.rules.mapping import Record, Unmappable, associated_ids
from accounts.hubspot.rules.support_mapping import ContactRef
from accounts.models import Contact

Mapper = Callable[[Record, SyncContext, dict[str, int], dict[str, ContactRef]], Any]


@dataclass(frozen=True)
class SupportSpec:
    """How one HubSpot type lands in one model: its journal name, the fields the sync
    owns (compared to decide what changed), the mapper, and (engagements) the filter
    that narrows rows to its kind."""

    object_type: str
    model: type[models.Model]
    fields: tuple[str, ...]
    mapper: Mapper
    title_field: str
    kind: dict[str, str] = field(default_factory=dict)
    # Run inside the page's transaction with the accounts it touched (engagements: the
    # accounts' last touch).
    after: Callable[[set[int]], object] | None = None

    @property
    def journal_type(self) -> str:
        return self.object_type.removesuffix("s")


def contact_refs_for(records: Sequence[Record]) -> dict[str, ContactRef]:
    """The contacts we hold among the records' associated contacts (one query)."""
    ids = {c for r in records for c in associated_ids(r, "contacts")}
    if not ids:
        return {}
    rows = Contact.objects.filter(hubspot_id__in=ids, archived_at__isnull=True).values_list(
        "hubspot_id", "pk", "account_id"
    )
    return {str(h): ContactRef(pk=pk, account_pk=account) for h, pk, account in rows}


def support_page_write(
    records: Sequence[Record], ctx: SyncContext, spec: SupportSpec
) -> PageResult:
    """Upsert one page of records of `spec.object_type`."""
    result = PageResult()
    accounts = account_ids_for(records)
    contacts = contact_refs_for(records)
    mapped: dict[str, dict[str, Any]] = {}
    failed: dict[str, tuple[str, Record]] = {}
    for record in records:
        hid = str(record["id"])
        try:
            values = spec.mapper(record, ctx, accounts, contacts)
        except Unmappable as exc:
            failed[hid] = (exc.reason, record)
            continue
        if values is None:
            result.skipped += 1
        else:
            mapped[hid] = {**values, "archived_at": None}
    manager: Any = spec.model._default_manager
    existing = {
        row.hubspot_id: row
        for row in manager.filter(hubspot_id__in=list(mapped), **spec.kind).only(
            "pk", "hubspot_id", *spec.fields
        )
    }
    journal = PageJournal(ctx)
    now = timezone.now()
    new: dict[str, dict[str, Any]] = {}
    changed: list[Any] = []
    touched: set[int] = set()
    for hid, values in mapped.items():
        row = existing.get(hid)
        if row is None:
            new[hid] = {**values, "hubspot_id": hid, "created_at": now, "updated_at": now}
            touched.add(values["account_id"])
            continue
        old = changed_fields(row, values, spec.fields)
        if not old:
            result.unchanged += 1
            continue
        touched |= {row.account_id, values["account_id"]}
        journal.apply(
            row,
            object_type=spec.journal_type,
            hubspot_id=hid,
            account_id=values["account_id"],
            old=old,
            values=values,
        )
        row.updated_at = now
        changed.append(row)
    with transaction.atomic():
        if new:
            inserted = bulk.insert(spec.model, list(new.values()), returning=["id", "hubspot_id"])
            for pk, hid in inserted:
                journal.created(
                    pk,
                    str(new[hid][spec.title_field])[:100],
                    object_type=spec.journal_type,
                    hubspot_id=hid,
                    account_id=new[hid]["account_id"],
                )
        if changed:
            manager.bulk_update(changed, [*journal.changed_fields(), "updated_at"])
        if spec.after is not None and touched:
            spec.after(touched)
        journal.save()
        issues_save(ctx, spec.object_type, failed, mapped.keys())
    result.created += len(new)
    result.updated += len(changed)
    result.quarantined += len(failed)
    return result


def support_archive(spec: SupportSpec, hubspot_ids: Sequence[str], ctx: SyncContext) -> int:
    """Deleted in HubSpot: the rows are kept with `archived_at` (out of lists and
    figures) and come back when HubSpot restores them."""
    manager: Any = spec.model._default_manager
    rows = list(
        manager.filter(
            hubspot_id__in=list(hubspot_ids), archived_at__isnull=True, **spec.kind
        ).values_list("pk", "hubspot_id", "account_id")
    )
    if not rows:
        return 0
    journal = PageJournal(ctx)
    for pk, hid, account_id in rows:
        journal.add(
            object_type=spec.journal_type,
            object_id=pk,
            hubspot_id=hid or "",
            account_id=account_id,
            field="archived",
            old="",
            new="deleted in HubSpot",
        )
    now = timezone.now()
    with transaction.atomic():
        manager.filter(pk__in=[pk for pk, _, _ in rows]).update(archived_at=now, updated_at=now)
        journal.save()
    return len(rows)

"""Write one page of HubSpot contacts (fixed number of queries)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts.hubspot.inbound.apply import changes_sort, created_insert
from accounts.hubspot.inbound.page_context import (
    CONTACT_FIELDS,
    PageJournal,
    PageResult,
    SyncContext,
    account_ids_for,
    issues_save,
)
from accounts.hubspot.rules import mapping
from accounts.hubspot.rules.mapping import Record, Unmappable
from accounts.models import (
    Contact,
)


def contacts_page_write(records: Sequence[Record], ctx: SyncContext) -> PageResult:
    """Upsert contacts of synced companies; contacts of companies we do not sync are
    counted as skipped."""
    result = PageResult()
    accounts = account_ids_for(records)
    mapped: dict[str, dict[str, Any]] = {}
    failed: dict[str, tuple[str, Record]] = {}
    for record in records:
        hid = str(record["id"])
        try:
            values = mapping.contact_fields(record, accounts=accounts)
        except Unmappable as exc:
            failed[hid] = (exc.reason, record)
            continue
        if values is None:
            result.skipped += 1
        else:
            mapped[hid] = {**values, "archived_at": None}
    existing = {
        c.hubspot_id: c
        for c in Contact.objects.filter(hubspot_id__in=list(mapped)).only(
            "pk", "hubspot_id", *CONTACT_FIELDS
        )
    }
    journal = PageJournal(ctx)
    new, changed = changes_sort(
        mapped,
        existing,
        fields=CONTACT_FIELDS,
        object_type="contact",
        journal=journal,
        result=result,
        now=timezone.now(),
    )
    with transaction.atomic():
        created_insert(Contact, new, object_type="contact", journal=journal)
        if changed:
            Contact.objects.bulk_update(changed, [*journal.changed_fields(), "updated_at"])
        journal.save()
        issues_save(ctx, "contacts", failed, mapped.keys())
    result.created += len(new)
    result.updated += len(changed)
    result.quarantined += len(failed)
    return result

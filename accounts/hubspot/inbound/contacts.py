"""Write one page of HubSpot contacts (fixed number of queries)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts import bulk
from accounts.hubspot.inbound.page_context import (
    CONTACT_FIELDS,
    PageJournal,
    PageResult,
    SyncContext,
    account_ids_for,
    changed_fields,
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
    now = timezone.now()
    new: dict[str, dict[str, Any]] = {}
    changed: list[Contact] = []
    for hid, values in mapped.items():
        contact = existing.get(hid)
        if contact is None:
            new[hid] = {**values, "hubspot_id": hid, "created_at": now, "updated_at": now}
            continue
        old = changed_fields(contact, values, CONTACT_FIELDS)
        if not old:
            result.unchanged += 1
            continue
        journal.apply(
            contact,
            object_type="contact",
            hubspot_id=hid,
            account_id=values["account_id"],
            old=old,
            values=values,
        )
        contact.updated_at = now
        changed.append(contact)
    with transaction.atomic():
        if new:
            inserted = bulk.insert(Contact, list(new.values()), returning=["id", "hubspot_id"])
            for pk, hid in inserted:
                journal.created(
                    pk,
                    new[hid]["name"],
                    object_type="contact",
                    hubspot_id=hid,
                    account_id=new[hid]["account_id"],
                )
        if changed:
            Contact.objects.bulk_update(changed, [*journal.changed_fields(), "updated_at"])
        journal.save()
        issues_save(ctx, "contacts", failed, mapped.keys())
    result.created += len(new)
    result.updated += len(changed)
    result.quarantined += len(failed)
    return result

"""The step every page writer of deals and contacts shares: sort a page's mapped records
into new ones (values ready for one insert), changed ones (fields set on the objects
and journaled) and unchanged ones (counted), then insert the new ones and journal
each. Companies compare some fields three ways and keep their own (companies.py)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from django.db import models

from accounts import bulk
from accounts.hubspot.inbound.page_context import PageJournal, PageResult, changed_fields


def changes_sort[M: models.Model](
    mapped: Mapping[str, dict[str, Any]],
    existing: Mapping[str | None, M],
    *,
    fields: Sequence[str],
    object_type: str,
    journal: PageJournal,
    result: PageResult,
    now: datetime,
    new_extra: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
    before_change: Callable[[M, dict[str, Any]], None] | None = None,
) -> tuple[dict[str, dict[str, Any]], list[M]]:
    """({hubspot id: values to insert}, [changed objects]) for a page's mapped records
    (each carrying `account_id`). `new_extra` adds fields to a new record's values;
    `before_change` sees a changed object before its fields are set."""
    new: dict[str, dict[str, Any]] = {}
    changed: list[M] = []
    for hid, values in mapped.items():
        obj = existing.get(hid)
        if obj is None:
            extra = new_extra(values) if new_extra else {}
            new[hid] = {**values, **extra, "hubspot_id": hid, "created_at": now, "updated_at": now}
            continue
        old = changed_fields(obj, values, fields)
        if not old:
            result.unchanged += 1
            continue
        if before_change is not None:
            before_change(obj, values)
        journal.apply(
            obj,
            object_type=object_type,
            hubspot_id=hid,
            account_id=values["account_id"],
            old=old,
            values=values,
        )
        obj.updated_at = now  # type: ignore[attr-defined]
        changed.append(obj)
    return new, changed


def created_insert(
    model: type[models.Model],
    new: Mapping[str, dict[str, Any]],
    *,
    object_type: str,
    journal: PageJournal,
) -> None:
    """Insert the page's new records in one statement and journal each one created."""
    if not new:
        return
    for pk, hid in bulk.insert(model, list(new.values()), returning=["id", "hubspot_id"]):
        journal.created(
            pk,
            new[hid]["name"],
            object_type=object_type,
            hubspot_id=hid,
            account_id=new[hid]["account_id"],
        )

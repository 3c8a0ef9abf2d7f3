"""Writes of CSV imports. An upload is checked once, in the worker, and the result
stored on the batch; a confirmed import runs in the worker too, in chunks of
set-based writes (accounts.bulk), each chunk committed with the batch's progress,
so the page shows a progress bar and a retried task resumes where it stopped."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone
from django_q.tasks import async_task

from .. import bulk
from ..models import Account, Event, ImportBatch, Stage, StageChange, User
from ..services import (
    ACCOUNT_EDITABLE_FIELDS,
    USAGE_FIELDS,
    _display,
    accounts_changed_notify,
    usage_snapshots_upsert,
)
from .parsing import Preview, preview_build

# Rows per committed chunk: small enough for a lively progress bar, large enough
# that the per-statement cost vanishes.
CHUNK = 2_000


def _enqueue(function: str, batch: ImportBatch) -> None:
    # Inside the caller's transaction: the task row commits with the batch's new
    # state (django-q2's ORM broker), and tests run it inline (sync).
    with transaction.atomic():
        async_task(f"accounts.imports.tasks.{function}", batch.pk, task_name=f"import-{batch.pk}")


@transaction.atomic
def import_batch_create(*, kind: str, filename: str, content: str, by: User) -> ImportBatch:
    """Keep an uploaded file and have the worker check it (see `import_batch_check`)."""
    batch = ImportBatch.objects.create(kind=kind, filename=filename, content=content, created_by=by)
    _enqueue("import_check", batch)
    return batch


def import_batch_check(*, batch: ImportBatch) -> Preview:
    """Check every row of the file once and store the result on the batch."""
    preview = preview_build(kind=batch.kind, content=batch.content)
    batch.preview = preview.to_json()
    batch.rows_total = len(preview.rows)
    batch.rows_valid = len(preview.valid)
    batch.save(update_fields=["preview", "rows_total", "rows_valid"])
    return preview


def import_batch_preview(*, batch: ImportBatch) -> Preview:
    """The batch's checked rows, checked now if the worker has not yet."""
    if batch.preview is None:
        return import_batch_check(batch=batch)
    return Preview.from_json(batch.kind, batch.preview)


@transaction.atomic
def import_apply(*, batch: ImportBatch, by: User, valid_only: bool) -> int:
    """Queue the batch's import, or refuse when rows are invalid unless `valid_only`.
    Returns how many rows will be written."""
    batch = ImportBatch.objects.select_for_update().get(pk=batch.pk)
    if batch.status != ImportBatch.Status.PREVIEW:
        raise ValueError("This import has already been confirmed or cancelled.")
    preview = import_batch_preview(batch=batch)
    if preview.file_errors:
        raise ValueError("The file has errors; nothing was imported.")
    if preview.invalid and not valid_only:
        raise ValueError(f"{len(preview.invalid)} row(s) have errors; nothing was imported.")
    batch.status = ImportBatch.Status.IMPORTING
    batch.valid_only = valid_only
    batch.rows_done = 0
    batch.save(update_fields=["status", "valid_only", "rows_done"])
    _enqueue("import_write", batch)
    return len(preview.valid)


def import_run(*, batch_id: int) -> ImportBatch | None:
    """Write the batch's valid rows, CHUNK at a time, each chunk in one transaction
    with the batch's `rows_done`, so a retry after a crash starts after the last
    committed chunk and never writes a row twice. Returns None when there is nothing
    to run (the batch is gone, or not importing)."""
    batch = ImportBatch.objects.filter(pk=batch_id, status=ImportBatch.Status.IMPORTING).first()
    if batch is None:
        return None
    preview = import_batch_preview(batch=batch)
    rows = [r.data for r in preview.valid]
    by = batch.created_by
    while True:
        with transaction.atomic():
            batch = (
                ImportBatch.objects.select_for_update().defer("content", "preview").get(pk=batch_id)
            )
            if batch.status != ImportBatch.Status.IMPORTING:
                return batch
            chunk = rows[batch.rows_done : batch.rows_done + CHUNK]
            if not chunk:
                batch.status = ImportBatch.Status.IMPORTED
                batch.rows_written = batch.rows_done
                batch.save(update_fields=["status", "rows_written"])
                if batch.kind == ImportBatch.Kind.ACCOUNTS:
                    # Usage upserts analyse their own table; accounts leave theirs here.
                    bulk.analyze(Account, StageChange, Event, rows=batch.rows_done)
                return batch
            if batch.kind == ImportBatch.Kind.ACCOUNTS:
                _write_accounts(chunk, by=by)
            else:
                usage_snapshots_upsert(
                    rows=[
                        {f: r.get(f) for f in ("account_id", "date", *USAGE_FIELDS)} for r in chunk
                    ]
                )
            batch.rows_done += len(chunk)
            batch.save(update_fields=["rows_done"])


def import_fail(*, batch_id: int, error: str) -> None:
    """Stop an import that cannot go on; the rows of committed chunks stay written."""
    ImportBatch.objects.filter(pk=batch_id, status=ImportBatch.Status.IMPORTING).update(
        status=ImportBatch.Status.FAILED, error=error[:2000]
    )


def _write_accounts(rows: list[dict[str, Any]], *, by: User | None) -> None:
    """Create the accounts whose domain is new and update the ones whose domain
    exists, as account_create and account_update would one by one (stage history,
    timeline entries, HubSpot sync), in a few statements for the whole chunk."""
    now = timezone.now()
    actor_id = by.pk if by else None
    domains = [r["domain"] for r in rows if r.get("domain")]
    existing = {a.domain: a for a in Account.objects.filter(domain__in=domains)}
    created: list[dict[str, Any]] = []
    updates: dict[tuple[str, ...], dict[int, dict[str, Any]]] = {}
    update_events: list[dict[str, Any]] = []
    for data in rows:
        values = {
            k: v
            for k, v in data.items()
            if v not in (None, "") and k not in ("owner_email", "owner_id", "stage")
        }
        if "currency" in values:
            values["currency"] = values["currency"].upper()
        account = existing.get(values.get("domain") or "")
        if account is None:
            created.append(
                {
                    **values,
                    "owner_id": data.get("owner_id"),
                    "stage": data.get("stage") or Stage.ONBOARDING,
                }
            )
            continue
        values = {k: v for k, v in values.items() if k in ACCOUNT_EDITABLE_FIELDS}
        changes = {
            f: [_display(getattr(account, f)), _display(v)]
            for f, v in values.items()
            if getattr(account, f) != v
        }
        if not changes:
            continue
        updates.setdefault(tuple(sorted(values)), {})[account.pk] = values
        labels = ", ".join(
            str(getattr(Account._meta.get_field(f), "verbose_name", f)) for f in changes
        )
        update_events.append(
            {
                "account_id": account.pk,
                "kind": Event.Kind.ACCOUNT_UPDATED,
                "summary": f"Changed {labels}",
                "actor_id": actor_id,
                "data": {"changes": changes},
                "occurred_at": now,
            }
        )
    # One INSERT for the chunk; a row without a column takes the field's default,
    # as Account(**values) would.
    columns = {k for row in created for k in row}
    fields = {name: f for f in Account._meta.concrete_fields for name in (f.name, f.attname)}
    defaults = {k: fields[k].get_default() for k in columns}
    new = bulk.insert(
        Account,
        [{**defaults, **row, "created_at": now, "last_activity_at": now} for row in created],
        returning=["id", "stage"],
    )
    stamp = ("field_changed_at", int(now.timestamp() * 1000))
    for group in updates.values():
        bulk.update_changed(
            Account, group, also={"updated_at": now, "last_activity_at": now}, stamp=stamp
        )
    bulk.insert(
        StageChange,
        [
            {
                "account_id": pk,
                "from_stage": "",
                "to_stage": stage,
                "reason": "Created",
                "changed_by_id": actor_id,
                "changed_at": now,
            }
            for pk, stage in new
        ],
    )
    bulk.insert(
        Event,
        [
            {
                "account_id": pk,
                "kind": Event.Kind.ACCOUNT_CREATED,
                "summary": f"Account created in stage {Stage(stage).label}",
                "actor_id": actor_id,
                "data": {},
                "occurred_at": now,
            }
            for pk, stage in new
        ]
        + update_events,
    )
    accounts_changed_notify(
        account_ids=[pk for pk, _stage in new] + [pk for group in updates.values() for pk in group]
    )

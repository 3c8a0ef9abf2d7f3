"""django-q2 entry points for CSV imports. Thin: a batch id in, one service call."""

from __future__ import annotations

import logging

from ..models import ImportBatch
from .services import import_batch_check, import_fail, import_run

log = logging.getLogger(__name__)


def import_check(batch_id: int) -> str:
    """Check an uploaded file's rows once and store the result."""
    batch = ImportBatch.objects.filter(pk=batch_id, preview__isnull=True).first()
    if batch is None:
        return "nothing to check"
    preview = import_batch_check(batch=batch)
    return f"checked {len(preview.rows)} row(s), {len(preview.invalid)} with errors"


def import_write(batch_id: int) -> str:
    """Write a confirmed import; a failure stops it with its reason on the page."""
    try:
        batch = import_run(batch_id=batch_id)
    except Exception as exc:
        log.exception("Import %s failed", batch_id)
        import_fail(batch_id=batch_id, error=f"{type(exc).__name__}: {exc}")
        return "failed"
    return "nothing to import" if batch is None else f"{batch.rows_done} row(s) written"

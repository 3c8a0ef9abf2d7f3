"""Background jobs of the composing pages (scheduled in lifecycle/schedules.py)."""

from __future__ import annotations

from django.conf import settings
from django.utils import timezone

from .metrics.snapshots import snapshots_refresh


def metrics_snapshots_refresh() -> int:
    """Recompute the whole portfolio's current dashboards before their snapshots
    go stale, so leaders opening the metrics page never wait for the ledger."""
    if settings.METRICS_SNAPSHOT_MAX_AGE_SECONDS <= 0:
        return 0
    return snapshots_refresh(today=timezone.localdate())

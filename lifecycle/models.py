"""What the composing pages keep between requests."""

from __future__ import annotations

from django.db import models


class MetricsSnapshot(models.Model):
    """One computed metrics dashboard (every figure for a period and the eleven
    before it) for one scope, period and day, so leaders reading the same view
    share one computation (lifecycle/metrics/snapshots.py)."""

    key = models.CharField(max_length=200, unique=True)
    computed_at = models.DateTimeField()
    # A pickled lifecycle.metrics.dashboard.Dashboard: written and read only by
    # snapshots.py, never from outside input.
    payload = models.BinaryField()

    def __str__(self) -> str:
        return self.key

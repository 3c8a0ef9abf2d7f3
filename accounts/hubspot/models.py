"""The shared HubSpot rate-limit budget: call counts per time window, in the database so
the web process and every worker draw on the one limit HubSpot enforces per portal."""

from __future__ import annotations

from django.db import models


class HubSpotRateWindow(models.Model):
    """Calls made to HubSpot in one window of one bucket, plus the 429s and retries met.

    Ten-second and search buckets use one-second windows (summed for the rolling ten
    seconds); the daily bucket uses one row per UTC day.
    """

    class Bucket(models.TextChoices):
        TEN_SECONDS = "ten_seconds", "Ten-second rolling"
        SEARCH = "search", "Search, per second"
        DAILY = "daily", "Daily"

    bucket = models.CharField(max_length=16, choices=Bucket.choices)
    window_start = models.DateTimeField()
    calls = models.PositiveIntegerField(default=0)
    rate_limited = models.PositiveIntegerField(default=0)
    retries = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["bucket", "window_start"], name="hubspot_rate_window_unique"
            )
        ]
        indexes = [models.Index(fields=["window_start"], name="hubspot_rate_window_start")]

    def __str__(self) -> str:
        return f"{self.bucket} {self.window_start:%Y-%m-%d %H:%M:%S}: {self.calls} calls"

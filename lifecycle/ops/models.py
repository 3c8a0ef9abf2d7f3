"""The jobs a worker is running under a lease (lifecycle.ops.jobs) and the rate-limit
windows counted in the database (lifecycle.ops.counters). The app also gets
Django's migrate signals through this module (the database cache table is made on
pre_migrate, see apps.py)."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class Job(models.Model):
    """A task some worker started and has not finished. Its worker holds the job's
    PostgreSQL advisory lock while it runs; a row whose lock is free belongs to a
    worker that died (kill -9, OOM, a lost host), and the watchdog queues it again."""

    # sha256 of the function's path and its arguments: one row per distinct call.
    key = models.CharField(max_length=64, unique=True)
    func = models.CharField(max_length=200)
    args = models.JSONField(default=list)
    kwargs = models.JSONField(default=dict)
    queue = models.CharField(max_length=40, blank=True)
    started_at = models.DateTimeField(default=timezone.now)
    # Set when the watchdog queued it again; cleared when a worker starts it.
    requeued_at = models.DateTimeField(null=True, blank=True)
    # How many times its worker died under it: a job that kills its worker every
    # time (out of memory, say) is given up after MAX_RECOVERIES.
    recoveries = models.PositiveSmallIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.func}{tuple(self.args)}"


class RateWindow(models.Model):
    """One rate-limit window of a key (a token, a user) when no Redis is configured:
    `lifecycle.ops.counters.window_hit` counts a hit with one upsert of this row, which
    opens a new window once `closes_at` has passed. One row per key, reused."""

    key = models.CharField(max_length=250, primary_key=True)
    hits = models.PositiveIntegerField()
    closes_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.key}: {self.hits} until {self.closes_at:%H:%M:%S}"

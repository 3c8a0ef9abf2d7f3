"""Every recurring job, declared once. `manage.py setup_schedules` applies it
(make run calls it), so schedules are never created by hand."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.apps import apps
from django.conf import settings
from django.utils import timezone
from django_q.models import Schedule

from lifecycle.ops import queues


@dataclass(frozen=True)
class Recurring:
    name: str
    func: str
    schedule_type: str
    minutes: int | None = None
    # For daily jobs: the UTC hour of the first run, so jobs that read each
    # other's output run in order (health scores before alert rules).
    at_hour: int | None = None
    # The django-q2 cluster that runs it (lifecycle.ops.queues); None is the default cluster.
    queue: str | None = None
    # A plug-in app the job belongs to: without it installed the job is not scheduled
    # (and an existing schedule of it is removed).
    app: str = ""


SCHEDULES: list[Recurring] = [
    Recurring(
        # Jobs and HubSpot runs whose worker died (their lock is free) resume within a
        # minute, not after django-q2's re-delivery (`retry`); a starting worker also
        # runs it at once (lifecycle/ops/jobs.py).
        name="ops: resume work of dead workers",
        func="lifecycle.ops.jobs.work_recover",
        schedule_type=Schedule.MINUTES,
        minutes=1,
    ),
    Recurring(
        name="onboarding: refresh plan statuses",
        func="onboarding.tasks.onboarding_statuses_refresh",
        queue=queues.SCORING,
        schedule_type=Schedule.DAILY,
    ),
    Recurring(
        name="hubspot: incremental sync",
        func="accounts.hubspot.tasks.hubspot_poll",
        queue=queues.SYNC,
        app="accounts.hubspot",
        schedule_type=Schedule.MINUTES,
        minutes=settings.HUBSPOT_POLL_MINUTES,
    ),
    Recurring(
        name="hubspot: push changes",
        func="accounts.hubspot.tasks.hubspot_push",
        app="accounts.hubspot",
        schedule_type=Schedule.MINUTES,
        minutes=1,
    ),
    Recurring(
        name="hubspot: provision properties",
        func="accounts.hubspot.tasks.hubspot_provision",
        app="accounts.hubspot",
        schedule_type=Schedule.DAILY,
    ),
    Recurring(
        name="hubspot: reconcile both sides",
        func="accounts.hubspot.tasks.hubspot_reconcile",
        queue=queues.SYNC,
        app="accounts.hubspot",
        schedule_type=Schedule.DAILY,
        at_hour=4,
    ),
    Recurring(
        name="hubspot: archived sweep",
        func="accounts.hubspot.tasks.hubspot_archived_sweep",
        queue=queues.SYNC,
        app="accounts.hubspot",
        schedule_type=Schedule.HOURLY,
    ),
    Recurring(
        name="success: open due renewals",
        func="success.tasks.renewals_open_due",
        queue=queues.SCORING,
        schedule_type=Schedule.DAILY,
    ),
    Recurring(
        name="health: score the portfolio",
        func="success.health.tasks.score_portfolio",
        queue=queues.SCORING,
        schedule_type=Schedule.DAILY,
        at_hour=2,
    ),
    Recurring(
        name="metrics: refresh dashboard snapshots",
        func="lifecycle.tasks.metrics_snapshots_refresh",
        schedule_type=Schedule.MINUTES,
        minutes=max(1, settings.METRICS_SNAPSHOT_MAX_AGE_SECONDS // 120),
    ),
    Recurring(
        name="alerts: evaluate rules",
        func="success.alerts.tasks.evaluate_rules",
        queue=queues.NOTIFICATIONS,
        schedule_type=Schedule.DAILY,
        at_hour=3,
    ),
    Recurring(
        name="playbooks: start, advance and measure runs",
        func="success.playbooks.tasks.playbooks_daily",
        schedule_type=Schedule.DAILY,
        at_hour=4,
        queue=queues.SCORING,
    ),
    Recurring(
        name="notifications: send what is due",
        func="lifecycle.notifications.tasks.deliveries_sweep",
        schedule_type=Schedule.MINUTES,
        minutes=1,
        queue=queues.NOTIFICATIONS,
    ),
    Recurring(
        name="notifications: queue digests whose local hour came",
        func="lifecycle.notifications.tasks.digests_send",
        schedule_type=Schedule.MINUTES,
        minutes=10,
        queue=queues.NOTIFICATIONS,
    ),
]


# Schedules once declared, now gone (replaced or merged): removed by schedules_sync.
RETIRED = ["hubspot: resume runs of dead workers"]


def schedules_sync() -> list[str]:
    """Create missing schedules and update changed ones, remove retired ones; idempotent."""
    out = []
    for name in RETIRED:
        if Schedule.objects.filter(name=name).delete()[0]:
            out.append(f"removed schedule {name} (retired)")
    for spec in SCHEDULES:
        if spec.app and not apps.is_installed(spec.app):
            if Schedule.objects.filter(name=spec.name).delete()[0]:
                out.append(f"removed schedule {spec.name} ({spec.app} is not installed)")
            continue
        defaults: dict[str, object] = {
            "func": spec.func,
            "schedule_type": spec.schedule_type,
            "minutes": spec.minutes,
            "repeats": -1,
            "cluster": queues.queue(spec.queue),
        }
        created = not Schedule.objects.filter(name=spec.name).exists()
        if spec.at_hour is not None and created:
            # Only a new schedule gets a first run; an existing one keeps its cadence.
            now = timezone.now()
            first = now.replace(hour=spec.at_hour, minute=0, second=0, microsecond=0)
            defaults["next_run"] = first if first > now else first + timedelta(days=1)
        Schedule.objects.update_or_create(name=spec.name, defaults=defaults)
        out.append(f"{'created' if created else 'updated'} schedule {spec.name}")
    if not out:
        out.append("no schedules declared yet")
    return out

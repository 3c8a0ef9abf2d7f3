"""Every recurring job, declared once. `manage.py setup_schedules` applies it
(make run calls it), so schedules are never created by hand."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django_q.models import Schedule


@dataclass(frozen=True)
class Recurring:
    name: str
    func: str
    schedule_type: str
    minutes: int | None = None


SCHEDULES: list[Recurring] = [
    Recurring(
        name="onboarding: refresh plan statuses",
        func="onboarding.tasks.onboarding_statuses_refresh",
        schedule_type=Schedule.DAILY,
    ),
    Recurring(
        name="hubspot: incremental sync",
        func="accounts.hubspot.tasks.hubspot_poll",
        schedule_type=Schedule.MINUTES,
        minutes=settings.HUBSPOT_POLL_MINUTES,
    ),
    Recurring(
        name="hubspot: archived sweep",
        func="accounts.hubspot.tasks.hubspot_archived_sweep",
        schedule_type=Schedule.HOURLY,
    ),
    Recurring(
        name="success: open due renewals",
        func="success.tasks.renewals_open_due",
        schedule_type=Schedule.DAILY,
    ),
    Recurring(
        name="health: score the portfolio",
        func="success.health.tasks.score_portfolio",
        schedule_type=Schedule.DAILY,
    ),
    Recurring(
        name="alerts: evaluate rules",
        func="success.alerts.tasks.evaluate_rules",
        schedule_type=Schedule.DAILY,
    ),
]


def schedules_sync() -> list[str]:
    """Create missing schedules and update changed ones; idempotent."""
    out = []
    for spec in SCHEDULES:
        _, created = Schedule.objects.update_or_create(
            name=spec.name,
            defaults={
                "func": spec.func,
                "schedule_type": spec.schedule_type,
                "minutes": spec.minutes,
                "repeats": -1,
            },
        )
        out.append(f"{'created' if created else 'updated'} schedule {spec.name}")
    if not out:
        out.append("no schedules declared yet")
    return out

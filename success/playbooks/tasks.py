"""django-q2 entry point: the daily playbook pass, after alert rules."""

from django.utils import timezone

from .services import playbooks_evaluate


def playbooks_daily() -> str:
    result = playbooks_evaluate(today=timezone.localdate())
    return (
        f"started {sum(result.started.values())}, not started {result.not_started}, "
        f"actions {result.actions}, completed {result.completed}, "
        f"objectives met {result.objectives_met}"
    )

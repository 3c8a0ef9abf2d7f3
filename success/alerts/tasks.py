"""django-q2 entry point: evaluate alert rules daily, after health scoring."""

from django.utils import timezone

from .services import alerts_evaluate


def evaluate_rules() -> str:
    run = alerts_evaluate(today=timezone.localdate())
    return f"opened {sum(run.opened.values())}, cleared {sum(run.cleared.values())}"

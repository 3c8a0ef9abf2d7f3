"""django-q2 entry point: evaluate alert rules daily, after health scoring."""

from django.utils import timezone

from .services import alerts_evaluate
from .support import support_expansion_raise


def evaluate_rules() -> str:
    run = alerts_evaluate(today=timezone.localdate())
    # Sync raises support signals as records arrive; this catches what it missed
    # (hints the admin changed since, a hook that failed).
    hinted = support_expansion_raise()
    return (
        f"opened {sum(run.opened.values())}, cleared {sum(run.cleared.values())}, "
        f"support signals {len(hinted)}"
    )

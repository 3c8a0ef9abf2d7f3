from typing import Any

from django.http import HttpRequest

from .roles import ROLE_LABELS, WRITERS, Role, reads_metrics, role_of


def role(request: HttpRequest) -> dict[str, Any]:
    """Expose the signed-in user's role to every template (navigation, buttons)."""
    current = role_of(getattr(request, "user", None))
    return {
        "user_role": current.value if current else "",
        "user_role_label": ROLE_LABELS.get(current, "") if current else "",
        "is_admin": current == Role.ADMIN,
        "is_leader": current in (Role.ADMIN, Role.LEADER),
        "can_write": current in WRITERS,
        "can_read_metrics": reads_metrics(getattr(request, "user", None)),
    }

from __future__ import annotations

from datetime import date

from django import template
from django.utils import timezone

register = template.Library()


@register.filter
def due_in_words(due: date | None, today: date | None = None) -> str:
    """'today', 'tomorrow', 'in 5 days', 'yesterday', '12 days late'."""
    if due is None:
        return ""
    days = (due - (today or timezone.localdate())).days
    if days == 0:
        return "today"
    if days == 1:
        return "tomorrow"
    if days == -1:
        return "1 day late"
    return f"in {days} days" if days > 0 else f"{-days} days late"

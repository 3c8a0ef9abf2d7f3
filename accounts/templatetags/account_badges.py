"""Badges rendered once per row on list pages, as Python rather than an include:
an `{% include %}` per row costs a template lookup, a context push and a node
walk each time (docs/performance.md)."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from accounts.models import HealthBand

register = template.Library()

_BAND_LABELS = dict(HealthBand.choices)
NOT_FORECAST = mark_safe('<span class="badge">Not forecast</span>')
NO_SCORE = mark_safe('<span class="muted" title="No health score yet">—</span>')


def health_badge_html(*, score: int | None, band: str) -> SafeString:
    """The same markup as components/health_badge.html."""
    if score is None:
        return NO_SCORE
    label = _BAND_LABELS.get(band, band)
    return format_html(
        '<span class="badge badge-{}" title="Health {} ({})">{}{}</span>',
        band or "blue",
        score,
        label or "no band",
        score,
        f" · {label}" if band else "",
    )


@register.simple_tag
def health_badge(account: Any) -> SafeString:
    return health_badge_html(score=account.health_score, band=account.health_band)


@register.simple_tag
def forecast_badge(category: str, label: str) -> SafeString:
    """The same markup as success/_forecast_badge.html, from a renewal's category
    and its display label."""
    if not category:
        return NOT_FORECAST
    return format_html('<span class="badge succ-forecast-{}">{}</span>', category, label)

"""The renewals page's rows, written in Python: the row template's tags and
filters (a `reverse` per link, `get_*_display`, `money`, two badge tags, whose
`format_html` alone cost a third of the rows) cost
more than the page's SQL (docs/performance.md). The markup is what the row
template wrote; tests/success/test_renewal_rows.py compares them."""

from __future__ import annotations

from collections.abc import Iterable
from html import escape

from django.utils.safestring import SafeString, mark_safe

from accounts.formats import date_display, money_display
from accounts.links import url_for_ids
from accounts.models import ForecastCategory, HealthBand, Segment
from accounts.templatetags.account_badges import NO_SCORE, NOT_FORECAST

from ..selectors.renewals import RenewalRow

_SEGMENTS = dict(Segment.choices)
_CATEGORIES = dict(ForecastCategory.choices)
_BANDS = dict(HealthBand.choices)


def _e(value: object) -> str:
    """What `{{ value }}` writes for a plain value: Django's escape is html.escape
    of str(value), without the lazy-string wrapper around it."""
    return escape(str(value))


def renewal_rows(rows: Iterable[RenewalRow]) -> SafeString:
    account_url = url_for_ids("account")
    renewal_url = url_for_ids("success:renewal")
    out = []
    for r in rows:
        if r.owner_username is None:
            owner = "Unassigned"
        else:
            full = f"{r.owner_first_name} {r.owner_last_name}".strip()
            owner = _e(full or r.owner_username)
        forecast_arr = money_display(r.forecast_arr) if r.forecast_arr is not None else ""
        forecast: str
        health: str
        if r.forecast_category:
            label = _e(_CATEGORIES.get(r.forecast_category, r.forecast_category))
            forecast = f'<span class="badge succ-forecast-{_e(r.forecast_category)}">{label}</span>'
        else:
            forecast = NOT_FORECAST
        if r.health_score is None:
            health = NO_SCORE
        else:
            band = _e(_BANDS.get(r.health_band, r.health_band))
            score = _e(r.health_score)
            health = (
                f'<span class="badge badge-{_e(r.health_band or "blue")}" '
                f'title="Health {score} ({band or "no band"})">'
                f"{score}{f' · {band}' if r.health_band else ''}</span>"
            )
        out.append(
            "\n      \n      <tr>\n"
            f'        <td><a class="row-title" href="{account_url(r.account_id)}">'
            f"{_e(r.account_name)}</a><br>"
            f'<span class="muted small">{_e(_SEGMENTS.get(r.segment, r.segment))}</span></td>\n'
            f'        <td class="hide-sm">{owner}</td>\n'
            f'        <td><a href="{renewal_url(r.pk)}">{date_display(r.renewal_date)}</a></td>\n'
            f'        <td class="num">{money_display(r.current_arr)} '
            f'<span class="muted small">{_e(r.currency)}</span></td>\n'
            f"        <td>{forecast}</td>\n"
            f'        <td class="num">{forecast_arr or "—"}</td>\n'
            '        <td class="hide-sm">'
            f"{health}</td>\n"
            "      </tr>\n      \n    "
        )
    return mark_safe("".join(out))  # every value is escaped or ours

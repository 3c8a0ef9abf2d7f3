"""The portfolio's rows, written in Python: values read with only the shown
columns, formatted and escaped here, one `<tr>` per account, instead of model
instances and a template node per cell (docs/performance.md has the
measurements behind this). tests/lifecycle/test_portfolio_rows.py renders the
template these rows replaced for the same accounts and compares."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from html import escape as _esc

from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe

from accounts.formats import date_display, money_display
from accounts.links import url_for_ids
from accounts.models import HealthBand, Segment, Stage
from accounts.naturaltime import naturaltime_for
from accounts.selectors import PortfolioAccount
from accounts.templatetags.account_badges import NO_SCORE

__all__ = [
    "day_text",
    "health_badge",
    "money_whole",
    "portfolio_rows_html",
    "url_for_ids",
]

# Choices are constants: their labels, escaped once per process.
_SEGMENTS = {value: _esc(label) for value, label in Segment.choices}
_STAGES = {value: _esc(label) for value, label in Stage.choices}
_BANDS = dict(HealthBand.choices)


def money_whole(value: Decimal) -> str:
    """As the `money` filter (accounts.formats): the one way pages write amounts."""
    return money_display(value)


def day_text(value: date) -> str:
    """As the `day` filter (accounts.formats): the one way pages write a day."""
    return date_display(value)


_BADGES: dict[tuple[int, str], str] = {}


def health_badge(score: int | None, band: str) -> str:
    """accounts.templatetags.account_badges.health_badge_html, as a plain string,
    kept per (score, band): a pure function of two small values."""
    if score is None:
        return str(NO_SCORE)
    badge = _BADGES.get((score, band))
    if badge is None:
        label = _BANDS.get(band, band)
        badge = (
            f'<span class="badge badge-{_esc(band or "blue")}" '
            f'title="Health {score} ({_esc(label or "no band")})">'
            f"{score}{_esc(f' · {label}') if band else ''}</span>"
        )
        if len(_BADGES) < 4096:
            _BADGES[(score, band)] = badge
    return badge


def _owner(a: PortfolioAccount) -> str:
    """str(user): the full name, else the username (AbstractUser.get_full_name)."""
    if a.owner_id is None:
        return "Unassigned"
    return f"{a.owner_first_name} {a.owner_last_name}".strip() or a.owner_username or ""


def portfolio_rows_html(accounts: Iterable[PortfolioAccount]) -> SafeString:
    """The table body's rows, with the whitespace the row loop wrote between them."""
    url = url_for_ids("account")
    natural = naturaltime_for()
    localtime = timezone.localtime
    zone = timezone.get_current_timezone()
    out = []
    for a in accounts:
        if a.last_activity_at is None:
            activity = "—"
        else:
            at = localtime(a.last_activity_at, zone)
            activity = f'<time datetime="{at.isoformat()}">{_esc(natural(at))}</time>'
        # html.escape is what Django's escape calls, without its lazy-string
        # wrapper; every value is escaped here or is a constant of ours.
        out.append(
            "\n      <tr>\n"
            f'        <td><a class="row-title" href="{_esc(url(a.pk))}">{_esc(a.name)}</a><br>'
            f'<span class="muted small">{_esc(a.domain or "no domain")} · '
            f"{_SEGMENTS.get(a.segment) or _esc(a.segment)}</span></td>\n"
            f'        <td class="hide-sm">{_esc(_owner(a))}</td>\n'
            f'        <td><span class="badge stage-{_esc(a.stage)}">'
            f"{_STAGES.get(a.stage) or _esc(a.stage)}</span></td>\n"
            f'        <td class="num">{_esc(money_whole(a.arr))} '
            f'<span class="muted small">{_esc(a.currency)}</span></td>\n'
            f'        <td class="hide-sm">'
            f"{_esc(day_text(a.renewal_date)) if a.renewal_date else '—'}</td>\n"
            f"        <td>{health_badge(a.health_score, a.health_band)}</td>\n"
            f'        <td class="hide-sm">{activity}</td>\n'
            "      </tr>\n    "
        )
    return mark_safe("".join(out))  # every value above is escaped

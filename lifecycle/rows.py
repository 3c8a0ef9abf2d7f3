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

from django.contrib.humanize.templatetags.humanize import intcomma
from django.core.paginator import Page
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
    "portfolio_table_html",
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


def _stage(stage: str) -> str:
    return f'<span class="badge stage-{_esc(stage)}">{_STAGES.get(stage) or _esc(stage)}</span>'


# The stage cells of the stages there are, written once per process.
_STAGE_CELLS = {value: _stage(value) for value in _STAGES}


def portfolio_rows_html(accounts: Iterable[PortfolioAccount]) -> SafeString:
    """The table body's rows, with the whitespace the row loop wrote between them.

    html.escape is what Django's escape calls, without its lazy-string wrapper.
    Every value is escaped here, once per distinct value on the page where values
    repeat (owners, currencies, days, times), or is a constant of ours; amounts are
    digits and separators."""
    url = url_for_ids("account")
    natural = naturaltime_for()
    localtime = timezone.localtime
    zone = timezone.get_current_timezone()
    owners: dict[int | None, str] = {}
    currencies: dict[str, str] = {}
    days: dict[date, str] = {}
    said: dict[str, str] = {}
    out = []
    for a in accounts:
        owner = owners.get(a.owner_id)
        if owner is None:
            owner = owners[a.owner_id] = _esc(_owner(a))
        currency = currencies.get(a.currency)
        if currency is None:
            currency = currencies[a.currency] = _esc(a.currency)
        if a.renewal_date is None:
            renewal = "—"
        elif (renewal := days.get(a.renewal_date)) is None:  # type: ignore[assignment]
            renewal = days[a.renewal_date] = _esc(day_text(a.renewal_date))
        if a.last_activity_at is None:
            activity = "—"
        else:
            at = localtime(a.last_activity_at, zone)
            text = natural(at)
            if (shown := said.get(text)) is None:
                shown = said[text] = _esc(text)
            activity = f'<time datetime="{at.isoformat()}">{shown}</time>'
        out.append(
            "\n      <tr>\n"
            f'        <td><a class="row-title" href="{_esc(url(a.pk))}">{_esc(a.name)}</a><br>'
            f'<span class="muted small">{_esc(a.domain or "no domain")} · '
            f"{_SEGMENTS.get(a.segment) or _esc(a.segment)}</span></td>\n"
            f'        <td class="hide-sm">{owner}</td>\n'
            f"        <td>{_STAGE_CELLS.get(a.stage) or _stage(a.stage)}</td>\n"
            f'        <td class="num">{money_whole(a.arr)} '
            f'<span class="muted small">{currency}</span></td>\n'
            f'        <td class="hide-sm">{renewal}</td>\n'
            f"        <td>{health_badge(a.health_score, a.health_band)}</td>\n"
            f'        <td class="hide-sm">{activity}</td>\n'
            "      </tr>\n    "
        )
    return mark_safe("".join(out))  # every value above is escaped


# The table's head: (sort key, th attributes, label, extra link attributes).
_COLUMNS = (
    ("name", "", "Account", ""),
    ("owner", ' class="hide-sm"', "Owner", ""),
    ("stage", "", "Stage", ""),
    ("arr", ' class="num"', "ARR", ""),
    ("renewal", ' class="hide-sm"', "Renewal", ""),
    ("health", "", "Health", ""),
    (
        "activity",
        ' class="hide-sm"',
        "Last activity",
        ' title="When someone last did something with the customer: a logged touch,'
        " onboarding work, the success plan, a review, a renewal. Syncs and alerts do"
        ' not count."',
    ),
)
_HTMX_SWAP = 'hx-boost="true" hx-target="#results" hx-select="#results" hx-swap="outerHTML"'


def portfolio_table_html(
    *, page: Page, rows: str, sort: dict[str, dict[str, str]], query: str
) -> SafeString:
    """The table of a page of accounts and its pager, as the template wrote them
    between `{% if page.object_list %}` and `{% elif %}`; `rows` from
    portfolio_rows_html, `sort` and `query` the view's links."""
    head = "".join(
        f'\n      <th scope="col"{th}><a href="{_esc(sort[key]["url"])}" '
        f'data-dir="{_esc(sort[key]["direction"])}"{more}>{label}</a></th>'
        for key, th, label, more in _COLUMNS
    )
    count = _esc(intcomma(page.paginator.count))
    query = _esc(query)
    previous = (
        f'<a class="btn btn-small" href="?{query}&page={page.previous_page_number()}" '
        'rel="prev">← Previous</a>'
        if page.has_previous()
        else ""
    )
    following = (
        f'<a class="btn btn-small" href="?{query}&page={page.next_page_number()}" '
        'rel="next">Next →</a>'
        if page.has_next()
        else ""
    )
    return mark_safe(  # every value is escaped or ours
        '\n  <div class="table-wrap">\n'
        '  <table class="data" id="portfolio-table">\n'
        f"    <thead {_HTMX_SWAP}><tr>{head}\n    </tr></thead>\n"
        f"    <tbody>\n    {rows}\n    </tbody>\n"
        "  </table>\n  </div>\n"
        f'  <nav class="pager" aria-label="Pages" {_HTMX_SWAP}>\n'
        f'    <span class="muted">Showing {page.start_index()}–{page.end_index()} '
        f"of {count}</span>\n"
        '    <span class="pages">\n'
        f"      {previous}\n"
        f'      <span class="muted">Page {page.number} of {page.paginator.num_pages}</span>\n'
        f"      {following}\n"
        "    </span>\n  </nav>\n"
    )

"""The dashboard's repeated markup, written in Python.

The dashboard draws a column chart and a table for each of its fifteen figures,
twelve periods each: about two thousand template variables, each through
Django's localisation and escaping, which cost ten times the page's queries
(docs/performance.md). These functions write what the template did (the tests
render the old template for the same boards and compare): numbers as Django's
template shows them, text escaped as Django escapes it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from html import escape as _esc

from django.urls import reverse
from django.utils.formats import localize
from django.utils.safestring import SafeString, mark_safe

from .charts import ColumnChart, StackedBar
from .dashboard import Dashboard, Metric


def _n(value: float | int) -> str:
    """A number as `{{ value }}` writes it: str() for the plain floats and ints
    geometry gives (no thousands separator is configured); Django's own
    formatting for the rare exponent form."""
    text = str(value)
    return text if "e" not in text else str(localize(value))


def _escaper() -> Callable[[str], str]:
    """Escape, once per distinct text of one page (period labels and "no data yet"
    recur in every chart)."""
    seen: dict[str, str] = {}

    def escape(text: str) -> str:
        done = seen.get(text)
        if done is None:
            done = seen[text] = _esc(text)
        return done

    return escape


def _column_chart(metric: Metric, chart: ColumnChart, _esc: Callable[[str], str]) -> str:
    """What lifecycle/metrics/_column_chart.html wrote."""
    key = _esc(metric.key)
    width, height, baseline = chart.width, chart.height, chart.baseline
    last = len(chart.bars) - 1
    parts = [
        f'<svg class="mx-chart" viewBox="0 0 {width} {height}" role="img"'
        f' aria-labelledby="chart-{key}-title">\n'
        f'  <title id="chart-{key}-title">{_esc(metric.label)}, last {len(chart.bars)} periods;'
        " the numbers are in the table beside</title>\n"
        f'  <line class="mx-axis" x1="0" x2="{width}" y1="{baseline}" y2="{baseline}"/>\n  '
    ]
    for i, bar in enumerate(chart.bars):
        label, text, centre = _esc(bar.label), _esc(bar.text), _n(bar.centre)
        parts.append(f"\n  <g>\n    <title>{label}: {text}</title>\n    ")
        if bar.missing:
            parts.append(
                f'\n    <text class="mx-missing" x="{centre}" y="{baseline - 4}"'
                ' text-anchor="middle">–</text>\n    '
            )
        else:
            selected = " mx-bar-selected" if bar.selected else ""
            parts.append(
                f'\n    <rect class="mx-bar{selected}" x="{_n(bar.x)}" y="{_n(bar.y)}"'
                f' width="{_n(bar.width)}" height="{_n(bar.height)}"/>\n    '
            )
        parts.append("\n    ")
        if bar.selected:
            parts.append(
                f'<text class="mx-value" x="{width}" y="10" text-anchor="end">'
                f"{label}: {text}</text>"
            )
        parts.append("\n    ")
        if i == 0 or i == last or i % 3 == 0:
            parts.append(
                f'<text class="mx-label" x="{centre}" y="{height - 5}" text-anchor="middle">'
                f"{label}</text>"
            )
        parts.append("\n  </g>\n  ")
    parts.append("\n</svg>\n")
    return "".join(parts)


def trend_figures(board: Dashboard) -> SafeString:
    """The trends section's figures: each metric's chart and the table beside it."""
    _esc = _escaper()
    parts = []
    for metric, chart in board.charts:
        label = _esc(metric.label)
        rows = "".join(
            f'<tr{' class="mx-selected"' if bar.selected else ""}><th scope="row">'
            f'{_esc(bar.label)}</th><td class="num">{_esc(bar.text)}</td></tr>'
            for bar in chart.bars
        )
        parts.append(
            f'\n    <figure class="mx-trend" id="trend-{_esc(metric.key)}">\n'
            f"      <figcaption><strong>{label}</strong></figcaption>\n"
            '      <div class="mx-trend-body">\n'
            f"        {_column_chart(metric, chart, _esc)}\n"
            '        <table class="data mx-trend-table">\n'
            f'          <caption class="visually-hidden">{label} by period</caption>\n'
            '          <thead><tr><th scope="col">Period</th><th scope="col" class="num">'
            f"{label}</th></tr></thead>\n"
            f"          <tbody>{rows}</tbody>\n"
            "        </table>\n"
            "      </div>\n"
            "    </figure>\n  "
        )
    return mark_safe("".join(parts))  # every value above is escaped or a number


def health_chart(bars: Sequence[StackedBar]) -> SafeString:
    """The health distribution's stacked columns (the <g> per period)."""
    last = len(bars) - 1
    parts = []
    for i, bar in enumerate(bars):
        label, x, width = _esc(bar.label), _n(bar.x), _n(bar.width)
        segments = "".join(
            f'<rect x="{x}" y="{_n(s.y)}" width="{width}" height="{_n(s.height)}"'
            f' class="mx-band-{_esc(s.key)}"><title>{label}: {s.count}'
            f" {_esc(s.label.lower())}</title></rect>"
            for s in bar.segments
            if s.height
        )
        missing = (
            ""
            if bar.total
            else f'<text class="mx-missing" x="{_n(bar.centre)}" y="96"'
            ' text-anchor="middle">–</text>'
        )
        shown = (
            f'<text class="mx-label" x="{_n(bar.centre)}" y="115" text-anchor="middle">'
            f"{label}</text>"
            if i == 0 or i == last or i % 3 == 0
            else ""
        )
        parts.append(f"\n    <g>{segments}\n    {missing}\n    {shown}</g>\n    ")
    return mark_safe("".join(parts))  # every value above is escaped or a number


def _drill_url() -> Callable[[str], str]:
    """`reverse("metrics_drill", args=[key])` for many keys: reversed once."""
    marker = "drillmarker"
    head, tail = reverse("metrics_drill", args=[marker]).split(marker)
    return lambda key: f"{head}{key}{tail}"


class DrillUrls(dict[str, str]):
    """`{{ drill.<key> }}`: a figure's drill-down address, reversed once per page."""

    def __init__(self) -> None:
        super().__init__()
        self._url = _drill_url()

    def __missing__(self, key: str) -> str:
        url = self[key] = self._url(key)
        return url


def figure_cards(board: Dashboard, *, query: str, before_label: str) -> SafeString:
    """A card per figure: the value (a link to its accounts), the change against
    the period before, the detail and what it measures."""
    drill = _drill_url()
    query = _esc(query)
    before = _esc(before_label)
    parts = []
    for m in board.metrics:
        if m.current is None:
            figure = '<span class="muted">no data yet</span>'
        else:
            figure = (
                f'<a href="{_esc(drill(m.key))}?{query}" title="See the accounts behind this'
                f' number">{_esc(m.display)}</a>'
            )
        change, good = m.change, m.change_is_good
        if change:
            tone = " mx-good" if good else " mx-bad" if good is False else ""
            verdict = " · better" if good else " · worse" if good is False else ""
            compare = (
                f'<span class="mx-change{tone}">{_esc(m.arrow)} {_esc(change)}{verdict}</span>'
                f" vs {before} ({_esc(m.previous_display)})"
            )
        elif m.current is not None:
            compare = f'<span class="muted">{before}: {_esc(m.previous_display)}</span>'
        else:
            compare = ""
        detail = _esc(m.detail[-1]) if m.detail else ""
        parts.append(
            f'\n  <article class="mx-card" id="card-{_esc(m.key)}">\n'
            f'    <h2 class="mx-card-title">{_esc(m.label)}</h2>\n'
            f'    <p class="mx-figure">{figure}</p>\n'
            f'    <p class="small mx-compare">{compare}</p>\n'
            f'    <p class="small muted">{detail}</p>\n'
            f'    <p class="small muted mx-help">{_esc(m.help)}</p>\n'
            "  </article>\n  "
        )
    return mark_safe("".join(parts))  # every value above is escaped

"""The metrics dashboard for leaders: figures, trends, drill-downs, CSV."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from itertools import islice
from typing import Any

from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from accounts.csv_stream import csv_download
from accounts.http import AuthedRequest
from accounts.models import Account
from accounts.roles import reads_metrics, require

from .metrics.dashboard import dashboard
from .metrics.db import reporting
from .metrics.drills import DRILLS, TODAY_ONLY
from .metrics.forms import MetricsForm, neighbours, period_query
from .metrics.html import DrillUrls, figure_cards, health_chart, trend_figures
from .metrics.snapshots import dashboard_figures

DRILL_PAGE = 500
CSV_CHUNK = 2000


def require_metrics(user: Any) -> None:
    """Leaders, admins and viewers read the portfolio's numbers; a CSM's home
    page shows their own book."""
    require(
        reads_metrics(user),
        "The metrics dashboard is for CS leaders, admins and viewers.",
    )


def _form(request: AuthedRequest) -> MetricsForm:
    form = MetricsForm(request.GET, today=timezone.localdate())
    form.is_valid()
    return form


def _form_refused(form: MetricsForm) -> HttpResponse | None:
    """A CSV of the wrong period is worse than none: bad choices are a 400 that says why."""
    if not form.errors:
        return None
    lines = [
        f"{name}: {' '.join(map(str, errors))}" if name != "__all__" else " ".join(map(str, errors))
        for name, errors in form.errors.items()
    ]
    return HttpResponse(
        "\n".join(lines) + "\n", status=400, content_type="text/plain; charset=utf-8"
    )


def _filters_query(request: AuthedRequest) -> str:
    query = request.GET.copy()
    for key in ("page",):
        query.pop(key, None)
    return query.urlencode()


@require_GET
def metrics_dashboard(request: AuthedRequest) -> HttpResponse:
    require_metrics(request.user)
    form = _form(request)
    today = timezone.localdate()
    period = form.period()
    figures = dashboard_figures(scope=form.scope(), period=period, today=today)
    before, after = neighbours(period)
    board = figures.board
    query = period_query(period, request.GET)
    context = {
        "form": form,
        "board": board,
        "trends": trend_figures(board),
        "health_chart": health_chart(board.health_chart),
        "cards": figure_cards(board, query=query, before_label=before.label),
        "drill": DrillUrls(),
        "figures": figures,
        "query": query,
        "before": before,
        "before_query": period_query(before, request.GET),
        "after": after,
        "after_query": period_query(after, request.GET) if after.start <= today else "",
        "today": today,
        "on": period.day_nearest(today),
    }
    return render(request, "lifecycle/metrics/dashboard.html", context)


@require_GET
def metrics_export(request: AuthedRequest) -> HttpResponse | StreamingHttpResponse:
    """Every figure for the chosen period and the eleven before it."""
    require_metrics(request.user)
    form = _form(request)
    if refused := _form_refused(form):
        return refused
    board = dashboard(scope=form.scope(), period=form.period(), today=timezone.localdate())

    def rows() -> Iterator[list[Any]]:
        yield ["metric", "unit", *(f"{p.start}..{p.end}" for p in board.periods)]
        for m in board.metrics:
            yield [m.label, m.unit, *("" if v is None else _plain(v) for v in m.values)]
        for band, _label in (("green", ""), ("yellow", ""), ("red", "")):
            yield [
                f"Accounts in the {band} band",
                "count",
                *(h.counts.get(band, "") if h.scored_on else "" for h in board.health),
            ]
        yield [
            "At-risk ARR (today)",
            "money",
            *([""] * (len(board.periods) - 1)),
            board.at_risk.arr,
        ]
        # Renewal rate by CSAT band and NPS category: the chosen period only.
        sat = board.satisfaction
        for kind, groups in (("CSAT band", sat.csat), ("NPS category", sat.nps)):
            for g in groups:
                rate = g.ratio.percent
                yield [
                    f"Renewal rate by {kind}: {g.label}",
                    "percent",
                    *([""] * (len(board.periods) - 1)),
                    "" if rate is None else _plain(rate),
                ]

    return csv_download(rows(), f"metrics-{board.period.start}-{board.period.end}.csv")


def _plain(value: Any) -> str:
    from decimal import Decimal

    if isinstance(value, Decimal):
        return f"{value.quantize(Decimal('0.01'))}"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _drill(metric: str) -> Any:
    drill = DRILLS.get(metric)
    if drill is None:
        raise Http404("No such figure.")
    return drill


def _with_accounts(rows: list[tuple[int, list[Any]]]) -> list[tuple[Account, list[Any]]]:
    accounts = Account.objects.select_related("owner").in_bulk([pk for pk, _ in rows])
    return [(accounts[pk], cells) for pk, cells in rows if pk in accounts]


@require_GET
def metrics_drill(request: AuthedRequest, metric: str) -> HttpResponse:
    require_metrics(request.user)
    drill = _drill(metric)
    form = _form(request)
    period = form.period()
    today = timezone.localdate()
    with reporting():
        rows = list(drill.rows(form.scope(), period, today, DRILL_PAGE + 1))
        accounts = _with_accounts(rows[:DRILL_PAGE])
    context = {
        "form": form,
        "drill": drill,
        "metric": metric,
        "period": period,
        "today_only": metric in TODAY_ONLY,
        "rows": accounts,
        "more": len(rows) > DRILL_PAGE,
        "page_size": DRILL_PAGE,
        "query": _filters_query(request),
    }
    return render(request, "lifecycle/metrics/drill.html", context)


@require_GET
def metrics_drill_export(
    request: AuthedRequest, metric: str
) -> HttpResponse | StreamingHttpResponse:
    require_metrics(request.user)
    drill = _drill(metric)
    form = _form(request)
    if refused := _form_refused(form):
        return refused
    period = form.period()
    today: date = timezone.localdate()

    def rows() -> Iterator[list[Any]]:
        yield ["account_id", "account", "owner", "segment", *drill.columns]
        source = drill.rows(form.scope(), period, today, None)
        while chunk := list(islice(source, CSV_CHUNK)):
            for account, cells in _with_accounts(chunk):
                yield [
                    account.pk,
                    account.name,
                    account.owner.email if account.owner else "",
                    account.segment,
                    *(_plain(c) for c in cells),
                ]

    return csv_download(rows(), f"{metric}-{period.start}-{period.end}.csv")

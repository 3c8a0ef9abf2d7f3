"""Computed dashboards kept for a few minutes, shared by every web worker.

The dashboard recomputes its ledger over the whole portfolio (818 ms at 100,000
accounts); leaders open the same few views all day. A snapshot per (scope, period,
day) is reused while younger than METRICS_SNAPSHOT_MAX_AGE_SECONDS and the page
says when its figures were computed. The scheduled `metrics_snapshots_refresh`
recomputes the whole portfolio's current month, quarter and year before they go
stale, so those views never wait. 0 turns snapshots off (the figures are then
computed for every request, as the test suite does).
"""

from __future__ import annotations

import pickle
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.utils import timezone

from lifecycle.models import MetricsSnapshot

from .dashboard import Dashboard, dashboard
from .periods import Grain, Period, period_containing
from .scope import Scope


@dataclass(frozen=True)
class Figures:
    board: Dashboard
    computed_at: datetime
    max_age_minutes: int  # 0: computed for this request


def _key(scope: Scope, period: Period, today: date) -> str:
    owner = "" if scope.owner_id is None else scope.owner_id
    return f"{owner}|{scope.segment}|{period.grain}|{period.start}|{period.end}|{today}"


def _max_age() -> int:
    return int(settings.METRICS_SNAPSHOT_MAX_AGE_SECONDS)


def _store(key: str, board: Dashboard, now: datetime) -> None:
    MetricsSnapshot.objects.bulk_create(
        [MetricsSnapshot(key=key, computed_at=now, payload=pickle.dumps(board))],
        update_conflicts=True,
        unique_fields=["key"],
        update_fields=["computed_at", "payload"],
    )


def dashboard_figures(*, scope: Scope, period: Period, today: date) -> Figures:
    """The dashboard from a fresh snapshot (one query), else computed and kept."""
    max_age = _max_age()
    now = timezone.now()
    if max_age <= 0:
        return Figures(dashboard(scope=scope, period=period, today=today), now, 0)
    key = _key(scope, period, today)
    row = (
        MetricsSnapshot.objects.filter(key=key, computed_at__gt=now - timedelta(seconds=max_age))
        .values_list("computed_at", "payload")
        .first()
    )
    if row is not None:
        return Figures(pickle.loads(row[1]), row[0], max_age // 60)
    board = dashboard(scope=scope, period=period, today=today)
    _store(key, board, now)
    return Figures(board, now, max_age // 60)


def snapshots_refresh(*, today: date) -> int:
    """Recompute the whole portfolio's current month, quarter and year and drop
    snapshots of past days. Returns how many dashboards were computed."""
    now = timezone.now()
    MetricsSnapshot.objects.filter(computed_at__lt=now - timedelta(days=1)).delete()
    grains = (Grain.MONTH, Grain.QUARTER, Grain.YEAR)
    for grain in grains:
        period = period_containing(today, grain)
        scope = Scope()
        _store(_key(scope, period, today), dashboard(scope=scope, period=period, today=today), now)
    return len(grains)

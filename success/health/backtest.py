"""Does health predict renewals? For renewals closed in a period: the band
each account was in 90 days before its renewal date, and how each band
renewed (by count and by ARR). Reads in two queries."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from success.models import Renewal

from .models import HealthScore

LOOKBACK_DAYS = 90
# A score counts for "90 days before" if it is at most this much older.
TOLERANCE_DAYS = 45
BANDS = ["green", "yellow", "red", "unscored"]


@dataclass
class BandOutcome:
    band: str
    closed: int = 0
    renewed: int = 0
    arr_up: Decimal = Decimal("0")
    arr_kept: Decimal = Decimal("0")

    @property
    def renewal_rate(self) -> Decimal | None:
        if not self.closed:
            return None
        return (Decimal(100) * self.renewed / self.closed).quantize(Decimal("0.1"))

    @property
    def arr_retained(self) -> Decimal | None:
        if not self.arr_up:
            return None
        return (Decimal(100) * self.arr_kept / self.arr_up).quantize(Decimal("0.1"))


def renewal_backtest(*, start: date, end: date) -> list[BandOutcome]:
    renewals = list(
        Renewal.objects.filter(
            status__in=[Renewal.Status.RENEWED, Renewal.Status.CHURNED],
            renewal_date__gte=start,
            renewal_date__lte=end,
        ).values_list("account_id", "renewal_date", "status", "current_arr", "new_arr")
    )
    outcomes = {band: BandOutcome(band) for band in BANDS}
    if not renewals:
        return list(outcomes.values())
    scores: dict[int, list[tuple[date, str]]] = defaultdict(list)
    earliest = min(r[1] for r in renewals) - timedelta(days=LOOKBACK_DAYS + TOLERANCE_DAYS)
    latest = max(r[1] for r in renewals) - timedelta(days=LOOKBACK_DAYS)
    for pk, when, band in (
        HealthScore.objects.filter(
            account_id__in={r[0] for r in renewals}, date__gte=earliest, date__lte=latest
        )
        .order_by("date")
        .values_list("account_id", "date", "band")
    ):
        scores[pk].append((when, band))
    for pk, renewal_date, status, current_arr, new_arr in renewals:
        cutoff = renewal_date - timedelta(days=LOOKBACK_DAYS)
        usable = [
            b
            for d, b in scores.get(pk, [])
            if cutoff - timedelta(days=TOLERANCE_DAYS) <= d <= cutoff
        ]
        outcome = outcomes[usable[-1] if usable else "unscored"]
        outcome.closed += 1
        outcome.arr_up += current_arr or Decimal("0")
        if status == Renewal.Status.RENEWED:
            outcome.renewed += 1
            outcome.arr_kept += new_arr if new_arr is not None else (current_arr or Decimal("0"))
    return list(outcomes.values())

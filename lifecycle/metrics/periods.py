"""Reporting periods: pure date arithmetic, no database.

A period is a closed range of days [start, end]. The dashboard looks at one
period and the eleven before it, back to back, so every figure has a
previous value and a twelve-point trend. Custom ranges repeat their length.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from accounts.formats import date_display

TREND_LENGTH = 12


class Grain(StrEnum):
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"
    CUSTOM = "custom"


GRAIN_LABELS = {
    Grain.MONTH: "Month",
    Grain.QUARTER: "Quarter",
    Grain.YEAR: "Year",
    Grain.CUSTOM: "Custom dates",
}


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # inclusive
    grain: Grain

    @property
    def after(self) -> date:
        """The first day after the period (exclusive bound for queries)."""
        return self.end + timedelta(days=1)

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def label(self) -> str:
        if self.grain == Grain.MONTH:
            return f"{self.start:%b %Y}"
        if self.grain == Grain.QUARTER:
            return f"Q{(self.start.month - 1) // 3 + 1} {self.start.year}"
        if self.grain == Grain.YEAR:
            return str(self.start.year)
        return f"{date_display(self.start)} – {date_display(self.end)}"

    @property
    def short_label(self) -> str:
        if self.grain == Grain.MONTH:
            return f"{self.start:%b %y}"
        if self.grain == Grain.QUARTER:
            return f"Q{(self.start.month - 1) // 3 + 1} {self.start:%y}"
        if self.grain == Grain.YEAR:
            return str(self.start.year)
        return f"{self.end:%b %-d}"

    def contains(self, day: date) -> bool:
        return self.start <= day <= self.end

    def day_nearest(self, today: date) -> date:
        """The day of the period closest to `today`: today itself while the
        period runs. Switching grain keeps this day, so Month from this
        quarter is this month, and from a past quarter its last month."""
        return min(max(today, self.start), self.end)


def _add_months(day: date, months: int) -> date:
    index = day.month - 1 + months
    return date(day.year + index // 12, index % 12 + 1, 1)


def period_containing(day: date, grain: Grain) -> Period:
    """The month, quarter or year that contains `day`."""
    if grain == Grain.MONTH:
        start = day.replace(day=1)
        return Period(start, _add_months(start, 1) - timedelta(days=1), grain)
    if grain == Grain.QUARTER:
        start = date(day.year, (day.month - 1) // 3 * 3 + 1, 1)
        return Period(start, _add_months(start, 3) - timedelta(days=1), grain)
    if grain == Grain.YEAR:
        return Period(date(day.year, 1, 1), date(day.year, 12, 31), grain)
    raise ValueError("A custom period has no calendar; give its dates.")


def previous_period(period: Period) -> Period:
    if period.grain == Grain.CUSTOM:
        end = period.start - timedelta(days=1)
        return Period(end - timedelta(days=period.days - 1), end, Grain.CUSTOM)
    return period_containing(period.start - timedelta(days=1), period.grain)


def trailing_periods(period: Period, count: int = TREND_LENGTH) -> list[Period]:
    """`count` back-to-back periods, oldest first, ending with `period`."""
    periods = [period]
    while len(periods) < count:
        periods.append(previous_period(periods[-1]))
    return periods[::-1]


def last_complete_quarter(today: date) -> Period:
    return previous_period(period_containing(today, Grain.QUARTER))

from __future__ import annotations

from datetime import date
from itertools import pairwise

from lifecycle.metrics.periods import (
    Grain,
    Period,
    last_complete_quarter,
    period_containing,
    previous_period,
    trailing_periods,
)


def test_quarter_containing_a_day_runs_from_its_first_to_last_day() -> None:
    q = period_containing(date(2025, 5, 17), Grain.QUARTER)
    assert (q.start, q.end, q.label) == (date(2025, 4, 1), date(2025, 6, 30), "Q2 2025")


def test_month_handles_february_of_a_leap_year() -> None:
    m = period_containing(date(2024, 2, 10), Grain.MONTH)
    assert (m.start, m.end, m.after) == (date(2024, 2, 1), date(2024, 2, 29), date(2024, 3, 1))


def test_previous_quarter_crosses_the_year() -> None:
    q = previous_period(period_containing(date(2025, 2, 1), Grain.QUARTER))
    assert (q.start, q.end) == (date(2024, 10, 1), date(2024, 12, 31))


def test_trailing_periods_are_twelve_back_to_back_oldest_first() -> None:
    periods = trailing_periods(period_containing(date(2025, 6, 1), Grain.MONTH))
    assert len(periods) == 12
    assert periods[0].start == date(2024, 7, 1)
    assert periods[-1].end == date(2025, 6, 30)
    for before, after in pairwise(periods):
        assert before.after == after.start


def test_custom_periods_repeat_their_length_backwards() -> None:
    custom = Period(date(2025, 3, 10), date(2025, 3, 19), Grain.CUSTOM)
    before = previous_period(custom)
    assert (before.start, before.end) == (date(2025, 2, 28), date(2025, 3, 9))
    assert before.days == custom.days == 10


def test_last_complete_quarter_on_the_first_day_of_a_quarter() -> None:
    q = last_complete_quarter(date(2025, 7, 1))
    assert (q.start, q.end) == (date(2025, 4, 1), date(2025, 6, 30))


def test_year_label_and_bounds() -> None:
    y = period_containing(date(2025, 8, 8), Grain.YEAR)
    assert (y.start, y.end, y.label, y.days) == (date(2025, 1, 1), date(2025, 12, 31), "2025", 365)


def test_the_day_a_period_keeps_when_switching_grain_is_today_while_it_runs() -> None:
    quarter = period_containing(date(2026, 11, 29), Grain.QUARTER)
    assert quarter.day_nearest(date(2026, 11, 29)) == date(2026, 11, 29)
    past = period_containing(date(2026, 5, 1), Grain.QUARTER)
    assert past.day_nearest(date(2026, 11, 29)) == date(2026, 6, 30)
    future = period_containing(date(2027, 2, 1), Grain.QUARTER)
    assert future.day_nearest(date(2026, 11, 29)) == date(2027, 1, 1)

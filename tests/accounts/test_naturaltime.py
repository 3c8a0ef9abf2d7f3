"""accounts.naturaltime writes what django.contrib.humanize's naturaltime writes, for
the same value and moment: seconds to years, past and future, across month ends,
leap days and daylight-saving changes, in the language the app runs in (en-us,
translation active) and in languages with other plural rules."""

from __future__ import annotations

import random
import zoneinfo
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.contrib.humanize.templatetags.humanize import naturaltime
from django.utils import translation

from accounts.naturaltime import naturaltime_for

MOMENTS = [
    datetime(2026, 11, 30, 0, 12, 5, 123456, tzinfo=UTC),
    datetime(2024, 2, 29, 23, 59, 59, tzinfo=UTC),
    datetime(2026, 3, 29, 1, 30, tzinfo=UTC),  # Europe's clocks go forward
    datetime(2026, 1, 31, 12, 0, tzinfo=UTC),
]
ZONES = ["UTC", "America/New_York", "Asia/Kolkata", "Europe/Berlin", "Australia/Lord_Howe"]


def _deltas(rng: random.Random) -> list[timedelta]:
    exact = [0, 1, 59, 60, 61, 3599, 3600, 3601, 86399, 86400, 86401, 7 * 86400, 31 * 86400]
    spans = [90, 7200, 3 * 86400, 800 * 86400, 5000 * 86400]
    seconds = exact + [-s for s in exact] + [rng.randint(-s, s) for s in spans for _ in range(60)]
    return [timedelta(seconds=s, microseconds=rng.randint(0, 999_999)) for s in seconds]


@pytest.mark.parametrize("language", ["en-us", "fr", "pl", "ar"])
def test_naturaltime_for_writes_what_humanize_writes(language: str) -> None:
    rng = random.Random(22)
    checked = 0
    with translation.override(language):
        for now in MOMENTS:
            with time_machine.travel(now, tick=False):
                natural = naturaltime_for()
                for zone in ZONES:
                    for delta in _deltas(rng):
                        value = (now + delta).astimezone(zoneinfo.ZoneInfo(zone))
                        assert natural(value) == str(naturaltime(value)), (value, now)
                        checked += 1
    assert checked > 5000


def test_naturaltime_for_takes_a_naive_value_as_django_does() -> None:
    now = MOMENTS[0]
    with time_machine.travel(now, tick=False):
        natural = naturaltime_for()
        for hours in (-30, -2, 0, 3, 50):
            value = datetime.now() + timedelta(hours=hours, minutes=7)
            assert natural(value) == str(naturaltime(value))

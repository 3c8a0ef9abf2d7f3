"""`naturaltime` (django.contrib.humanize) for the many datetimes of one page.

Django's filter resolves a lazy translation for every piece of every value (a
plural lookup, a `%`, a join), which was about a third of the portfolio rows'
cost (docs/performance.md). Here each piece is resolved once per process and
language, from Django's own strings, and the calendar arithmetic is
`timesince`'s, in its order: the same text for the same value and `now`, in any language
(tests/accounts/test_naturaltime.py compares them over many deltas)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from django.contrib.humanize.templatetags.humanize import NaturalTimeFormatter
from django.utils import translation
from django.utils.html import avoid_wrapping
from django.utils.timesince import MONTHS_DAYS, TIME_CHUNKS

# (language, what, number) -> text. Translations do not change while a process
# runs; the numbers are bounded (seconds, minutes and hours under 60, units of a
# `timesince` under 12 except years), so this stays small.
_TEXT: dict[tuple[str | None, str, int], str] = {}


def _text(language: str | None, what: str, number: int) -> str:
    key = (language, what, number)
    text = _TEXT.get(key)
    if text is None:
        direction, _, unit = what.partition(":")
        if unit:  # a unit of a day-or-more delta, as `timesince` writes it
            pieces = (
                NaturalTimeFormatter.past_substrings
                if direction == "past"
                else NaturalTimeFormatter.future_substrings
            )
            text = avoid_wrapping(pieces[unit] % {"num": number})
        elif what == "now":
            text = str(NaturalTimeFormatter.time_strings["now"])
        else:
            text = NaturalTimeFormatter.time_strings[what] % {"count": number}
        _TEXT[key] = text
    return text


_UNITS = ("year", "month", "week", "day", "hour", "minute")


def _since(d: datetime, now: datetime, language: str | None, direction: str, sep: str) -> str:
    """django.utils.timesince.timesince(d, now, depth=2) with humanize's unit
    strings, for d before now in the same time zone: Django's steps, with every
    string from the cache (its own test keeps the two alike)."""
    delta = now - d
    if delta.days * 86400 + delta.seconds <= 0:
        return _text(language, f"{direction}:minute", 0)
    total_months = (now.year - d.year) * 12 + (now.month - d.month)
    if d.day > now.day or (d.day == now.day and d.time() > now.time()):
        total_months -= 1
    years, months = divmod(total_months, 12)
    if years or months:
        pivot_year = d.year + years
        pivot_month = d.month + months
        if pivot_month > 12:
            pivot_month -= 12
            pivot_year += 1
        pivot = datetime(
            pivot_year,
            pivot_month,
            min(MONTHS_DAYS[pivot_month - 1], d.day),
            d.hour,
            d.minute,
            d.second,
            tzinfo=d.tzinfo,
        )
    else:
        pivot = d
    remaining = (now - pivot).total_seconds()
    partials = [years, months]
    for chunk in TIME_CHUNKS:
        count = int(remaining // chunk)
        partials.append(count)
        remaining -= chunk * count
    i = next((i for i, value in enumerate(partials) if value), None)
    if i is None:
        return _text(language, f"{direction}:minute", 0)
    value = partials[i]
    first = _text(language, f"{direction}:{_UNITS[i]}", value)
    if i + 1 < len(_UNITS) and partials[i + 1]:
        return first + sep + _text(language, f"{direction}:{_UNITS[i + 1]}", partials[i + 1])
    return first


def naturaltime_for(now: datetime | None = None) -> Callable[[datetime], str]:
    """A `naturaltime` for many values measured against one `now` (aware, UTC by
    default, as Django's filter takes it) in the active language."""
    if now is None:
        now = datetime.now(UTC)
    language = translation.get_language()
    # What Django resolves for every value, resolved once: the separator timesince
    # joins two units with, and the wrappers of a day-or-more delta ("%(delta)s ago").
    sep = translation.gettext(", ")
    past_day = str(NaturalTimeFormatter.time_strings["past-day"])
    future_day = str(NaturalTimeFormatter.time_strings["future-day"])
    naive_now = now.astimezone().replace(tzinfo=None)

    def natural(value: datetime) -> str:
        # As Django: an aware value against UTC now, a naive one against local time.
        aware = value.tzinfo is not None and value.utcoffset() is not None
        current = now if aware else naive_now
        if value < current:
            delta = current - value
            if delta.days != 0:
                # timesince compares in the value's own time zone.
                local = current.astimezone(value.tzinfo) if aware else current
                return past_day % {"delta": _since(value, local, language, "past", sep)}
            seconds, what = delta.seconds, "past"
        else:
            delta = value - current
            if delta.days != 0:
                local = current.astimezone(value.tzinfo) if aware else current
                return future_day % {"delta": _since(local, value, language, "future", sep)}
            seconds, what = delta.seconds, "future"
        if seconds == 0:
            return _text(language, "now", 0)
        if seconds < 60:
            return _text(language, f"{what}-second", seconds)
        if seconds // 60 < 60:
            return _text(language, f"{what}-minute", seconds // 60)
        return _text(language, f"{what}-hour", seconds // 60 // 60)

    return natural

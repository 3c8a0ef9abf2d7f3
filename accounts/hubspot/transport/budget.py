"""A rate-limit budget shared by every process that calls HubSpot, kept in the database.

HubSpot limits the portal, not the process: the web app and each worker must draw on
one count, or together they overrun the ten-second, search and daily limits. Call
HubSpot outside database transactions: counts are written with single upserts that a
surrounding transaction would hold (and hide) until it commits.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Protocol

from django.db import connection
from django.db.models import Sum
from django.utils import timezone

from accounts.hubspot.models import HubSpotRateWindow
from accounts.hubspot.transport.errors import HubSpotError

Bucket = HubSpotRateWindow.Bucket

# Requests per rolling ten seconds and per day, by tier (docs/hubspot-facts.md, "Rate limits").
TIER_LIMITS = {
    "free": (100, 250_000),
    "starter": (100, 250_000),
    "professional": (190, 625_000),
    "enterprise": (190, 1_000_000),
}
SEARCH_PER_SECOND = 5
COUNTERS = ("calls", "rate_limited", "retries")
TICK_US = 100_000  # the ten-second budget counts calls per 100 ms


class RateBudget(Protocol):
    def acquire(self, *, search: bool) -> None: ...

    def record(self, *, rate_limited: bool = False, retried: bool = False) -> None: ...


class UnlimitedBudget:
    """No shared counting (scripts, the sandbox's own tools)."""

    def acquire(self, *, search: bool) -> None:
        return None

    def record(self, *, rate_limited: bool = False, retried: bool = False) -> None:
        return None


class DatabaseRateBudget:
    """Waits before a call that would pass the portal's limits; counts calls, 429s, retries.

    `headroom` keeps a share of each limit free for HubSpot's own clock skew and for
    other apps on the portal (5%: 180 of professional's 190 calls per ten seconds).
    `now` and `sleep` are injectable so tests need not wait.
    """

    def __init__(
        self,
        *,
        tier: str = "professional",
        headroom: float = 0.95,
        now: Callable[[], datetime] = timezone.now,
        sleep: Callable[[float], None] = time.sleep,
        daily_cap: int | None = None,
    ) -> None:
        if tier not in TIER_LIMITS:
            raise ValueError(f"HUBSPOT_TIER must be one of {sorted(TIER_LIMITS)}, not {tier!r}")
        per_ten, per_day = TIER_LIMITS[tier]
        self.ten_second_cap = max(1, int(per_ten * headroom))
        self.search_cap = max(1, int(SEARCH_PER_SECOND * headroom))
        self.daily_cap = daily_cap if daily_cap is not None else int(per_day * headroom)
        self._now = now
        self._sleep = sleep

    def acquire(self, *, search: bool) -> None:
        while True:
            now = self._now()
            second = now.replace(microsecond=0)
            day = second.replace(hour=0, minute=0, second=0)
            if not search and connection.vendor == "postgresql":
                wait = self._acquire_call(now, day)
                if wait is None:
                    return
                self._sleep(max(wait, 0.05))
                continue
            if self._bump(Bucket.DAILY, day) > self.daily_cap:
                self._bump(Bucket.DAILY, day, delta=-1)
                raise HubSpotError(
                    status=429,
                    message=f"Lifecycle's daily HubSpot budget ({self.daily_cap}) is spent.",
                    category="DAILY_BUDGET",
                    policy_name="DAILY",
                )
            if search:
                # HubSpot's search limit rolls (a burst at the end of one second and the
                # start of the next answers 429): count searches per tick over the last
                # second and one tick more, so the sum never misses a search within it.
                tick = now.replace(microsecond=now.microsecond // TICK_US * TICK_US)
                self._bump(Bucket.SEARCH, tick)
                windows = HubSpotRateWindow.objects.filter(
                    bucket=Bucket.SEARCH,
                    window_start__gt=tick - timedelta(seconds=1, microseconds=TICK_US),
                )
                used = windows.aggregate(total=Sum("calls"))["total"] or 0
                if used <= self.search_cap:
                    return
                self._bump(Bucket.SEARCH, tick, delta=-1)
                oldest = windows.filter(calls__gt=0).order_by("window_start").first()
                frees_at = (oldest.window_start if oldest else tick) + timedelta(
                    seconds=1, microseconds=TICK_US
                )
                wait = (frees_at - now).total_seconds()
            else:
                # Tenth-of-a-second windows: the sum over the last ten seconds misses at
                # most one tick of calls, so the cap can sit close to HubSpot's limit.
                tick = now.replace(microsecond=now.microsecond // TICK_US * TICK_US)
                self._bump(Bucket.TEN_SECONDS, tick)
                windows = HubSpotRateWindow.objects.filter(
                    bucket=Bucket.TEN_SECONDS, window_start__gt=tick - timedelta(seconds=10)
                )
                used = windows.aggregate(total=Sum("calls"))["total"] or 0
                if used <= self.ten_second_cap:
                    return
                self._bump(Bucket.TEN_SECONDS, tick, delta=-1)
                oldest = windows.filter(calls__gt=0).order_by("window_start").first()
                frees_at = (oldest.window_start if oldest else tick) + timedelta(
                    seconds=10, microseconds=TICK_US
                )
                wait = (frees_at - now).total_seconds()
            self._bump(Bucket.DAILY, day, delta=-1)
            self._sleep(max(wait, 0.05))

    def _acquire_call(self, now: datetime, day: datetime) -> float | None:
        """One call against the daily and ten-second limits in one statement (one round
        trip and one commit instead of three; the push makes a call per 100 records):
        count it in both, then undo both and say how long to wait if either is over.
        The sum reads the other ticks as the statement found them, plus this tick as
        the statement left it. None: the call may go."""
        table = HubSpotRateWindow._meta.db_table
        tick = now.replace(microsecond=now.microsecond // TICK_US * TICK_US)
        adapt = connection.ops.adapt_datetimefield_value
        bump = (
            f"INSERT INTO {table} AS w (bucket, window_start, calls, rate_limited, retries) "
            f"VALUES (%s, %s, 1, 0, 0) ON CONFLICT (bucket, window_start) "
            f"DO UPDATE SET calls = w.calls + 1 RETURNING calls"
        )
        sql = (
            f"WITH daily AS ({bump}), tick AS ({bump}) "
            f"SELECT (SELECT calls FROM daily), (SELECT calls FROM tick) + COALESCE("
            f"(SELECT SUM(calls) FROM {table} WHERE bucket = %s AND window_start > %s "
            f"AND window_start <> %s), 0)"
        )
        params = (
            Bucket.DAILY.value,
            adapt(day),
            Bucket.TEN_SECONDS.value,
            adapt(tick),
            Bucket.TEN_SECONDS.value,
            adapt(tick - timedelta(seconds=10)),
            adapt(tick),
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            daily, used = (int(v) for v in cursor.fetchone())
        if daily == 1:
            self._prune(day)
        if daily <= self.daily_cap and used <= self.ten_second_cap:
            return None
        self._bump(Bucket.TEN_SECONDS, tick, delta=-1)
        self._bump(Bucket.DAILY, day, delta=-1)
        if daily > self.daily_cap:
            raise HubSpotError(
                status=429,
                message=f"Lifecycle's daily HubSpot budget ({self.daily_cap}) is spent.",
                category="DAILY_BUDGET",
                policy_name="DAILY",
            )
        windows = HubSpotRateWindow.objects.filter(
            bucket=Bucket.TEN_SECONDS, window_start__gt=tick - timedelta(seconds=10)
        )
        oldest = windows.filter(calls__gt=0).order_by("window_start").first()
        frees_at = (oldest.window_start if oldest else tick) + timedelta(
            seconds=10, microseconds=TICK_US
        )
        return (frees_at - now).total_seconds()

    def record(self, *, rate_limited: bool = False, retried: bool = False) -> None:
        day = self._now().replace(hour=0, minute=0, second=0, microsecond=0)
        if rate_limited:
            self._bump(Bucket.DAILY, day, column="rate_limited")
        if retried:
            self._bump(Bucket.DAILY, day, column="retries")

    def _bump(self, bucket: str, start: datetime, *, column: str = "calls", delta: int = 1) -> int:
        """Atomically add `delta` to one counter of one window; the new value."""
        if column not in COUNTERS:
            raise ValueError(column)
        table = HubSpotRateWindow._meta.db_table
        initial = {name: max(delta, 0) if name == column else 0 for name in COUNTERS}
        sql = (
            f"INSERT INTO {table} (bucket, window_start, calls, rate_limited, retries) "
            f"VALUES (%s, %s, %s, %s, %s) ON CONFLICT (bucket, window_start) "
            f"DO UPDATE SET {column} = {table}.{column} + %s RETURNING {column}"
        )
        params = (
            bucket,
            # As the ORM writes it (SQLite keeps datetimes as text in its own format).
            connection.ops.adapt_datetimefield_value(start),
            initial["calls"],
            initial["rate_limited"],
            initial["retries"],
            delta,
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            value = int(cursor.fetchone()[0])
        if bucket == Bucket.DAILY and column == "calls" and value == 1:
            self._prune(start)
        return value

    def _prune(self, today: datetime) -> None:
        """Drop windows nobody reads any more (once a day, on the day's first call)."""
        HubSpotRateWindow.objects.exclude(bucket=Bucket.DAILY).filter(
            window_start__lt=today - timedelta(days=1)
        ).delete()
        HubSpotRateWindow.objects.filter(
            bucket=Bucket.DAILY, window_start__lt=today - timedelta(days=90)
        ).delete()


def usage_on(day: datetime) -> dict[str, int]:
    """Calls, 429s and retries counted on one UTC day (for the sync status page)."""
    start = day.replace(hour=0, minute=0, second=0, microsecond=0)
    row = HubSpotRateWindow.objects.filter(bucket=Bucket.DAILY, window_start=start).first()
    if row is None:
        return dict.fromkeys(COUNTERS, 0)
    return {"calls": row.calls, "rate_limited": row.rate_limited, "retries": row.retries}

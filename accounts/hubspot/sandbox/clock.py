"""Clocks for the sandbox: real time in production-like runs, a hand-driven one in tests.

Rate-limit windows, search-index delay and timestamps all read the same clock, so a
test can cross a ten-second window by advancing it instead of sleeping.
"""

from __future__ import annotations

import functools
import threading
import time
from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    def now_ms(self) -> int: ...


class SystemClock:
    """Wall-clock time in epoch milliseconds."""

    def now_ms(self) -> int:
        return int(time.time() * 1000)


class ManualClock:
    """A clock that only moves when told to; thread-safe."""

    def __init__(self, *, start_ms: int = 1_717_000_000_000) -> None:
        self._now = start_ms
        self._lock = threading.Lock()

    def now_ms(self) -> int:
        with self._lock:
            return self._now

    def advance(self, *, seconds: float = 0, ms: int = 0) -> int:
        with self._lock:
            self._now += ms + int(seconds * 1000)
            return self._now


@functools.lru_cache(maxsize=4096)  # bulk edits stamp thousands of records alike
def iso_from_ms(ms: int) -> str:
    """HubSpot's timestamp format: UTC, millisecond precision, trailing Z."""
    dt = datetime.fromtimestamp(ms / 1000, tz=UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


@functools.lru_cache(maxsize=65536)  # search re-reads the same timestamps per query
def ms_from_text(value: str) -> int | None:
    """Epoch ms from either an epoch-ms string or an ISO timestamp; None when neither."""
    text = value.strip()
    if not text:
        return None
    if text.lstrip("-").isdigit():
        return int(text)
    try:
        dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return int(dt.timestamp() * 1000)

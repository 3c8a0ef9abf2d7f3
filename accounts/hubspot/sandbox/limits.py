"""HubSpot's request limits per tier: a rolling ten-second bucket, a daily bucket and the
search endpoints' five-per-second bucket, with the bodies and headers HubSpot sends."""

from __future__ import annotations

import threading
import uuid
from collections import deque
from dataclasses import dataclass
from typing import Any

from .clock import Clock
from .errors import correlation_id


@dataclass(frozen=True)
class Tier:
    per_ten_seconds: int
    per_day: int
    search_per_second: int = 5


TIERS: dict[str, Tier | None] = {
    "off": None,
    "free": Tier(100, 250_000),
    "starter": Tier(100, 250_000),
    "professional": Tier(190, 625_000),
    "enterprise": Tier(190, 1_000_000),
}
DAY_MS = 86_400_000


class RateLimitExceeded(Exception):
    def __init__(self, body: dict[str, Any], headers: dict[str, str]) -> None:
        super().__init__(body["message"])
        self.body = body
        self.headers = headers


class RateLimiter:
    """Counts requests against the current tier; `admit` raises when HubSpot would 429."""

    def __init__(self, *, clock: Clock, tier: str = "off") -> None:
        self.clock = clock
        self._lock = threading.Lock()
        self.set_tier(tier)

    def set_tier(self, tier: str) -> None:
        if tier not in TIERS:
            raise ValueError(f"unknown tier {tier!r}; one of {sorted(TIERS)}")
        with self._lock:
            self.tier_name = tier
            self.tier = TIERS[tier]
            self._recent: deque[int] = deque()
            self._search: deque[int] = deque()
            self._day = -1
            self._day_count = 0

    def _roll(self, now: int) -> None:
        while self._recent and self._recent[0] <= now - 10_000:
            self._recent.popleft()
        while self._search and self._search[0] <= now - 1_000:
            self._search.popleft()
        if now // DAY_MS != self._day:
            self._day, self._day_count = now // DAY_MS, 0

    def _headers(self, tier: Tier) -> dict[str, str]:
        return {
            "X-HubSpot-RateLimit-Interval-Milliseconds": "10000",
            "X-HubSpot-RateLimit-Max": str(tier.per_ten_seconds),
            "X-HubSpot-RateLimit-Remaining": str(max(0, tier.per_ten_seconds - len(self._recent))),
            "X-HubSpot-RateLimit-Daily": str(tier.per_day),
            "X-HubSpot-RateLimit-Daily-Remaining": str(max(0, tier.per_day - self._day_count)),
        }

    def admit(self, *, search: bool) -> dict[str, str]:
        """Count one request; the headers to send, or RateLimitExceeded with the 429 body."""
        with self._lock:
            tier = self.tier
            if tier is None:
                return {}
            now = self.clock.now_ms()
            self._roll(now)
            if self._day_count >= tier.per_day:
                raise RateLimitExceeded(
                    _policy_body("You have reached your daily limit.", "DAILY"),
                    {} if search else self._headers(tier),
                )
            if search:
                if len(self._search) >= tier.search_per_second:
                    raise RateLimitExceeded(
                        {
                            "status": "error",
                            "message": "You have reached your secondly limit.",
                            "correlationId": correlation_id(),
                            "category": "RATE_LIMITS",
                            "requestId": request_id(),
                        },
                        {},
                    )
                self._search.append(now)
                self._day_count += 1
                return {}
            if len(self._recent) >= tier.per_ten_seconds:
                raise RateLimitExceeded(
                    _policy_body(
                        "You have reached your ten_secondly_rolling limit.", "TEN_SECONDLY_ROLLING"
                    ),
                    self._headers(tier),
                )
            self._recent.append(now)
            self._day_count += 1
            return self._headers(tier)

    def saturate(self, *, search: bool = False) -> None:
        """Spend the whole ten-second (or search) bucket now, as a busy portal would."""
        with self._lock:
            if self.tier is None:
                return
            now = self.clock.now_ms()
            self._roll(now)
            if search:
                self._search.extend([now] * (self.tier.search_per_second - len(self._search)))
            else:
                self._recent.extend([now] * (self.tier.per_ten_seconds - len(self._recent)))

    def use_daily(self, count: int) -> None:
        """Pretend `count` requests were already made today (to reach the daily cap fast)."""
        with self._lock:
            self._roll(self.clock.now_ms())
            self._day_count += count


def _policy_body(message: str, policy: str) -> dict[str, Any]:
    return {
        "status": "error",
        "message": message,
        "errorType": "RATE_LIMIT",
        "correlationId": correlation_id(),
        "policyName": policy,
        "requestId": request_id(),
    }


def request_id() -> str:
    """HubSpot's `requestId`: 32 hex digits, one per request."""
    return uuid.uuid4().hex

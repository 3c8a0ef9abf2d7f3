"""The push's circuit breaker: while HubSpot is down, pushes pause instead of spending
every pass (and each call's retries) on an outage, and they resume on their own.

Closed: calls go. After HUBSPOT_BREAKER_THRESHOLD consecutive outage failures (5xx,
timeouts, dropped connections; not 429s, which mean HubSpot is up and busy, nor 4xx
refusals, which mean it answered) it opens: calls are refused unsent (CircuitOpen) and
the scheduled pass returns at once. After a cooldown (HUBSPOT_BREAKER_COOLDOWN_SECONDS,
doubled each time a probe fails, at most HUBSPOT_BREAKER_COOLDOWN_MAX_SECONDS) it is
half-open: one worker's next call is the probe (a key added to the cache, so only one
worker probes); its success closes the breaker and the pass goes on, its failure opens
it again for longer.

The state is one entry in the shared cache (Redis, or the database cache),
so every web process and worker sees one breaker. It is a `CallGuard` for the client
(transport/guard.py): the transport asks it before each attempt and tells it how the
attempt ended, which is what makes it count attempts rather than passes."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.core.cache import cache

from accounts.hubspot.transport.errors import HubSpotError
from accounts.hubspot.transport.guard import CircuitOpen

STATE_SECONDS = 86_400  # the cache entry outlives any outage it describes


def _key(suffix: str = "") -> str:
    return f"hubspot:breaker{suffix}"  # one portal per installation


def _setting(name: str, default: float) -> float:
    return float(getattr(settings, name, default))


@dataclass
class BreakerState:
    failures: int = 0  # consecutive outage failures
    opened_at: float | None = None  # epoch seconds; None while closed
    until: float = 0.0  # no call before this while open
    opens: int = 0  # opened in a row without a success (sets the cooldown)
    last_error: str = ""
    recovered_at: float | None = None  # when it last closed after being open

    @classmethod
    def load(cls) -> BreakerState:
        raw = cache.get(_key())
        return cls(**raw) if isinstance(raw, dict) else cls()

    def save(self) -> None:
        cache.set(_key(), asdict(self), timeout=STATE_SECONDS)

    def mode(self, now: float) -> str:
        if self.opened_at is None:
            return "closed"
        return "open" if now < self.until else "half_open"


def outage(error: HubSpotError) -> bool:
    """HubSpot did not answer, or answered that it is failing."""
    if isinstance(error, CircuitOpen):
        return False
    return error.status == 0 or error.status >= 500


class PushBreaker:
    """The CallGuard the push client carries (tasks.hubspot_push)."""

    def __init__(self, *, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self._seen = BreakerState()
        self._probing = False

    def paused(self) -> bool:
        """Open and still cooling down: a pass would make no call worth making."""
        return BreakerState.load().mode(self.clock()) == "open"

    def before_call(self) -> None:
        state = self._seen = BreakerState.load()
        mode = state.mode(self.clock())
        if mode == "closed" or self._probing:
            return
        if mode == "half_open" and cache.add(
            _key(":probe"), True, timeout=_setting("HUBSPOT_BREAKER_PROBE_SECONDS", 120)
        ):
            self._probing = True
            return
        raise CircuitOpen(
            f"HubSpot pushes paused after {state.failures} failures in a row "
            f"({state.last_error}); trying again after {_when(state.until)}"
        )

    def succeeded(self) -> None:
        if not (self._seen.failures or self._seen.opened_at is not None or self._probing):
            return  # nothing to reset: no cache write on the usual path
        state = BreakerState.load()
        recovered = state.opened_at is not None
        state.failures, state.opens, state.opened_at, state.until = 0, 0, None, 0.0
        if recovered:
            state.recovered_at = self.clock()
        state.save()
        self._seen = state
        if self._probing:
            cache.delete(_key(":probe"))
            self._probing = False

    def failed(self, error: HubSpotError) -> None:
        if not outage(error):
            if 400 <= error.status < 500 and error.status not in (423, 429):
                self.succeeded()  # HubSpot answered: it is up
            return
        now = self.clock()
        state = BreakerState.load()
        state.failures += 1
        state.last_error = f"{error.status or 'no answer'} {error.message}"[:200]
        threshold = int(_setting("HUBSPOT_BREAKER_THRESHOLD", 5))
        if self._probing or (state.opened_at is None and state.failures >= threshold):
            state.opens = state.opens + 1 if self._probing else 1
            base = _setting("HUBSPOT_BREAKER_COOLDOWN_SECONDS", 30)
            cooldown = min(
                _setting("HUBSPOT_BREAKER_COOLDOWN_MAX_SECONDS", 300), base * 2 ** (state.opens - 1)
            )
            state.opened_at = state.opened_at or now
            state.until = now + cooldown
        state.save()
        self._seen = state
        if self._probing:
            cache.delete(_key(":probe"))
            self._probing = False


def _when(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, tz=UTC).strftime("%H:%M:%S UTC")


def breaker_status(*, now: float | None = None) -> dict[str, Any]:
    """For the status page and /healthz: closed, open (pushes paused) or half-open
    (the next call probes), with the failures and the last error."""
    state = BreakerState.load()
    now = time.time() if now is None else now

    def aware(epoch: float | None) -> datetime | None:
        return datetime.fromtimestamp(epoch, tz=UTC) if epoch else None

    return {
        "state": state.mode(now),
        "failures": state.failures,
        "opened_at": aware(state.opened_at),
        "retry_at": aware(state.until) if state.opened_at is not None else None,
        "last_error": state.last_error,
        "recovered_at": aware(state.recovered_at),
    }


def breaker_reset() -> None:
    """Close the breaker (tests; an admin who knows HubSpot is back)."""
    cache.delete_many([_key(), _key(":probe")])

"""Fault injection: a share of 5xx answers, slow answers, dropped connections, and the
423 Locked that HubSpot gives bulk upserts for about two seconds."""

from __future__ import annotations

import random
import threading
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class FaultSettings:
    error_rate: float = 0.0
    error_status: int = 502
    slow_rate: float = 0.0
    slow_seconds: float = 0.0
    drop_rate: float = 0.0
    locked_upsert_rate: float = 0.0
    # After each bulk upsert, further upserts answer 423 for this long (HubSpot: ~2 s).
    lock_after_upsert_s: float = 0.0
    # Deterministic faults for tests, served to the next requests in turn: a status,
    # "drop" (close the connection unanswered), "slow:SECONDS", or "pass" (no fault:
    # lets a test aim a fault at the Nth request).
    queued: list[int | str] = field(default_factory=list)


@dataclass(frozen=True)
class Fault:
    kind: str  # "error", "drop", "slow", "locked"
    status: int = 0
    seconds: float = 0.0


class Faults:
    def __init__(self, settings: FaultSettings | None = None, *, seed: int = 0) -> None:
        self.settings = settings or FaultSettings()
        self._locked_until_ms = 0
        self._random = random.Random(seed)
        self._lock = threading.Lock()

    def configure(self, **changes: Any) -> dict[str, Any]:
        with self._lock:
            for name, value in changes.items():
                if not hasattr(self.settings, name):
                    raise ValueError(f"unknown fault setting {name!r}")
                setattr(self.settings, name, value)
            return asdict(self.settings)

    def queue(self, *items: int | str) -> None:
        with self._lock:
            self.settings.queued.extend(items)

    def decide(self, *, upsert: bool, now_ms: int = 0) -> Fault | None:
        """The fault this request meets, if any (`now_ms` on the sandbox's clock)."""
        with self._lock:
            s = self.settings
            if upsert and s.lock_after_upsert_s:
                if now_ms < self._locked_until_ms:
                    return Fault("locked", status=423)
                self._locked_until_ms = now_ms + int(s.lock_after_upsert_s * 1000)
            if s.queued:
                item = s.queued.pop(0)
                if item == "pass":
                    return None
                if item == "drop":
                    return Fault("drop")
                if isinstance(item, str) and item.startswith("slow:"):
                    return Fault("slow", seconds=float(item.split(":", 1)[1]))
                status = int(item)
                return Fault("locked" if status == 423 else "error", status=status)
            roll = self._random.random
            if s.drop_rate and roll() < s.drop_rate:
                return Fault("drop")
            if s.error_rate and roll() < s.error_rate:
                return Fault("error", status=s.error_status)
            if upsert and s.locked_upsert_rate and roll() < s.locked_upsert_rate:
                return Fault("locked", status=423)
            if s.slow_rate and roll() < s.slow_rate:
                return Fault("slow", seconds=s.slow_seconds)
            return None

"""Rate limits per API token (per user for browser sessions)."""

from __future__ import annotations

from typing import Any

from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from lifecycle.ops.counters import window_hit

from ..models import ApiToken


class ApiTokenRateThrottle(SimpleRateThrottle):
    """One bucket per token, so a noisy integration cannot starve another one
    or the people in the browser. A view picks a stricter bucket by setting
    `throttle_scope` (e.g. "api_ingest"); rates are in
    REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]. DRF answers 429 with Retry-After.

    The count is shared and taken atomically (lifecycle.ops.counters: Redis, or a row in
    the database), so every web worker on every host draws on the same bucket: DRF's own
    history list is read and written back by each process, and concurrent requests
    overwrite each other's hits. A window opens with a token's first request and lasts the rate's
    period."""

    scope = "api"
    wait_seconds: float = 0.0

    def allow_request(self, request: Request, view: Any) -> bool:
        self.scope = getattr(view, "throttle_scope", None) or "api"
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        if self.rate is None or self.num_requests is None or self.duration is None:
            return True
        key = self.get_cache_key(request, view)
        if key is None:
            return True
        count, left = window_hit(key, int(self.duration))
        self.wait_seconds = left
        return count <= self.num_requests

    def wait(self) -> float | None:
        return max(self.wait_seconds, 1.0)

    def get_rate(self) -> str | None:
        # Read the live settings (not the class attribute frozen at import).
        rates: dict[str, Any] = api_settings.DEFAULT_THROTTLE_RATES
        return rates.get(self.scope)

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        if isinstance(request.auth, ApiToken):
            ident = f"token:{request.auth.pk}"
        elif request.user and request.user.is_authenticated:
            ident = f"user:{request.user.pk}"
        else:
            ident = f"ip:{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}

# ruff: noqa: F811 -- fixtures from sync_support are used as test arguments
"""The push's circuit breaker: shared by every worker through the cache, one probe when
half-open, longer cooldowns while probes fail; shown on the HubSpot page and in /healthz."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client, override_settings

from accounts.hubspot.outbound.breaker import PushBreaker, breaker_status
from accounts.hubspot.transport.errors import HubSpotError
from accounts.hubspot.transport.guard import CircuitOpen

from .sync_support import (  # noqa: F401
    hubspot_settings,
    sync_clock,
    sync_sandbox,
    sync_server,
)

pytestmark = pytest.mark.django_db


def test_the_breaker_is_shared_by_workers_and_lets_one_probe_through() -> None:
    now = [1_000.0]
    first, second = PushBreaker(clock=lambda: now[0]), PushBreaker(clock=lambda: now[0])
    down = HubSpotError(status=502, message="Bad Gateway")
    with override_settings(
        HUBSPOT_BREAKER_THRESHOLD=3,
        HUBSPOT_BREAKER_COOLDOWN_SECONDS=30,
        HUBSPOT_BREAKER_COOLDOWN_MAX_SECONDS=300,
    ):
        for guard in (first, second, first):  # failures in a row, from two workers
            guard.before_call()
            guard.failed(down)
        assert breaker_status(now=now[0])["state"] == "open"
        assert first.paused() and second.paused()
        with pytest.raises(CircuitOpen):
            second.before_call()
        # A 429 is HubSpot busy, not down; it neither opens nor closes anything.
        first.failed(HubSpotError(status=429, message="ten_secondly_rolling"))
        assert breaker_status(now=now[0])["failures"] == 3

        now[0] += 31  # half-open: one worker probes, the other waits for its answer
        first.before_call()
        with pytest.raises(CircuitOpen):
            second.before_call()
        first.failed(HubSpotError(status=0, message="timed out"))  # still down
        status = breaker_status(now=now[0])
        assert status["state"] == "open"
        assert (status["retry_at"] - status["opened_at"]).total_seconds() == 31 + 60

        now[0] += 61  # the doubled cooldown is over: the probe succeeds
        second.before_call()
        second.succeeded()
        assert breaker_status(now=now[0])["state"] == "closed"
        first.before_call()  # every worker sends again
        assert breaker_status(now=now[0])["recovered_at"] is not None


def test_the_status_page_and_healthz_show_the_paused_push(
    admin_user: Any, hubspot_settings: None
) -> None:
    guard = PushBreaker()
    with override_settings(HUBSPOT_BREAKER_THRESHOLD=1):
        guard.before_call()
        guard.failed(HubSpotError(status=503, message="Service Unavailable"))
    web = Client()
    web.force_login(admin_user)
    page = web.get("/hubspot/").content.decode()
    assert "Paused: HubSpot is not answering" in page
    assert "503 Service Unavailable" in page
    health = web.get("/healthz").json()
    assert health["hubspot"]["push"] == "open"
    assert health["hubspot"]["failures"] == 1

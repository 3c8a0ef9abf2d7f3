"""The shared rate-limit budget: waits before HubSpot would 429, across processes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from accounts.hubspot.models import HubSpotRateWindow
from accounts.hubspot.sandbox import SandboxServer
from accounts.hubspot.transport.budget import DatabaseRateBudget, usage_on
from accounts.hubspot.transport.client import HubSpotClient
from accounts.hubspot.transport.errors import HubSpotError
from accounts.hubspot.transport.http_retries import RetryPolicy

from .conftest import TOKEN

pytestmark = pytest.mark.django_db


class FakeTime:
    """A clock for the budget; sleeping advances it."""

    def __init__(self) -> None:
        self.now = datetime(2026, 3, 2, 9, 0, 0, 250_000, tzinfo=UTC)
        self.waits: list[float] = []

    def __call__(self) -> datetime:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.waits.append(round(seconds, 3))
        self.now += timedelta(seconds=seconds)


def _budget(fake: FakeTime, **options: Any) -> DatabaseRateBudget:
    return DatabaseRateBudget(now=fake, sleep=fake.sleep, **options)


def test_search_budget_waits_until_the_oldest_search_is_a_second_old() -> None:
    fake = FakeTime()
    budget = _budget(fake)  # 5/s with 5% headroom leaves 4
    for _ in range(4):
        budget.acquire(search=True)
    assert fake.waits == []
    budget.acquire(search=True)
    # Counted per 100 ms: the tick of the first four (.2) leaves the window at 1.3.
    assert fake.waits == [1.05]


def test_search_budget_rolls_over_the_turn_of_a_second() -> None:
    """HubSpot's search limit rolls: four searches at the end of one second and four at
    the start of the next would be eight within a second (a 429)."""
    fake = FakeTime()
    fake.now = fake.now.replace(microsecond=950_000)
    budget = _budget(fake)
    for _ in range(4):
        budget.acquire(search=True)
    fake.now += timedelta(milliseconds=100)  # 9:00:01.05
    budget.acquire(search=True)
    assert fake.waits == [0.95]  # until 9:00:02.0, a second after the tick of .9


def test_ten_second_budget_is_rolling_and_shared_between_processes() -> None:
    fake = FakeTime()
    # 100 per 10 s on the free tier, 90 with 10% headroom.
    web, worker = _budget(fake, tier="free", headroom=0.9), _budget(fake, tier="free", headroom=0.9)
    for _ in range(45):
        web.acquire(search=False)
    fake.now += timedelta(seconds=3)
    for _ in range(45):
        worker.acquire(search=False)
    assert fake.waits == []
    worker.acquire(search=False)
    # The first 45 calls (made at 0.25 s, counted in the 0.2-0.3 s tick) leave the
    # window when that tick is ten seconds old: 10.3 s, 7.05 s from now.
    assert fake.waits == [7.05]
    assert usage_on(fake.now)["calls"] == 91


def test_daily_budget_raises_instead_of_waiting() -> None:
    fake = FakeTime()
    budget = _budget(fake, daily_cap=3)
    for _ in range(3):
        budget.acquire(search=False)
    with pytest.raises(HubSpotError) as caught:
        budget.acquire(search=False)
    assert caught.value.category == "DAILY_BUDGET" and fake.waits == []
    fake.now += timedelta(days=1)
    budget.acquire(search=False)


def test_old_windows_are_pruned_on_a_new_day() -> None:
    fake = FakeTime()
    budget = _budget(fake)
    budget.acquire(search=False)
    fake.now += timedelta(days=2)
    budget.acquire(search=False)
    buckets = sorted(HubSpotRateWindow.objects.values_list("bucket", flat=True))
    assert buckets == ["daily", "daily", "ten_seconds"]


def test_client_counts_calls_429s_and_retries(server: SandboxServer, sandbox: Any) -> None:
    sandbox.limiter.set_tier("free")
    sandbox.limiter.saturate()
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        sandbox.clock.advance(seconds=seconds)

    client = HubSpotClient(
        access_token=TOKEN,
        base_url=server.url,
        budget=DatabaseRateBudget(tier="free", sleep=sleep),
        policy=RetryPolicy(jitter=lambda: 0.0),
        sleep=sleep,
    )
    client.pipelines()
    assert waits == [10.0]
    today = datetime.now(tz=UTC)
    assert usage_on(today) == {"calls": 2, "rate_limited": 1, "retries": 1}


@pytest.mark.django_db(transaction=True)
def test_concurrent_callers_never_lose_a_count() -> None:
    """Threads stand in for processes: each has its own database connection."""
    import threading

    from django.db import connection

    fake = FakeTime()
    errors: list[BaseException] = []

    def work() -> None:
        try:
            budget = _budget(fake, tier="enterprise")
            for _ in range(40):
                budget.acquire(search=False)
        except BaseException as exc:  # surfaced below; a thread cannot fail the test itself
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert usage_on(fake.now)["calls"] == 160
    window = HubSpotRateWindow.objects.get(bucket="ten_seconds")
    assert window.calls == 160


def test_unknown_tier_is_refused_with_the_choices() -> None:
    with pytest.raises(ValueError, match="professional"):
        DatabaseRateBudget(tier="platinum")

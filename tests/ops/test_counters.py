"""Shared counters for rate limits, on the database cache: one count across connections."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from django.core.cache import caches
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from lifecycle.ops.counters import window_hit
from lifecycle.ops.models import RateWindow

DB_CACHE = {
    "default": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "lifecycle_cache",
    }
}


@pytest.mark.django_db(transaction=True)
def test_hits_from_many_connections_are_each_counted_once(settings: Any) -> None:
    settings.CACHES = DB_CACHE
    call_command("createcachetable", verbosity=0)
    caches["default"].clear()
    counts: list[int] = []
    lock = threading.Lock()

    def hit() -> None:  # threads stand in for web workers: each has its own connection
        for _ in range(10):
            count, _left = window_hit("test:token", 60)
            with lock:
                counts.append(count)
        connection.close()

    threads = [threading.Thread(target=hit) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # 60 hits, numbered 1..60 with no number given twice (no lost update).
    assert sorted(counts) == list(range(1, 61))
    caches["default"].clear()


def test_a_window_closes_after_its_period(settings: Any, db: Any) -> None:
    caches["default"].clear()
    assert window_hit("test:short", 60)[0] == 1
    count, left = window_hit("test:short", 60)
    assert count == 2 and 0 < left <= 60
    assert window_hit("test:other", 60)[0] == 1
    caches["default"].clear()


@pytest.mark.django_db(transaction=True)
def test_without_redis_a_window_is_one_row_that_closes(settings: Any) -> None:
    settings.CACHES = DB_CACHE
    assert [window_hit("test:entry", 1)[0] for _ in range(3)] == [1, 2, 3]
    window = RateWindow.objects.get(key="test:entry")
    assert window.hits == 3
    time.sleep(1.05)
    # The window closed: the next hit opens a new one in the same row.
    count, left = window_hit("test:entry", 60)
    assert count == 1 and 59 < left <= 60
    assert RateWindow.objects.filter(key="test:entry").count() == 1
    assert window_hit("test:other", 60)[0] == 1  # keys count apart
    assert window_hit("test:entry", 60)[0] == 2


@pytest.mark.django_db(transaction=True)
def test_without_redis_a_hit_is_one_statement(settings: Any) -> None:
    settings.CACHES = DB_CACHE
    call_command("createcachetable", verbosity=0)
    caches["default"].clear()
    with CaptureQueriesContext(connection) as queries:
        window_hit("test:one", 60)
        window_hit("test:one", 60)
    assert len(queries) == 2  # DatabaseCache's get and set were nine

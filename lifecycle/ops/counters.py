"""Counters every process shares, for rate limits: `window_hit` counts a hit in a
window that opens with the first hit and lasts `seconds`. Atomic on each cache backend
the settings choose: Redis counts with INCR in one transaction; without Redis, on
PostgreSQL, one upsert of the key's row in ops_ratewindow counts (`_pg_hit`), not the
database cache's get and set; elsewhere (SQLite)
the read and write of a key are serialised (SQLite's IMMEDIATE transactions); the
in-memory cache (tests) is one process."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from typing import Any

from django.core.cache import caches
from django.core.cache.backends.db import DatabaseCache
from django.core.cache.backends.redis import RedisCache
from django.db import connections, router, transaction
from django.utils import timezone

from lifecycle.ops.models import RateWindow

_local_lock = threading.Lock()


def window_hit(key: str, seconds: int) -> tuple[int, float]:
    """Count one hit on `key`; returns (hits in the current window, seconds until it closes)."""
    backend = caches["default"]
    if isinstance(backend, RedisCache):
        return _redis_hit(backend, key, seconds)
    if isinstance(backend, DatabaseCache):
        alias = router.db_for_write(RateWindow)
        if connections[alias].vendor == "postgresql":
            return _pg_hit(alias, key, seconds)
    return _cache_hit(backend, key, seconds)


def _redis_hit(backend: Any, key: str, seconds: int) -> tuple[int, float]:
    full_key = backend.make_and_validate_key(key)
    client = backend._cache.get_client(full_key, write=True)
    with client.pipeline(transaction=True) as pipe:
        pipe.set(full_key, 0, ex=seconds, nx=True)
        pipe.incr(full_key)
        pipe.pttl(full_key)
        _created, count, ttl_ms = pipe.execute()
    return int(count), max(int(ttl_ms), 0) / 1000


# Hits and the window's end in the key's row of ops_ratewindow: a hit after the window
# closed opens the next one (hits 1, closing `seconds` from now).
_PG_HIT = """
INSERT INTO {table} AS w (key, hits, closes_at) VALUES (%(key)s, 1, %(until)s)
ON CONFLICT (key) DO UPDATE SET
    hits = CASE WHEN w.closes_at <= %(now)s THEN 1 ELSE w.hits + 1 END,
    closes_at = CASE WHEN w.closes_at <= %(now)s THEN EXCLUDED.closes_at ELSE w.closes_at END
RETURNING hits, closes_at
"""


def _pg_hit(alias: str, key: str, seconds: int) -> tuple[int, float]:
    """One statement, so one round trip and atomic without a transaction of its own:
    PostgreSQL's upsert inserts the key's row or locks and updates the one there, and a
    concurrent hit on the key waits for it. DatabaseCache's get and set were nine
    statements (a transaction, an advisory lock, a count of the table, ...)."""
    now = timezone.now()
    with connections[alias].cursor() as cursor:
        cursor.execute(
            _PG_HIT.format(table=connections[alias].ops.quote_name(RateWindow._meta.db_table)),
            {"key": key, "until": now + timedelta(seconds=seconds), "now": now},
        )
        hits, closes_at = cursor.fetchone()
    return int(hits), max((closes_at - now).total_seconds(), 0.0)


def _cache_hit(cache: Any, key: str, seconds: int) -> tuple[int, float]:
    with _local_lock, _serialised(cache, key):
        now = time.time()
        opened, count = cache.get(key) or (now, 0)
        if now - opened >= seconds:
            opened, count = now, 0
        count += 1
        left = seconds - (now - opened)
        cache.set(key, (opened, count), timeout=left + 1)
    return count, left


class _serialised:
    """A transaction when the cache is the database's (SQLite's, whose IMMEDIATE
    transactions serialise writers; PostgreSQL's takes `_pg_hit`)."""

    def __init__(self, cache: Any, key: str) -> None:
        self.cache = cache
        self.key = key
        self.atomic: Any = None

    def __enter__(self) -> None:
        if not isinstance(self.cache, DatabaseCache):
            return
        alias = router.db_for_write(self.cache.cache_model_class)
        self.atomic = transaction.atomic(using=alias)
        self.atomic.__enter__()

    def __exit__(self, *exc: Any) -> None:
        if self.atomic is not None:
            self.atomic.__exit__(*exc)

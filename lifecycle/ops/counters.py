"""Counters every process shares, for rate limits: `window_hit` counts a hit in a
window that opens with the first hit and lasts `seconds`. Atomic on each cache backend
the settings choose: Redis counts with INCR in one transaction; the database cache
serialises the read and write of a key under a PostgreSQL advisory transaction lock
(SQLite's IMMEDIATE transactions already do); the in-memory cache (tests) is one
process."""

from __future__ import annotations

import threading
import time
import zlib
from typing import Any

from django.core.cache import caches
from django.core.cache.backends.db import DatabaseCache
from django.core.cache.backends.redis import RedisCache
from django.db import connections, router, transaction

_local_lock = threading.Lock()


def window_hit(key: str, seconds: int) -> tuple[int, float]:
    """Count one hit on `key`; returns (hits in the current window, seconds until it closes)."""
    backend = caches["default"]
    if isinstance(backend, RedisCache):
        return _redis_hit(backend, key, seconds)
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
    """A transaction holding an advisory lock on `key` when the cache is PostgreSQL's."""

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
        connection = connections[alias]
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT pg_advisory_xact_lock(%s, %s)",
                    [0x4C43, zlib.crc32(self.key.encode()) - 2**31],
                )

    def __exit__(self, *exc: Any) -> None:
        if self.atomic is not None:
            self.atomic.__exit__(*exc)

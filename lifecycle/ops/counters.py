"""Counters every process shares, for rate limits: `window_hit` counts a hit in a
window that opens with the first hit and lasts `seconds`. Atomic on each cache backend
the settings choose: Redis counts with INCR in one transaction; the database cache on
PostgreSQL counts with one upsert of the key's cache row (`_pg_hit`); elsewhere (SQLite)
the read and write of a key are serialised (SQLite's IMMEDIATE transactions); the
in-memory cache (tests) is one process."""

from __future__ import annotations

import base64
import pickle
import threading
import time
from datetime import timedelta
from typing import Any

from django.core.cache import caches
from django.core.cache.backends.db import DatabaseCache
from django.core.cache.backends.redis import RedisCache
from django.db import connections, router, transaction
from django.utils import timezone

_local_lock = threading.Lock()


def window_hit(key: str, seconds: int) -> tuple[int, float]:
    """Count one hit on `key`; returns (hits in the current window, seconds until it closes)."""
    backend = caches["default"]
    if isinstance(backend, RedisCache):
        return _redis_hit(backend, key, seconds)
    if isinstance(backend, DatabaseCache):
        alias = router.db_for_write(backend.cache_model_class)
        if connections[alias].vendor == "postgresql":
            return _pg_hit(backend, alias, key, seconds)
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


# The count of a window, kept in its cache row as DatabaseCache keeps any value (base64 of
# a pickle), so `cache.get(key, version=WINDOW_VERSION)` reads it as an int: a protocol-0
# pickle of an int is the text "I<digits>\n.", which SQL can read and write. A row of
# another shape under the key starts a window of its own. The rows are a cache version of
# their own: `_cache_hit` kept an (opened, count) tuple under version 1, and a process
# still running that code (a rolling deploy, a rollback) would fail on an int; each
# counts in its own row instead, for the one window the two run side by side.
WINDOW_VERSION = 2
_PG_HIT = r"""
INSERT INTO {table} AS c (cache_key, value, expires) VALUES (%(key)s, %(first)s, %(until)s)
ON CONFLICT (cache_key) DO UPDATE SET
    value = CASE WHEN c.expires <= %(now)s THEN EXCLUDED.value ELSE encode(convert_to(
        'I' || (coalesce(substring(encode(decode(c.value, 'base64'), 'escape')
                                   FROM '^I([0-9]{{1,18}})\n\.$')::bigint, 0) + 1)
        || chr(10) || '.', 'UTF8'), 'base64') END,
    expires = CASE WHEN c.expires <= %(now)s THEN EXCLUDED.expires ELSE c.expires END
RETURNING value, expires
"""
_FIRST_HIT = base64.b64encode(pickle.dumps(1, protocol=0)).decode("ascii")


def _pg_hit(cache: DatabaseCache, alias: str, key: str, seconds: int) -> tuple[int, float]:
    """One statement, so one round trip and atomic without a transaction of its own:
    PostgreSQL's upsert inserts the key's row or locks and updates the one there, and a
    concurrent hit on the key waits for it. The row expires when its window closes, so
    DatabaseCache reads it as gone (and culls it) from then on; DatabaseCache's get and
    set were nine statements (a transaction, an advisory lock, a count of the table)."""
    connection = connections[alias]
    table = connection.ops.quote_name(cache._table)  # type: ignore[attr-defined]
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(
            _PG_HIT.format(table=table),
            {
                "key": cache.make_and_validate_key(key, version=WINDOW_VERSION),
                "first": _FIRST_HIT,
                "until": now + timedelta(seconds=seconds),
                "now": now,
            },
        )
        value, expires = cursor.fetchone()
    count = pickle.loads(base64.b64decode(value))
    return int(count), max((expires - now).total_seconds(), 0.0)


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

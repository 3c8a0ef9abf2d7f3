"""Settings for the test suite: PostgreSQL only, fast hashing, no real worker."""

import os

from .base import *  # noqa: F403
from .base import Q_CLUSTER, database_from_env

DEBUG = False
SECRET_KEY = "test-only-secret"
ALLOWED_HOSTS = ["*"]
DATABASES = {
    "default": database_from_env(
        os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/lifecycle")
    )
}
DATABASES["default"]["CONN_MAX_AGE"] = 0
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# One process per test worker: its own memory is the cache (no table to clear between
# tests). The live-process tests (tests/scale) give their servers Redis or the database.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Tasks run in-process so tests see their effects without a cluster.
Q_CLUSTER = {**Q_CLUSTER, "sync": True}
# Pushes run inline in tests (sync tasks): no coalescing wait.
HUBSPOT_PUSH_DELAY_SECONDS = 0.0
# The sandbox's app (accounts/hubspot/sandbox/store.py, SANDBOX_APP_ID).
HUBSPOT_APP_ID = "4242"
# Figures computed for every request (tests/metrics/test_snapshots.py turns it on).
METRICS_SNAPSHOT_MAX_AGE_SECONDS = 0

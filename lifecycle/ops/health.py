"""/healthz and /readyz for load balancers and orchestrators. No login, no session.

- /readyz: this web process can serve: the database answers and every migration is
  applied (a host started before `migrate` finished stays out of rotation).
- /healthz: the installation works: the database and the task broker answer and a
  worker cluster reported a heartbeat within HEARTBEAT_SECONDS. Integrations add what
  they report (HEALTH_REPORT_HOOKS: HubSpot's push breaker), which never fails it.
Each answers 200 with what it checked, or 503 naming what failed."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.utils.module_loading import import_string
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from django_q.brokers import get_broker
from django_q.status import Stat

logger = logging.getLogger(__name__)
HEARTBEAT_SECONDS = 30
_migrated = False  # once every migration was seen applied, this process stops asking


def database_ok() -> bool:
    try:
        with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except Exception:
        logger.exception("health: the database does not answer")
        return False


def migrations_applied() -> bool:
    global _migrated
    if not _migrated:
        executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
        _migrated = not executor.migration_plan(executor.loader.graph.leaf_nodes())
    return _migrated


def broker_ok() -> bool:
    try:
        return bool(get_broker().ping())
    except Exception:
        logger.exception("health: the task broker does not answer")
        return False


def cluster_heartbeats() -> list[Any]:
    """The worker clusters whose heartbeat is recent (django-q2 saves one every
    half second with a 3-second expiry, in the broker or the shared cache)."""
    recent = timezone.now() - timedelta(seconds=HEARTBEAT_SECONDS)
    try:
        stats = Stat.get_all(get_broker())
    except Exception:
        logger.exception("health: cannot read the worker heartbeats")
        return []
    return [s for s in stats if getattr(s, "timestamp", None) and s.timestamp >= recent]


@login_not_required
@never_cache
@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    checks = {"database": database_ok()}
    checks["migrations"] = checks["database"] and migrations_applied()
    return _answer(checks, {})


@login_not_required
@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    checks = {"database": database_ok(), "broker": broker_ok()}
    clusters = cluster_heartbeats()
    checks["workers"] = bool(clusters)
    names = sorted({str(getattr(s, "cluster_id", "")) for s in clusters})
    return _answer(checks, {"clusters": len(names), **_reports()})


def _reports() -> dict[str, Any]:
    """What integrations report (HEALTH_REPORT_HOOKS, dotted paths as for the other
    hooks): shown, never failed on, and never allowed to break the check."""
    reports: dict[str, Any] = {}
    for path in getattr(settings, "HEALTH_REPORT_HOOKS", []):
        try:
            reports.update(import_string(path)())
        except Exception:
            logger.exception("health: report %s failed", path)
    return reports


def _answer(checks: dict[str, bool], extra: dict[str, Any]) -> JsonResponse:
    healthy = all(checks.values())
    body = {"status": "ok" if healthy else "failing", "checks": checks, **extra}
    return JsonResponse(body, status=200 if healthy else 503)

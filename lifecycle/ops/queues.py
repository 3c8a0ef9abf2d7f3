"""Which django-q2 cluster (queue) a task runs on, and tasks that run later.

Each queue is served by its own `qcluster` process (`Q_CLUSTER_NAME=<queue>`), so a
long HubSpot import or the daily health job never holds the workers that apply
webhooks and push edits. With `Q_SEPARATE_QUEUES=0` everything runs on the default
cluster (one `qcluster`, as for trying the app)."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone
from django_q.brokers import get_broker
from django_q.brokers.orm import ORM
from django_q.conf import Conf
from django_q.humanhash import uuid
from django_q.models import OrmQ
from django_q.signing import SignedPackage
from django_q.tasks import async_task

# None is the default cluster: webhooks and pushes, short tasks people wait for.
REALTIME: str | None = None
SYNC = "sync"  # HubSpot imports, incremental sync, replay, reconcile, sweeps
SCORING = "scoring"  # health scores, onboarding statuses, renewals
NOTIFICATIONS = "notifications"  # alert rules and what they send
QUEUES = [SYNC, SCORING, NOTIFICATIONS]


def queue(name: str | None) -> str | None:
    """The cluster for tasks of queue `name` (None when queues are not separated)."""
    return name if settings.Q_SEPARATE_QUEUES else None


def enqueue(func: str, *args: Any, queue_name: str | None = None, **options: Any) -> Any:
    """async_task on the queue's cluster."""
    cluster = queue(queue_name)
    if cluster is not None:
        options["cluster"] = cluster
    return async_task(func, *args, **options)


def enqueue_in(
    seconds: float,
    func: str,
    *args: Any,
    queue_name: str | None = None,
    task_name: str | None = None,
    group: str | None = None,
) -> str:
    """Queue `func(*args)` to run `seconds` from now, without a worker waiting for it:
    the ORM broker holds the row until then (its `lock`), the Redis broker a sorted set
    (lifecycle.ops.brokers.DelayedRedis). Runs inline in sync mode (tests) and when not delayed."""
    options: dict[str, Any] = {}
    if task_name:
        options["task_name"] = task_name
    if group:
        options["group"] = group
    cluster = queue(queue_name)
    if seconds <= 0 or Conf.SYNC:
        return str(enqueue(func, *args, queue_name=queue_name, **options))
    broker = get_broker(cluster)
    tag = uuid()
    task: dict[str, Any] = {
        "id": tag[1],
        "name": task_name or tag[0],
        "func": func,
        "args": args,
        "kwargs": {},
        "started": timezone.now(),
    }
    if group:
        task["group"] = group
    if cluster:
        task["cluster"] = cluster
    if Conf.ACK_FAILURES:
        task["ack_failure"] = Conf.ACK_FAILURES
    pack = SignedPackage.dumps(task)
    if isinstance(broker, ORM):
        OrmQ.objects.using(Conf.ORM).create(
            key=broker.list_key, payload=pack, lock=timezone.now() + timedelta(seconds=seconds)
        )
    elif hasattr(broker, "enqueue_at"):
        broker.enqueue_at(pack, time.time() + seconds)
    else:  # a broker without delays: run it now rather than never
        broker.enqueue(pack)
    return str(task["id"])

from typing import Any

from django.apps import AppConfig
from django.db.models.signals import pre_migrate


def _cache_table(using: str = "default", **kwargs: Any) -> None:
    """The database cache's table comes with `migrate`, so no deployment forgets it
    (a no-op when the cache is Redis). Before the migrations, not after: data
    migrations that save accounts already use the cache (push coalescing)."""
    from django.core.management import call_command

    call_command("createcachetable", database=using, verbosity=0)


class OpsConfig(AppConfig):
    name = "lifecycle.ops"
    label = "ops"
    verbose_name = "Operations"

    def ready(self) -> None:
        pre_migrate.connect(_cache_table, sender=self, dispatch_uid="ops-cache-table")
        from django_q.signals import post_spawn

        from lifecycle.ops.jobs import worker_started

        # A worker process started: the work of dead workers resumes now (ops/jobs.py).
        post_spawn.connect(worker_started, dispatch_uid="ops-work-recover")

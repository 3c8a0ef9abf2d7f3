"""The demo portfolio is built app by app, in dependency order. Each app
provides `<app>.demo.build(*, seed, today, progress)` that adds its data on top
of what exists (and does nothing when its data is already there)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from django.utils import timezone
from django.utils.module_loading import import_string

from accounts import demo as accounts_demo

# Builders that run after the accounts demo, in order. Each is idempotent.
# Health comes before success so the reviews the success demo holds freeze a
# real health score in their snapshots; alerts come last, reading everything.
APP_BUILDERS: list[str] = [
    "onboarding.demo.build",
    "success.health.demo.build",
    "success.demo.build",
    "lifecycle.metrics.demo.build",
    "success.alerts.demo.build",
    "success.playbooks.demo.build",
]


def build_all(
    *,
    accounts: int,
    seed: int,
    reset: bool,
    today: date | None = None,
    progress: Callable[[int, int], None] | None = None,
    log: Callable[[str], None] = print,
) -> None:
    today = today or timezone.localdate()
    result = accounts_demo.build(
        accounts=accounts, seed=seed, reset=reset, today=today, progress=progress
    )
    log(result.message)
    for dotted in APP_BUILDERS:
        message = import_string(dotted)(seed=seed, today=today)
        log(f"{dotted.removesuffix('.demo.build')}: {message}")

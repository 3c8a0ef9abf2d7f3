from __future__ import annotations

import os
from typing import Any

import pytest

from accounts.roles import Role
from success.health.defaults import ensure_default_model
from success.health.models import HealthMeasure, HealthModel
from tests.factories import UserFactory

# Playwright's sync API runs an event loop in the test thread; Django's ORM
# refuses to run there unless told it is safe (it is: one thread per test).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    """Each test starts with an empty cache. The test settings' cache lives in the
    worker process, and keys such as the HubSpot "provisioned" mark are per portal URL:
    a sandbox started on a port an earlier test's sandbox had used looked provisioned
    already, and its first push failed on properties that were never made."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def admin_user(db: Any) -> Any:
    return UserFactory.create(username="admin", role=Role.ADMIN)


@pytest.fixture
def leader(db: Any) -> Any:
    return UserFactory.create(username="leader", role=Role.LEADER)


@pytest.fixture
def csm(db: Any) -> Any:
    return UserFactory.create(username="csm", role=Role.CSM)


@pytest.fixture
def other_csm(db: Any) -> Any:
    return UserFactory.create(username="csm2", role=Role.CSM)


@pytest.fixture
def viewer(db: Any) -> Any:
    return UserFactory.create(username="viewer", role=Role.VIEWER)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    """Debian's Chromium, headless, with the flags this closed network needs."""
    return {
        **browser_type_launch_args,
        "executable_path": "/usr/bin/chromium",
        "headless": True,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ],
    }


@pytest.fixture
def default_health_model(db: Any) -> None:
    """The install's default health model, made by a data migration. Tests that
    score accounts ask for it: a transactional test elsewhere in the same
    worker flushes the tables, migration data included."""
    ensure_default_model(HealthModel, HealthMeasure)


# The data migrations' own functions (each skips what is there), in migration order.
INSTALL_DATA = [
    ("accounts.migrations.0002_roles", "create_roles"),
    ("success.migrations.0002_churn_reasons", "add_reasons"),
    ("success.alerts.migrations.0002_default_rules", "create_rules"),
    ("success.alerts.migrations.0005_default_support_rules", "create_rules"),
    ("success.playbooks.migrations.0002_default_playbooks", "create_playbooks"),
]


@pytest.fixture
def install_data(default_health_model: None) -> None:
    """Everything a fresh install's data migrations make (roles, churn reasons, the
    default alert rules and playbooks, the health model), made again where missing:
    for tests that build the whole demo, after a transactional test earlier in the same
    worker (`--dist loadfile` keeps a file's tests together, so such a test can come
    first) flushed the tables."""
    import importlib

    from django.apps import apps as registry

    for module, function in INSTALL_DATA:
        getattr(importlib.import_module(module), function)(registry, None)


def pytest_addoption(parser: pytest.Parser) -> None:
    """`--scenario-seed N` (repeatable) replays HubSpot's randomised scenario test
    (tests/hubspot/test_scenario.py) with those seeds instead of its CI seeds."""
    parser.addoption(
        "--scenario-seed",
        action="append",
        type=int,
        default=[],
        help="seed of tests/hubspot/test_scenario.py to run (repeatable)",
    )

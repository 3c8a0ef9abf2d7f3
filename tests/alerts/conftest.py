from typing import Any

import pytest

from success.alerts.models import AlertRule
from success.health.defaults import ensure_default_model
from success.health.models import HealthMeasure, HealthModel


@pytest.fixture(autouse=True)
def without_default_rules(db: Any) -> None:
    """Each test states the rules it needs; the install's defaults would add noise."""
    AlertRule.objects.all().delete()


@pytest.fixture(autouse=True)
def default_health_model(db: Any) -> None:
    """Alert tests score accounts with the install's default health model."""
    ensure_default_model(HealthModel, HealthMeasure)

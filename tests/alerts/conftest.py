from typing import Any

import pytest

from success.alerts.models import AlertRule
from success.playbooks.models import Playbook


@pytest.fixture(autouse=True)
def without_default_rules(db: Any) -> None:
    """Each test states the rules it needs; the install's defaults would add noise
    (the default playbooks go first: they name the default rules)."""
    Playbook.objects.all().delete()
    AlertRule.objects.all().delete()


@pytest.fixture(autouse=True)
def _with_default_health_model(default_health_model: Any) -> None:
    """Alert tests score accounts with the install's default health model."""

from typing import Any

import pytest

from success.health.defaults import ensure_default_model
from success.health.models import HealthMeasure, HealthModel


@pytest.fixture(autouse=True)
def default_health_model(db: Any) -> None:
    """The install's default model (a data migration), which transactional
    tests elsewhere in the run may have flushed."""
    ensure_default_model(HealthModel, HealthMeasure)

from typing import Any

import pytest


@pytest.fixture(autouse=True)
def _with_default_health_model(default_health_model: Any) -> None:
    """Every health test starts from the install's default model."""

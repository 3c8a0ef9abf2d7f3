from __future__ import annotations

from typing import Any

import pytest

from success.alerts.models import AlertRule, RuleKind
from success.playbooks.models import Playbook
from success.playbooks.services import playbook_save


@pytest.fixture(autouse=True)
def without_defaults(db: Any) -> None:
    """Each test states the rules and playbooks it needs."""
    Playbook.objects.all().delete()
    AlertRule.objects.all().delete()


@pytest.fixture
def no_login_rule(db: Any) -> AlertRule:
    return AlertRule.objects.create(name="No login for 30 days", kind=RuleKind.NO_LOGIN, days=30)


def steps(*specs: tuple[str, int], **extra: Any) -> list[dict[str, Any]]:
    return [
        {"kind": "task", "title": title, "due_offset_days": offset, "assignee": "owner", **extra}
        for title, offset in specs
    ]


@pytest.fixture
def reengage(no_login_rule: AlertRule, admin_user: Any) -> Playbook:
    return playbook_save(
        by=admin_user,
        name="Re-engage",
        description="",
        is_active=True,
        version={
            "trigger_kind": "alert_rule",
            "trigger_rule": no_login_rule,
            "objective_kind": "alert_cleared",
            "objective_days": 30,
        },
        steps=steps(("Check usage", 0), ("Call the champion", 3)),
    )


# The API tests authenticate as the API's own tests do.
from tests.api.conftest import _fresh_throttle_buckets, api_as, token_for  # noqa: E402, F401

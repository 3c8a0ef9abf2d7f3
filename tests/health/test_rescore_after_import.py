from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from accounts.imports import import_apply
from accounts.models import ImportBatch
from success.health.models import HealthScore
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db


def test_usage_imported_from_csv_rescores_those_accounts(
    leader: Any, django_capture_on_commit_callbacks: Any
) -> None:
    touched = AccountFactory.create(domain="touched.example")
    untouched = AccountFactory.create()
    day = timezone.localdate() - timedelta(days=1)
    batch = ImportBatch.objects.create(
        kind="usage",
        filename="usage.csv",
        content=f"account,date,active_users,seats_purchased\ntouched.example,{day},40,50\n",
        created_by=leader,
    )
    with django_capture_on_commit_callbacks(execute=True):
        import_apply(batch=batch, by=leader, valid_only=False)
    score = HealthScore.objects.get(account=touched, date=timezone.localdate())
    assert score.breakdown[0]["input"] == "active_users_ratio"
    assert not HealthScore.objects.filter(account=untouched).exists()

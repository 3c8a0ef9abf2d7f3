"""Dashboard snapshots (lifecycle/metrics/snapshots.py): a fresh snapshot serves
the same figures in a fixed handful of queries and says how old it is; a stale
one is recomputed; the scheduled refresh warms the current periods."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from lifecycle.metrics.periods import Grain, period_containing
from lifecycle.metrics.scope import Scope
from lifecycle.metrics.snapshots import _key
from lifecycle.models import MetricsSnapshot
from lifecycle.tasks import metrics_snapshots_refresh
from tests.metrics.test_dashboard import Q2, figure
from tests.metrics.test_dashboard import portfolio as portfolio  # the fixture

pytestmark = pytest.mark.django_db


@pytest.fixture
def snapshots(settings: Any) -> None:
    settings.METRICS_SNAPSHOT_MAX_AGE_SECONDS = 600


def test_fresh_snapshot_serves_the_same_figures_in_five_queries(
    client: Any, leader: Any, portfolio: Any, snapshots: None, django_assert_num_queries: Any
) -> None:
    client.force_login(leader)
    first = client.get(reverse("metrics"), Q2).content.decode()
    assert figure(first, "grr") == "93.0%"  # as test_retention_figures_for_last_quarter
    # session, user with their role groups, owner choices; the snapshot
    with django_assert_num_queries(4):
        again = client.get(reverse("metrics"), Q2).content.decode()
    assert [figure(again, k) for k in ("grr", "nrr", "churn")] == [
        figure(first, k) for k in ("grr", "nrr", "churn")
    ]
    assert 'id="figures-freshness"' in again
    assert "recomputed at most 10 minutes apart" in again


def test_stale_snapshot_is_recomputed_with_new_data(
    client: Any, leader: Any, portfolio: Any, snapshots: None
) -> None:
    client.force_login(leader)
    client.get(reverse("metrics"), Q2)
    MetricsSnapshot.objects.update(computed_at=timezone.now() - timedelta(minutes=11))
    atlas = portfolio["accounts"][0]
    atlas.delete()  # its 500,000 no longer counts
    page = client.get(reverse("metrics"), Q2).content.decode()
    assert figure(page, "arr_start") != "1,000,000"
    assert MetricsSnapshot.objects.get().computed_at > timezone.now() - timedelta(minutes=1)


def test_snapshots_off_compute_every_request_and_say_nothing(
    client: Any, leader: Any, portfolio: Any, settings: Any
) -> None:
    settings.METRICS_SNAPSHOT_MAX_AGE_SECONDS = 0
    client.force_login(leader)
    page = client.get(reverse("metrics"), Q2).content.decode()
    assert 'id="figures-freshness"' not in page
    assert not MetricsSnapshot.objects.exists()


def test_scheduled_refresh_warms_the_current_month_quarter_and_year(
    leader: Any, portfolio: Any, snapshots: None
) -> None:
    MetricsSnapshot.objects.create(
        key="old", computed_at=timezone.now() - timedelta(days=2), payload=b""
    )
    assert metrics_snapshots_refresh() == 3
    today = timezone.localdate()
    expected = {
        _key(Scope(), period_containing(today, g), today)
        for g in (Grain.MONTH, Grain.QUARTER, Grain.YEAR)
    }
    assert set(MetricsSnapshot.objects.values_list("key", flat=True)) == expected

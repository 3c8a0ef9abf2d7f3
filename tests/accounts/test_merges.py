"""accounts.merges: a merge moves everything of the merged-away account to the survivor,
keeps the survivor's one-per-account rows, and says on the timeline what moved."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from accounts.merges import account_merge, account_relations
from accounts.models import Account, Event, UsageSnapshot
from onboarding.models import OnboardingPlan
from success.alerts.models import Alert, AlertRule, ExpansionSignal, RuleKind
from success.health.models import HealthModel, HealthScore
from success.models import BusinessReview, Renewal, SuccessPlan
from tests.factories import (
    AccountFactory,
    BusinessReviewFactory,
    OnboardingPlanFactory,
    RenewalFactory,
    SuccessPlanFactory,
    UsageSnapshotFactory,
)

pytestmark = pytest.mark.django_db


def test_every_relation_to_an_account_is_moved_unless_it_describes_the_sync_record() -> None:
    moved = {fk.model._meta.label for fk in account_relations()}
    # CS data of every app; a model added later is found the same way.
    assert moved >= {
        "accounts.StageChange",
        "accounts.Contact",
        "accounts.Deal",
        "accounts.UsageSnapshot",
        "accounts.Event",
        "onboarding.OnboardingPlan",
        "success.SuccessPlan",
        "success.SuccessTask",
        "success.Renewal",
        "success.ArrMovement",
        "success.BusinessReview",
        "health.HealthScore",
        "health.HealthOverride",
        "alerts.Alert",
        "alerts.ExpansionSignal",
        "playbooks.PlaybookRun",
        "playbooks.PlaybookTrigger",
        "notifications.Notification",
    }
    # The sync's own bookkeeping about the linked record stays with it.
    assert not moved & {"hubspot.SyncState", "hubspot.SyncChange", "hubspot.SyncConflict"}


def _alert(account: Account, rule: AlertRule) -> Alert:
    return Alert.objects.create(
        account=account, rule=rule, message="Health dropped", due_on=date.today()
    )


def test_a_merge_moves_cs_data_and_keeps_the_survivors_own_where_one_is_allowed(
    default_health_model: Any,
) -> None:
    survivor: Any = AccountFactory(name="Acme")
    merged: Any = AccountFactory(name="Acme Inc", hubspot_id="77")
    today = date.today()
    rule = AlertRule.objects.create(name="Drop", kind=RuleKind.HEALTH_DROP, threshold=20)
    model = HealthModel.objects.get(status=HealthModel.Status.ACTIVE)
    for account in (survivor, merged):  # both have one today: the survivor's stays
        UsageSnapshotFactory(account=account, date=today)
        HealthScore.objects.create(account=account, date=today, model=model, score=50, band="y")
        _alert(account, rule)
    UsageSnapshotFactory(account=merged, date=today - timedelta(days=1))
    HealthScore.objects.create(
        account=merged, date=today - timedelta(days=1), model=model, score=40, band="y"
    )
    RenewalFactory(account=merged)
    SuccessPlanFactory(account=merged)
    BusinessReviewFactory(account=merged)
    ExpansionSignal.objects.create(account=merged, note="Wants 50 more seats")
    OnboardingPlanFactory(account=merged)

    report = account_merge(survivor=survivor, merged=merged, why="HubSpot merged 77 into 12")

    assert Renewal.objects.get().account_id == survivor.pk
    assert SuccessPlan.objects.get().account_id == survivor.pk
    assert BusinessReview.objects.get().account_id == survivor.pk
    assert ExpansionSignal.objects.get().account_id == survivor.pk
    assert OnboardingPlan.objects.get().account_id == survivor.pk
    assert UsageSnapshot.objects.filter(account=survivor).count() == 2
    assert HealthScore.objects.filter(account=survivor).count() == 2
    # One reading per day and one live alert per rule: the survivor's are kept.
    assert UsageSnapshot.objects.filter(account=merged).count() == 1
    assert HealthScore.objects.filter(account=merged, date=today).count() == 1
    assert Alert.objects.filter(account=merged).count() == 1
    assert report.kept == {"usage snapshots": 1, "health scores": 1, "alerts": 1}
    assert report.moved["renewals"] == 1 and report.moved["usage snapshots"] == 1

    merged.refresh_from_db()
    assert (merged.status, merged.hubspot_id, merged.domain) == ("archived", None, "")
    told = Event.objects.get(account=survivor, data__merged_account=merged.pk)
    assert told.summary.startswith("HubSpot merged 77 into 12: merged Acme Inc")
    assert "1 renewals" in told.summary and "left on the merged account" in told.summary
    assert Event.objects.filter(account=merged, data__survivor=survivor.pk).exists()


def test_an_account_cannot_be_merged_into_itself() -> None:
    account: Any = AccountFactory()
    with pytest.raises(ValueError, match="itself"):
        account_merge(survivor=account, merged=account)

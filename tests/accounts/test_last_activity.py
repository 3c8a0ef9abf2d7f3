"""Last activity is what a person did with the customer: system events (sync,
the daily jobs opening renewals and alerts) go to the timeline only."""

from __future__ import annotations

import importlib
from datetime import timedelta
from typing import Any

import pytest
from django.apps import apps
from django.utils import timezone

from accounts.models import Account, Event
from accounts.services import account_update, event_record
from success.services import plan_create, renewal_create
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db


def _last_activity(account: Account) -> Any:
    return Account.objects.values_list("last_activity_at", flat=True).get(pk=account.pk)


def test_system_events_reach_the_timeline_without_moving_last_activity(
    csm: Any, leader: Any
) -> None:
    account = AccountFactory.create(owner=csm)
    touched = timezone.now() - timedelta(days=40)
    event_record(
        account=account,
        kind=Event.Kind.NOTE,
        summary="Check-in call",
        actor=csm,
        occurred_at=touched,
    )
    assert _last_activity(account) == touched
    before = account.events.count()

    renewal_create(account=account)  # the daily job opens the renewal
    event_record(account=account, kind=Event.Kind.HUBSPOT, summary="Synced from HubSpot")
    event_record(account=account, kind=Event.Kind.HEALTH, summary="Alert opened: no login")
    account_update(account=account, by=leader, data={"name": "Renamed by the leader"})
    event_record(account=account, kind=Event.Kind.OWNER_CHANGED, summary="Owner", actor=leader)

    assert account.events.count() >= before + 5
    assert _last_activity(account) == touched


def test_what_the_csm_does_with_the_customer_moves_last_activity(csm: Any) -> None:
    account = AccountFactory.create(owner=csm)
    started = timezone.now()
    plan_create(account=account, desired_outcomes="Faster ramp", internal_notes="", by=csm)
    assert _last_activity(account) >= started


def test_migration_recomputes_last_activity_from_what_people_did(csm: Any) -> None:
    touched, quiet = AccountFactory.create(owner=csm), AccountFactory.create(owner=csm)
    call = timezone.now() - timedelta(days=12)
    event_record(
        account=touched, kind=Event.Kind.REVIEW, summary="QBR", actor=csm, occurred_at=call
    )
    # What the old rule left behind: every event, system ones too, bumped it.
    for account in (touched, quiet):
        Event.objects.create(account=account, kind=Event.Kind.RENEWAL, summary="Renewal opened")
    Account.objects.update(last_activity_at=timezone.now())

    migration = importlib.import_module("accounts.migrations.0012_last_activity_from_people")
    migration.recompute(apps, None)

    assert _last_activity(touched) == call
    assert _last_activity(quiet) is None

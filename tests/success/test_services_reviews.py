from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from accounts.models import HealthBand
from success import services
from success.models import BusinessReview, SuccessTask
from success.selectors.reviews import review_pack
from success.services import ActionItem
from tests.factories import AccountFactory, ContactFactory

pytestmark = pytest.mark.django_db


def test_scheduling_writes_the_earliest_review_onto_the_account(csm: Any) -> None:
    account = AccountFactory.create(owner=csm)
    later = services.review_schedule(
        account=account, kind="qbr", scheduled_for=date(2027, 3, 1), by=csm
    )
    services.review_schedule(account=account, kind="ebr", scheduled_for=date(2027, 1, 5), by=csm)
    account.refresh_from_db()
    assert account.next_business_review == date(2027, 1, 5)
    assert later.owner == csm


def test_contacts_from_another_account_cannot_attend(csm: Any) -> None:
    account = AccountFactory.create()
    with pytest.raises(ValidationError):
        services.review_schedule(
            account=account,
            kind="qbr",
            scheduled_for=date(2027, 1, 1),
            attendee_contacts=[ContactFactory.create()],
            by=csm,
        )


def test_holding_freezes_a_snapshot_and_creates_action_items(csm: Any) -> None:
    account = AccountFactory.create(
        owner=csm,
        arr=Decimal("80000"),
        health_score=72,
        health_band=HealthBand.GREEN,
        onboarding_status="completed",
        onboarding_progress=100,
    )
    plan = services.plan_create(account=account, desired_outcomes="x", by=csm)
    objective = services.objective_create(
        plan=plan,
        title="Adoption",
        metric="Weekly users",
        baseline=Decimal(10),
        target=Decimal(50),
        current_value=Decimal(30),
        by=csm,
    )
    review = services.review_schedule(
        account=account, kind="qbr", scheduled_for=date.today(), by=csm
    )
    contact = ContactFactory.create(account=account)
    services.review_hold(
        review=review,
        held_on=date.today(),
        sentiment="positive",
        outcomes="Expand to EMEA",
        action_items=[
            ActionItem(title="Send EMEA proposal", assignee_user=csm, due_date=date.today()),
            ActionItem(title="Share usage report", assignee_contact=contact),
        ],
        by=csm,
    )
    review.refresh_from_db()
    assert review.status == BusinessReview.Status.HELD
    snap = review.snapshot
    assert (snap["health_score"], snap["health_band"], snap["arr"]) == (72, "green", "80000.00")
    assert (snap["onboarding_status"], snap["onboarding_progress"]) == ("completed", 100)
    assert snap["objectives"][0]["progress"] == 50
    assert SuccessTask.objects.filter(review=review).count() == 2
    account.refresh_from_db()
    assert account.next_business_review is None

    # Later changes do not touch the frozen snapshot.
    services.objective_value_record(objective=objective, value=Decimal(40), by=csm)
    review.refresh_from_db()
    assert review.snapshot["objectives"][0]["current_value"] == "30.00"
    with pytest.raises(ValidationError):
        services.review_hold(review=review, held_on=date.today(), sentiment="neutral", by=csm)


def test_review_pack_shows_movement_since_the_previous_review(csm: Any) -> None:
    account = AccountFactory.create(owner=csm, arr=Decimal("1000"), health_score=50)
    plan = services.plan_create(account=account, desired_outcomes="x", by=csm)
    objective = services.objective_create(
        plan=plan,
        title="Tickets",
        metric="per week",
        baseline=Decimal(100),
        target=Decimal(50),
        by=csm,
    )
    first = services.review_schedule(
        account=account, kind="qbr", scheduled_for=date.today() - timedelta(days=90), by=csm
    )
    services.review_hold(
        review=first, held_on=date.today() - timedelta(days=90), sentiment="neutral", by=csm
    )
    services.objective_value_record(objective=objective, value=Decimal(75), by=csm)
    account.arr = Decimal("1500")
    account.health_score = 65
    account.save()
    second = services.review_schedule(
        account=account, kind="qbr", scheduled_for=date.today(), by=csm
    )
    pack = review_pack(review=second)
    assert pack.is_live and pack.previous == first
    assert pack.arr_change == Decimal("500")
    assert pack.health_change == 15
    [movement] = pack.objectives
    assert (movement.previous_value, movement.value) == (Decimal(100), Decimal(75))
    assert (movement.previous_progress, movement.progress) == (0, 50)
    # The first review has nothing before it.
    assert review_pack(review=first).previous is None

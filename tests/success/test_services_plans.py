from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from success import services
from success.models import ObjectiveStatus, ObjectiveUpdate, SuccessPlan
from tests.factories import AccountFactory, ContactFactory, ObjectiveFactory

pytestmark = pytest.mark.django_db


def test_replacing_a_plan_keeps_the_old_one_and_kills_its_link(csm: Any) -> None:
    account = AccountFactory.create(owner=csm)
    first = services.plan_create(account=account, desired_outcomes="Grow", by=csm)
    services.plan_share(plan=first, by=csm)
    second = services.plan_create(account=account, desired_outcomes="Grow faster", by=csm)
    first.refresh_from_db()
    assert first.replaced_at is not None and first.share_token is None
    assert second.is_current
    assert SuccessPlan.objects.filter(account=account).count() == 2
    assert SuccessPlan.objects.filter(account=account, replaced_at__isnull=True).get() == second


def test_sharing_again_issues_a_new_unguessable_token(csm: Any) -> None:
    plan = services.plan_create(account=AccountFactory.create(), desired_outcomes="x", by=csm)
    services.plan_share(plan=plan, by=csm)
    first = plan.share_token
    services.plan_share(plan=plan, by=csm)
    assert first and plan.share_token and plan.share_token != first
    assert len(plan.share_token) >= 40
    services.plan_share_revoke(plan=plan, by=csm)
    plan.refresh_from_db()
    assert plan.share_token is None


def test_objective_value_updates_keep_their_history(csm: Any) -> None:
    plan = services.plan_create(account=AccountFactory.create(), desired_outcomes="x", by=csm)
    objective = services.objective_create(
        plan=plan,
        title="Faster onboarding",
        metric="Days to productivity",
        baseline=Decimal("30"),
        target=Decimal("10"),
        by=csm,
    )
    assert objective.current_value == Decimal("30") and objective.progress == 0
    services.objective_value_record(objective=objective, value=Decimal("25"), by=csm)
    services.objective_value_record(objective=objective, value=Decimal("20"), by=csm, note="Q2")
    assert objective.progress == 50
    values = list(
        ObjectiveUpdate.objects.filter(objective=objective)
        .order_by("at", "id")
        .values_list("from_value", "to_value")
    )
    assert values == [
        (None, Decimal("30.00")),
        (Decimal("30.00"), Decimal("25.00")),
        (Decimal("25.00"), Decimal("20.00")),
    ]


def test_objective_status_needs_a_note_and_is_kept(csm: Any) -> None:
    objective = ObjectiveFactory.create()
    with pytest.raises(ValidationError):
        services.objective_status_set(
            objective=objective, status=ObjectiveStatus.AT_RISK, note=" ", by=csm
        )
    services.objective_status_set(
        objective=objective, status=ObjectiveStatus.AT_RISK, note="Sponsor left", by=csm
    )
    update = ObjectiveUpdate.objects.get(objective=objective)
    assert (update.from_status, update.to_status, update.note, update.by) == (
        "in_progress",
        "at_risk",
        "Sponsor left",
        csm,
    )


def test_objective_target_must_differ_from_baseline(csm: Any) -> None:
    plan = services.plan_create(account=AccountFactory.create(), desired_outcomes="x", by=csm)
    with pytest.raises(ValidationError):
        services.objective_create(
            plan=plan, title="t", metric="m", baseline=Decimal(5), target=Decimal(5), by=csm
        )


def test_task_takes_one_assignee_from_its_own_account(csm: Any) -> None:
    account = AccountFactory.create()
    stranger = ContactFactory.create()
    with pytest.raises(ValidationError):
        services.task_create(account=account, title="Call", assignee_contact=stranger, by=csm)
    contact = ContactFactory.create(account=account)
    with pytest.raises(ValidationError):
        services.task_create(
            account=account, title="Call", assignee_contact=contact, assignee_user=csm, by=csm
        )
    task = services.task_create(account=account, title="Call", assignee_contact=contact, by=csm)
    services.task_set_done(task=task, done=True, by=csm)
    assert task.done

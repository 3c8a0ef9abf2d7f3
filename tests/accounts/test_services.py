from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError

from accounts import services
from accounts.models import Account, Event, Stage, StageChange, UsageSnapshot, normalise_domain
from tests.factories import AccountFactory, DealFactory, PipelineStageFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("https://www.Acme.com/pricing?x=1", "acme.com"),
        ("HTTP://acme.io:8080", "acme.io"),
        ("www.acme.co.uk.", "acme.co.uk"),
        ("  sub.acme.com  ", "sub.acme.com"),
        ("", ""),
    ],
)
def test_normalise_domain_strips_scheme_www_path_and_case(raw: str, expected: str) -> None:
    assert normalise_domain(raw) == expected


def test_account_create_normalises_domain_and_records_first_stage(csm: Any) -> None:
    account = services.account_create(
        by=csm, name="Acme", domain="https://www.ACME.com/", arr=Decimal("1200.50")
    )
    assert account.domain == "acme.com"
    change = StageChange.objects.get(account=account)
    assert (change.from_stage, change.to_stage, change.changed_by) == ("", Stage.ONBOARDING, csm)
    assert account.events.get().kind == Event.Kind.ACCOUNT_CREATED


def test_account_create_rejects_a_domain_another_account_has(csm: Any) -> None:
    AccountFactory.create(domain="acme.com")
    with pytest.raises(ValidationError) as exc:
        services.account_create(by=csm, name="Acme again", domain="www.acme.com")
    assert "domain" in exc.value.message_dict
    assert Account.objects.count() == 1


def test_two_accounts_without_domain_are_allowed() -> None:
    AccountFactory.create(domain="")
    AccountFactory.create(domain="")
    assert Account.objects.filter(domain="").count() == 2


def test_database_refuses_negative_arr() -> None:
    account = AccountFactory.create()
    with pytest.raises(IntegrityError):
        Account.objects.filter(pk=account.pk).update(arr=Decimal("-1"))


def test_account_update_keeps_old_and_new_values_on_the_timeline(csm: Any) -> None:
    account = AccountFactory.create(arr=Decimal("100.00"), name="Old name")
    services.account_update(
        account=account, by=csm, data={"arr": Decimal("250.00"), "name": "New name"}
    )
    account.refresh_from_db()
    assert account.arr == Decimal("250.00")
    event = account.events.get(kind=Event.Kind.ACCOUNT_UPDATED)
    assert event.actor == csm
    assert event.data["changes"] == {"arr": ["100.00", "250.00"], "name": ["Old name", "New name"]}


def test_account_update_without_changes_writes_no_event(csm: Any) -> None:
    account = AccountFactory.create(name="Same")
    services.account_update(account=account, by=csm, data={"name": "Same"})
    assert not account.events.exists()


def test_account_update_rejects_renewal_before_contract_start(csm: Any) -> None:
    account = AccountFactory.create()
    with pytest.raises(ValidationError):
        services.account_update(
            account=account,
            by=csm,
            data={"contract_start": date(2026, 5, 1), "renewal_date": date(2026, 4, 1)},
        )
    account.refresh_from_db()
    assert account.renewal_date != date(2026, 4, 1)


def test_stage_change_requires_a_reason(csm: Any) -> None:
    account = AccountFactory.create(stage=Stage.ADOPTION)
    with pytest.raises(ValidationError):
        services.account_stage_change(account=account, to_stage=Stage.AT_RISK, reason="  ", by=csm)
    account.refresh_from_db()
    assert account.stage == Stage.ADOPTION
    assert not StageChange.objects.filter(account=account).exists()


def test_stage_change_is_kept_with_actor_reason_and_timeline_event(csm: Any) -> None:
    account = AccountFactory.create(stage=Stage.ADOPTION)
    services.account_stage_change(
        account=account, to_stage=Stage.AT_RISK, reason="Champion left", by=csm
    )
    account.refresh_from_db()
    assert account.stage == Stage.AT_RISK
    change = StageChange.objects.get(account=account)
    assert (change.from_stage, change.to_stage, change.reason, change.changed_by) == (
        Stage.ADOPTION,
        Stage.AT_RISK,
        "Champion left",
        csm,
    )
    event = account.events.get(kind=Event.Kind.STAGE_CHANGED)
    assert "Champion left" in event.summary
    # A judgement about the account, not something done with the customer.
    assert account.last_activity_at is None


def test_reassign_records_previous_and_new_owner(leader: Any, csm: Any, other_csm: Any) -> None:
    account = AccountFactory.create(owner=csm)
    services.account_reassign(account=account, owner=other_csm, by=leader)
    account.refresh_from_db()
    assert account.owner == other_csm
    event = account.events.get(kind=Event.Kind.OWNER_CHANGED)
    assert event.data == {"from": csm.pk, "to": other_csm.pk}


def test_cs_fields_update_writes_only_cs_fields() -> None:
    account = AccountFactory.create()
    services.account_cs_fields_update(account=account, health_score=64, health_band="yellow")
    account.refresh_from_db()
    assert (account.health_score, account.health_band) == (64, "yellow")
    with pytest.raises(ValueError, match="Not a CS field"):
        services.account_cs_fields_update(account=account, arr=Decimal("1"))


def test_each_changed_field_notes_when_it_changed_even_from_stale_copies(csm: Any) -> None:
    """Two writers holding their own copy of the account (health job, CSM's form):
    each stamps its fields and neither erases the other's stamp."""
    account = AccountFactory.create(health_score=50)
    stale = Account.objects.get(pk=account.pk)
    services.account_cs_fields_update(account=account, health_score=70)
    services.account_update(account=stale, by=csm, data={"name": "Renamed"})
    services.account_cs_fields_update(account=account, health_score=70)  # no change: no stamp
    account.refresh_from_db()
    assert set(account.field_changed_at) == {"health_score", "name"}
    assert account.field_changed_at["name"] >= account.field_changed_at["health_score"]
    assert account.field_changed_at["name"] <= account.updated_at.timestamp() * 1000 + 1


def test_deal_in_a_stage_of_another_pipeline_is_refused(csm: Any) -> None:
    deal = DealFactory.create()
    foreign_stage = PipelineStageFactory.create()
    with pytest.raises(ValidationError):
        services.deal_save(account=deal.account, deal=deal, by=csm, data={"stage": foreign_stage})


def test_usage_upsert_replaces_the_same_day_instead_of_duplicating() -> None:
    account = AccountFactory.create()
    day = date.today() - timedelta(days=1)
    services.usage_snapshots_upsert(
        rows=[{"account_id": account.pk, "date": day, "active_users": 5}]
    )
    services.usage_snapshots_upsert(
        rows=[{"account_id": account.pk, "date": day, "active_users": 9, "nps": 30}]
    )
    snapshot = UsageSnapshot.objects.get(account=account)
    assert (snapshot.active_users, snapshot.nps) == (9, 30)

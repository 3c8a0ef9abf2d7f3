from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from accounts.models import Account, Deal, Event, ForecastCategory, Pipeline, Stage, StageChange
from success import services
from success.models import ArrMovement, ChurnReason, ForecastChange, Renewal
from success.services.renewals import add_months, term_months_of
from tests.factories import AccountFactory, PipelineFactory

pytestmark = pytest.mark.django_db

TODAY = date(2026, 11, 23)


def _account(**kw: Any) -> Account:
    defaults = {
        "arr": Decimal("120000.00"),
        "contract_start": date(2025, 12, 15),
        "renewal_date": date(2026, 12, 15),
    }
    return AccountFactory.create(**{**defaults, **kw})


def test_add_months_clamps_to_month_end() -> None:
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2026, 12, 15), 12) == date(2027, 12, 15)
    assert add_months(date(2026, 11, 30), 3) == date(2027, 2, 28)


def test_term_months_is_read_from_the_contract() -> None:
    assert term_months_of(_account()) == 12
    two_years = _account(contract_start=date(2024, 12, 15))
    assert term_months_of(two_years) == 24
    assert term_months_of(_account(contract_start=None)) == 12


def test_renewal_create_opens_a_deal_in_a_new_renewal_pipeline(csm: Any) -> None:
    assert not Pipeline.objects.filter(is_renewal=True).exists()
    account = _account(owner=csm)
    renewal = services.renewal_create(account=account)
    pipeline = Pipeline.objects.get(is_renewal=True)
    assert [s.label for s in pipeline.stages.all()] == [
        "Upcoming",
        "In negotiation",
        "Closed won",
        "Closed lost",
    ]
    assert renewal.deal is not None
    assert renewal.deal.kind == Deal.Kind.RENEWAL
    assert renewal.deal.pipeline == pipeline
    assert renewal.deal.stage.label == "Upcoming"
    assert renewal.deal.amount == Decimal("120000.00")
    assert renewal.deal.close_date == date(2026, 12, 15)
    assert renewal.current_arr == renewal.forecast_arr == Decimal("120000.00")
    account.refresh_from_db()
    assert account.renewal_forecast_arr == Decimal("120000.00")
    assert account.renewal_forecast_category == ""


def test_renewal_create_uses_the_existing_renewal_pipeline() -> None:
    pipeline = PipelineFactory.create(label="Our renewals", is_renewal=True)
    renewal = services.renewal_create(account=_account())
    assert renewal.deal is not None and renewal.deal.pipeline == pipeline
    assert pipeline.stages.filter(is_won=True).count() == 1


def test_daily_job_creates_due_renewals_once() -> None:
    due = _account(renewal_date=TODAY + timedelta(days=120))
    _account(renewal_date=TODAY + timedelta(days=121))
    _account(renewal_date=TODAY + timedelta(days=30), stage=Stage.CHURNED)
    _account(renewal_date=TODAY + timedelta(days=30), status=Account.Status.ARCHIVED)
    _account(renewal_date=None, contract_start=None)

    assert services.renewals_create_due(today=TODAY) == 1
    assert services.renewals_create_due(today=TODAY) == 0
    assert list(Renewal.objects.values_list("account_id", flat=True)) == [due.pk]
    assert Deal.objects.filter(kind=Deal.Kind.RENEWAL).count() == 1


def test_daily_job_lead_days_come_from_settings(settings: Any) -> None:
    settings.SUCCESS_RENEWAL_LEAD_DAYS = 30
    _account(renewal_date=TODAY + timedelta(days=60))
    assert services.renewals_create_due(today=TODAY) == 0
    settings.SUCCESS_RENEWAL_LEAD_DAYS = 60
    assert services.renewals_create_due(today=TODAY) == 1


def test_open_renewal_follows_a_changed_renewal_date() -> None:
    account = _account()
    renewal = services.renewal_create(account=account)
    Account.objects.filter(pk=account.pk).update(renewal_date=date(2027, 1, 10))
    assert services.renewals_create_due(today=TODAY) == 1
    assert Renewal.objects.count() == 1
    renewal.refresh_from_db()
    assert renewal.renewal_date == date(2027, 1, 10)
    assert renewal.deal is not None and renewal.deal.close_date == date(2027, 1, 10)


def test_forecast_change_keeps_history_and_writes_the_account(csm: Any, leader: Any) -> None:
    account = _account(owner=csm)
    renewal = services.renewal_create(account=account)
    services.renewal_forecast_change(
        renewal=renewal,
        category=ForecastCategory.LIKELY,
        forecast_arr=Decimal("120000"),
        reason="Sponsor confirmed budget",
        by=csm,
    )
    services.renewal_forecast_change(
        renewal=renewal,
        category=ForecastCategory.AT_RISK,
        forecast_arr=Decimal("90000.50"),
        reason="Champion left",
        by=leader,
    )
    history = list(ForecastChange.objects.filter(renewal=renewal).order_by("changed_at", "id"))
    assert [(h.from_category, h.to_category) for h in history] == [
        ("", "likely"),
        ("likely", "at_risk"),
    ]
    assert history[1].from_arr == Decimal("120000.00")
    assert history[1].to_arr == Decimal("90000.50")
    assert history[1].changed_by == leader
    assert history[1].reason == "Champion left"
    account.refresh_from_db()
    assert account.renewal_forecast_category == ForecastCategory.AT_RISK
    assert account.renewal_forecast_arr == Decimal("90000.50")
    renewal.refresh_from_db()
    assert renewal.deal is not None and renewal.deal.amount == Decimal("90000.50")


@pytest.mark.parametrize("reason", ["", "   "])
def test_forecast_change_requires_a_reason(reason: str) -> None:
    renewal = services.renewal_create(account=_account())
    with pytest.raises(ValidationError):
        services.renewal_forecast_change(
            renewal=renewal,
            category=ForecastCategory.COMMIT,
            forecast_arr=Decimal("1"),
            reason=reason,
            by=None,
        )
    assert not ForecastChange.objects.exists()


def test_forecast_change_refuses_no_change() -> None:
    renewal = services.renewal_create(account=_account())
    services.renewal_forecast_change(
        renewal=renewal, category="commit", forecast_arr=Decimal("5"), reason="x", by=None
    )
    with pytest.raises(ValidationError):
        services.renewal_forecast_change(
            renewal=renewal, category="commit", forecast_arr=Decimal("5.00"), reason="y", by=None
        )
    assert ForecastChange.objects.count() == 1


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("100000.00", "112500.50", {"renewal": "100000.00", "expansion": "12500.50"}),
        ("100000.00", "80000.10", {"renewal": "80000.10", "contraction": "19999.90"}),
        ("100000.00", "100000.00", {"renewal": "100000.00"}),
    ],
)
def test_renew_records_expansion_or_contraction_in_exact_decimals(
    old: str, new: str, expected: dict[str, str]
) -> None:
    account = _account(arr=Decimal(old))
    renewal = services.renewal_create(account=account)
    services.renewal_renew(renewal=renewal, new_arr=Decimal(new), by=None, on=TODAY)
    movements = {m.kind: str(m.amount) for m in ArrMovement.objects.filter(account=account)}
    assert movements == expected
    assert all(m.date == TODAY for m in ArrMovement.objects.all())
    # Retained plus expansion minus contraction gives the new ARR, to the cent.
    total = sum(
        (
            m.amount if m.kind != ArrMovement.Kind.CONTRACTION else Decimal(0)
            for m in ArrMovement.objects.filter(account=account)
        ),
        Decimal(0),
    )
    assert total == Decimal(new)


def test_renew_rolls_the_contract_forward_and_opens_the_next_renewal(
    csm: Any, settings: Any
) -> None:
    settings.SUCCESS_RENEWAL_LEAD_DAYS = 400
    account = _account(owner=csm)
    renewal = services.renewal_create(account=account)
    services.renewal_forecast_change(
        renewal=renewal, category="commit", forecast_arr=Decimal("130000"), reason="x", by=csm
    )
    services.renewal_renew(renewal=renewal, new_arr=Decimal("130000"), by=csm, on=TODAY)

    account.refresh_from_db()
    assert account.arr == Decimal("130000.00")
    assert account.contract_start == date(2026, 12, 15)
    assert account.renewal_date == date(2027, 12, 15)
    renewal.refresh_from_db()
    assert renewal.status == Renewal.Status.RENEWED
    assert renewal.new_arr == Decimal("130000.00")
    assert renewal.deal is not None and renewal.deal.stage.is_won
    following = Renewal.objects.get(account=account, status=Renewal.Status.OPEN)
    assert following.renewal_date == date(2027, 12, 15)
    assert following.current_arr == Decimal("130000.00")
    assert following.deal is not None and following.deal != renewal.deal
    assert account.renewal_forecast_category == ""


def test_renew_leaves_the_next_renewal_to_the_daily_job_when_far_off() -> None:
    account = _account()
    renewal = services.renewal_create(account=account)
    services.renewal_renew(renewal=renewal, new_arr=Decimal("1"), by=None, on=TODAY)
    assert Renewal.objects.filter(status=Renewal.Status.OPEN).count() == 0
    assert services.renewals_create_due(today=date(2027, 9, 1)) == 1


def test_a_closed_renewal_cannot_be_closed_again() -> None:
    renewal = services.renewal_create(account=_account())
    services.renewal_renew(renewal=renewal, new_arr=Decimal("10"), by=None, on=TODAY)
    recorded = ArrMovement.objects.count()
    with pytest.raises(ValidationError):
        services.renewal_renew(renewal=renewal, new_arr=Decimal("10"), by=None, on=TODAY)
    with pytest.raises(ValidationError):
        services.renewal_churn(
            renewal=renewal,
            reason=ChurnReason.objects.get_or_create(label="Other")[0],
            note="",
            by=None,
            on=TODAY,
        )
    assert ArrMovement.objects.count() == recorded == 2


def test_churn_records_the_lost_arr_and_moves_the_account_to_churned(csm: Any) -> None:
    account = _account(owner=csm, arr=Decimal("45000.75"))
    renewal = services.renewal_create(account=account)
    reason = ChurnReason.objects.get_or_create(label="Budget cut")[0]
    services.renewal_churn(renewal=renewal, reason=reason, note="Froze all tools", by=csm, on=TODAY)

    movement = ArrMovement.objects.get(account=account)
    assert (movement.kind, movement.amount, movement.date) == ("churn", Decimal("45000.75"), TODAY)
    account.refresh_from_db()
    assert account.stage == Stage.CHURNED
    assert account.arr == Decimal("0")
    assert account.renewal_forecast_category == ForecastCategory.CHURN
    change = StageChange.objects.get(account=account, to_stage=Stage.CHURNED)
    assert "Budget cut" in change.reason and change.changed_by == csm
    renewal.refresh_from_db()
    assert renewal.status == Renewal.Status.CHURNED
    assert renewal.churn_note == "Froze all tools"
    assert renewal.deal is not None and renewal.deal.stage.is_closed
    assert not renewal.deal.stage.is_won
    # A churned account gets no further renewals from the daily job.
    assert services.renewals_create_due(today=TODAY) == 0
    assert Event.objects.filter(account=account, kind=Event.Kind.RENEWAL).count() == 2

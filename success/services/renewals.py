"""Writes to renewals: the daily creation job, forecasts with their history,
and closing (renewed or churned) with the ARR movements metrics read."""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from accounts.formats import date_display, money_display
from accounts.models import (
    Account,
    Deal,
    Event,
    ForecastCategory,
    Pipeline,
    PipelineStage,
    Stage,
    User,
)
from accounts.services import (
    account_cs_fields_update,
    account_stage_change,
    account_update,
    deal_save,
    event_record,
)

from ..models import ArrMovement, ChurnReason, ForecastChange, Renewal

RENEWAL_STAGES = [
    # label, closed, won, probability
    ("Upcoming", False, False, "0.5"),
    ("In negotiation", False, False, "0.7"),
    ("Closed won", True, True, "1"),
    ("Closed lost", True, False, "0"),
]


def add_months(day: date, months: int) -> date:
    """`day` moved by whole months; the 31st becomes the month's last day."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return day.replace(
        year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1])
    )


def term_months_of(account: Account) -> int:
    """The contract term in whole months, from contract start to renewal; 12 if unknown."""
    if not (account.contract_start and account.renewal_date):
        return 12
    start, end = account.contract_start, account.renewal_date
    months = (end.year - start.year) * 12 + end.month - start.month
    if end.day - start.day > 15:
        months += 1
    elif start.day - end.day > 15:
        months -= 1
    return max(months, 1)


@transaction.atomic
def renewal_pipeline_ensure() -> Pipeline:
    """The renewal pipeline, created with sensible stages if there is none."""
    pipeline = Pipeline.objects.filter(is_renewal=True).first()
    if pipeline is None:
        pipeline = Pipeline.objects.create(label="Renewals", is_renewal=True, display_order=1)
    if not pipeline.stages.exists():
        PipelineStage.objects.bulk_create(
            PipelineStage(
                pipeline=pipeline,
                label=label,
                display_order=order,
                is_closed=closed,
                is_won=won,
                probability=Decimal(prob),
            )
            for order, (label, closed, won, prob) in enumerate(RENEWAL_STAGES)
        )
    return pipeline


def _stage(pipeline: Pipeline, *, closed: bool, won: bool = False) -> PipelineStage:
    stages = pipeline.stages.filter(is_closed=closed)
    if closed:
        stages = stages.filter(is_won=won)
    stage = stages.order_by("display_order").first()
    if stage is None:
        kind = "won" if won else "lost" if closed else "open"
        raise ValidationError(f"The renewal pipeline {pipeline} has no {kind} stage.")
    return stage


@transaction.atomic
def renewal_create(*, account: Account, by: User | None = None) -> Renewal:
    """The renewal for the account's current renewal date, with its deal in the
    renewal pipeline. Returns the existing one when there is one."""
    account = Account.objects.select_for_update().get(pk=account.pk)
    renewal_date = account.renewal_date
    if renewal_date is None:
        raise ValidationError("The account has no renewal date.")
    existing = Renewal.objects.filter(account=account, renewal_date=renewal_date).first()
    if existing:
        return existing
    moved = Renewal.objects.filter(account=account, status=Renewal.Status.OPEN).first()
    if moved:
        # The contract's renewal date changed: the open renewal follows it.
        moved.renewal_date = renewal_date
        moved.save(update_fields=["renewal_date", "updated_at"])
        if moved.deal:
            deal_save(
                account=account, deal=moved.deal, by=by, data={"close_date": account.renewal_date}
            )
        return moved
    pipeline = renewal_pipeline_ensure()
    deal = deal_save(
        account=account,
        by=by,
        data={
            "name": f"{account.name} – renewal {account.renewal_date:%b %Y}",
            "pipeline": pipeline,
            "stage": _stage(pipeline, closed=False),
            "amount": account.arr,
            "close_date": account.renewal_date,
            "kind": Deal.Kind.RENEWAL,
        },
    )
    renewal = Renewal.objects.create(
        account=account,
        renewal_date=renewal_date,
        term_months=term_months_of(account),
        current_arr=account.arr,
        forecast_arr=account.arr,
        deal=deal,
    )
    account_cs_fields_update(
        account=account, renewal_forecast_category="", renewal_forecast_arr=renewal.forecast_arr
    )
    event_record(
        account=account,
        kind=Event.Kind.RENEWAL,
        summary=f"Renewal opened for {date_display(renewal.renewal_date)} "
        f"({money_display(renewal.current_arr, account.currency)} up for renewal)",
        actor=by,
        link=renewal.get_absolute_url(),
    )
    return renewal


def renewals_create_due(*, today: date, lead_days: int | None = None) -> int:
    """Open a renewal for every live account whose renewal date is within the
    lead window (setting SUCCESS_RENEWAL_LEAD_DAYS). Idempotent: accounts that
    already have a renewal for that date are skipped. Each account commits on
    its own, so one bad row does not stop the rest."""
    lead = settings.SUCCESS_RENEWAL_LEAD_DAYS if lead_days is None else lead_days
    due = (
        Account.objects.filter(
            status=Account.Status.ACTIVE,
            renewal_date__isnull=False,
            renewal_date__lte=today + timedelta(days=lead),
        )
        .exclude(stage=Stage.CHURNED)
        .exclude(renewals__renewal_date=F("renewal_date"))
        .order_by("renewal_date", "pk")
    )
    made = 0
    for account in due.iterator(chunk_size=500):
        renewal_create(account=account)
        made += 1
    return made


def _require_open(renewal: Renewal) -> None:
    if renewal.status != Renewal.Status.OPEN:
        raise ValidationError(f"This renewal is already {renewal.get_status_display().lower()}.")


@transaction.atomic
def renewal_forecast_change(
    *,
    renewal: Renewal,
    category: str,
    forecast_arr: Decimal,
    reason: str,
    by: User | None,
) -> Renewal:
    """Change a renewal's forecast category and/or ARR. A reason is required
    and the change is kept with who, when, from and to. The account (and so
    HubSpot) and the renewal deal's amount follow."""
    renewal = (
        Renewal.objects.select_for_update(of=("self",))
        .select_related("account", "deal")
        .get(pk=renewal.pk)
    )
    _require_open(renewal)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say why the forecast changes."})
    if category not in ForecastCategory.values:
        raise ValidationError({"category": f"Unknown forecast category {category!r}."})
    if forecast_arr is None or forecast_arr < 0:
        raise ValidationError({"forecast_arr": "Forecast ARR must be zero or more."})
    forecast_arr = Decimal(forecast_arr).quantize(Decimal("0.01"))
    if category == renewal.forecast_category and forecast_arr == renewal.forecast_arr:
        raise ValidationError("Nothing changed: pick another category or amount.")
    ForecastChange.objects.create(
        renewal=renewal,
        from_category=renewal.forecast_category,
        to_category=category,
        from_arr=renewal.forecast_arr,
        to_arr=forecast_arr,
        reason=reason,
        changed_by=by,
    )
    old_label = (
        ForecastCategory(renewal.forecast_category).label
        if renewal.forecast_category
        else "not forecast"
    )
    renewal.forecast_category = category
    renewal.forecast_arr = forecast_arr
    renewal.save(update_fields=["forecast_category", "forecast_arr", "updated_at"])
    account = renewal.account
    if renewal.deal and renewal.deal.amount != forecast_arr:
        deal_save(account=account, deal=renewal.deal, by=by, data={"amount": forecast_arr})
    account_cs_fields_update(
        account=account, renewal_forecast_category=category, renewal_forecast_arr=forecast_arr
    )
    event_record(
        account=account,
        kind=Event.Kind.RENEWAL,
        summary=f"Renewal forecast {old_label} → {ForecastCategory(category).label}, "
        f"{money_display(forecast_arr, account.currency)}: {reason}",
        actor=by,
        link=renewal.get_absolute_url(),
    )
    return renewal


@transaction.atomic
def renewal_renew(
    *, renewal: Renewal, new_arr: Decimal, by: User | None, on: date | None = None
) -> Renewal:
    """Close a renewal as renewed. The ARR difference is recorded as expansion
    or contraction, the kept ARR as a renewal movement, the contract rolls
    forward by its term, and the next renewal opens if it is already due."""
    renewal = (
        Renewal.objects.select_for_update(of=("self",))
        .select_related("account", "deal")
        .get(pk=renewal.pk)
    )
    _require_open(renewal)
    if new_arr is None or new_arr <= 0:
        raise ValidationError({"new_arr": "A renewed contract has an ARR above zero."})
    new_arr = Decimal(new_arr).quantize(Decimal("0.01"))
    on = on or timezone.localdate()
    account = Account.objects.select_for_update().get(pk=renewal.account_id)
    old_arr = account.arr
    movements = [ArrMovement(kind=ArrMovement.Kind.RENEWAL, amount=min(old_arr, new_arr))]
    if new_arr > old_arr:
        movements.append(ArrMovement(kind=ArrMovement.Kind.EXPANSION, amount=new_arr - old_arr))
    elif new_arr < old_arr:
        movements.append(ArrMovement(kind=ArrMovement.Kind.CONTRACTION, amount=old_arr - new_arr))
    for movement in movements:
        movement.account = account
        movement.date = on
        movement.renewal = renewal
    ArrMovement.objects.bulk_create(movements)

    renewal.status = Renewal.Status.RENEWED
    renewal.closed_on = on
    renewal.closed_by = by
    renewal.new_arr = new_arr
    renewal.save(update_fields=["status", "closed_on", "closed_by", "new_arr", "updated_at"])
    if renewal.deal:
        pipeline = renewal.deal.pipeline
        deal_save(
            account=account,
            deal=renewal.deal,
            by=by,
            data={
                "stage": _stage(pipeline, closed=True, won=True),
                "amount": new_arr,
                "close_date": on,
            },
        )
    account_update(
        account=account,
        by=by,
        data={
            "arr": new_arr,
            "contract_start": renewal.renewal_date,
            "renewal_date": add_months(renewal.renewal_date, renewal.term_months),
        },
    )
    account_cs_fields_update(
        account=account, renewal_forecast_category="", renewal_forecast_arr=None
    )
    difference = new_arr - old_arr
    event_record(
        account=account,
        kind=Event.Kind.RENEWAL,
        summary=f"Renewed at {money_display(new_arr, account.currency)}"
        + (
            f" ({'expansion' if difference > 0 else 'contraction'} of "
            f"{money_display(abs(difference))})"
            if difference
            else ""
        )
        + f"; next renewal {date_display(account.renewal_date)}",
        actor=by,
        link=renewal.get_absolute_url(),
    )
    lead = settings.SUCCESS_RENEWAL_LEAD_DAYS
    if account.renewal_date and account.renewal_date <= on + timedelta(days=lead):
        renewal_create(account=account, by=by)
    renewal.account = account
    return renewal


@transaction.atomic
def renewal_churn(
    *,
    renewal: Renewal,
    reason: ChurnReason,
    note: str,
    by: User | None,
    on: date | None = None,
) -> Renewal:
    """Close a renewal as churned: the whole ARR leaves as a churn movement,
    the deal is lost, and the account moves to the churned stage."""
    renewal = (
        Renewal.objects.select_for_update(of=("self",))
        .select_related("account", "deal")
        .get(pk=renewal.pk)
    )
    _require_open(renewal)
    if reason is None:
        raise ValidationError({"reason": "Pick why the customer left."})
    on = on or timezone.localdate()
    account = Account.objects.select_for_update().get(pk=renewal.account_id)
    lost = account.arr
    ArrMovement.objects.create(
        account=account, date=on, kind=ArrMovement.Kind.CHURN, amount=lost, renewal=renewal
    )
    renewal.status = Renewal.Status.CHURNED
    renewal.closed_on = on
    renewal.closed_by = by
    renewal.new_arr = Decimal("0")
    renewal.churn_reason = reason
    renewal.churn_note = (note or "").strip()
    renewal.save(
        update_fields=[
            "status",
            "closed_on",
            "closed_by",
            "new_arr",
            "churn_reason",
            "churn_note",
            "updated_at",
        ]
    )
    if renewal.deal:
        deal_save(
            account=account,
            deal=renewal.deal,
            by=by,
            data={
                "stage": _stage(renewal.deal.pipeline, closed=True, won=False),
                "amount": Decimal("0"),
                "close_date": on,
            },
        )
    account_update(account=account, by=by, data={"arr": Decimal("0")})
    account_cs_fields_update(
        account=account,
        renewal_forecast_category=ForecastCategory.CHURN,
        renewal_forecast_arr=Decimal("0"),
    )
    if account.stage != Stage.CHURNED:
        account_stage_change(
            account=account,
            to_stage=Stage.CHURNED,
            reason=f"Did not renew: {reason.label}"
            + (f" – {renewal.churn_note}" if renewal.churn_note else ""),
            by=by,
        )
    event_record(
        account=account,
        kind=Event.Kind.RENEWAL,
        summary=f"Churned at renewal ({money_display(lost, account.currency)} lost): "
        f"{reason.label}",
        actor=by,
        link=renewal.get_absolute_url(),
    )
    renewal.account = account
    return renewal

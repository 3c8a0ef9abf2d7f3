from __future__ import annotations

from django.db.models import Case, IntegerField, QuerySet, Value, When
from django.utils import timezone

from accounts.models import User
from accounts.roles import Role, role_of

from .models import Alert, AlertRule, ExpansionSignal

# The inbox filter for dismissed alerts that come back on a date the CSM picked.
SNOOZED = "snoozed"


def alerts_for(*, user: User, status: str = "live", rule_id: int | None = None) -> QuerySet[Alert]:
    qs = Alert.objects.select_related("account__owner", "rule", "owner")
    if role_of(user) == Role.CSM:  # a CSM's inbox is their book; others read everything
        qs = qs.filter(account__owner=user)
    if status == "live":
        qs = qs.filter(status__in=[Alert.Status.OPEN, Alert.Status.ACKNOWLEDGED])
    elif status == SNOOZED:
        qs = qs.filter(
            status=Alert.Status.DISMISSED,
            snoozed_until__gt=timezone.localdate(),
            condition_cleared_at__isnull=True,
        )
    elif status:
        qs = qs.filter(status=status)
    if rule_id:
        qs = qs.filter(rule_id=rule_id)
    return qs.order_by("due_on", "-opened_at")


def signals_for(*, user: User) -> QuerySet[ExpansionSignal]:
    qs = ExpansionSignal.objects.select_related("account__owner", "raised_by", "followed_up_by")
    if role_of(user) == Role.CSM:
        qs = qs.filter(account__owner=user)
    open_first = Case(
        When(followed_up_at__isnull=True, then=Value(0)),
        default=Value(1),
        output_field=IntegerField(),
    )
    return qs.order_by(open_first, "follow_up_by")


def rules() -> QuerySet[AlertRule]:
    return AlertRule.objects.all()


def account_live_alerts(*, account_id: int) -> QuerySet[Alert]:
    return Alert.objects.filter(
        account_id=account_id, status__in=[Alert.Status.OPEN, Alert.Status.ACKNOWLEDGED]
    ).select_related("rule")

"""/api/v1/ endpoints of alerts: alerts (read) and expansion signals (read,
and raise one). The lists use the same selectors as the pages, so a CSM sees
their own book's alerts and signals (their inbox), everyone else all of them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import django_filters
from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from accounts import selectors as account_selectors
from accounts.api.filters import (
    MAX_ID,
    AccountScopedFilterSet,
    IdFilter,
    StrictBooleanFilter,
)
from accounts.api.permissions import CanEditAccount, CanWrite, HasRole
from accounts.api.serializers import AccountRefSerializer, OwnerSerializer
from accounts.models import Account

from . import selectors, services
from .models import Alert, ExpansionSignal, RuleKind

LIVE = "live"
# Named in SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"] (nested classes cannot be).
AlertStatus = Alert.Status


class AlertRuleRefSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    name = serializers.CharField()
    kind = serializers.ChoiceField(choices=RuleKind.choices)


class SupportRecordRefSerializer(serializers.Serializer[Any]):
    """The ticket or survey answer a support alert is about, with its HubSpot id and,
    when the portal is known (HUBSPOT_PORTAL_ID), its address in HubSpot."""

    id = serializers.IntegerField(read_only=True)
    hubspot_id = serializers.CharField(read_only=True, allow_null=True)
    hubspot_url = serializers.CharField(read_only=True)


class AlertSerializer(serializers.ModelSerializer[Alert]):
    account = AccountRefSerializer(read_only=True)
    rule = AlertRuleRefSerializer(read_only=True)
    owner = OwnerSerializer(read_only=True, allow_null=True)
    is_live = serializers.BooleanField(read_only=True)
    ticket = SupportRecordRefSerializer(read_only=True, allow_null=True)
    feedback = SupportRecordRefSerializer(read_only=True, allow_null=True)

    class Meta:
        model = Alert
        fields = [
            "id",
            "account",
            "rule",
            "owner",
            "message",
            "status",
            "is_live",
            "opened_at",
            "due_on",
            "closed_at",
            "note",
            "snoozed_until",
            "reopened_at",
            "reopen_note",
            "ticket",
            "feedback",
        ]
        read_only_fields = fields


class ExpansionSignalSerializer(serializers.ModelSerializer[ExpansionSignal]):
    account = AccountRefSerializer(read_only=True)
    raised_by = OwnerSerializer(read_only=True, allow_null=True)
    followed_up_by = OwnerSerializer(read_only=True, allow_null=True)
    overdue = serializers.BooleanField(read_only=True)

    class Meta:
        model = ExpansionSignal
        fields = [
            "id",
            "account",
            "source",
            "note",
            "raised_by",
            "raised_at",
            "follow_up_by",
            "overdue",
            "followed_up_at",
            "followed_up_by",
            "outcome",
        ]
        read_only_fields = fields


class ExpansionSignalRaiseSerializer(serializers.Serializer[Any]):
    account = serializers.IntegerField(min_value=1, max_value=MAX_ID, help_text="Our account id.")
    source = serializers.ChoiceField(  # type: ignore[assignment]
        choices=[(ExpansionSignal.Source.CSM, "CSM"), (ExpansionSignal.Source.SUPPORT, "Support")],
        default=ExpansionSignal.Source.CSM,
    )
    note = serializers.CharField(max_length=2000, help_text="What points to expansion.")


class AlertFilter(AccountScopedFilterSet):
    rule = IdFilter(field_name="rule_id", help_text="The alert rule's id.")
    status = django_filters.ChoiceFilter(
        choices=[(LIVE, "Live (open or acknowledged)"), *Alert.Status.choices],
        method="by_status",
        help_text="`live` for open and acknowledged alerts; every status when omitted.",
    )

    class Meta:
        model = Alert
        fields: list[str] = []

    def by_status(self, queryset: QuerySet[Alert], name: str, value: str) -> QuerySet[Alert]:
        if value == LIVE:
            return queryset.filter(status__in=[Alert.Status.OPEN, Alert.Status.ACKNOWLEDGED])
        return queryset.filter(status=value)


class ExpansionSignalFilter(AccountScopedFilterSet):
    followed_up = StrictBooleanFilter(
        field_name="followed_up_at", lookup_expr="isnull", exclude=True
    )

    class Meta:
        model = ExpansionSignal
        fields: list[str] = []


class AlertViewSet(viewsets.ReadOnlyModelViewSet[Alert]):
    """Alerts the rules opened, every status. A CSM reads the alerts of the
    accounts they own (their inbox, as on the alerts page); others read all."""

    serializer_class = AlertSerializer
    permission_classes = [IsAuthenticated, HasRole]
    filterset_class = AlertFilter
    ordering_fields = ["id", "due_on", "opened_at"]
    ordering = ["id"]

    def get_queryset(self) -> QuerySet[Alert]:
        return selectors.alerts_for(user=self.request.user, status="")  # type: ignore[arg-type]


class ExpansionSignalViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet[ExpansionSignal],
):
    """Expansion signals. A CSM reads their own book's; others read all. The
    account's owner, a CS leader or an admin raises one."""

    serializer_class = ExpansionSignalSerializer
    filterset_class = ExpansionSignalFilter
    ordering_fields = ["id", "raised_at", "follow_up_by"]
    ordering = ["id"]

    def get_queryset(self) -> QuerySet[ExpansionSignal]:
        return selectors.signals_for(user=self.request.user)  # type: ignore[arg-type]

    def get_permissions(self) -> Sequence[Any]:
        if self.action == "create":
            return [IsAuthenticated(), CanWrite(), CanEditAccount()]
        return [IsAuthenticated(), HasRole()]

    @extend_schema(
        summary="Raise an expansion signal",
        request=ExpansionSignalRaiseSerializer,
        responses={201: ExpansionSignalSerializer},
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Records a hint that the account could buy more; its owner must
        follow up within 24 hours. Only for accounts the caller may change."""
        serializer = ExpansionSignalRaiseSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        account: Account | None = (
            account_selectors.api_accounts().filter(pk=data["account"]).first()
        )
        if account is None:
            raise ValidationError({"account": [f"No account with id {data['account']}."]})
        self.check_object_permissions(request, account)
        signal = services.expansion_signal_raise(
            account=account,
            note=data["note"],
            source=data["source"],
            by=request.user,  # type: ignore[arg-type]
        )
        signal.account = account
        return Response(ExpansionSignalSerializer(signal).data, status=status.HTTP_201_CREATED)


router = SimpleRouter()
router.register("alerts", AlertViewSet, basename="alert")
router.register("expansion-signals", ExpansionSignalViewSet, basename="expansion-signal")
urlpatterns = router.urls

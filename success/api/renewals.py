"""/api/v1/ renewals with their forecast history (read), and changing a
renewal's forecast (write)."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import django_filters
from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.api.filters import AccountScopedFilterSet, UpdatedSinceFilter
from accounts.api.permissions import CanEditAccount, CanWrite, HasRole
from accounts.api.serializers import AccountRefSerializer, OwnerSerializer, optional_choice
from accounts.dates import DateFilter
from accounts.models import Account, ForecastCategory

from .. import services
from ..models import ForecastChange, Renewal
from ..selectors import renewals as selectors

# Named in SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"] (nested classes cannot be).
RenewalStatus = Renewal.Status


class ForecastChangeSerializer(serializers.ModelSerializer[ForecastChange]):
    from_category = optional_choice(ForecastCategory.choices)
    to_category = optional_choice(ForecastCategory.choices)
    changed_by = OwnerSerializer(read_only=True, allow_null=True)

    class Meta:
        model = ForecastChange
        fields = [
            "id",
            "from_category",
            "to_category",
            "from_arr",
            "to_arr",
            "reason",
            "changed_by",
            "changed_at",
        ]
        read_only_fields = fields


class RenewalSerializer(serializers.ModelSerializer[Renewal]):
    account = AccountRefSerializer(read_only=True)
    forecast_category = optional_choice(ForecastCategory.choices)
    churn_reason = serializers.StringRelatedField(read_only=True, allow_null=True)  # type: ignore[var-annotated]
    forecast_history = ForecastChangeSerializer(
        source="forecast_changes", many=True, read_only=True, help_text="Newest first."
    )

    class Meta:
        model = Renewal
        fields = [
            "id",
            "account",
            "renewal_date",
            "term_months",
            "current_arr",
            "forecast_category",
            "forecast_arr",
            "deal",
            "status",
            "closed_on",
            "new_arr",
            "churn_reason",
            "churn_note",
            "forecast_history",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class ForecastChangeRequestSerializer(serializers.Serializer[Any]):
    category = serializers.ChoiceField(choices=ForecastCategory.choices)
    forecast_arr = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=Decimal("0"))
    reason = serializers.CharField(
        max_length=2000, help_text="Why the forecast changes; kept in its history."
    )


class RenewalFilter(AccountScopedFilterSet):
    status = django_filters.ChoiceFilter(choices=Renewal.Status.choices)
    forecast_category = django_filters.ChoiceFilter(choices=ForecastCategory.choices)
    renewal_from = DateFilter(field_name="renewal_date", lookup_expr="gte")
    renewal_to = DateFilter(field_name="renewal_date", lookup_expr="lte")
    updated_since = UpdatedSinceFilter(help_text="Only renewals changed at or after this time.")

    class Meta:
        model = Renewal
        fields: list[str] = []


class RenewalViewSet(viewsets.ReadOnlyModelViewSet[Renewal]):
    """Renewals, open and closed, each with its forecast history. Every role
    reads; the account's owner, a CS leader or an admin changes the forecast."""

    serializer_class = RenewalSerializer
    filterset_class = RenewalFilter
    ordering_fields = ["id", "renewal_date", "current_arr", "updated_at"]
    ordering = ["id"]

    def get_queryset(self) -> QuerySet[Renewal]:
        return selectors.renewals_list()

    def get_permissions(self) -> Sequence[Any]:
        if self.action == "forecast":
            return [IsAuthenticated(), CanWrite(), CanEditAccount()]
        return [IsAuthenticated(), HasRole()]

    @staticmethod
    def account_of(renewal: Renewal) -> Account:
        return renewal.account

    @extend_schema(
        summary="Change a renewal's forecast",
        request=ForecastChangeRequestSerializer,
        responses={200: RenewalSerializer},
    )
    @action(detail=True, methods=["post"], filterset_class=None, pagination_class=None)
    def forecast(self, request: Request, pk: str) -> Response:
        """Sets the forecast category and ARR with a required reason, kept in
        the forecast history with who and when; the account (and so HubSpot)
        and the renewal deal follow. A closed renewal, or a change that
        changes nothing, is a 400."""
        renewal = self.get_object()
        serializer = ForecastChangeRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.renewal_forecast_change(
            renewal=renewal,
            by=request.user,  # type: ignore[arg-type]
            **serializer.validated_data,
        )
        return Response(RenewalSerializer(self.get_queryset().get(pk=renewal.pk)).data)

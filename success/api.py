"""/api/v1/ endpoints of the success app: success plans with objectives,
business reviews and renewals with their forecast history (read); recording an
objective's progress and changing a renewal's forecast (write). Each calls the
selectors and services the pages use. Health and alerts have their own modules
(success.health.api, success.alerts.api)."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import django_filters
from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from accounts.api.filters import (
    AccountScopedFilterSet,
    StrictBooleanFilter,
    UpdatedSinceFilter,
)
from accounts.api.permissions import CanEditAccount, CanWrite, HasRole
from accounts.api.serializers import AccountRefSerializer, OwnerSerializer, optional_choice
from accounts.models import Account, ForecastCategory

from . import selectors, services
from .models import (
    BusinessReview,
    ForecastChange,
    Objective,
    ObjectiveStatus,
    Renewal,
    ReviewKind,
    Sentiment,
    SuccessPlan,
)

# Named in SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"] (nested classes cannot be).
RenewalStatus = Renewal.Status
ReviewStatus = BusinessReview.Status

# --- Serializers -------------------------------------------------------------


class ObjectiveSerializer(serializers.ModelSerializer[Objective]):
    progress = serializers.IntegerField(
        read_only=True, help_text="Share of the way from baseline to target, 0-100."
    )

    class Meta:
        model = Objective
        fields = [
            "id",
            "plan",
            "title",
            "metric",
            "baseline",
            "target",
            "current_value",
            "progress",
            "due_date",
            "status",
            "status_note",
            "display_order",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class SuccessPlanSerializer(serializers.ModelSerializer[SuccessPlan]):
    account = AccountRefSerializer(read_only=True)
    created_by = OwnerSerializer(read_only=True, allow_null=True)
    is_current = serializers.BooleanField(read_only=True)
    is_shared = serializers.SerializerMethodField(
        help_text="Whether the customer's link works (the link itself is not exposed)."
    )
    objectives = ObjectiveSerializer(many=True, read_only=True)

    class Meta:
        model = SuccessPlan
        fields = [
            "id",
            "account",
            "desired_outcomes",
            "internal_notes",
            "is_current",
            "replaced_at",
            "is_shared",
            "shared_at",
            "created_by",
            "objectives",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_is_shared(self, plan: SuccessPlan) -> bool:
        return bool(plan.share_token)


class ObjectiveProgressSerializer(serializers.Serializer[Any]):
    current_value = serializers.DecimalField(
        max_digits=14, decimal_places=2, required=False, help_text="The metric's new value."
    )
    status = serializers.ChoiceField(choices=ObjectiveStatus.choices, required=False)
    note = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=2000,
        default="",
        help_text="Why; required when the status changes. Kept in the objective's history.",
    )


class BusinessReviewSerializer(serializers.ModelSerializer[BusinessReview]):
    account = AccountRefSerializer(read_only=True)
    owner = OwnerSerializer(read_only=True, allow_null=True, help_text="Who prepares the review.")
    kind = serializers.ChoiceField(choices=ReviewKind.choices, read_only=True)
    sentiment = optional_choice(Sentiment.choices)
    attendee_users: Any = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    attendee_contacts: Any = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    snapshot = serializers.DictField(
        read_only=True,
        help_text="The account as it stood when the review was held (empty until then).",
    )

    class Meta:
        model = BusinessReview
        fields = [
            "id",
            "account",
            "kind",
            "scheduled_for",
            "owner",
            "attendee_users",
            "attendee_contacts",
            "agenda",
            "status",
            "held_on",
            "notes",
            "outcomes",
            "sentiment",
            "snapshot",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


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


# --- Filters -----------------------------------------------------------------


class SuccessPlanFilter(AccountScopedFilterSet):
    current = StrictBooleanFilter(
        field_name="replaced_at",
        lookup_expr="isnull",
        help_text="`true`: each account's current plan; `false`: replaced plans.",
    )
    updated_since = UpdatedSinceFilter(help_text="Only plans changed at or after this time.")

    class Meta:
        model = SuccessPlan
        fields: list[str] = []


class BusinessReviewFilter(AccountScopedFilterSet):
    status = django_filters.ChoiceFilter(choices=BusinessReview.Status.choices)
    kind = django_filters.ChoiceFilter(choices=ReviewKind.choices)
    scheduled_from = django_filters.DateFilter(field_name="scheduled_for", lookup_expr="gte")
    scheduled_to = django_filters.DateFilter(field_name="scheduled_for", lookup_expr="lte")
    updated_since = UpdatedSinceFilter(help_text="Only reviews changed at or after this time.")

    class Meta:
        model = BusinessReview
        fields: list[str] = []


class RenewalFilter(AccountScopedFilterSet):
    status = django_filters.ChoiceFilter(choices=Renewal.Status.choices)
    forecast_category = django_filters.ChoiceFilter(choices=ForecastCategory.choices)
    renewal_from = django_filters.DateFilter(field_name="renewal_date", lookup_expr="gte")
    renewal_to = django_filters.DateFilter(field_name="renewal_date", lookup_expr="lte")
    updated_since = UpdatedSinceFilter(help_text="Only renewals changed at or after this time.")

    class Meta:
        model = Renewal
        fields: list[str] = []


# --- Views -------------------------------------------------------------------


class SuccessPlanViewSet(viewsets.ReadOnlyModelViewSet[SuccessPlan]):
    """Success plans, current and replaced, each with its objectives. Every
    role reads every plan; the customer's share link is never exposed."""

    serializer_class = SuccessPlanSerializer
    permission_classes = [IsAuthenticated, HasRole]
    filterset_class = SuccessPlanFilter
    ordering_fields = ["id", "created_at", "updated_at"]
    ordering = ["id"]

    def get_queryset(self) -> QuerySet[SuccessPlan]:
        return selectors.success_plans_list()


class ObjectiveViewSet(mixins.RetrieveModelMixin, viewsets.GenericViewSet[Objective]):
    """One objective of a success plan; its account's owner, a CS leader or an
    admin records its progress."""

    serializer_class = ObjectiveSerializer

    def get_queryset(self) -> QuerySet[Objective]:
        return selectors.objective_detail()

    def get_permissions(self) -> Sequence[Any]:
        if self.action == "progress":
            return [IsAuthenticated(), CanWrite(), CanEditAccount()]
        return [IsAuthenticated(), HasRole()]

    @staticmethod
    def account_of(objective: Objective) -> Account:
        return objective.plan.account

    @extend_schema(
        summary="Record an objective's current value and/or status",
        request=ObjectiveProgressSerializer,
        responses={200: ObjectiveSerializer},
    )
    @action(detail=True, methods=["post"])
    def progress(self, request: Request, pk: str) -> Response:
        """Send `current_value`, `status`, or both, with a `note` (required
        when the status changes). Every change is kept in the objective's
        history and on the account's timeline. Objectives of a replaced plan
        no longer move (400)."""
        objective = self.get_object()
        serializer = ObjectiveProgressSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        services.objective_progress_record(
            objective=objective,
            by=request.user,  # type: ignore[arg-type]
            value=data.get("current_value"),
            status=data.get("status"),
            note=data["note"],
        )
        return Response(ObjectiveSerializer(objective).data)


class BusinessReviewViewSet(viewsets.ReadOnlyModelViewSet[BusinessReview]):
    """QBRs, EBRs and health checks: scheduled, held (with the account's
    snapshot frozen then) and cancelled. Every role reads every review."""

    serializer_class = BusinessReviewSerializer
    permission_classes = [IsAuthenticated, HasRole]
    filterset_class = BusinessReviewFilter
    ordering_fields = ["id", "scheduled_for", "updated_at"]
    ordering = ["id"]

    def get_queryset(self) -> QuerySet[BusinessReview]:
        return selectors.reviews_list()


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


router = SimpleRouter()
router.register("success-plans", SuccessPlanViewSet, basename="success-plan")
router.register("objectives", ObjectiveViewSet, basename="objective")
router.register("business-reviews", BusinessReviewViewSet, basename="business-review")
router.register("renewals", RenewalViewSet, basename="renewal")
urlpatterns = router.urls

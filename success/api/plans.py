"""/api/v1/ success plans with their objectives (read), and recording an
objective's progress (write). Each calls the selectors and services the pages use."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.api.filters import AccountScopedFilterSet, StrictBooleanFilter, UpdatedSinceFilter
from accounts.api.permissions import CanEditAccount, CanWrite, HasRole
from accounts.api.serializers import AccountRefSerializer, OwnerSerializer
from accounts.models import Account

from .. import services
from ..models import Objective, ObjectiveStatus, SuccessPlan
from ..selectors import plans as selectors


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

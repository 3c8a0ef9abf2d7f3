"""/api/v1/ endpoints of onboarding: plans with their milestones (read), and
completing a milestone, through the same selectors and services as the pages."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import django_filters
from django.db.models import QuerySet
from django.utils import timezone
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
from accounts.api.serializers import AccountRefSerializer, OwnerSerializer
from accounts.dates import ApiDateField
from accounts.models import Account

from . import selectors, services
from .models import Milestone, OnboardingPlan, PlanStatus

# --- Serializers -------------------------------------------------------------


class MilestoneSerializer(serializers.ModelSerializer[Milestone]):
    assignee = OwnerSerializer(read_only=True, allow_null=True)

    class Meta:
        model = Milestone
        fields = [
            "id",
            "plan",
            "title",
            "description",
            "kind",
            "owner_side",
            "assignee",
            "required",
            "is_first_value",
            "is_adhoc",
            "position",
            "due_date",
            "completed_on",
            "completion_note",
            "skipped_on",
            "skip_reason",
            "updated_at",
        ]
        read_only_fields = fields


class TemplateRefSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    name = serializers.CharField()


class OnboardingPlanSerializer(serializers.ModelSerializer[OnboardingPlan]):
    account = AccountRefSerializer(read_only=True)
    template = TemplateRefSerializer(read_only=True)
    milestones = MilestoneSerializer(many=True, read_only=True)

    class Meta:
        model = OnboardingPlan
        fields = [
            "id",
            "account",
            "template",
            "template_version",
            "start_date",
            "status",
            "progress",
            "finished_on",
            "first_value_on",
            "ttv_days",
            "milestones",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class MilestoneCompleteSerializer(serializers.Serializer[Any]):
    on = ApiDateField(
        required=False, help_text="The day it was done; today when omitted. Not in the future."
    )
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")


# --- Filters -----------------------------------------------------------------


class OnboardingPlanFilter(AccountScopedFilterSet):
    status = django_filters.ChoiceFilter(choices=PlanStatus.choices)
    running = StrictBooleanFilter(
        field_name="finished_on",
        lookup_expr="isnull",
        help_text="`true`: running plans only; `false`: finished ones only.",
    )
    updated_since = UpdatedSinceFilter(
        help_text="Only plans changed at or after this time (ISO 8601).",
    )

    class Meta:
        model = OnboardingPlan
        fields: list[str] = []


# --- Views -------------------------------------------------------------------


class OnboardingPlanViewSet(viewsets.ReadOnlyModelViewSet[OnboardingPlan]):
    """Onboarding plans, running and finished, each with its milestones.
    Every role reads every plan."""

    serializer_class = OnboardingPlanSerializer
    permission_classes = [IsAuthenticated, HasRole]
    filterset_class = OnboardingPlanFilter
    ordering_fields = ["id", "start_date", "progress", "updated_at"]
    ordering = ["id"]

    def get_queryset(self) -> QuerySet[OnboardingPlan]:
        return selectors.plans_with_milestones()


class MilestoneViewSet(mixins.RetrieveModelMixin, viewsets.GenericViewSet[Milestone]):
    """One milestone of a plan; its owner, a CS leader or an admin completes it."""

    serializer_class = MilestoneSerializer

    def get_queryset(self) -> QuerySet[Milestone]:
        return selectors.milestone_detail()

    def get_permissions(self) -> Sequence[Any]:
        if self.action == "complete":
            return [IsAuthenticated(), CanWrite(), CanEditAccount()]
        return [IsAuthenticated(), HasRole()]

    @staticmethod
    def account_of(milestone: Milestone) -> Account:
        return milestone.plan.account

    @extend_schema(
        summary="Complete a milestone",
        request=MilestoneCompleteSerializer,
        responses={200: MilestoneSerializer},
    )
    @action(detail=True, methods=["post"])
    def complete(self, request: Request, pk: str) -> Response:
        """Marks the milestone done on `on` (today by default) with an optional
        note; the plan's status and progress, the account's onboarding fields
        and, for a first-value milestone, time to value follow. A done
        milestone, a finished plan or a future date is a 400."""
        milestone = self.get_object()
        serializer = MilestoneCompleteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        services.milestone_complete(
            milestone=milestone,
            by=request.user,  # type: ignore[arg-type]
            on=data.get("on") or timezone.localdate(),
            note=data["note"],
        )
        return Response(MilestoneSerializer(milestone).data)


router = SimpleRouter()
router.register("onboarding-plans", OnboardingPlanViewSet, basename="onboarding-plan")
router.register("onboarding-milestones", MilestoneViewSet, basename="onboarding-milestone")
urlpatterns = router.urls

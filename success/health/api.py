"""/api/v1/ endpoints of health: the daily scores with their breakdown, and an
account's current health (the effective score and band, any live override,
the latest computed score explained, the recent trend). Read only; every role
reads every account's health."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.urls import path
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, viewsets
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from accounts import selectors as account_selectors
from accounts.api.filters import (
    AccountScopedFilterSet,
    UpdatedSinceFilter,
)
from accounts.api.permissions import HasRole
from accounts.api.serializers import AccountRefSerializer, OwnerSerializer, optional_choice
from accounts.dates import ApiDateField, DateFilter
from accounts.models import HealthBand

from . import selectors
from .models import HealthOverride, HealthScore

HISTORY_DAYS = 90


class ContributionSerializer(serializers.Serializer[Any]):
    input = serializers.CharField(help_text="The measure's input, e.g. active_users_ratio.")
    value = serializers.FloatField(help_text="The account's value of that input.")
    score = serializers.FloatField(help_text="The input's score, 0-100.")
    weight = serializers.FloatField(help_text="Share of the total, 0-1.")
    contribution = serializers.FloatField(help_text="Points it adds to the score.")
    # A field named `source` (DRF pops declared fields off the class, so it does not
    # shadow Field.source at run time).
    source = serializers.CharField(  # type: ignore[assignment]
        default="",
        help_text="Where the value came from: usage snapshot, HubSpot tickets, HubSpot surveys,"
        " HubSpot engagements, onboarding plan, business reviews or success plan"
        " (empty on scores computed before sources were recorded).",
    )


class HealthScoreSerializer(serializers.ModelSerializer[HealthScore]):
    account = AccountRefSerializer(read_only=True)
    model_version = serializers.IntegerField(source="model.version", read_only=True)
    band = serializers.ChoiceField(choices=HealthBand.choices, read_only=True)
    breakdown = ContributionSerializer(many=True, read_only=True)
    missing = serializers.ListField(
        child=serializers.CharField(), read_only=True, help_text="Inputs without data."
    )

    class Meta:
        model = HealthScore
        fields = [
            "id",
            "account",
            "date",
            "model_version",
            "score",
            "band",
            "breakdown",
            "missing",
            "computed_at",
        ]
        read_only_fields = fields


class HealthOverrideSerializer(serializers.ModelSerializer[HealthOverride]):
    created_by = OwnerSerializer(read_only=True, allow_null=True)

    class Meta:
        model = HealthOverride
        fields = ["score", "reason", "expires_on", "created_by", "created_at"]
        read_only_fields = fields


class HealthPointSerializer(serializers.Serializer[Any]):
    date = ApiDateField()
    score = serializers.IntegerField()
    band = serializers.ChoiceField(choices=HealthBand.choices)
    model_version = serializers.IntegerField(source="model.version")


class AccountHealthSerializer(serializers.Serializer[Any]):
    account = AccountRefSerializer()
    health_score = serializers.IntegerField(
        allow_null=True, help_text="The effective score: a live override wins over the computed."
    )
    health_band = optional_choice(HealthBand.choices)
    override = HealthOverrideSerializer(allow_null=True, help_text="The live override, if any.")
    latest = HealthScoreSerializer(
        allow_null=True, help_text="The latest computed score and its breakdown."
    )
    explanation = serializers.CharField(help_text="What pulls the score down most.")
    history = HealthPointSerializer(
        many=True, help_text=f"The last {HISTORY_DAYS} days, oldest first."
    )


class HealthScoreFilter(AccountScopedFilterSet):
    band = django_filters.ChoiceFilter(choices=HealthBand.choices)
    date_from = DateFilter(field_name="date", lookup_expr="gte")
    date_to = DateFilter(field_name="date", lookup_expr="lte")
    updated_since = UpdatedSinceFilter(
        field_name="computed_at",
        help_text="Only scores computed (or recomputed) at or after this time (ISO 8601).",
    )

    class Meta:
        model = HealthScore
        fields: list[str] = []


class HealthScoreViewSet(viewsets.ReadOnlyModelViewSet[HealthScore]):
    """Each account's daily computed scores with the breakdown that explains them."""

    serializer_class = HealthScoreSerializer
    permission_classes = [IsAuthenticated, HasRole]
    filterset_class = HealthScoreFilter
    ordering_fields = ["id", "date", "score", "computed_at"]
    ordering = ["id"]

    def get_queryset(self) -> QuerySet[HealthScore]:
        return selectors.health_scores_list()


class AccountHealthView(generics.GenericAPIView[Any]):
    serializer_class = AccountHealthSerializer
    permission_classes = [IsAuthenticated, HasRole]
    pagination_class = None
    filter_backends: list[Any] = []

    @extend_schema(summary="An account's current health", responses={200: AccountHealthSerializer})
    def get(self, request: Request, pk: int) -> Response:
        """The score and band on the account (what HubSpot sees), the live
        override that set them if there is one, the latest computed score with
        its breakdown and a sentence saying what pulls it down, and the trend."""
        account = get_object_or_404(account_selectors.api_accounts(), pk=pk)
        health = selectors.account_health(
            account=account, today=timezone.localdate(), days=HISTORY_DAYS
        )
        if health.latest is not None:
            health.latest.account = account  # already read, with its owner
        data = {
            "account": account,
            "health_score": account.health_score,
            "health_band": account.health_band,
            "override": health.override,
            "latest": health.latest,
            "explanation": health.sentence,
            "history": health.history,
        }
        return Response(AccountHealthSerializer(data).data)


router = SimpleRouter()
router.register("health-scores", HealthScoreViewSet, basename="health-score")
urlpatterns = [
    *router.urls,
    path("accounts/<int:pk>/health/", AccountHealthView.as_view(), name="account-health"),
]

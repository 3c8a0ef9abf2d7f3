"""/api/v1/ business reviews: scheduled, held (with the snapshot frozen then)
and cancelled (read)."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet
from rest_framework import serializers, viewsets
from rest_framework.permissions import IsAuthenticated

from accounts.api.filters import AccountScopedFilterSet, UpdatedSinceFilter
from accounts.api.permissions import HasRole
from accounts.api.serializers import AccountRefSerializer, OwnerSerializer, optional_choice
from accounts.dates import DateFilter

from ..models import BusinessReview, ReviewKind, Sentiment
from ..selectors import reviews as selectors

# Named in SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"] (nested classes cannot be).
ReviewStatus = BusinessReview.Status


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


class BusinessReviewFilter(AccountScopedFilterSet):
    status = django_filters.ChoiceFilter(choices=BusinessReview.Status.choices)
    kind = django_filters.ChoiceFilter(choices=ReviewKind.choices)
    scheduled_from = DateFilter(field_name="scheduled_for", lookup_expr="gte")
    scheduled_to = DateFilter(field_name="scheduled_for", lookup_expr="lte")
    updated_since = UpdatedSinceFilter(help_text="Only reviews changed at or after this time.")

    class Meta:
        model = BusinessReview
        fields: list[str] = []


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

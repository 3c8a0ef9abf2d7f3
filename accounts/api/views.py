"""Accounts endpoints. Each checks permission, validates, and calls one
selector or service."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from .. import selectors, services
from ..models import Account, UsageSnapshot
from .exceptions import as_drf_validation_error
from .filters import AccountFilter, UsageSnapshotFilter
from .ingest import usage_rows_check
from .permissions import CanEditAccount, CanWrite, HasRole
from .serializers import (
    AccountSerializer,
    StageChangeSerializer,
    UsageIngestResultSerializer,
    UsageIngestSerializer,
    UsageSnapshotSerializer,
    account_rows,
    account_values,
)

TRUE, FALSE = {"true", "1", "yes"}, {"false", "0", "no"}


class AccountViewSet(viewsets.ReadOnlyModelViewSet[Account]):
    """Accounts with their CS fields. Every role reads every account."""

    serializer_class = AccountSerializer
    permission_classes = [IsAuthenticated, HasRole]
    filterset_class = AccountFilter
    ordering_fields = ["id", "name", "arr", "created_at", "updated_at"]
    ordering = ["id"]

    def get_queryset(self) -> QuerySet[Account]:
        return selectors.api_accounts()

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        # No docstring: the schema would show it instead of the class's. The page is
        # read as values (serializers.account_values): two model instances per row
        # cost as much as writing the row.
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(account_values(queryset))
        rows = account_rows(page if page is not None else account_values(queryset))
        data = self.get_serializer(rows, many=True).data
        return self.get_paginated_response(data) if page is not None else Response(data)

    def get_permissions(self) -> Sequence[Any]:
        if self.action == "stage":
            return [IsAuthenticated(), CanWrite(), CanEditAccount()]
        return super().get_permissions()

    @extend_schema(
        summary="Change the account's lifecycle stage",
        request=StageChangeSerializer,
        responses={200: AccountSerializer},
    )
    @action(detail=True, methods=["post"], filterset_class=None, pagination_class=None)
    def stage(self, request: Request, pk: str) -> Response:
        """The account's owner, a CS leader or an admin moves it to another
        stage; the reason is kept in its stage history and timeline."""
        account = self.get_object()
        serializer = StageChangeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            services.account_stage_change(
                account=account,
                to_stage=serializer.validated_data["to_stage"],
                reason=serializer.validated_data["reason"],
                by=request.user,  # type: ignore[arg-type]
            )
        except DjangoValidationError as exc:
            raise as_drf_validation_error(exc) from exc
        return Response(AccountSerializer(account).data)


class UsageSnapshotViewSet(mixins.ListModelMixin, viewsets.GenericViewSet[UsageSnapshot]):
    """Usage snapshots: read them, or push many in one request."""

    serializer_class = UsageSnapshotSerializer
    filterset_class = UsageSnapshotFilter
    ordering_fields = ["id", "date", "updated_at"]
    ordering = ["id"]

    def get_queryset(self) -> QuerySet[UsageSnapshot]:
        return selectors.api_usage_snapshots()

    def get_permissions(self) -> Sequence[Any]:
        if self.action == "create":
            return [IsAuthenticated(), CanWrite()]
        return [IsAuthenticated(), HasRole()]

    @property
    def throttle_scope(self) -> str:
        return "api_ingest" if self.action == "create" else "api"

    @extend_schema(
        summary="Store usage snapshots for many accounts",
        parameters=[
            OpenApiParameter(
                "partial",
                OpenApiTypes.BOOL,
                description="Store the valid rows even when others are rejected.",
            )
        ],
        request=UsageIngestSerializer,
        responses={
            200: UsageIngestResultSerializer,
            400: UsageIngestResultSerializer,
        },
    )
    def create(self, request: Request) -> Response:
        """Rows name their account by our id, HubSpot id or domain. A second
        reading of the same account and day replaces the first. Every row is
        checked and reported; unless `partial` is set, one rejected row means
        nothing is stored (400). CSMs may send usage only for accounts they own."""
        serializer = UsageIngestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        partial = serializer.validated_data["partial"] or self._partial_param(request)
        outcomes = usage_rows_check(rows=serializer.validated_data["rows"], user=request.user)
        valid = [o for o in outcomes if o.ok]
        rejected = len(outcomes) - len(valid)
        to_store = valid if partial or not rejected else []
        if to_store:
            services.usage_snapshots_upsert(rows=[o.data for o in to_store])
        stored = {o.index for o in to_store}
        result = {
            "partial": partial,
            "stored": len(to_store),
            "rejected": rejected,
            "skipped": len(valid) - len(to_store),
            "rows": [
                {
                    "index": o.index,
                    "status": "stored" if o.index in stored else "skipped" if o.ok else "rejected",
                    "account_id": o.account_id,
                    "date": o.date.isoformat() if o.date else None,
                    "errors": o.errors,
                }
                for o in outcomes
            ],
        }
        return Response(
            result, status=status.HTTP_200_OK if to_store else status.HTTP_400_BAD_REQUEST
        )

    def _partial_param(self, request: Request) -> bool:
        value = request.query_params.get("partial", "").strip().lower()
        if value and value not in TRUE | FALSE:
            raise ValidationError({"partial": ["Send true or false."]})
        return value in TRUE


@csrf_exempt
@login_not_required
def api_not_found(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
    """Unknown /api/ paths answer in JSON like the rest of the API, not the HTML 404 page."""
    return JsonResponse({"detail": "Not found."}, status=404)

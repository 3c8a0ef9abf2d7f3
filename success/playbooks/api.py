"""/api/v1/ endpoints of playbooks: list and start runs, complete or skip their
steps. A CSM reads the runs of the accounts they own; others read all. Writes
need the right to change the run's account."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import django_filters
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from accounts import selectors as account_selectors
from accounts.api.filters import MAX_ID, AccountScopedFilterSet
from accounts.api.permissions import CanEditAccount, CanWrite, HasRole
from accounts.api.serializers import AccountRefSerializer
from accounts.models import Account

from . import selectors, services
from .models import Playbook, PlaybookRun, PlaybookRunStep, RunStatus, RunStepStatus

LIVE = "live"
# Named in SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"] would be needed for nested classes.
PlaybookRunStatus = RunStatus
PlaybookStepStatus = RunStepStatus


class RunStepSerializer(serializers.ModelSerializer[PlaybookRunStep]):
    title = serializers.CharField(source="step.title", read_only=True)
    kind = serializers.CharField(source="step.kind", read_only=True)
    guidance = serializers.CharField(source="step.guidance", read_only=True)
    task = serializers.IntegerField(source="task_id", read_only=True, allow_null=True)
    task_done = serializers.SerializerMethodField()

    class Meta:
        model = PlaybookRunStep
        fields = [
            "id",
            "title",
            "kind",
            "guidance",
            "due_date",
            "status",
            "task",
            "task_done",
            "note",
        ]
        read_only_fields = fields

    def get_task_done(self, obj: PlaybookRunStep) -> bool:
        return bool(obj.task and obj.task.done_at)


class RunSerializer(serializers.ModelSerializer[PlaybookRun]):
    account = AccountRefSerializer(read_only=True)
    playbook = serializers.CharField(source="playbook.name", read_only=True)
    playbook_id = serializers.IntegerField(read_only=True)
    version = serializers.IntegerField(source="version.number", read_only=True)
    steps = RunStepSerializer(many=True, read_only=True)

    class Meta:
        model = PlaybookRun
        fields = [
            "id",
            "playbook_id",
            "playbook",
            "version",
            "account",
            "status",
            "trigger",
            "started_on",
            "objective_due",
            "objective_met_on",
            "snoozed_until",
            "end_reason",
            "steps",
        ]
        read_only_fields = fields


class RunStartSerializer(serializers.Serializer[Any]):
    account = serializers.IntegerField(min_value=1, max_value=MAX_ID, help_text="Our account id.")
    playbook = serializers.IntegerField(
        min_value=1, max_value=MAX_ID, help_text="The playbook's id."
    )


class SkipSerializer(serializers.Serializer[Any]):
    reason = serializers.CharField(max_length=1000, help_text="Why the step is skipped.")


class RunFilter(AccountScopedFilterSet):
    status = django_filters.ChoiceFilter(
        choices=[(LIVE, "Live (running or snoozed)"), *RunStatus.choices],
        method="by_status",
        help_text="`live` for running and snoozed runs; every status when omitted.",
    )

    class Meta:
        model = PlaybookRun
        fields: list[str] = []

    def by_status(
        self, queryset: QuerySet[PlaybookRun], name: str, value: str
    ) -> QuerySet[PlaybookRun]:
        if value == LIVE:
            return queryset.filter(status__in=[RunStatus.RUNNING, RunStatus.SNOOZED])
        return queryset.filter(status=value)


class PlaybookRunViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet[PlaybookRun],
):
    """Playbook runs with their steps."""

    serializer_class = RunSerializer
    filterset_class = RunFilter
    ordering_fields = ["id", "started_on"]
    ordering = ["id"]

    def get_queryset(self) -> QuerySet[PlaybookRun]:
        return selectors.runs_for(
            user=self.request.user,  # type: ignore[arg-type]
            today=timezone.localdate(),
            status="",
        )

    def get_permissions(self) -> Sequence[Any]:
        if self.action == "create":
            return [IsAuthenticated(), CanWrite(), CanEditAccount()]
        return [IsAuthenticated(), HasRole()]

    @extend_schema(
        summary="Start a playbook on an account",
        request=RunStartSerializer,
        responses={
            201: RunSerializer,
            409: OpenApiResponse(description="The playbook is paused or already running there."),
        },
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """One live run per account and playbook: starting a second answers 409."""
        serializer = RunStartSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        account: Account | None = (
            account_selectors.api_accounts().filter(pk=data["account"]).first()
        )
        if account is None:
            raise ValidationError({"account": [f"No account with id {data['account']}."]})
        playbook = Playbook.objects.filter(pk=data["playbook"]).first()
        if playbook is None:
            raise ValidationError({"playbook": [f"No playbook with id {data['playbook']}."]})
        self.check_object_permissions(request, account)
        try:
            run = services.run_start(
                playbook=playbook,
                account=account,
                by=request.user,  # type: ignore[arg-type]
                today=timezone.localdate(),
            )
        except DjangoValidationError as exc:
            if exc.code != services.NOT_STARTABLE:
                raise
            return Response({"detail": exc.messages[0]}, status=status.HTTP_409_CONFLICT)
        run = selectors.run_detail().get(pk=run.pk)
        return Response(RunSerializer(run).data, status=status.HTTP_201_CREATED)


STEP_NOT_OPEN = OpenApiResponse(
    description="The step is not open any more (done, skipped, or its run ended)."
)


class PlaybookStepViewSet(mixins.RetrieveModelMixin, viewsets.GenericViewSet[PlaybookRunStep]):
    """One step of a run: complete it, or skip it with a reason."""

    serializer_class = RunStepSerializer

    def get_queryset(self) -> QuerySet[PlaybookRunStep]:
        runs = selectors.runs_for(
            user=self.request.user,  # type: ignore[arg-type]
            today=timezone.localdate(),
            status="",
        )
        return PlaybookRunStep.objects.filter(run__in=runs.values("pk")).select_related(
            "step", "task", "run__account", "run__playbook"
        )

    def get_permissions(self) -> Sequence[Any]:
        if self.action in ("complete", "skip"):
            return [IsAuthenticated(), CanWrite(), CanEditAccount()]
        return [IsAuthenticated(), HasRole()]

    def account_of(self, obj: PlaybookRunStep) -> Account:
        return obj.run.account

    @extend_schema(
        summary="Complete a step",
        request=None,
        responses={200: RunStepSerializer, 409: STEP_NOT_OPEN},
    )
    @action(detail=True, methods=["post"])
    def complete(self, request: Request, pk: str | None = None) -> Response:
        run_step = self.get_object()
        return _step_answer(
            run_step,
            lambda: services.run_step_complete(run_step=run_step, by=request.user),  # type: ignore[arg-type]
        )

    @extend_schema(
        summary="Skip a step",
        request=SkipSerializer,
        responses={200: RunStepSerializer, 409: STEP_NOT_OPEN},
    )
    @action(detail=True, methods=["post"])
    def skip(self, request: Request, pk: str | None = None) -> Response:
        run_step = self.get_object()
        serializer = SkipSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return _step_answer(
            run_step,
            lambda: services.run_step_skip(
                run_step=run_step,
                reason=serializer.validated_data["reason"],
                by=request.user,  # type: ignore[arg-type]
            ),
        )


def _step_answer(run_step: PlaybookRunStep, act: Callable[[], object]) -> Response:
    """The step after `act`, or 409 when it was not open: completing or skipping it
    twice (two clients, a retried request) is a conflict with its state, not bad input."""
    try:
        act()
    except DjangoValidationError as exc:
        if exc.code != services.NOT_OPEN:
            raise
        return Response({"detail": exc.messages[0]}, status=status.HTTP_409_CONFLICT)
    run_step.refresh_from_db()
    return Response(RunStepSerializer(run_step).data)


router = SimpleRouter()
router.register("playbook-runs", PlaybookRunViewSet, basename="playbook-run")
router.register("playbook-steps", PlaybookStepViewSet, basename="playbook-step")
urlpatterns = router.urls

"""Every read the playbook pages and API need."""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import Case, Count, Min, Prefetch, Q, QuerySet, When

from accounts.models import User
from accounts.roles import Role, role_of

from .models import (
    LIVE_RUN,
    NotStarted,
    Playbook,
    PlaybookRun,
    PlaybookRunStep,
    PlaybookStep,
    PlaybookTrigger,
    PlaybookVersion,
    RunStatus,
    RunStepStatus,
    TriggerKind,
)
from .objectives import Window, objective_met_on

# Below this many decided cases on either side, a rate says nothing about uplift.
MIN_SAMPLE = 10


def playbooks_list() -> QuerySet[Playbook]:
    return Playbook.objects.annotate(
        running=Count("runs", filter=Q(runs__status__in=LIVE_RUN), distinct=True),
        total_runs=Count("runs", distinct=True),
    ).prefetch_related(
        Prefetch(
            "versions",
            queryset=PlaybookVersion.objects.select_related("trigger_rule").annotate(
                step_count=Count("steps")
            ),
        )
    )


def playbook_versions(playbook: Playbook) -> QuerySet[PlaybookVersion]:
    return playbook.versions.select_related("trigger_rule", "created_by").prefetch_related(
        Prefetch("steps", queryset=PlaybookStep.objects.select_related("assignee_user"))
    )


def _steps_prefetch() -> Prefetch:
    return Prefetch(
        "steps",
        queryset=PlaybookRunStep.objects.select_related("step", "task", "engagement").order_by(
            "due_date", "step__position"
        ),
    )


def runs_for(*, user: User, today: date, status: str = "live") -> QuerySet[PlaybookRun]:
    """Runs a person follows (a CSM their book; leaders and admins everything),
    those with an overdue open step first, then by their next due step."""
    qs = PlaybookRun.objects.select_related("playbook", "account__owner", "version")
    if role_of(user) == Role.CSM:
        qs = qs.filter(account__owner=user)
    if status == "live":
        qs = qs.filter(status__in=LIVE_RUN)
    elif status:
        qs = qs.filter(status=status)
    open_steps = Q(steps__status=RunStepStatus.PENDING)
    return (
        qs.annotate(
            next_due=Min("steps__due_date", filter=open_steps),
            overdue_steps=Count("steps", filter=open_steps & Q(steps__due_date__lt=today)),
            steps_total=Count("steps"),
            steps_open=Count("steps", filter=open_steps),
        )
        .prefetch_related(_steps_prefetch())
        .order_by("-overdue_steps", "next_due", "pk")
    )


def account_runs(*, account_id: int) -> QuerySet[PlaybookRun]:
    """The account's live runs first, then the latest finished ones, with progress."""
    live_first = Case(When(status__in=LIVE_RUN, then=0), default=1)
    return (
        PlaybookRun.objects.filter(account_id=account_id)
        .select_related("playbook")
        .annotate(
            steps_total=Count("steps"),
            done_count=Count("steps", filter=~Q(steps__status=RunStepStatus.PENDING)),
        )
        .order_by(live_first, "-started_on", "-pk")[:10]
    )


def run_detail() -> QuerySet[PlaybookRun]:
    return PlaybookRun.objects.select_related(
        "playbook", "version", "account__owner", "started_by", "alert"
    ).prefetch_related(_steps_prefetch())


@dataclass
class Rate:
    met: int
    decided: int

    @property
    def percent(self) -> float | None:
        return 100 * self.met / self.decided if self.decided else None


@dataclass
class VersionEffect:
    version: PlaybookVersion
    runs: int
    completed: int
    cancelled: int
    running: int
    rate: Rate
    median_days: float | None


@dataclass
class Effectiveness:
    versions: list[VersionEffect]
    treated: Rate
    control: Rate
    control_sources: dict[str, int]
    uplift: float | None
    interval: tuple[float, float] | None
    verdict: str


def _decided(met_on: date | None, due: date, today: date) -> bool:
    """Met, or its window has closed: the outcome is known."""
    return met_on is not None or due < today


def effectiveness(playbook: Playbook, *, today: date) -> Effectiveness:
    """Runs, completion and objective met per version, against the same objective
    measured where the playbook did not run for the same trigger: occurrences not
    started (snoozed, paused), runs cancelled, and, for an alert-rule trigger, the
    rule's alerts in the same length of time before the playbook existed."""
    runs = list(PlaybookRun.objects.filter(playbook=playbook).select_related("version"))
    versions = {v.pk: v for v in playbook.versions.select_related("trigger_rule")}
    per_version: list[VersionEffect] = []
    treated = Rate(0, 0)
    for version in sorted(versions.values(), key=lambda v: -v.number):
        mine = [r for r in runs if r.version_id == version.pk and r.status != RunStatus.CANCELLED]
        decided = [r for r in mine if _decided(r.objective_met_on, r.objective_due, today)]
        met = [r for r in decided if r.objective_met_on]
        days = [(r.objective_met_on - r.started_on).days for r in met if r.objective_met_on]
        rate = Rate(len(met), len(decided))
        treated = Rate(treated.met + rate.met, treated.decided + rate.decided)
        per_version.append(
            VersionEffect(
                version=version,
                runs=len(mine)
                + sum(
                    1
                    for r in runs
                    if r.version_id == version.pk and r.status == RunStatus.CANCELLED
                ),
                completed=sum(1 for r in mine if r.status == RunStatus.COMPLETED),
                cancelled=sum(
                    1
                    for r in runs
                    if r.version_id == version.pk and r.status == RunStatus.CANCELLED
                ),
                running=sum(1 for r in mine if r.status in LIVE_RUN),
                rate=rate,
                median_days=statistics.median(days) if days else None,
            )
        )
    control, sources = _control(playbook, runs, versions, today=today)
    uplift = interval = None
    if treated.decided and control.decided:
        p1, p2 = treated.met / treated.decided, control.met / control.decided
        uplift = 100 * (p1 - p2)
        se = math.sqrt(p1 * (1 - p1) / treated.decided + p2 * (1 - p2) / control.decided)
        interval = (100 * (p1 - p2 - 1.96 * se), 100 * (p1 - p2 + 1.96 * se))
    if min(treated.decided, control.decided) < MIN_SAMPLE:
        verdict = (
            f"Too few decided cases to tell (runs {treated.decided}, comparison "
            f"{control.decided}; at least {MIN_SAMPLE} each are needed)."
        )
    elif interval and interval[0] > 0:
        verdict = (
            "Accounts where the playbook ran met the objective more often than comparable ones."
        )
    elif interval and interval[1] < 0:
        verdict = (
            "Accounts where the playbook ran met the objective less often than comparable ones."
        )
    else:
        verdict = "No clear difference from comparable accounts yet (the 95% interval spans zero)."
    return Effectiveness(per_version, treated, control, sources, uplift, interval, verdict)


def _control(
    playbook: Playbook,
    runs: list[PlaybookRun],
    versions: dict[int, PlaybookVersion],
    *,
    today: date,
) -> tuple[Rate, dict[str, int]]:
    current = max(versions.values(), key=lambda v: v.number, default=None)
    if current is None:
        return Rate(0, 0), {}
    sources: dict[str, int] = {}
    outcomes: list[tuple[date | None, date]] = []
    hits = PlaybookTrigger.objects.filter(
        playbook=playbook,
        run__isnull=True,
        not_started__in=[NotStarted.SNOOZED, NotStarted.INACTIVE],
    )
    for hit in hits:
        outcomes.append((hit.objective_met_on, hit.objective_due))
        label = NotStarted(hit.not_started).label
        sources[label] = sources.get(label, 0) + 1
    for run in runs:
        if run.status == RunStatus.CANCELLED:
            outcomes.append((run.objective_met_on, run.objective_due))
            sources["Cancelled"] = sources.get("Cancelled", 0) + 1
    if current.trigger_kind == TriggerKind.ALERT_RULE and current.trigger_rule_id:
        before = _before_playbook(playbook, current, today=today)
        outcomes += before
        if before:
            sources["Before the playbook existed"] = len(before)
    decided = [(m, d) for m, d in outcomes if _decided(m, d, today)]
    return Rate(sum(1 for m, _ in decided if m), len(decided)), sources


def _before_playbook(
    playbook: Playbook, version: PlaybookVersion, *, today: date
) -> list[tuple[date | None, date]]:
    """The trigger rule's alerts opened before the playbook existed, over as long as
    it has existed and at least two objective windows (so some have closed), at most
    a year, judged by the same objective."""
    from success.alerts.models import Alert

    created = playbook.created_at.date()
    span = min(max((today - created).days, 2 * version.objective_days), 365)
    alerts = Alert.objects.filter(
        rule_id=version.trigger_rule_id,
        opened_at__date__gte=created - timedelta(days=span),
        opened_at__date__lt=created,
    ).values_list("account_id", "opened_at__date")
    windows = [
        Window(a, opened, opened + timedelta(days=version.objective_days)) for a, opened in alerts
    ]
    met = objective_met_on(
        version, [Window(w.account_id, w.start, min(w.due, today)) for w in windows]
    )
    return [(met.get(Window(w.account_id, w.start, min(w.due, today))), w.due) for w in windows]

"""Every write of playbooks and their runs.

A run is started once per account and playbook while it is live (a partial unique
constraint backs this); its task steps become SuccessTasks, so they land in the
assignee's My work and are completed there like any task; its action steps run
through the owning app's service on their due day."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from itertools import cycle
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import Account, Event, User
from accounts.roles import Role
from accounts.services import account_stage_change, event_record
from accounts.support.models import Engagement
from accounts.support.services import (
    TASK_DONE,
    CrmTask,
    crm_tasks_enabled,
    crm_tasks_open,
    crm_tasks_update,
)
from onboarding.models import OnboardingTemplate
from onboarding.services import plan_start
from success.alerts.models import ExpansionSignal
from success.alerts.services import expansion_signal_raise
from success.models import Renewal, ReviewKind, SuccessTask
from success.services import renewal_forecast_change, review_schedule, task_set_done

from .models import (
    LIVE_RUN,
    Assignee,
    NotStarted,
    Playbook,
    PlaybookRun,
    PlaybookRunStep,
    PlaybookStep,
    PlaybookTrigger,
    PlaybookVersion,
    RunStatus,
    RunStepStatus,
    StepAction,
    StepKind,
    TriggerKind,
    objective_due_for,
)

LATE_DATA_DAYS = 30
# The code of the refusal to start a run the playbook's or account's state forbids
# (paused, already running): the API answers it with 409 Conflict.
NOT_STARTABLE = "not_startable"
NOT_OPEN = "not_open"  # a step already done, skipped or in an ended run: a state conflict
VERSION_FIELDS = (
    "trigger_kind",
    "trigger_rule",
    "trigger_stage",
    "trigger_days",
    "objective_kind",
    "objective_band",
    "objective_days",
)
STEP_FIELDS = (
    "position",
    "kind",
    "title",
    "guidance",
    "due_offset_days",
    "assignee",
    "assignee_user",
    "action",
    "action_value",
)


def current_version(playbook: Playbook) -> PlaybookVersion | None:
    return playbook.versions.order_by("-number").first()


@transaction.atomic
def playbook_save(
    *,
    by: User | None,
    name: str,
    description: str,
    is_active: bool,
    version: dict[str, Any],
    steps: Sequence[dict[str, Any]],
    playbook: Playbook | None = None,
    crm_tasks: bool | None = None,
) -> Playbook:
    """Create a playbook, or change one. Its steps, trigger and objective are saved
    as a new version when the current one has runs (runs keep the steps they
    followed); otherwise the current version is edited in place."""
    if not steps:
        raise ValidationError({"steps": "A playbook needs at least one step."})
    playbook = playbook or Playbook(created_by=by)
    playbook.name = name.strip()
    playbook.description = description.strip()
    playbook.is_active = is_active
    if crm_tasks is not None:
        playbook.crm_tasks = crm_tasks
    playbook.full_clean()
    playbook.save()
    latest = current_version(playbook)
    if latest is None or latest.runs.exists():
        latest = PlaybookVersion(
            playbook=playbook, number=(latest.number + 1) if latest else 1, created_by=by
        )
    for name_ in VERSION_FIELDS:
        setattr(latest, name_, version.get(name_))
    latest.trigger_stage = latest.trigger_stage or ""
    latest.objective_band = latest.objective_band or ""
    latest.full_clean()
    latest.save()
    latest.steps.all().delete()
    rows = []
    for position, data in enumerate(steps):
        step = PlaybookStep(version=latest, **{k: data.get(k) for k in STEP_FIELDS})
        step.position = position
        step.guidance = step.guidance or ""
        step.action = step.action or ""
        step.action_value = step.action_value or ""
        try:
            step.full_clean(exclude=["version"])
        except ValidationError as exc:
            raise ValidationError(
                {"steps": [f"Step {position + 1}: {m}" for m in exc.messages]}
            ) from None
        rows.append(step)
    PlaybookStep.objects.bulk_create(rows)
    return playbook


def _leader() -> User | None:
    """Lifecycle has no teams yet: "their leader" is the CS leader (first by name)."""
    return (
        User.objects.filter(is_active=True, groups__name=Role.LEADER)
        .order_by("first_name", "last_name", "username")
        .first()
    )


def _assignee_id(step: PlaybookStep, account: Account, leader: User | None) -> int | None:
    if step.assignee == Assignee.USER:
        return step.assignee_user_id
    if step.assignee == Assignee.LEADER and leader is not None:
        return leader.pk
    return account.owner_id


@dataclass(frozen=True)
class Start:
    """One run to start: on which account, and what started it."""

    account: Account
    trigger: str = TriggerKind.MANUAL
    alert_id: int | None = None


@transaction.atomic
def run_start(
    *,
    playbook: Playbook,
    account: Account,
    by: User | None,
    today: date,
    trigger: str = TriggerKind.MANUAL,
    alert_id: int | None = None,
) -> PlaybookRun:
    """Start the playbook's current version on an account: one live run per account
    and playbook. Task steps become tasks for their assignee, due on start + offset;
    actions due today run now, later ones on their day (the daily job)."""
    version = current_version(playbook)
    if version is None or not playbook.is_active:
        raise ValidationError(
            "This playbook is paused; an admin can turn it back on.", code=NOT_STARTABLE
        )
    if PlaybookRun.objects.filter(playbook=playbook, account=account, status__in=LIVE_RUN).exists():
        raise ValidationError(
            f"“{playbook.name}” is already running on {account.name}.", code=NOT_STARTABLE
        )
    try:
        with transaction.atomic():
            (run,) = runs_create(
                playbook=playbook,
                version=version,
                starts=[Start(account, trigger, alert_id)],
                by=by,
                today=today,
            )
    except IntegrityError:
        raise ValidationError(
            f"“{playbook.name}” is already running on {account.name}.", code=NOT_STARTABLE
        ) from None
    return run


def runs_create(
    *,
    playbook: Playbook,
    version: PlaybookVersion,
    starts: Sequence[Start],
    by: User | None,
    today: date,
) -> list[PlaybookRun]:
    """Create runs of one version in a handful of statements whatever their number
    (the daily job may start thousands): runs, their tasks, their steps, timeline
    entries; then the actions due today. Raises IntegrityError when one of the
    accounts already has a live run of the playbook (the caller's savepoint)."""
    steps = list(version.steps.all())
    leader = _leader() if any(s.assignee == Assignee.LEADER for s in steps) else None
    runs = PlaybookRun.objects.bulk_create(
        [
            PlaybookRun(
                playbook=playbook,
                version=version,
                account=start.account,
                trigger=start.trigger,
                alert_id=start.alert_id,
                started_by=by,
                started_on=today,
                objective_due=objective_due_for(version, today),
            )
            for start in starts
        ]
    )
    task_steps = [s for s in steps if s.kind == StepKind.TASK]
    tasks = SuccessTask.objects.bulk_create(
        [
            SuccessTask(
                account=start.account,
                title=f"{step.title} ({playbook.name})"[:300],
                assignee_user_id=_assignee_id(step, start.account, leader),
                due_date=today + timedelta(days=step.due_offset_days),
                created_by=by,
            )
            for start in starts
            for step in task_steps
        ],
        batch_size=2000,
    )
    task_of = iter(tasks)
    crm_of = iter(_crm_tasks_open(playbook, task_steps, tasks) if playbook.crm_tasks else ())
    PlaybookRunStep.objects.bulk_create(
        [
            PlaybookRunStep(
                run=run,
                step=step,
                task=next(task_of) if step.kind == StepKind.TASK else None,
                engagement=next(crm_of, None) if step.kind == StepKind.TASK else None,
                due_date=today + timedelta(days=step.due_offset_days),
            )
            for run in runs
            for step in steps
        ],
        batch_size=2000,
    )
    summary = (
        f"Playbook started: {playbook.name} ({version.describe_trigger()}); "
        f"objective: {version.describe_objective()}"
    )
    # Timeline entries, not customer touches: they do not move last activity.
    Event.objects.bulk_create(
        [
            Event(account=start.account, kind=Event.Kind.SUCCESS, actor=by, summary=summary[:500])
            for start in starts
        ],
        batch_size=2000,
    )
    if any(s.kind == StepKind.ACTION and s.due_offset_days == 0 for s in steps):
        for run in runs:
            run_actions_due(run=run, today=today)
    return runs


def _crm_tasks_open(
    playbook: Playbook, task_steps: Sequence[PlaybookStep], tasks: Sequence[SuccessTask]
) -> list[Engagement]:
    """The run's tasks as CRM tasks (HubSpot's), in the tasks' order (each start's task
    steps in turn), when a CRM plug-in is installed: on the account, owned by the
    assignee, due the same day, with the step's guidance as their text."""
    if not crm_tasks_enabled() or not task_steps:
        return []
    return crm_tasks_open(
        tasks=[
            CrmTask(
                account_id=task.account_id,
                owner_id=task.assignee_user_id,
                subject=task.title,
                body=f"{step.guidance}\n\nLifecycle playbook: {playbook.name}".strip(),
                due=task.due_date or date.today(),
            )
            for task, step in zip(tasks, cycle(task_steps), strict=False)
        ]
    )


def run_actions_due(*, run: PlaybookRun, today: date) -> int:
    """Run the action steps due by today; a refused action is kept as failed with the
    reason (the run goes on), so a person can see and do it by hand."""
    done = 0
    steps = run.steps.filter(
        status=RunStepStatus.PENDING, step__kind=StepKind.ACTION, due_date__lte=today
    ).select_related("step", "run__account__owner", "run__playbook")
    for run_step in steps:
        try:
            with transaction.atomic():
                note = _perform(run_step.step, run, today)
        except ValidationError as exc:
            run_step.status, run_step.note = RunStepStatus.FAILED, " ".join(exc.messages)
        else:
            run_step.status, run_step.note = RunStepStatus.DONE, note
        run_step.finished_at = timezone.now()
        run_step.save(update_fields=["status", "note", "finished_at"])
        done += 1
    return done


def _perform(step: PlaybookStep, run: PlaybookRun, today: date) -> str:
    account, why = run.account, f"Playbook “{run.playbook.name}”: {step.title}"
    if step.action == StepAction.CHANGE_STAGE:
        account_stage_change(account=account, to_stage=step.action_value, reason=why, by=None)
        return f"Stage set to {step.action_value}"
    if step.action == StepAction.START_ONBOARDING:
        template = OnboardingTemplate.objects.filter(pk=int(step.action_value or 0)).first()
        if template is None:
            raise ValidationError("The onboarding template no longer exists.")
        plan_start(account=account, template=template, start_date=today, by=None)
        return f"Onboarding started from “{template.name}”"
    if step.action == StepAction.SCHEDULE_REVIEW:
        kind = step.action_value if step.action_value in ReviewKind.values else ReviewKind.QBR
        when = today + timedelta(days=14)
        review_schedule(
            account=account,
            kind=kind,
            scheduled_for=when,
            by=None,
            owner=account.owner,
            agenda=why,
        )
        return f"{kind.upper()} scheduled for {when:%Y-%m-%d}"
    if step.action == StepAction.RAISE_EXPANSION:
        expansion_signal_raise(
            account=account, note=why, source=ExpansionSignal.Source.RULE, by=None
        )
        return "Expansion signal raised"
    if step.action == StepAction.SET_FORECAST:
        renewal = (
            Renewal.objects.filter(account=account, status=Renewal.Status.OPEN)
            .order_by("renewal_date")
            .first()
        )
        if renewal is None:
            raise ValidationError("The account has no open renewal to forecast.")
        arr = renewal.forecast_arr if renewal.forecast_arr is not None else renewal.current_arr
        renewal_forecast_change(
            renewal=renewal,
            category=step.action_value,
            forecast_arr=Decimal(arr),
            reason=why,
            by=None,
        )
        return f"Renewal forecast set to {step.action_value}"
    raise ValidationError(f"Unknown action {step.action!r}.")


@transaction.atomic
def run_step_complete(*, run_step: PlaybookRunStep, by: User | None) -> PlaybookRunStep:
    """Complete a task step (its task is ticked off, so My work follows)."""
    if not run_step.run.is_live or not run_step.is_open:
        raise ValidationError("This step is not open.", code=NOT_OPEN)
    # The step first: ticking its task off looks for open steps to follow (My work).
    run_step.status, run_step.finished_at = RunStepStatus.DONE, timezone.now()
    run_step.save(update_fields=["status", "finished_at"])
    if run_step.task is not None:
        task_set_done(task=run_step.task, done=True, by=by)
    _crm_tasks_done([run_step])
    run_finish_if_done(run=run_step.run)
    return run_step


def _crm_tasks_done(run_steps: Sequence[PlaybookRunStep]) -> int:
    """A finished step's CRM task is completed there too. A skipped or cancelled step's
    as well: HubSpot has no "skipped", and an open task would stay on the owner's list
    there; the reason stays in Lifecycle's timeline."""
    rows = [s.engagement for s in run_steps if s.engagement is not None]
    return crm_tasks_update(engagements=rows, done=True) if rows else 0


def run_step_task_done(*, task: SuccessTask, by: User | None) -> bool:
    """A task ticked off in My work completes its playbook step (and the step's CRM
    task) at once, rather than at the next daily job."""
    run_step = (
        PlaybookRunStep.objects.filter(
            task=task, status=RunStepStatus.PENDING, run__status__in=LIVE_RUN
        )
        .select_related("run__playbook", "run__account", "engagement")
        .first()
    )
    if run_step is None:
        return False
    run_step.status, run_step.finished_at = RunStepStatus.DONE, timezone.now()
    run_step.save(update_fields=["status", "finished_at"])
    _crm_tasks_done([run_step])
    run_finish_if_done(run=run_step.run)
    return True


def run_steps_follow_crm(account_ids: Sequence[int]) -> int:
    """Sync wrote CRM tasks of these accounts (CRM_TASKS_SYNCED_HOOKS): a step whose
    task was completed in HubSpot is completed here, as if its CSM had ticked it off
    (same timeline entry). Completion holds on both sides: a step finished here whose
    task HubSpot shows open (reopened there, or our completion not pushed yet when
    sync read it) has COMPLETED pushed again (docs/hubspot.md, "Playbook tasks")."""
    live = PlaybookRunStep.objects.filter(
        run__account_id__in=list(account_ids), engagement__isnull=False
    ).select_related("run__playbook", "run__account", "task", "engagement")
    done_there = live.filter(
        status=RunStepStatus.PENDING, run__status__in=LIVE_RUN, engagement__status=TASK_DONE
    )
    followed = _run_steps_done_in_crm(list(done_there))
    open_there = list(
        live.exclude(status=RunStepStatus.PENDING).exclude(engagement__status=TASK_DONE)
    )
    _crm_tasks_done(open_there)
    return followed


@transaction.atomic
def _run_steps_done_in_crm(run_steps: Sequence[PlaybookRunStep]) -> int:
    """Steps whose CRM task was completed there, many at once (one sync page can carry
    thousands): the same rows and timeline entries as `run_step_complete` by nobody
    (a task ticked off, a run completed when it has no open step left), in a fixed
    number of queries rather than a dozen per step."""
    if not run_steps:
        return 0
    now = timezone.now()
    PlaybookRunStep.objects.filter(
        pk__in=[s.pk for s in run_steps], status=RunStepStatus.PENDING
    ).update(status=RunStepStatus.DONE, finished_at=now)
    tasks = [s.task for s in run_steps if s.task is not None and s.task.done_at is None]
    SuccessTask.objects.filter(pk__in=[t.pk for t in tasks], done_at__isnull=True).update(
        done_at=now, updated_at=now
    )
    # Timeline entries by nobody: not customer touches, so last activity stays.
    events = [
        Event(account_id=t.account_id, kind=Event.Kind.SUCCESS, summary=f"Done: {t.title}"[:500])
        for t in tasks
    ]
    _crm_tasks_done(run_steps)
    runs = {s.run_id: s.run for s in run_steps}
    still_open = set(
        PlaybookRunStep.objects.filter(run_id__in=runs, status=RunStepStatus.PENDING)
        .values_list("run_id", flat=True)
        .distinct()
    )
    finished = [run for pk, run in runs.items() if pk not in still_open and run.is_live]
    PlaybookRun.objects.filter(pk__in=[r.pk for r in finished], status__in=LIVE_RUN).update(
        status=RunStatus.COMPLETED, finished_at=now
    )
    events += [
        Event(
            account_id=run.account_id,
            kind=Event.Kind.SUCCESS,
            summary=f"Playbook completed: {run.playbook.name}"[:500],
        )
        for run in finished
    ]
    for event in events:
        event.occurred_at = now
    Event.objects.bulk_create(events, batch_size=2000)
    return len(run_steps)


@transaction.atomic
def run_step_skip(*, run_step: PlaybookRunStep, reason: str, by: User | None) -> PlaybookRunStep:
    """Skip a step with a reason; its task leaves My work."""
    if not reason.strip():
        raise ValidationError({"reason": "Say why the step is skipped."})
    if not run_step.run.is_live or not run_step.is_open:
        raise ValidationError("This step is not open.", code=NOT_OPEN)
    run_step.status, run_step.note = RunStepStatus.SKIPPED, reason.strip()
    run_step.finished_at = timezone.now()
    run_step.save(update_fields=["status", "note", "finished_at"])
    task = run_step.task
    if task is not None and task.done_at is None:
        run_step.task = None
        run_step.save(update_fields=["task"])
        task.delete()
    _crm_tasks_done([run_step])
    event_record(
        account=run_step.run.account,
        kind=Event.Kind.SUCCESS,
        actor=by,
        summary=f"Playbook step skipped: {run_step.step.title} — {run_step.note}",
    )
    run_finish_if_done(run=run_step.run)
    return run_step


def run_finish_if_done(*, run: PlaybookRun) -> bool:
    """A run whose steps are all finished is completed."""
    if not run.is_live or run.steps.filter(status=RunStepStatus.PENDING).exists():
        return False
    run.status, run.finished_at = RunStatus.COMPLETED, timezone.now()
    run.save(update_fields=["status", "finished_at"])
    event_record(
        account=run.account,
        kind=Event.Kind.SUCCESS,
        summary=f"Playbook completed: {run.playbook.name}",
    )
    return True


@transaction.atomic
def run_snooze(
    *, run: PlaybookRun, until: date, reason: str, by: User | None, today: date
) -> PlaybookRun:
    """Pause a run until a date: its open tasks move by the same number of days."""
    if run.status != RunStatus.RUNNING:
        raise ValidationError("Only a running playbook can be snoozed.")
    if until <= today:
        raise ValidationError({"until": "Snooze until a day after today."})
    if not reason.strip():
        raise ValidationError({"reason": "Say why the playbook is snoozed."})
    shift = until - today
    open_steps = list(
        run.steps.filter(status=RunStepStatus.PENDING).select_related("task", "engagement")
    )
    for run_step in open_steps:
        run_step.due_date += shift
        if run_step.task is not None and run_step.task.due_date:
            run_step.task.due_date += shift
            run_step.task.save(update_fields=["due_date", "updated_at"])
    PlaybookRunStep.objects.bulk_update(open_steps, ["due_date"])
    crm_rows = [s.engagement for s in open_steps if s.engagement is not None]
    if crm_rows:
        crm_tasks_update(engagements=crm_rows, shift=shift)
    run.status, run.snoozed_until, run.end_reason = RunStatus.SNOOZED, until, reason.strip()
    run.save(update_fields=["status", "snoozed_until", "end_reason"])
    event_record(
        account=run.account,
        kind=Event.Kind.SUCCESS,
        actor=by,
        summary=f"Playbook snoozed until {until:%Y-%m-%d}: {run.playbook.name} — {run.end_reason}",
    )
    return run


@transaction.atomic
def run_cancel(*, run: PlaybookRun, reason: str, by: User | None) -> PlaybookRun:
    """Stop a run with a reason; its open tasks leave My work, done ones stay."""
    if not run.is_live:
        raise ValidationError("This playbook run has already ended.")
    if not reason.strip():
        raise ValidationError({"reason": "Say why the playbook is cancelled."})
    open_steps = run.steps.filter(status=RunStepStatus.PENDING)
    _crm_tasks_done(list(open_steps.select_related("engagement")))
    SuccessTask.objects.filter(playbook_step__in=open_steps, done_at__isnull=True).delete()
    open_steps.update(status=RunStepStatus.CANCELLED, finished_at=timezone.now())
    run.status, run.end_reason, run.finished_at = (
        RunStatus.CANCELLED,
        reason.strip(),
        timezone.now(),
    )
    run.save(update_fields=["status", "end_reason", "finished_at"])
    event_record(
        account=run.account,
        kind=Event.Kind.SUCCESS,
        actor=by,
        summary=f"Playbook cancelled: {run.playbook.name} — {run.end_reason}",
    )
    return run


@dataclass
class PlaybooksRun:
    started: dict[str, int] = field(default_factory=dict)
    not_started: int = 0
    actions: int = 0
    completed: int = 0
    objectives_met: int = 0
    woken: int = 0


@dataclass(frozen=True)
class Occurrence:
    account_id: int
    key: str
    fired_on: date
    alert_id: int | None = None


def trigger_occurrences(version: PlaybookVersion, *, since: date, today: date) -> list[Occurrence]:
    """What fired this version's trigger: one row per (account, occurrence), read in
    one query. Occurrences before the playbook existed are left to the comparison."""
    # Late imports keep this module's import graph to the apps a trigger reads.
    from accounts.models import StageChange
    from onboarding.models import Milestone
    from success.alerts.models import Alert

    kind = version.trigger_kind
    if kind == TriggerKind.ALERT_RULE:
        alerts = Alert.objects.filter(
            rule_id=version.trigger_rule_id,
            status__in=[Alert.Status.OPEN, Alert.Status.ACKNOWLEDGED],
            opened_at__date__gte=since,
        ).values_list("account_id", "pk", "opened_at__date")
        return [Occurrence(a, f"alert:{pk}", on, alert_id=pk) for a, pk, on in alerts]
    if kind == TriggerKind.STAGE_ENTERED:
        changes = StageChange.objects.filter(
            to_stage=version.trigger_stage, changed_at__date__gte=since
        ).values_list("account_id", "pk", "changed_at__date")
        return [Occurrence(a, f"stage:{pk}", on) for a, pk, on in changes]
    if kind == TriggerKind.RENEWAL_AHEAD:
        renewals = Renewal.objects.filter(
            status=Renewal.Status.OPEN,
            renewal_date__gte=today,
            renewal_date__lte=today + timedelta(days=version.trigger_days or 0),
        ).values_list("account_id", "pk")
        return [Occurrence(a, f"renewal:{pk}", today) for a, pk in renewals]
    if kind == TriggerKind.ONBOARDING_LATE:
        late = (
            Milestone.objects.filter(
                plan__finished_on__isnull=True,
                completed_on__isnull=True,
                skipped_on__isnull=True,
                due_date__lt=today,
            )
            .values_list("plan__account_id", "plan_id")
            .distinct()
        )
        return [Occurrence(a, f"onboarding:{plan}", today) for a, plan in late]
    if kind == TriggerKind.NEW_ACCOUNT:
        created = Account.objects.filter(
            created_at__date__gte=since, status=Account.Status.ACTIVE
        ).values_list("pk", "created_at__date")
        return [Occurrence(a, "new", on) for a, on in created]
    return []


def playbooks_evaluate(*, today: date) -> PlaybooksRun:
    """The daily job: start runs for new trigger occurrences (each recorded once,
    started or not, so the comparison group is known), run due actions, complete
    finished runs, wake snoozed ones, and mark objectives met."""
    result = PlaybooksRun()
    for playbook in Playbook.objects.all():
        version = current_version(playbook)
        if version is None or version.trigger_kind == TriggerKind.MANUAL:
            continue
        since = timezone.localdate(playbook.created_at)
        _start_for_occurrences(playbook, version, since=since, today=today, result=result)
    for run in PlaybookRun.objects.filter(status=RunStatus.SNOOZED, snoozed_until__lte=today):
        run.status, run.snoozed_until = RunStatus.RUNNING, None
        run.save(update_fields=["status", "snoozed_until"])
        result.woken += 1
    live = PlaybookRun.objects.filter(status=RunStatus.RUNNING).select_related(
        "account", "playbook"
    )
    due_actions = live.filter(
        steps__status=RunStepStatus.PENDING,
        steps__step__kind=StepKind.ACTION,
        steps__due_date__lte=today,
    ).distinct()
    for run in due_actions:
        result.actions += run_actions_due(run=run, today=today)
    _task_steps_sync()
    for run in live.exclude(steps__status=RunStepStatus.PENDING):
        result.completed += run_finish_if_done(run=run)
    result.objectives_met = objectives_record(today=today)
    return result


def _start_for_occurrences(
    playbook: Playbook,
    version: PlaybookVersion,
    *,
    since: date,
    today: date,
    result: PlaybooksRun,
) -> None:
    seen = set(PlaybookTrigger.objects.filter(playbook=playbook).values_list("account_id", "key"))
    fresh = [
        o
        for o in trigger_occurrences(version, since=since, today=today)
        if (o.account_id, o.key) not in seen
    ]
    if not fresh:
        return
    live = dict(
        PlaybookRun.objects.filter(playbook=playbook, status__in=LIVE_RUN).values_list(
            "account_id", "status"
        )
    )
    accounts = Account.objects.in_bulk([o.account_id for o in fresh])
    reasons: dict[Occurrence, str] = {}
    starts: dict[Occurrence, Start] = {}
    for occurrence in fresh:
        account = accounts.get(occurrence.account_id)
        if account is None:
            continue
        if not playbook.is_active:
            reasons[occurrence] = NotStarted.INACTIVE
        elif live.get(account.pk) == RunStatus.SNOOZED:
            reasons[occurrence] = NotStarted.SNOOZED
        elif account.pk in live:
            reasons[occurrence] = NotStarted.ALREADY_RUNNING
        else:
            starts[occurrence] = Start(account, version.trigger_kind, occurrence.alert_id)
            live[account.pk] = RunStatus.RUNNING
    runs = dict(zip(starts, _create_or_one_by_one(playbook, version, starts, today), strict=True))
    records = []
    for o in fresh:
        if o in reasons:
            run, reason = None, reasons[o]
        elif o in starts:
            run = runs[o]
            reason = "" if run else NotStarted.ALREADY_RUNNING
        else:
            continue
        records.append(
            PlaybookTrigger(
                playbook=playbook,
                account_id=o.account_id,
                key=o.key,
                fired_on=o.fired_on,
                run=run,
                not_started=reason,
                objective_due=objective_due_for(version, o.fired_on),
            )
        )
    PlaybookTrigger.objects.bulk_create(records, batch_size=2000, ignore_conflicts=True)
    result.not_started += sum(1 for r in records if r.run is None)
    result.started[playbook.name] = sum(1 for r in records if r.run is not None)


def _create_or_one_by_one(
    playbook: Playbook, version: PlaybookVersion, starts: dict[Occurrence, Start], today: date
) -> list[PlaybookRun | None]:
    """All in one go; if a person started one of them meanwhile (the live-run
    constraint refuses the batch), one at a time, leaving out the refused ones."""
    if not starts:
        return []
    try:
        with transaction.atomic():
            return list(
                runs_create(
                    playbook=playbook,
                    version=version,
                    starts=list(starts.values()),
                    by=None,
                    today=today,
                )
            )
    except IntegrityError:
        made: list[PlaybookRun | None] = []
        for start in starts.values():
            try:
                made.append(
                    run_start(
                        playbook=playbook,
                        account=start.account,
                        by=None,
                        today=today,
                        trigger=start.trigger,
                        alert_id=start.alert_id,
                    )
                )
            except ValidationError:
                made.append(None)
        return made


def _task_steps_sync() -> int:
    """Task steps whose task was ticked off in My work are done."""
    steps = PlaybookRunStep.objects.filter(
        status=RunStepStatus.PENDING,
        run__status__in=LIVE_RUN,
        task__done_at__isnull=False,
    )
    crm_rows = list(Engagement.objects.filter(playbook_step__in=steps).exclude(status=TASK_DONE))
    if crm_rows:
        crm_tasks_update(engagements=crm_rows, done=True)
    return steps.update(status=RunStepStatus.DONE, finished_at=timezone.now())


def objectives_record(*, today: date, late_days: int = LATE_DATA_DAYS) -> int:
    """Mark objectives met, for runs and for the trigger occurrences that did not
    start one, while their window is open and LATE_DATA_DAYS after (data that
    arrives late, or days the job did not run, still count inside the window)."""
    from .objectives import Window, objective_met_on

    recent = today - timedelta(days=late_days)
    runs = PlaybookRun.objects.filter(objective_met_on__isnull=True, objective_due__gte=recent)
    triggers = PlaybookTrigger.objects.filter(
        objective_met_on__isnull=True, objective_due__gte=recent, run__isnull=True
    )
    # A trigger that started nothing is judged by its playbook's current version (one
    # query for all: by number, so the last one seen per playbook is its current).
    latest_ids: dict[int, int] = {}
    ordered = PlaybookVersion.objects.order_by("playbook_id", "number")
    for playbook_id, pk in ordered.values_list("playbook_id", "pk"):
        latest_ids[playbook_id] = pk
    by_version: dict[int, list[tuple[PlaybookRun | PlaybookTrigger, Window]]] = {}
    for run in runs:
        window = Window(run.account_id, run.started_on, min(run.objective_due, today))
        by_version.setdefault(run.version_id, []).append((run, window))
    for hit in triggers:
        if hit.playbook_id in latest_ids:
            window = Window(hit.account_id, hit.fired_on, min(hit.objective_due, today))
            by_version.setdefault(latest_ids[hit.playbook_id], []).append((hit, window))
    versions = PlaybookVersion.objects.in_bulk(list(by_version))
    met_runs: list[PlaybookRun] = []
    met_hits: list[PlaybookTrigger] = []
    for version_id, items in by_version.items():
        found = objective_met_on(versions[version_id], [w for _, w in items])
        for item, window in items:
            if window in found:
                item.objective_met_on = found[window]
                if isinstance(item, PlaybookRun):
                    met_runs.append(item)
                else:
                    met_hits.append(item)
    PlaybookRun.objects.bulk_update(met_runs, ["objective_met_on"], batch_size=2000)
    PlaybookTrigger.objects.bulk_update(met_hits, ["objective_met_on"], batch_size=2000)
    return len(met_runs) + len(met_hits)

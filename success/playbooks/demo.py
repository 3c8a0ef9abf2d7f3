"""Demo playbooks: a history that the effectiveness page can read, built from the
demo's own data, then today's pass over the live alerts.

- "Health fell sharply" (objective: back to yellow within 30 days) ran on half the
  accounts that turned red in the demo's weekly health history; on the other half the
  CSM snoozed it. Whether each met the objective is read from that health history.
- "No login or touch in 30 days" (objective: the alert clears) gets past no-login
  alerts: some before the playbook existed, the rest either ran it or were snoozed;
  the demo decides which alerts cleared, a little more often where it ran.
- Then the daily pass starts the playbooks for today's alerts, so CSMs find their
  steps in My work."""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta

from django.db.models import Min
from django.utils import timezone

from accounts.models import Account, HealthBand
from success.alerts.models import Alert, AlertRule, RuleKind
from success.health.models import HealthScore
from success.models import SuccessTask

from .models import NotStarted, Playbook, PlaybookRun, PlaybookTrigger, RunStatus, RunStepStatus
from .services import current_version, objectives_record, playbooks_evaluate, run_start


def _at(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(9)))


def _finish(run: PlaybookRun) -> None:
    """The steps were done on their due days; the run completed with the last one."""
    last = run.started_on
    for run_step in run.steps.select_related("task"):
        done = _at(run_step.due_date)
        last = max(last, run_step.due_date)
        if run_step.task_id:
            SuccessTask.objects.filter(pk=run_step.task_id).update(done_at=done)
        run_step.status, run_step.finished_at = RunStepStatus.DONE, done
        run_step.save(update_fields=["status", "finished_at"])
    run.status, run.finished_at = RunStatus.COMPLETED, _at(last)
    run.save(update_fields=["status", "finished_at"])


def _health_history(playbook: Playbook, today: date, rng: random.Random) -> int:
    version = current_version(playbook)
    if version is None:
        return 0
    Playbook.objects.filter(pk=playbook.pk).update(created_at=_at(today - timedelta(days=90)))
    first_red = (
        HealthScore.objects.filter(
            band=HealthBand.RED,
            date__range=(today - timedelta(days=84), today - timedelta(days=35)),
        )
        .values("account_id")
        .annotate(day=Min("date"))
        .order_by("account_id")[:40]
    )
    accounts = Account.objects.in_bulk([r["account_id"] for r in first_red])
    for i, row in enumerate(first_red):
        account, day = accounts[row["account_id"]], row["day"]
        due = day + timedelta(days=version.objective_days)
        if i % 2 == 0:
            run = run_start(
                playbook=playbook, account=account, by=None, today=day, trigger="manual"
            )
            _finish(run)
            PlaybookTrigger.objects.create(
                playbook=playbook,
                account=account,
                key=f"demo:{day}",
                fired_on=day,
                run=run,
                objective_due=due,
            )
        else:
            PlaybookTrigger.objects.create(
                playbook=playbook,
                account=account,
                key=f"demo:{day}",
                fired_on=day,
                not_started=NotStarted.SNOOZED,
                objective_due=due,
            )
    return len(first_red)


def _no_login_history(playbook: Playbook, today: date, rng: random.Random) -> int:
    version = current_version(playbook)
    rule = AlertRule.objects.filter(kind=RuleKind.NO_LOGIN).order_by("pk").first()
    if version is None or rule is None or version.trigger_rule_id != rule.pk:
        return 0
    created = today - timedelta(days=60)
    Playbook.objects.filter(pk=playbook.pk).update(created_at=_at(created))
    busy = set(Alert.objects.filter(rule=rule).values_list("account_id", flat=True))
    pool = list(Account.objects.exclude(pk__in=busy).order_by("pk").values_list("pk", flat=True))
    chosen = rng.sample(pool, min(36, len(pool)))
    accounts = Account.objects.select_related("owner").in_bulk(chosen)
    for i, pk in enumerate(chosen):
        account = accounts[pk]
        before = i < 12
        opened = (
            created - timedelta(days=rng.randint(15, 50))
            if before
            else (created + timedelta(days=rng.randint(2, 25)))
        )
        ran = not before and i % 2 == 0
        clears = rng.random() < (0.7 if ran else 0.45)
        cleared_on = opened + timedelta(days=rng.randint(4, 26))
        alert = Alert.objects.create(
            account=account,
            rule=rule,
            owner=account.owner,
            message=f"No product login for {rule.days} days",
            opened_at=_at(opened),
            due_on=opened + timedelta(days=rule.due_in_days),
            status=Alert.Status.RESOLVED if clears else Alert.Status.DISMISSED,
            closed_at=_at(cleared_on),
            closed_by=None if clears else account.owner,
            note="Condition cleared" if clears else "Customer paused the project",
            # Where it did not clear in the window, it did later (the project restarted).
            condition_cleared_at=_at(cleared_on if clears else opened + timedelta(days=45)),
        )
        if before:
            continue
        due = opened + timedelta(days=version.objective_days)
        run = None
        if ran:
            run = run_start(
                playbook=playbook,
                account=account,
                by=None,
                today=opened,
                trigger="alert_rule",
                alert_id=alert.pk,
            )
            _finish(run)
        PlaybookTrigger.objects.create(
            playbook=playbook,
            account=account,
            key=f"alert:{alert.pk}",
            fired_on=opened,
            run=run,
            not_started="" if ran else NotStarted.SNOOZED,
            objective_due=due,
        )
    return len(chosen)


def build(*, seed: int, today: date) -> str:
    if PlaybookRun.objects.exists():
        return "playbook runs exist; left as is"
    rng = random.Random(seed)
    made = 0
    for playbook in Playbook.objects.all():
        version = current_version(playbook)
        if version is None:
            continue
        if version.objective_kind == "health_band":
            made += _health_history(playbook, today, rng)
        elif version.objective_kind == "alert_cleared":
            made += _no_login_history(playbook, today, rng)
    met = objectives_record(today=today, late_days=365)
    result = playbooks_evaluate(today=today)
    return (
        f"{made} past trigger occurrences ({met} objectives met); "
        f"started {sum(result.started.values())} runs for today's alerts"
    )

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, NamedTuple

from django.db.models import (
    Case,
    Count,
    F,
    IntegerField,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.expressions import RawSQL
from django.utils import timezone

from accounts.models import User
from accounts.roles import Role, role_of
from accounts.support.models import FeedbackSubmission, Ticket
from lifecycle.ops.triggers import kept_by_triggers

from .models import Alert, AlertRule, ExpansionHint, ExpansionSignal, LiveAlertCount

# The inbox filter for dismissed alerts that come back on a date the CSM picked.
SNOOZED = "snoozed"


def alerts_for(*, user: User, status: str = "live", rule_id: int | None = None) -> QuerySet[Alert]:
    return alerts_matching(user=user, status=status, rule_id=rule_id).select_related(
        "account__owner", "rule", "owner", "ticket", "feedback"
    )


def alerts_matching(
    *, user: User, status: str = "live", rule_id: int | None = None
) -> QuerySet[Alert]:
    """The alerts `user` reads with the filters, in the page's order, nothing joined
    for display: what the page counts, and what its rows (`alert_list_rows`) read."""
    qs = Alert.objects.all()
    if role_of(user) == Role.CSM:  # a CSM's inbox is their book; others read everything
        qs = qs.filter(account__owner=user)
    if status == "live":
        qs = qs.filter(status__in=[Alert.Status.OPEN, Alert.Status.ACKNOWLEDGED])
    elif status == SNOOZED:
        qs = qs.filter(
            status=Alert.Status.DISMISSED,
            snoozed_until__gt=timezone.localdate(),
            condition_cleared_at__isnull=True,
        )
    elif status:
        qs = qs.filter(status=status)
    if rule_id:
        qs = qs.filter(rule_id=rule_id)
    # Ties by id: a rule run opens many alerts at one time with one due day, and
    # without it their order, and so each page, was the database's choice.
    return qs.order_by("due_on", "-opened_at", "pk")


def alerts_count(*, user: User, status: str = "live", rule_id: int | None = None) -> int:
    """How many alerts `alerts_matching` holds: for the live inbox of every rule (the
    page as it opens), from the counts PostgreSQL's triggers keep per account owner
    (`LiveAlertCount`), exact in this snapshot; otherwise counted, without the rows'
    joins (an index-only count where the filters allow)."""
    if status == "live" and not rule_id:
        kept = live_alert_counts()
        if kept is not None:
            if role_of(user) == Role.CSM:  # alerts_matching: their accounts' alerts
                return kept.get(user.pk, 0)
            return sum(kept.values())
    return alerts_matching(user=user, status=status, rule_id=rule_id).count()


def live_alert_counts() -> dict[int | None, int] | None:
    """Live alerts per owner of their account (None: unassigned accounts), owners
    with none left out, as the triggers keep them; None where nothing keeps them (not
    PostgreSQL): count instead."""
    connection = kept_by_triggers(LiveAlertCount)
    if connection is None:
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT owner_key, alerts FROM {LiveAlertCount._meta.db_table} WHERE alerts > 0"
        )
        return {owner or None: n for owner, n in cursor.fetchall()}


class AlertRow(NamedTuple):
    """What a row of the alerts page shows (success/alerts/rows.py), read as
    values: no model instances (an alert, its account, rule, owner, ticket and
    survey answer per row), nor the accounts' and owners' other columns."""

    pk: int
    account_id: int
    account_name: str
    rule_name: str
    message: str
    status: str
    opened_at: datetime
    due_on: date
    note: str
    snoozed_until: date | None
    condition_cleared_at: datetime | None
    reopen_note: str
    ticket_id: int | None
    ticket_hubspot_id: str | None
    feedback_id: int | None
    feedback_hubspot_id: str | None
    owner_username: str | None
    owner_first_name: str | None
    owner_last_name: str | None


_ALERT_ROW_COLUMNS = (
    "pk",
    "account_id",
    "account__name",
    "rule__name",
    "message",
    "status",
    "opened_at",
    "due_on",
    "note",
    "snoozed_until",
    "condition_cleared_at",
    "reopen_note",
    "ticket_id",
    "ticket_hubspot_id",
    "feedback_id",
    "feedback_hubspot_id",
    "owner__username",
    "owner__first_name",
    "owner__last_name",
)


def alert_list_rows(
    *, user: User, status: str = "live", rule_id: int | None = None
) -> QuerySet[Any]:
    """`alerts_for` as the alerts page shows it: AlertRow tuples (`AlertRow._make`).

    The ticket's and the survey answer's HubSpot ids are read by a subquery each, not
    joined: with those two outer joins (tables of 100,000 rows and their indexes) in
    the statement, PostgreSQL spent 5-8 ms choosing its plan, for a walk of the alerts'
    index that runs in 1-2 ms; a subquery is planned on its own (0.8 ms in all)."""
    return (
        alerts_matching(user=user, status=status, rule_id=rule_id)
        .annotate(
            ticket_hubspot_id=_hubspot_id_of(Ticket, "ticket_id"),
            feedback_hubspot_id=_hubspot_id_of(FeedbackSubmission, "feedback_id"),
        )
        .values_list(*_ALERT_ROW_COLUMNS)
    )


def _hubspot_id_of(model: type[Ticket | FeedbackSubmission], column: str) -> RawSQL:
    """The HubSpot id of the alert's `column`'s row, as a scalar subquery written out:
    the ORM's Subquery compiled a whole inner query per request (1.5 ms of the page)."""
    return RawSQL(
        f'SELECT "hubspot_id" FROM "{model._meta.db_table}" '
        f'WHERE "id" = "{Alert._meta.db_table}"."{column}"',
        (),
    )


def _signals_seen_by(user: User) -> QuerySet[ExpansionSignal]:
    qs = ExpansionSignal.objects.all()
    if role_of(user) == Role.CSM:
        qs = qs.filter(account__owner=user)
    return qs


def signals_for(*, user: User) -> QuerySet[ExpansionSignal]:
    qs = _signals_seen_by(user).select_related(
        "account__owner", "raised_by", "followed_up_by", "ticket", "engagement"
    )
    open_first = Case(
        When(followed_up_at__isnull=True, then=Value(0)),
        default=Value(1),
        output_field=IntegerField(),
    )
    return qs.order_by(open_first, "follow_up_by")


def rules() -> QuerySet[AlertRule]:
    return AlertRule.objects.all()


def rule_choices() -> QuerySet[Any]:
    """The rules as the alerts page's filter offers them: `pk` and `name` of each, in
    the rules' order (dicts: the template reads `r.pk` and `r.name` alike)."""
    return rules().values("pk", "name")


def account_live_alerts(*, account_id: int) -> QuerySet[Alert]:
    return Alert.objects.filter(
        account_id=account_id, status__in=[Alert.Status.OPEN, Alert.Status.ACKNOWLEDGED]
    ).select_related("rule")


# A signal is followed up in time when a person recorded its follow-up (what came of
# it: `followed_up_at`) no later than its due time (`follow_up_by`, 24 hours after it
# was raised). Late: followed up after the due time, or not followed up and past it.
IN_TIME = Q(followed_up_at__isnull=False, followed_up_at__lte=F("follow_up_by"))
LATE_DONE = Q(followed_up_at__isnull=False, followed_up_at__gt=F("follow_up_by"))


@dataclass
class FollowUpFigures:
    source: str
    label: str
    total: int = 0
    in_time: int = 0
    late: int = 0  # followed up after the due time
    overdue: int = 0  # not followed up, due time passed
    waiting: int = 0  # not followed up, still in time

    @property
    def due(self) -> int:
        """Signals whose due time passed or that were followed up: the ones judged."""
        return self.in_time + self.late + self.overdue

    @property
    def in_time_pct(self) -> int | None:
        return round(self.in_time * 100 / self.due) if self.due else None


@dataclass
class FollowUpReport:
    rows: list[FollowUpFigures] = field(default_factory=list)
    late: list[ExpansionSignal] = field(default_factory=list)
    late_total: int = 0


def signal_follow_ups(*, user: User, late_limit: int = 20) -> FollowUpReport:
    """Per source (CSM, support, rule): how many signals were followed up in time,
    late, are overdue or still waiting; and the late ones (followed up late or
    overdue), latest due first. Two queries whatever the count."""
    now = timezone.now()
    qs = _signals_seen_by(user)
    overdue = Q(followed_up_at__isnull=True, follow_up_by__lt=now)
    counts: dict[str, dict[str, int]] = {}
    rows = (
        qs.order_by()
        .values("source")
        .annotate(
            n_total=Count("pk"),
            n_in_time=Count("pk", filter=IN_TIME),
            n_late=Count("pk", filter=LATE_DONE),
            n_overdue=Count("pk", filter=overdue),
            n_waiting=Count("pk", filter=Q(followed_up_at__isnull=True, follow_up_by__gte=now)),
        )
    )
    for row in rows:
        counts[str(row["source"])] = {
            name.removeprefix("n_"): int(str(value))
            for name, value in row.items()
            if name.startswith("n_")
        }
    report = FollowUpReport()
    for source, label in ExpansionSignal.Source.choices:
        report.rows.append(FollowUpFigures(source=source, label=label, **counts.get(source, {})))
    report.late_total = sum(r.late + r.overdue for r in report.rows)
    report.late = list(
        qs.filter(LATE_DONE | overdue)
        .select_related("account", "followed_up_by")
        .order_by("-follow_up_by", "-pk")[:late_limit]
    )
    return report


def expansion_hint_current() -> ExpansionHint | None:
    return ExpansionHint.objects.order_by("pk").first()

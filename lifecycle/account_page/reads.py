"""Everything the account overview shows, one plain statement per panel.

Each read returns small frozen rows carrying what the panel shows, under the names
the page used on the models (`get_kind_display`, `get_absolute_url`), already
resolved. What a panel shows and in which order is what the apps' selectors give
(`tests/lifecycle/test_account_page.py` renders the page from those selectors and
from these reads and compares the two)."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from accounts.links import url_for_ids
from accounts.models import (
    Account,
    Contact,
    Deal,
    Event,
    ForecastCategory,
    HealthBand,
    Segment,
    Stage,
    UsageSnapshot,
)
from accounts.plain_sql import Statement, at, fetch, on
from accounts.support.models import Engagement, FeedbackSubmission, Ticket, hubspot_record_url
from accounts.support.selectors import CLOSE_DAYS, SURVEY_DAYS, TREND_WEEKS, SupportFigures
from onboarding.models import Milestone, OnboardingPlan, OwnerSide, PlanStatus
from success.alerts.models import Alert
from success.health.models import HealthModel, HealthScore
from success.health.selectors import HealthCard, health_card
from success.models import (
    BusinessReview,
    Objective,
    ObjectiveStatus,
    Renewal,
    ReviewKind,
    Sentiment,
    SuccessTask,
)
from success.playbooks.models import LIVE_RUN, PlaybookRun, RunStatus, RunStepStatus

# What the page shows, as the reads' defaults; page_statements reads ahead with them.
TIMELINE = 50  # timeline entries (and engagements read for it and the last touches)
ANSWERS = 5  # latest survey answers
HEALTH_DAYS = 90  # how far back the latest score may be
RUNS = 10  # playbook runs


def _f(model: Any, name: str) -> Any:
    return model._meta.get_field(name)


class People:
    """The people a page names (an owner, an actor, an assignee), read in one statement
    when the first of them is written, instead of a join to the users in each of the
    page's statements (planning a join cost PostgreSQL more than running the
    statement)."""

    def __init__(self) -> None:
        self.wanted: set[int] = set()
        self.names: dict[int, str] = {}

    def get(self, pk: int | None) -> Person | None:
        if pk is None:
            return None
        self.wanted.add(pk)
        return Person(self, pk)

    def name(self, pk: int) -> str:
        if pk not in self.names:
            unread = sorted(self.wanted - self.names.keys())
            marks = ", ".join(["%s"] * len(unread))
            rows = fetch(
                "SELECT id, first_name, last_name, username FROM accounts_user "
                f"WHERE id IN ({marks})",
                unread,
                (None,) * 4,
            )
            for user, first, last, username in rows:
                # as str(user): the full name, else the username
                self.names[user] = f"{first} {last}".strip() or username
        return self.names.get(pk, "")


@dataclass(frozen=True, slots=True)
class Person:
    """A user the page names: written as `str(user)` writes them."""

    people: People
    pk: int

    def __str__(self) -> str:
        return self.people.name(self.pk)


_SEGMENTS = dict(Segment.choices)
_STAGES = dict(Stage.choices)
_BANDS = dict(HealthBand.choices)
_FORECASTS = dict(ForecastCategory.choices)


@dataclass(frozen=True, slots=True)
class AccountHead:
    pk: int
    name: str
    domain: str
    owner_id: int | None
    owner: Person | None
    segment: str
    arr: Decimal
    currency: str
    contract_start: date | None
    renewal_date: date | None
    stage: str
    status: str
    hubspot_id: str | None
    health_score: int | None
    health_band: str
    onboarding_status: str
    onboarding_progress: int | None
    next_business_review: date | None
    renewal_forecast_category: str

    @property
    def get_stage_display(self) -> str:
        return str(_STAGES.get(self.stage, self.stage))

    @property
    def get_segment_display(self) -> str:
        return str(_SEGMENTS.get(self.segment, self.segment))

    @property
    def get_health_band_display(self) -> str:
        return str(_BANDS.get(self.health_band, self.health_band))

    @property
    def get_renewal_forecast_category_display(self) -> str:
        category = self.renewal_forecast_category
        return str(_FORECASTS.get(category, category))


_ACCOUNT_COLUMNS = (
    "id",
    "name",
    "domain",
    "owner_id",
    "segment",
    "arr",
    "currency",
    "contract_start",
    "renewal_date",
    "stage",
    "status",
    "hubspot_id",
    "health_score",
    "health_band",
    "onboarding_status",
    "onboarding_progress",
    "next_business_review",
    "renewal_forecast_category",
)
_ACCOUNT_FIELDS = tuple(_f(Account, c) for c in _ACCOUNT_COLUMNS)
_ACCOUNT_SQL = (
    f"SELECT {', '.join('a.' + c for c in _ACCOUNT_COLUMNS)} "
    "FROM accounts_account a WHERE a.id = %s"
)


def account_head(*, pk: int, people: People) -> AccountHead | None:
    rows = fetch(_ACCOUNT_SQL, [pk], _ACCOUNT_FIELDS)
    if not rows:
        return None
    # Each column by its name on AccountHead (`id` is `pk`), and the owner's Person.
    values = dict(zip(_ACCOUNT_COLUMNS, rows[0], strict=True))
    values["pk"] = values.pop("id")
    return AccountHead(owner=people.get(values["owner_id"]), **values)


# -- Timeline ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    occurred_at: datetime
    summary: str
    link: str
    kind: str
    actor: Person | None


_EVENT_KINDS = dict(Event.Kind.choices)
_ENGAGEMENT_KINDS = dict(Engagement.Kind.choices)
_DIRECTIONS = dict(Engagement.Direction.choices)
_EVENTS_SQL = (
    "SELECT e.occurred_at, e.summary, e.link, e.kind, e.actor_id FROM accounts_event e "
    "WHERE e.account_id = %s "
    "ORDER BY e.occurred_at DESC, e.id DESC LIMIT %s"
)
_EVENT_FIELDS = (_f(Event, "occurred_at"), None, None, None, None, None, None)
_ENGAGEMENTS_SQL = (
    "SELECT g.occurred_at, g.kind, g.direction, g.subject, g.hubspot_id, g.is_touch, "
    "g.contact_id, g.owner_id FROM support_engagement g "
    "WHERE g.account_id = %s AND g.archived_at IS NULL "
    "ORDER BY g.occurred_at DESC, g.id DESC LIMIT %s"
)
_ENGAGEMENT_FIELDS = (
    _f(Engagement, "occurred_at"),
    None,
    None,
    None,
    None,
    _f(Engagement, "is_touch"),
    None,
    None,
    None,
    None,
)


def engagements(
    *, account_id: int, contacts: ContactNames, limit: int = TIMELINE
) -> list[tuple[Any, ...]]:
    """The latest `limit` engagements, newest first: the timeline's, and the support
    panel's last touches when they are among them (`support_panel`)."""
    return contacts.named(fetch(*_engagements(account_id, limit), _ENGAGEMENT_FIELDS), column=6)


def _engagements(account_id: int, limit: int) -> Statement:
    return Statement(_ENGAGEMENTS_SQL, (account_id, limit))


def _events(account_id: int, limit: int) -> Statement:
    return Statement(_EVENTS_SQL, (account_id, limit))


def timeline(
    *,
    account_id: int,
    engagement_rows: list[tuple[Any, ...]],
    people: People,
    limit: int = TIMELINE,
) -> list[TimelineEntry]:
    """The latest `limit` entries of Lifecycle's events and the CRM's engagements
    (`engagements`, read with the same limit), newest first
    (lifecycle.timeline.account_timeline_entries)."""
    entries = [
        TimelineEntry(
            occurred_at,
            summary,
            link,
            str(_EVENT_KINDS.get(kind, kind)),
            people.get(user),
        )
        for occurred_at, summary, link, kind, user in fetch(
            *_events(account_id, limit), _EVENT_FIELDS
        )
    ]
    for (
        occurred_at,
        kind,
        direction,
        subject,
        hubspot_id,
        _touch,
        contact,
        user,
    ) in engagement_rows:
        kind_label = str(_ENGAGEMENT_KINDS.get(kind, kind))
        way = f" ({str(_DIRECTIONS.get(direction, direction)).lower()})" if direction else ""
        summary = f"{kind_label}{way}: {subject or 'no subject'}"
        if contact is not None:
            summary += f" · with {contact}"
        entries.append(
            TimelineEntry(
                occurred_at,
                summary[:500],
                hubspot_record_url(Engagement.TYPE_IDS.get(kind, ""), hubspot_id),
                f"{kind_label} (CRM)",
                people.get(user),
            )
        )
    entries.sort(key=lambda entry: entry.occurred_at, reverse=True)
    return entries[:limit]


# -- Support panel ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Named:
    """A related row the page shows by one text (a stage's label)."""

    label: str


@dataclass(frozen=True, slots=True)
class ContactName:
    name: str


@dataclass(frozen=True, slots=True)
class OpenTicket:
    subject: str
    hubspot_url: str
    priority: str
    is_escalated: bool
    stage: Named
    opened_at: datetime
    contact: ContactName | None
    owner: Person | None

    @property
    def get_priority_display(self) -> str:
        return str(_PRIORITIES.get(self.priority, self.priority))


_PRIORITIES = dict(Ticket.Priority.choices)


@dataclass(frozen=True, slots=True)
class SurveyAnswer:
    survey_type: str
    score: Decimal | None
    response_group: str
    submitted_at: datetime
    comment: str
    contact: ContactName | None

    @property
    def get_survey_type_display(self) -> str:
        return str(_SURVEY_TYPES.get(self.survey_type, self.survey_type))

    @property
    def get_response_group_display(self) -> str:
        return str(_GROUPS.get(self.response_group, self.response_group))


_SURVEY_TYPES = dict(FeedbackSubmission.SurveyType.choices)
_GROUPS = dict(FeedbackSubmission.Group.choices)


@dataclass(frozen=True, slots=True)
class Touch:
    kind: str
    subject: str
    hubspot_url: str
    occurred_at: datetime
    owner: Person | None
    contact: ContactName | None

    @property
    def get_kind_display(self) -> str:
        return str(_ENGAGEMENT_KINDS.get(self.kind, self.kind))


@dataclass
class SupportPanel:
    figures: SupportFigures
    open_tickets: list[OpenTicket]
    responses: list[SurveyAnswer]
    touches: list[Touch]


_TICKETS_SQL = (
    "SELECT t.id, t.subject, t.hubspot_id, t.priority, t.opened_at, t.closed_at, "
    "t.is_closed, s.label, t.contact_id, t.owner_id FROM support_ticket t "
    "INNER JOIN support_ticketstage s ON s.id = t.stage_id "
    "WHERE t.account_id = %s AND t.archived_at IS NULL "
    "AND (NOT t.is_closed OR t.opened_at > %s OR t.closed_at > %s)"
)
_TICKET_FIELDS = (
    None,
    None,
    None,
    None,
    _f(Ticket, "opened_at"),
    _f(Ticket, "closed_at"),
    _f(Ticket, "is_closed"),
) + (None,) * 5
_ANSWERS_SQL = (
    "SELECT f.id, f.survey_type, f.score, f.response_group, f.submitted_at, f.comment, "
    "f.contact_id FROM support_feedbacksubmission f "
    "WHERE f.account_id = %s AND f.archived_at IS NULL AND (f.submitted_at > %s OR f.id IN "
    "(SELECT l.id FROM support_feedbacksubmission l WHERE l.account_id = %s "
    "AND l.archived_at IS NULL ORDER BY l.submitted_at DESC, l.id DESC LIMIT %s)) "
    "ORDER BY f.submitted_at DESC, f.id DESC"
)
_ANSWER_FIELDS = (
    None,
    None,
    _f(FeedbackSubmission, "score"),
    None,
    _f(FeedbackSubmission, "submitted_at"),
    None,
    None,
)
_TOUCHES_SQL = (
    "SELECT g.kind, g.subject, g.hubspot_id, g.occurred_at, g.contact_id, g.owner_id "
    "FROM support_engagement g "
    "WHERE g.account_id = %s AND g.is_touch AND g.archived_at IS NULL "
    "AND g.occurred_at <= %s ORDER BY g.occurred_at DESC, g.id DESC LIMIT %s"
)
_TOUCH_FIELDS = (None, None, None, _f(Engagement, "occurred_at"), None, None, None, None)


def _ticket_figures(
    figures: SupportFigures, rows: list[tuple[Any, ...]], now: datetime
) -> list[tuple[Any, ...]]:
    """The ticket figures of accounts.support.selectors.support_figures, counted over
    the account's open tickets and those opened in 60 or closed in 90 days; returns
    the open tickets' rows."""
    day30, day60 = now - timedelta(days=30), now - timedelta(days=60)
    weeks = [now - timedelta(weeks=TREND_WEEKS - 1 - w) for w in range(TREND_WEEKS)]
    weekly = [0] * TREND_WEEKS
    closed_since = now - timedelta(days=CLOSE_DAYS)
    hours: list[float] = []
    open_rows = []
    for row in rows:
        priority, opened, closed, is_closed = row[3], row[4], row[5], row[6]
        if closed is not None and closed > closed_since:
            hours.append(max((closed - opened).total_seconds(), 0) / 3600)
        if is_closed and opened <= day60:
            continue  # only read for its close time
        if not is_closed:
            open_rows.append(row)
            figures.open_tickets += 1
            if priority in Ticket.ESCALATED:
                figures.escalated_open += 1
        if opened > day30:
            figures.opened_30d += 1
        elif opened > day60:
            figures.opened_prev_30d += 1
        for w, end in enumerate(weeks):
            if end - timedelta(weeks=1) < opened <= end:
                weekly[w] += 1
    figures.weekly_opened = weekly
    if hours:
        figures.median_close_hours = round(statistics.median(hours), 1)
    return open_rows


def _survey_figures(figures: SupportFigures, answers: list[SurveyAnswer], now: datetime) -> None:
    since = now - timedelta(days=SURVEY_DAYS)
    nps, promoters, nps_detractors = 0, 0, 0
    csat: list[Decimal] = []
    for a in answers:
        if a.submitted_at <= since:
            continue
        if a.response_group == FeedbackSubmission.Group.DETRACTOR:
            figures.detractors += 1
        if a.survey_type == FeedbackSubmission.SurveyType.NPS and a.response_group:
            nps += 1
            promoters += a.response_group == FeedbackSubmission.Group.PROMOTER
            nps_detractors += a.response_group == FeedbackSubmission.Group.DETRACTOR
        elif a.survey_type == FeedbackSubmission.SurveyType.CSAT and a.score is not None:
            csat.append(Decimal(a.score))
    figures.nps_responses = nps
    if nps:
        figures.nps = round((promoters - nps_detractors) * 100 / nps)
    figures.csat_responses = len(csat)
    if csat:
        figures.csat = (sum(csat, Decimal(0)) / len(csat)).quantize(Decimal("0.01"))


def _touches(
    account_id: int,
    now: datetime,
    engagement_rows: list[tuple[Any, ...]],
    limit: int,
    read: int,
    contacts: ContactNames,
    people: People,
) -> list[Touch]:
    """The latest `limit` touches up to now: the first ones among the latest engagements
    already read (`read` asked for) when there are enough there, or when those were
    all the account has; else one statement."""
    rows = [
        (kind, subject, hubspot_id, occurred, contact, user)
        for occurred, kind, _way, subject, hubspot_id, touch, contact, user in (engagement_rows)
        if touch and occurred <= now
    ]
    if len(rows) < limit and len(engagement_rows) >= read:
        rows = contacts.named(
            fetch(_TOUCHES_SQL, [account_id, at(now), limit], _TOUCH_FIELDS), column=4
        )
    return [
        Touch(
            kind,
            subject,
            hubspot_record_url(Engagement.TYPE_IDS.get(kind, ""), hubspot_id),
            occurred,
            people.get(user),
            None if contact is None else ContactName(contact),
        )
        for kind, subject, hubspot_id, occurred, contact, user in rows[:limit]
    ]


def _tickets(account_id: int, now: datetime) -> Statement:
    since, closed_since = now - timedelta(days=60), now - timedelta(days=CLOSE_DAYS)
    return Statement(_TICKETS_SQL, (account_id, at(since), at(closed_since)))


def _answers(account_id: int, now: datetime, answers: int) -> Statement:
    since = now - timedelta(days=SURVEY_DAYS)
    return Statement(_ANSWERS_SQL, (account_id, at(since), account_id, answers))


def support_panel(
    *,
    account_id: int,
    now: datetime,
    engagement_rows: list[tuple[Any, ...]],
    contacts: ContactNames,
    people: People,
    engagements_read: int = TIMELINE,
    tickets: int = 10,
    answers: int = ANSWERS,
    touches: int = 5,
) -> SupportPanel:
    """The support panel in two statements (three when the touches are not among the
    engagements read for the timeline): the figures of
    `accounts.support.selectors.account_support_figures` (the same definitions,
    counted here over the rows the lists read too), the open tickets escalated first
    then oldest (`account_open_tickets`), the latest survey answers
    (`account_survey_responses`) and the latest touches (`account_last_touches`)."""
    figures = SupportFigures()
    ticket_rows = contacts.named(fetch(*_tickets(account_id, now), _TICKET_FIELDS), column=8)
    open_rows = _ticket_figures(figures, ticket_rows, now)
    # As account_open_tickets: the 200 oldest, escalated first, then by age.
    open_rows.sort(key=lambda r: (r[4], r[0]))
    listed = [
        OpenTicket(
            subject,
            hubspot_record_url("0-5", hubspot_id),
            priority,
            priority in Ticket.ESCALATED,
            Named(stage),
            opened,
            None if contact is None else ContactName(contact),
            people.get(user),
        )
        for (
            _pk,
            subject,
            hubspot_id,
            priority,
            opened,
            _closed,
            _is_closed,
            stage,
            contact,
            user,
        ) in open_rows[:200]
    ]
    listed.sort(key=lambda t: (not t.is_escalated, t.opened_at))
    survey = [
        SurveyAnswer(kind, score, group, submitted, comment, None if c is None else ContactName(c))
        for _pk, kind, score, group, submitted, comment, c in contacts.named(
            fetch(*_answers(account_id, now, answers), _ANSWER_FIELDS),
            column=6,
        )
    ]
    _survey_figures(figures, survey, now)
    latest_touches = _touches(
        account_id, now, engagement_rows, touches, engagements_read, contacts, people
    )
    if latest_touches:
        figures.last_touch_at = latest_touches[0].occurred_at
    return SupportPanel(figures, listed[:tickets], survey[:answers], latest_touches)


# -- Contacts, deals, usage -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ContactRow:
    pk: int
    name: str
    email: str
    title: str
    role: str

    @property
    def get_role_display(self) -> str:
        return str(_ROLES.get(self.role, self.role))


_ROLES = dict(_f(Contact, "role").flatchoices)
_CONTACTS_SQL = (
    "SELECT id, name, email, title, role, archived_at FROM accounts_contact "
    "WHERE account_id = %s ORDER BY name"
)


class ContactNames:
    """The names of the contacts the page's records name (a ticket's, an answer's, an
    engagement's, a task's), from the account's contacts read for its panel, archived
    ones included, instead of a join per statement (planning a join cost PostgreSQL
    more than running the statement). A contact of another account is read when met."""

    def __init__(self, names: dict[int, str]) -> None:
        self.names = names

    def named(self, rows: list[tuple[Any, ...]], *, column: int) -> list[tuple[Any, ...]]:
        """`rows` with the contact id at `column` replaced by its name (None: none)."""
        missing = {r[column] for r in rows if r[column] is not None} - self.names.keys()
        if missing:
            marks = ", ".join(["%s"] * len(missing))
            self.names.update(
                fetch(
                    f"SELECT id, name FROM accounts_contact WHERE id IN ({marks})",
                    sorted(missing),
                    (None, None),
                )
            )
        return [
            (*r[:column], None if r[column] is None else self.names[r[column]], *r[column + 1 :])
            for r in rows
        ]


def contacts(*, account_id: int) -> tuple[list[ContactRow], ContactNames]:
    """The contacts panel (the live contacts, by name), and every contact's name."""
    rows = fetch(_CONTACTS_SQL, [account_id], (None,) * 6)
    listed = [ContactRow(*row[:5]) for row in rows if row[5] is None]
    return listed, ContactNames({row[0]: row[1] for row in rows})


@dataclass(frozen=True, slots=True)
class DealRow:
    pk: int
    name: str
    kind: str
    amount: Decimal
    close_date: date | None
    stage: Named

    @property
    def get_kind_display(self) -> str:
        return str(_DEAL_KINDS.get(self.kind, self.kind))


_DEAL_KINDS = dict(Deal.Kind.choices)
_DEALS_SQL = (
    "SELECT d.id, d.name, d.kind, d.amount, d.close_date, s.label FROM accounts_deal d "
    "INNER JOIN accounts_pipelinestage s ON s.id = d.stage_id "
    "WHERE d.account_id = %s AND d.archived_at IS NULL ORDER BY d.close_date DESC, d.name"
)
_DEAL_FIELDS = (None, None, None, _f(Deal, "amount"), _f(Deal, "close_date"), None)


def deals(*, account_id: int) -> list[DealRow]:
    return [
        DealRow(pk, name, kind, amount, close_date, Named(label))
        for pk, name, kind, amount, close_date, label in fetch(
            _DEALS_SQL, [account_id], _DEAL_FIELDS
        )
    ]


@dataclass(frozen=True, slots=True)
class Usage:
    date: date
    active_users: int | None
    seats_used: int | None
    seats_purchased: int | None
    logins_30d: int | None
    core_features_adopted: int | None
    open_tickets: int | None
    csat: Any
    nps: Any


_USAGE_COLUMNS = (
    "date",
    "active_users",
    "seats_used",
    "seats_purchased",
    "logins_30d",
    "core_features_adopted",
    "open_tickets",
    "csat",
    "nps",
)
_USAGE_SQL = (
    f"SELECT {', '.join(_USAGE_COLUMNS)} FROM accounts_usagesnapshot "
    "WHERE account_id = %s ORDER BY date DESC LIMIT 1"
)
_USAGE_FIELDS = tuple(_f(UsageSnapshot, c) for c in _USAGE_COLUMNS)


def latest_usage(*, account_id: int) -> Usage | None:
    rows = fetch(_USAGE_SQL, [account_id], _USAGE_FIELDS)
    return Usage(*rows[0]) if rows else None


# -- Onboarding -------------------------------------------------------------------


class Related(list[Any]):
    """A list the page reads as a related manager (`plan.milestones.all`)."""

    def all(self) -> Related:
        return self


@dataclass(frozen=True, slots=True)
class TemplateName:
    name: str


@dataclass(frozen=True, slots=True)
class OpenMilestone:
    title: str
    due_date: date
    owner_side: str
    is_open: bool = True

    @property
    def get_owner_side_display(self) -> str:
        return str(_OWNER_SIDES.get(self.owner_side, self.owner_side))


_OWNER_SIDES = dict(OwnerSide.choices)
_PLAN_STATUSES = dict(PlanStatus.choices)


@dataclass(frozen=True, slots=True)
class OnboardingPlanRow:
    get_absolute_url: str
    template: TemplateName
    template_version: int
    start_date: date
    status: str
    progress: int
    ttv_days: int | None
    first_value_on: date | None
    is_active: bool
    # The open ones only, of the running plan only: all the page lists.
    milestones: Related

    @property
    def get_status_display(self) -> str:
        return str(_PLAN_STATUSES.get(self.status, self.status))


_PLANS_SQL = (
    "SELECT p.id, p.template_version, p.start_date, p.status, p.progress, p.ttv_days, "
    "p.first_value_on, p.finished_on, t.name, m.title, m.due_date, m.owner_side "
    "FROM onboarding_onboardingplan p "
    "INNER JOIN onboarding_onboardingtemplate t ON t.id = p.template_id "
    "LEFT JOIN onboarding_milestone m ON m.plan_id = p.id AND p.finished_on IS NULL "
    "AND m.completed_on IS NULL AND m.skipped_on IS NULL "
    "WHERE p.account_id = %s "
    "ORDER BY p.finished_on DESC NULLS FIRST, p.start_date DESC, p.id, "
    "m.position, m.due_date, m.id"
)
_PLAN_FIELDS = (
    None,
    None,
    _f(OnboardingPlan, "start_date"),
    None,
    None,
    None,
    _f(OnboardingPlan, "first_value_on"),
    _f(OnboardingPlan, "finished_on"),
    None,
    None,
    _f(Milestone, "due_date"),
    None,
)


def onboarding_plans(*, account: AccountHead) -> list[OnboardingPlanRow]:
    """onboarding.selectors.account_plans: running plan first, then the latest."""
    if not account.onboarding_status:
        return []  # starting a plan writes the status: no status, no plan
    plan_url = url_for_ids("onboarding:plan")
    plans: dict[int, OnboardingPlanRow] = {}
    for (
        pk,
        version,
        start,
        status,
        progress,
        ttv,
        first_value,
        finished,
        template,
        title,
        due,
        side,
    ) in fetch(_PLANS_SQL, [account.pk], _PLAN_FIELDS):
        plan = plans.get(pk)
        if plan is None:
            plan = plans[pk] = OnboardingPlanRow(
                plan_url(pk),
                TemplateName(template),
                version,
                start,
                status,
                progress,
                ttv,
                first_value,
                finished is None,
                Related(),
            )
        if title is not None:
            plan.milestones.append(OpenMilestone(title, due, side))
    return list(plans.values())


# -- Success plan, reviews, renewal -------------------------------------------------


@dataclass(frozen=True, slots=True)
class ObjectiveRow:
    title: str
    metric: str
    baseline: Decimal
    target: Decimal
    current_value: Decimal
    status: str

    @property
    def get_status_display(self) -> str:
        return str(_OBJECTIVE_STATUSES.get(self.status, self.status))

    @property
    def progress(self) -> int:
        from success.models.plans import objective_progress

        return objective_progress(self.baseline, self.target, self.current_value)


_OBJECTIVE_STATUSES = dict(ObjectiveStatus.choices)


@dataclass(frozen=True, slots=True)
class PlanRow:
    desired_outcomes: str
    objectives: Related


@dataclass(frozen=True, slots=True)
class ReviewRow:
    get_absolute_url: str
    kind: str
    scheduled_for: date
    status: str
    held_on: date | None
    sentiment: str
    outcomes: str
    owner: Person | None

    @property
    def get_kind_display(self) -> str:
        return str(_REVIEW_KINDS.get(self.kind, self.kind))

    @property
    def get_sentiment_display(self) -> str:
        return str(_SENTIMENTS.get(self.sentiment, self.sentiment))


_REVIEW_KINDS = dict(ReviewKind.choices)
_SENTIMENTS = dict(Sentiment.choices)


@dataclass(frozen=True, slots=True)
class RenewalRow:
    pk: int
    get_absolute_url: str
    renewal_date: date
    current_arr: Decimal
    forecast_category: str
    forecast_arr: Decimal | None

    @property
    def get_forecast_category_display(self) -> str:
        return str(_FORECASTS.get(self.forecast_category, self.forecast_category))


@dataclass(frozen=True, slots=True)
class TaskRow:
    title: str
    assignee: Person | str | None
    due_date: date | None
    done: bool = False


@dataclass
class AccountSuccess:
    """success.selectors.overview.AccountSuccess, as rows."""

    plan: PlanRow | None
    upcoming_reviews: list[ReviewRow]
    past_reviews: list[ReviewRow]
    renewal: RenewalRow | None
    open_tasks: list[TaskRow]


_SUCCESS_PLAN_SQL = (
    "SELECT p.id, p.desired_outcomes, o.id, o.title, o.metric, o.baseline, o.target, "
    "o.current_value, o.status FROM (SELECT id, desired_outcomes FROM success_successplan "
    "WHERE account_id = %s AND replaced_at IS NULL ORDER BY created_at DESC, id DESC "
    "LIMIT 1) p LEFT JOIN success_objective o ON o.plan_id = p.id "
    "ORDER BY o.display_order, o.id"
)
_SUCCESS_PLAN_FIELDS = (
    None,
    None,
    None,
    None,
    None,
    _f(Objective, "baseline"),
    _f(Objective, "target"),
    _f(Objective, "current_value"),
    None,
)
_REVIEWS_SQL = (
    "SELECT r.id, r.kind, r.scheduled_for, r.status, r.held_on, r.sentiment, r.outcomes, "
    "r.owner_id FROM success_businessreview r "
    "WHERE r.account_id = %s AND NOT (r.status = %s) "
    "ORDER BY r.scheduled_for DESC, r.id DESC"
)
_REVIEW_FIELDS = (
    None,
    None,
    _f(BusinessReview, "scheduled_for"),
    None,
    _f(BusinessReview, "held_on"),
) + (None,) * 5
_RENEWAL_SQL = (
    "SELECT id, renewal_date, current_arr, forecast_category, forecast_arr "
    "FROM success_renewal WHERE account_id = %s AND status = %s "
    "ORDER BY renewal_date, id LIMIT 1"
)
_RENEWAL_FIELDS = (
    None,
    _f(Renewal, "renewal_date"),
    _f(Renewal, "current_arr"),
    None,
    _f(Renewal, "forecast_arr"),
)
_TASKS_SQL = (
    "SELECT t.title, t.due_date, t.assignee_contact_id, t.assignee_user_id "
    "FROM success_successtask t "
    "WHERE t.account_id = %s AND t.done_at IS NULL "
    "ORDER BY t.done_at, t.due_date, t.id LIMIT %s"
)
_TASK_FIELDS = (None, _f(SuccessTask, "due_date"), None, None, None, None)


def _success_plan(account_id: int) -> PlanRow | None:
    plan: PlanRow | None = None
    for _pk, outcomes, objective, *fields in fetch(
        _SUCCESS_PLAN_SQL, [account_id], _SUCCESS_PLAN_FIELDS
    ):
        if plan is None:
            plan = PlanRow(outcomes, Related())
        if objective is not None:
            plan.objectives.append(ObjectiveRow(*fields))
    return plan


def _reviews(account_id: int) -> Statement:
    return Statement(_REVIEWS_SQL, (account_id, BusinessReview.Status.CANCELLED.value))


def _renewal(account_id: int) -> Statement:
    return Statement(_RENEWAL_SQL, (account_id, Renewal.Status.OPEN.value))


def _tasks(account_id: int) -> Statement:
    return Statement(_TASKS_SQL, (account_id, 10))


def account_success(*, account_id: int, contacts: ContactNames, people: People) -> AccountSuccess:
    """success.selectors.overview.account_success in four statements."""
    review_url = url_for_ids("success:review")
    reviews = [
        ReviewRow(
            review_url(pk),
            kind,
            scheduled,
            status,
            held,
            sentiment,
            outcomes,
            people.get(user),
        )
        for pk, kind, scheduled, status, held, sentiment, outcomes, user in fetch(
            *_reviews(account_id), _REVIEW_FIELDS
        )
    ]
    renewal_url = url_for_ids("success:renewal")
    renewals = [
        RenewalRow(pk, renewal_url(pk), *rest)
        for pk, *rest in fetch(*_renewal(account_id), _RENEWAL_FIELDS)
    ]
    tasks = [
        TaskRow(title, people.get(user) or contact, due)
        for title, due, contact, user in contacts.named(
            fetch(*_tasks(account_id), _TASK_FIELDS), column=2
        )
    ]
    return AccountSuccess(
        plan=_success_plan(account_id),
        upcoming_reviews=sorted(
            (r for r in reviews if r.status == BusinessReview.Status.SCHEDULED),
            key=lambda r: r.scheduled_for,
        ),
        past_reviews=[r for r in reviews if r.status == BusinessReview.Status.HELD][:5],
        renewal=renewals[0] if renewals else None,
        open_tasks=tasks,
    )


# -- Health card, alerts, playbooks -------------------------------------------------

_SCORE_SQL = (
    "SELECT s.score, s.band, s.breakdown, s.missing, m.green_min, m.yellow_min "
    "FROM health_healthscore s INNER JOIN health_healthmodel m ON m.id = s.model_id "
    "WHERE s.account_id = %s AND s.date > %s ORDER BY s.date DESC LIMIT 1"
)
_SCORE_FIELDS = (
    None,
    None,
    _f(HealthScore, "breakdown"),
    _f(HealthScore, "missing"),
    _f(HealthModel, "green_min"),
    _f(HealthModel, "yellow_min"),
)
_OVERRIDE_SQL = (
    "SELECT o.score, o.created_by_id FROM health_healthoverride o "
    "WHERE o.account_id = %s AND o.ended_at IS NULL AND o.expires_on >= %s "
    "ORDER BY o.created_at DESC LIMIT 1"
)


def _score(account_id: int, today: date, days: int) -> Statement:
    return Statement(_SCORE_SQL, (account_id, on(today - timedelta(days=days))))


def _override(account_id: int, today: date) -> Statement:
    return Statement(_OVERRIDE_SQL, (account_id, on(today)))


def health(*, account_id: int, today: date, people: People, days: int = HEALTH_DAYS) -> HealthCard:
    """The health card of success.health.selectors.account_health: the latest score
    of the last `days` and the override in force."""
    scores = fetch(*_score(account_id, today, days), _SCORE_FIELDS)
    overrides = fetch(*_override(account_id, today), (None, None))
    override = None
    if overrides:
        score, user = overrides[0]
        override = (score, people.get(user))
    return health_card(latest=scores[0] if scores else None, override=override)


@dataclass(frozen=True, slots=True)
class AlertRow:
    status: str
    message: str
    due_on: date

    @property
    def get_status_display(self) -> str:
        return str(_ALERT_STATUSES.get(self.status, self.status))


_ALERT_STATUSES = dict(Alert.Status.choices)
_ALERTS_SQL = (
    "SELECT status, message, due_on FROM alerts_alert "
    "WHERE account_id = %s AND status IN (%s, %s) ORDER BY due_on, opened_at DESC"
)


def _alerts(account_id: int) -> Statement:
    live = (Alert.Status.OPEN.value, Alert.Status.ACKNOWLEDGED.value)
    return Statement(_ALERTS_SQL, (account_id, *live))


def live_alerts(*, account_id: int) -> list[AlertRow]:
    return [
        AlertRow(*row) for row in fetch(*_alerts(account_id), (None, None, _f(Alert, "due_on")))
    ]


@dataclass(frozen=True, slots=True)
class PlaybookName:
    name: str


@dataclass(frozen=True, slots=True)
class RunRow:
    pk: int
    playbook: PlaybookName
    status: str
    objective_met_on: date | None
    steps_total: int
    done_count: int

    @property
    def get_status_display(self) -> str:
        return str(_RUN_STATUSES.get(self.status, self.status))


_RUN_STATUSES = dict(RunStatus.choices)
_RUNS_SQL = (
    "SELECT r.id, p.name, r.status, r.objective_met_on, "
    "(SELECT COUNT(*) FROM playbooks_playbookrunstep s WHERE s.run_id = r.id), "
    "(SELECT COUNT(*) FROM playbooks_playbookrunstep s WHERE s.run_id = r.id "
    "AND s.status <> %s) "
    "FROM playbooks_playbookrun r INNER JOIN playbooks_playbook p ON p.id = r.playbook_id "
    "WHERE r.account_id = %s "
    "ORDER BY CASE WHEN r.status IN (%s, %s) THEN 0 ELSE 1 END, r.started_on DESC, r.id DESC "
    "LIMIT %s"
)


def playbook_runs(*, account_id: int, limit: int = RUNS) -> list[RunRow]:
    """success.playbooks.selectors.account_runs: live runs first, then the latest."""
    return [
        RunRow(pk, PlaybookName(name), status, met, int(total), int(done))
        for pk, name, status, met, total, done in fetch(
            *_runs(account_id, limit),
            (None, None, None, _f(PlaybookRun, "objective_met_on"), None, None),
        )
    ]


def _runs(account_id: int, limit: int) -> Statement:
    live = (s.value for s in LIVE_RUN)
    return Statement(_RUNS_SQL, (RunStepStatus.PENDING.value, account_id, *live, limit))


_PLAYBOOKS_SQL = "SELECT id, name FROM playbooks_playbook WHERE is_active ORDER BY name"


def startable_playbooks() -> list[tuple[int, str]]:
    """The playbook start form's choices (StartForm's queryset, in its order)."""
    return [(pk, name) for pk, name in fetch(_PLAYBOOKS_SQL, [], (None, None))]


def page_statements(*, pk: int, now: datetime, today: date, playbooks: bool) -> list[Statement]:
    """The statements the page's reads send whatever the rows say, for one round trip
    (accounts.plain_sql.read_ahead), with the parameters the reads give them (the
    page's defaults: TIMELINE, ANSWERS, HEALTH_DAYS, RUNS). Left to run when met:
    what depends on rows read (people's names, another account's contacts, touches
    older than the engagements read), the onboarding plans (only for an account with
    an onboarding status) and the sync conflicts' count (only for an account from
    HubSpot)."""
    statements = [
        Statement(_ACCOUNT_SQL, (pk,)),
        Statement(_CONTACTS_SQL, (pk,)),
        _engagements(pk, TIMELINE),
        _events(pk, TIMELINE),
        Statement(_DEALS_SQL, (pk,)),
        _tickets(pk, now),
        _answers(pk, now, ANSWERS),
        Statement(_USAGE_SQL, (pk,)),
        _reviews(pk),
        _renewal(pk),
        _tasks(pk),
        Statement(_SUCCESS_PLAN_SQL, (pk,)),
        _score(pk, today, HEALTH_DAYS),
        _override(pk, today),
        _alerts(pk),
        _runs(pk, RUNS),
    ]
    if playbooks:
        statements.append(Statement(_PLAYBOOKS_SQL, ()))
    return statements

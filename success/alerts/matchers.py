"""One matcher per rule kind: which accounts meet the rule today, each with a
message for the owner. Every matcher reads the whole portfolio in one or two
queries; none loops over accounts with a query each."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db.models import Count, Exists, Max, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from accounts.formats import date_display
from accounts.models import Account, Stage, UsageSnapshot
from accounts.support.models import Engagement, FeedbackSubmission, Ticket
from success.health.models import HealthScore
from success.models import BusinessReview

from .models import AlertRule, RuleKind

Matches = dict[int, str]


@dataclass(frozen=True)
class Hit:
    """A match about one record of the account (a survey answer, a ticket)."""

    message: str
    ticket_id: int | None = None
    feedback_id: int | None = None

    @property
    def key(self) -> str:
        if self.feedback_id:
            return f"feedback:{self.feedback_id}"
        return f"ticket:{self.ticket_id}" if self.ticket_id else ""


# Record rules: (account id, record key) -> Hit.
RecordMatches = dict[tuple[int, str], Hit]


def day_start(day: date) -> datetime:
    """The first instant of `day` in the project's zone."""
    return datetime.combine(day, time.min, tzinfo=timezone.get_current_timezone())


def _live_accounts() -> QuerySet[Account]:
    return Account.objects.filter(status=Account.Status.ACTIVE).exclude(stage=Stage.CHURNED)


def health_drop(rule: AlertRule, today: date) -> Matches:
    days, threshold = rule.days or 7, rule.threshold or 20
    rows = (
        HealthScore.objects.filter(
            date__gte=today - timedelta(days=days), date__lte=today, account__in=_live_accounts()
        )
        .order_by("account_id", "date")
        .values_list("account_id", "date", "score")
    )
    peak: dict[int, int] = {}
    now: dict[int, int] = {}
    for pk, when, score in rows.iterator(chunk_size=20_000):
        if when == today:
            now[pk] = score
        else:
            peak[pk] = max(score, peak.get(pk, 0))
    out = {}
    for pk, score in now.items():
        before = peak.get(pk)
        if before and (before - score) * 100 >= threshold * before:
            drop = round(100 * (before - score) / before)
            out[pk] = f"Health fell {drop}% in {days} days ({before} → {score})"
    return out


def no_login(rule: AlertRule, today: date) -> Matches:
    days = rule.days or 30
    rows = (
        UsageSnapshot.objects.filter(
            date__gt=today - timedelta(days=days), date__lte=today, account__in=_live_accounts()
        )
        .order_by("account_id")
        .values_list("account_id", "logins_30d")
    )
    any_login: dict[int, bool] = {}
    for pk, logins in rows.iterator(chunk_size=20_000):
        any_login[pk] = any_login.get(pk, False) or bool(logins)
    return {pk: f"No product logins in {days} days" for pk, seen in any_login.items() if not seen}


def renewal_without_review(rule: AlertRule, today: date) -> Matches:
    days, review_days = rule.days or 90, rule.second_days or 120
    recent_review = BusinessReview.objects.filter(
        account=OuterRef("pk"),
        status=BusinessReview.Status.HELD,
        held_on__gte=today - timedelta(days=review_days),
    )
    rows = (
        Account.objects.filter(
            pk__in=_live_accounts(),
            renewal_date__gte=today,
            renewal_date__lte=today + timedelta(days=days),
        )
        .exclude(Exists(recent_review))
        .values_list("pk", "renewal_date")
    )
    return {
        pk: f"Renews {date_display(renewal)} and no business review in {review_days} days"
        for pk, renewal in rows
    }


def onboarding_late(rule: AlertRule, today: date) -> Matches:
    rows = _live_accounts().filter(onboarding_status="late").values_list("pk", flat=True)
    return {pk: "An onboarding milestone is overdue" for pk in rows}


def seat_expansion(rule: AlertRule, today: date) -> Matches:
    threshold, minimum = rule.threshold or 80, rule.minimum or 5
    rows = (
        UsageSnapshot.objects.filter(
            date__gt=today - timedelta(days=45), date__lte=today, account__in=_live_accounts()
        )
        .order_by("account_id", "-date")
        .values_list("account_id", "seats_used", "seats_purchased", "core_features_adopted")
    )
    out, seen = {}, set()
    for pk, used, bought, features in rows.iterator(chunk_size=20_000):
        if pk in seen:
            continue
        seen.add(pk)
        if used and bought and features is not None and features >= minimum:
            share = 100 * used / bought
            if share >= threshold:
                out[pk] = (
                    f"Uses {share:.0f}% of {bought} seats with {features} core features: "
                    "schedule a review about scaling"
                )
    return out


SCALES: dict[str, str] = {"NPS": " out of 10", "CES": " out of 7"}


def _score(value: Decimal | None) -> str:
    return "no score" if value is None else f"{value.normalize():f}"


def detractor(rule: AlertRule, today: date) -> RecordMatches:
    """Each detractor answer (HubSpot's response group; NPS 0-6 when HubSpot gave no
    group) of the last `days` days: one alert per answer, linking to it."""
    days = rule.days or 30
    rows = (
        FeedbackSubmission.objects.filter(
            account__in=_live_accounts(),
            archived_at__isnull=True,
            response_group=FeedbackSubmission.Group.DETRACTOR,
            submitted_at__gte=day_start(today - timedelta(days=days - 1)),
            submitted_at__lt=day_start(today + timedelta(days=1)),
        )
        .order_by()
        .values_list(
            "pk", "account_id", "survey_type", "score", "comment", "contact__name", "submitted_at"
        )
    )
    out: RecordMatches = {}
    for pk, account_id, survey, score, comment, who, when in rows:
        scale = SCALES.get(str(survey), "")
        text = (
            f"Detractor: {who or 'a contact'} answered the {survey} survey with "
            f"{_score(score)}{scale} on {date_display(timezone.localdate(when))}"
        )
        if comment:
            text += f": “{comment.strip()[:180]}”"
        hit = Hit(text, feedback_id=pk)
        out[(account_id, hit.key)] = hit
    return out


def escalated_ticket(rule: AlertRule, today: date) -> RecordMatches:
    """Each open high or urgent ticket opened `days` or more days ago."""
    days = rule.days or 3
    rows = (
        Ticket.objects.filter(
            account__in=_live_accounts(),
            is_closed=False,
            archived_at__isnull=True,
            priority__in=Ticket.ESCALATED,
            opened_at__lt=day_start(today - timedelta(days=days - 1)),
        )
        .order_by()
        .values_list("pk", "account_id", "priority", "subject", "opened_at")
    )
    out: RecordMatches = {}
    for pk, account_id, priority, subject, opened in rows:
        opened_on = timezone.localdate(opened)
        age = (today - opened_on).days
        hit = Hit(
            f"{Ticket.Priority(priority).label} ticket open {age} days "
            f"(since {date_display(opened_on)}): “{subject[:150]}”",
            ticket_id=pk,
        )
        out[(account_id, hit.key)] = hit
    return out


def tickets_up(rule: AlertRule, today: date) -> Matches:
    """Tickets opened in the last 30 days (today included) against the 30 before: up
    by `threshold`% or more, with at least `minimum` tickets in the last 30 days (so
    one ticket after none, or two after one, is not a rise). None before counts as a
    rise once the minimum is reached."""
    threshold, minimum = rule.threshold or 50, rule.minimum or 5
    start = day_start(today - timedelta(days=29))
    rows = (
        Ticket.objects.filter(
            account__in=_live_accounts(),
            archived_at__isnull=True,
            opened_at__gte=start - timedelta(days=30),
            opened_at__lt=day_start(today + timedelta(days=1)),
        )
        .order_by()
        .values("account_id")
        .annotate(
            recent=Count("pk", filter=Q(opened_at__gte=start)),
            before=Count("pk", filter=Q(opened_at__lt=start)),
        )
        .filter(recent__gte=minimum)
        .values_list("account_id", "recent", "before")
    )
    out = {}
    for pk, recent, before in rows:
        if before == 0:
            out[pk] = f"{recent} support tickets opened in the last 30 days, none in the 30 before"
        elif (recent - before) * 100 >= threshold * before:
            rise = round((recent - before) * 100 / before)
            out[pk] = (
                f"{recent} support tickets opened in the last 30 days, up {rise}% "
                f"from {before} in the 30 before"
            )
    return out


def no_touch(rule: AlertRule, today: date) -> Matches:
    """Accounts with ARR at or above the rule's whose last touch (a note, call, meeting
    or email with the customer, or an activity logged in Lifecycle) and last product
    login (usage snapshots) are both older than `days`."""
    days, arr = rule.days or 30, rule.arr_threshold or Decimal("0")
    cutoff = day_start(today - timedelta(days=days - 1))
    touch = (
        Engagement.objects.filter(
            account=OuterRef("pk"),
            is_touch=True,
            archived_at__isnull=True,
            occurred_at__lt=day_start(today + timedelta(days=1)),
        )
        .order_by()
        .values("account")
        .annotate(latest=Max("occurred_at"))
        .values("latest")
    )
    login = UsageSnapshot.objects.filter(
        account=OuterRef("pk"),
        date__gt=today - timedelta(days=days),
        date__lte=today,
        logins_30d__gt=0,
    )
    rows = (
        _live_accounts()
        .filter(arr__gte=arr)
        .annotate(touch=Subquery(touch))
        .exclude(Exists(login))
        .filter(Q(touch__isnull=True) | Q(touch__lt=cutoff))
        .filter(Q(last_activity_at__isnull=True) | Q(last_activity_at__lt=cutoff))
        .values_list("pk", "touch", "last_activity_at", "arr", "currency")
    )
    out = {}
    for pk, touched, activity, value, currency in rows:
        last = max((t for t in (touched, activity) if t is not None), default=None)
        since = f"last on {date_display(timezone.localdate(last))}" if last else "none on record"
        out[pk] = (
            f"No touch and no product login in {days} days ({since}); ARR {value:,.0f} {currency}"
        )
    return out


MATCHERS: dict[str, Callable[[AlertRule, date], Matches | RecordMatches]] = {
    RuleKind.HEALTH_DROP: health_drop,
    RuleKind.NO_LOGIN: no_login,
    RuleKind.RENEWAL_WITHOUT_REVIEW: renewal_without_review,
    RuleKind.ONBOARDING_LATE: onboarding_late,
    RuleKind.SEAT_EXPANSION: seat_expansion,
    RuleKind.DETRACTOR: detractor,
    RuleKind.ESCALATED_TICKET: escalated_ticket,
    RuleKind.TICKETS_UP: tickets_up,
    RuleKind.NO_TOUCH: no_touch,
}


def hits_for(rule: AlertRule, today: date) -> RecordMatches:
    """The rule's matches keyed by (account id, record key; "" for the account)."""
    found = MATCHERS[rule.kind](rule, today)
    return {
        (key if isinstance(key, tuple) else (key, "")): (
            value if isinstance(value, Hit) else Hit(value)
        )
        for key, value in found.items()
    }

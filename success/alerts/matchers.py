"""One matcher per rule kind: which accounts meet the rule today, each with a
message for the owner. Every matcher reads the whole portfolio in one or two
queries; none loops over accounts with a query each."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

from django.db.models import Exists, OuterRef, QuerySet

from accounts.formats import date_display
from accounts.models import Account, Stage, UsageSnapshot
from success.health.models import HealthScore
from success.models import BusinessReview

from .models import AlertRule, RuleKind

Matches = dict[int, str]


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


MATCHERS: dict[str, Callable[[AlertRule, date], Matches]] = {
    RuleKind.HEALTH_DROP: health_drop,
    RuleKind.NO_LOGIN: no_login,
    RuleKind.RENEWAL_WITHOUT_REVIEW: renewal_without_review,
    RuleKind.ONBOARDING_LATE: onboarding_late,
    RuleKind.SEAT_EXPANSION: seat_expansion,
}

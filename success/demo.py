"""Demo success data on top of the demo portfolio: success plans with
objectives and tasks, past and upcoming business reviews, and renewals in
every forecast category (plus one renewed and one churned). Written through
the services, so every audit row and CS field is as real use would leave it.
Idempotent: does nothing when success data exists."""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings

from accounts.demo import day_this_month
from accounts.models import Account, ForecastCategory, Stage, User

from . import services
from .models import BusinessReview, ChurnReason, Renewal, SuccessPlan
from .services import ActionItem

# Enough to make every page believable without making a 100k demo crawl;
# the daily job opens the remaining renewals.
MAX_RENEWALS = 300
MAX_PLANS = 40

OUTCOMES = [
    "Cut the time new support agents need to become productive.",
    "Give regional managers one weekly view of pipeline health.",
    "Retire three legacy tools and consolidate reporting.",
    "Reach self-serve onboarding for every new branch.",
]
OBJECTIVES = [
    ("Faster ramp", "Days to first solo ticket", 30, 12),
    ("Weekly active managers", "Managers active per week", 12, 40),
    ("Tool consolidation", "Legacy tools still in use", 3, 0),
    ("Self-serve onboarding", "% branches onboarded without help", 20, 90),
]
REASONS = {
    ForecastCategory.COMMIT: "Verbal yes from the sponsor; paperwork with procurement.",
    ForecastCategory.LIKELY: "Usage healthy, budget confirmed for next year.",
    ForecastCategory.AT_RISK: "Champion left and weekly usage fell by a third.",
    ForecastCategory.CHURN: "Customer told us they are consolidating on a competitor.",
}


def build(*, seed: int, today: date) -> str:
    if Renewal.objects.exists() or SuccessPlan.objects.exists():
        return "success data exists; left as is"
    rng = random.Random(seed)
    live = (
        Account.objects.filter(status=Account.Status.ACTIVE, owner__isnull=False)
        .exclude(stage=Stage.CHURNED)
        .select_related("owner")
    )
    lead = settings.SUCCESS_RENEWAL_LEAD_DAYS
    due = list(
        live.filter(
            renewal_date__isnull=False, renewal_date__lte=today + timedelta(days=lead)
        ).order_by("renewal_date", "pk")[:MAX_RENEWALS]
    )
    renewals = [services.renewal_create(account=a) for a in due]
    categories = [*ForecastCategory.values, ""]
    for i, renewal in enumerate(renewals):
        category = categories[i % len(categories)]
        if not category:
            continue  # left for the CSM to forecast
        factor = {"commit": "1.05", "likely": "1", "at_risk": "0.8", "churn": "0"}[category]
        services.renewal_forecast_change(
            renewal=renewal,
            category=category,
            forecast_arr=(renewal.current_arr * Decimal(factor)).quantize(Decimal("1")),
            reason=REASONS[ForecastCategory(category)],
            by=renewal.account.owner,
        )
    closed = 0
    if len(renewals) >= 4:
        won = renewals[0]
        services.renewal_renew(
            renewal=won,
            new_arr=(won.current_arr * Decimal("1.12")).quantize(Decimal("1")),
            by=won.account.owner,
            on=day_this_month(rng, today),
        )
        lost = renewals[3]
        services.renewal_churn(
            renewal=lost,
            reason=ChurnReason.objects.filter(is_active=True).first()
            or ChurnReason.objects.create(label="Other"),
            note="Budget moved to an in-house build.",
            by=lost.account.owner,
            on=day_this_month(rng, today),
        )
        closed = 2

    plans = 0
    for index, account in enumerate(live.order_by("pk")[:MAX_PLANS]):
        # Every third plan had an objective due and a review held this month,
        # so the dashboard's running period has success and engagement rates.
        recent = index % 3 == 0
        _plan_and_reviews(account=account, owner=account.owner, rng=rng, today=today, recent=recent)
        plans += 1
    return (
        f"{len(renewals)} renewals ({closed} closed), {plans} success plans, "
        f"{BusinessReview.objects.count()} business reviews"
    )


def _plan_and_reviews(
    *, account: Account, owner: User | None, rng: random.Random, today: date, recent: bool
) -> None:
    plan = services.plan_create(
        account=account,
        desired_outcomes=rng.choice(OUTCOMES),
        internal_notes="Sponsor prefers short written updates.",
        by=owner,
    )
    objectives = []
    for title, metric, baseline, target in rng.sample(OBJECTIVES, k=rng.randint(2, 3)):
        objectives.append(
            services.objective_create(
                plan=plan,
                title=title,
                metric=metric,
                baseline=Decimal(baseline),
                target=Decimal(target),
                due_date=today + timedelta(days=rng.randint(30, 180)),
                by=owner,
            )
        )
    # One objective already came due: achieved, or missed with a reason.
    first_title, first_metric, first_baseline, first_target = OBJECTIVES[rng.randrange(4)]
    decided = services.objective_create(
        plan=plan,
        title=f"{first_title} (pilot team)",
        metric=first_metric,
        baseline=Decimal(first_baseline),
        target=Decimal(first_target),
        due_date=day_this_month(rng, today) if recent else today - timedelta(rng.randint(7, 150)),
        by=owner,
    )
    achieved = rng.random() < 0.7
    services.objective_status_set(
        objective=decided,
        status="achieved" if achieved else "missed",
        note="Pilot team reached the target." if achieved else "Pilot lost its sponsor.",
        by=owner,
    )
    contact = account.contacts.first()
    for objective in objectives:
        services.task_create(
            account=account,
            objective=objective,
            title=f"Agree how to measure {objective.metric.lower()}",
            assignee_contact=contact,
            due_date=today + timedelta(days=rng.randint(-5, 20)),
            by=owner,
        )
    past = services.review_schedule(
        account=account,
        kind=rng.choice(["qbr", "ebr"]),
        scheduled_for=day_this_month(rng, today)
        if recent
        else today - timedelta(days=rng.randint(20, 100)),
        agenda="Goals since kickoff\nUsage and adoption\nRoadmap",
        attendee_users=[owner] if owner else [],
        attendee_contacts=[contact] if contact else [],
        by=owner,
    )
    services.review_hold(
        review=past,
        held_on=past.scheduled_for,
        sentiment=rng.choice(["positive", "positive", "neutral", "negative"]),
        outcomes="Agreed the objectives and who measures them.",
        action_items=[
            ActionItem(
                title="Send the usage report to the sponsor",
                assignee_user=owner,
                due_date=today + timedelta(days=rng.randint(-7, 14)),
            )
        ],
        by=owner,
    )
    # Progress since that review, so the next review pack shows movement.
    for objective in objectives:
        step = (objective.target - objective.baseline) * Decimal(rng.randint(20, 70)) / 100
        services.objective_value_record(
            objective=objective, value=(objective.baseline + step).quantize(Decimal("1")), by=owner
        )
    if rng.random() < 0.2:
        services.objective_status_set(
            objective=objectives[0],
            status="at_risk",
            note="Owner on leave until next month.",
            by=owner,
        )
    services.review_schedule(
        account=account,
        kind="qbr",
        scheduled_for=today + timedelta(days=rng.randint(3, 60)),
        agenda="Objective progress\nRenewal outlook\nExpansion ideas",
        attendee_users=[owner] if owner else [],
        by=owner,
    )

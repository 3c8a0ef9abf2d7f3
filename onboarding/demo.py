"""Demo onboarding: three templates and plans in every state, built through
the services so the timeline, history and account fields are what real use
would leave behind. Idempotent: does nothing once any plan exists."""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts.demo import day_this_month
from accounts.models import Account, Segment, Stage, User

from . import services
from .models import MilestoneKind, OnboardingPlan, OnboardingTemplate, OwnerSide, PlanStatus

K = MilestoneKind
TEMPLATES: list[dict[str, Any]] = [
    {
        "name": "Enterprise rollout",
        "description": "Scoped rollout with SSO, data integration and an executive go-live.",
        "segments": [Segment.ENTERPRISE],
        "milestones": [
            ("Kickoff with executive sponsor", K.KICKOFF, 5, OwnerSide.CSM, True, False),
            ("Technical scoping", K.CONFIGURATION, 14, OwnerSide.IMPLEMENTATION, True, False),
            ("SSO and data integration", K.INTEGRATION, 30, OwnerSide.CUSTOMER, True, False),
            ("Admin training", K.TRAINING, 35, OwnerSide.CSM, False, False),
            ("First dashboards in use", K.FIRST_VALUE, 45, OwnerSide.CUSTOMER, True, True),
            ("Go-live", K.GO_LIVE, 60, OwnerSide.CSM, True, False),
            ("Day-90 adoption review", K.ADOPTION_CHECKPOINT, 90, OwnerSide.CSM, True, False),
        ],
    },
    {
        "name": "Mid-market standard",
        "description": "Four weeks to first value, go-live in five.",
        "segments": [Segment.MID_MARKET],
        "milestones": [
            ("Kickoff call", K.KICKOFF, 5, OwnerSide.CSM, True, False),
            ("Workspace configured", K.CONFIGURATION, 14, OwnerSide.CUSTOMER, True, False),
            ("CRM integration", K.INTEGRATION, 21, OwnerSide.IMPLEMENTATION, False, False),
            ("First report shared", K.FIRST_VALUE, 28, OwnerSide.CUSTOMER, True, True),
            ("Team training", K.TRAINING, 30, OwnerSide.CSM, True, False),
            ("Go-live", K.GO_LIVE, 35, OwnerSide.CSM, True, False),
            ("Day-60 adoption check", K.ADOPTION_CHECKPOINT, 60, OwnerSide.CSM, True, False),
        ],
    },
    {
        "name": "SMB quick start",
        "description": "Self-serve setup with a guided first win.",
        "segments": [Segment.SMB],
        "milestones": [
            ("Welcome call", K.KICKOFF, 5, OwnerSide.CSM, True, False),
            ("Account setup", K.CONFIGURATION, 10, OwnerSide.CUSTOMER, True, False),
            ("First project live", K.FIRST_VALUE, 14, OwnerSide.CUSTOMER, True, True),
            ("Go-live", K.GO_LIVE, 21, OwnerSide.CSM, True, False),
            ("Day-45 adoption check", K.ADOPTION_CHECKPOINT, 45, OwnerSide.CSM, True, False),
        ],
    },
]
RUNNING_STATES = [
    PlanStatus.NOT_STARTED,
    PlanStatus.ON_TRACK,
    PlanStatus.AT_RISK,
    PlanStatus.LATE,
]
# The day-to-next-due gap that puts a plan in each state.
GAPS = {PlanStatus.ON_TRACK: (5, 12), PlanStatus.AT_RISK: (0, 3), PlanStatus.LATE: (-15, -1)}
MAX_PLANS_PER_STAGE = 40
# Every RECENT_EVERY-th plan of each stage reaches its first value (onboarding)
# or adoption checkpoint (adoption) this month, so the metrics dashboard's
# running period has time to value and an adoption rate from the first run.
RECENT_EVERY = 5


def _templates(admin: User | None) -> dict[str, OnboardingTemplate]:
    by_segment = {}
    for spec in TEMPLATES:
        template = services.template_create(
            by=admin, data={k: spec[k] for k in ("name", "description", "segments")}
        )
        for title, kind, offset, side, required, first_value in spec["milestones"]:
            services.milestone_template_save(
                template=template,
                by=admin,
                data={
                    "title": title,
                    "description": "",
                    "kind": kind,
                    "due_offset_days": offset,
                    "owner_side": side,
                    "required": required,
                    "is_first_value": first_value,
                },
            )
        services.template_activate(template=template, by=admin)
        by_segment[spec["segments"][0]] = template
    return by_segment


def _complete(plan: OnboardingPlan, upto: int, rng: random.Random, today: date) -> None:
    """Complete (or, for some optional ones, skip) the first `upto` milestones."""
    by = plan.account.owner
    real_today = timezone.localdate()
    for milestone in list(plan.milestones.order_by("due_date", "position"))[:upto]:
        if plan.finished_on is not None:
            return
        if not milestone.required and rng.random() < 0.3:
            services.milestone_skip(milestone=milestone, by=by, reason="Customer did not need it")
            continue
        on = milestone.due_date + timedelta(days=rng.randint(-3, 6))
        on = min(max(plan.start_date, on), today, real_today)
        services.milestone_complete(milestone=milestone, by=by, on=on, note="")
        plan.refresh_from_db(fields=["finished_on"])


def _plan(
    account: Account, template: OnboardingTemplate, state: str, rng: random.Random, today: date
) -> None:
    offsets = sorted(template.milestones.values_list("due_offset_days", flat=True))
    if state == PlanStatus.NOT_STARTED:
        start = today - timedelta(days=rng.randint(0, 1))
        services.plan_start(account=account, template=template, start_date=start, by=account.owner)
        return
    if state == PlanStatus.COMPLETED:
        # Onboarding began soon after the contract, so TTV reads as it would.
        earliest = today - timedelta(days=offsets[-1] + 10)
        start = min(
            (account.contract_start or earliest) + timedelta(days=rng.randint(0, 10)), earliest
        )
        plan = services.plan_start(
            account=account, template=template, start_date=start, by=account.owner
        )
        _complete(plan, len(offsets), rng, today)
        return
    upto = rng.randint(1, len(offsets) - 2)
    low, high = GAPS[PlanStatus(state)]
    gap = min(rng.randint(low, high), offsets[upto] - 1)  # the plan has started
    start = today - timedelta(days=offsets[upto] - gap)
    plan = services.plan_start(
        account=account, template=template, start_date=start, by=account.owner
    )
    _complete(plan, upto, rng, today)


def _plan_reaching(
    account: Account, template: OnboardingTemplate, on: date, *, checkpoint: bool
) -> bool:
    """A plan whose first-value milestone (or, with `checkpoint`, adoption
    checkpoint) came due on `on`, every milestone due by then done on its day.
    False when the template has no such milestone."""
    target = next(
        (
            m
            for m in template.milestones.order_by("due_offset_days", "position")
            if (m.kind == K.ADOPTION_CHECKPOINT if checkpoint else m.is_first_value)
        ),
        None,
    )
    if target is None:
        return False
    start = on - timedelta(days=target.due_offset_days)
    plan = services.plan_start(
        account=account, template=template, start_date=start, by=account.owner
    )
    for milestone in list(
        plan.milestones.filter(due_date__lte=on).order_by("due_date", "position")
    ):
        plan.refresh_from_db(fields=["finished_on"])
        if plan.finished_on is not None:
            break
        services.milestone_complete(
            milestone=milestone, by=account.owner, on=milestone.due_date, note=""
        )
    return True


def build(*, seed: int, today: date) -> str:
    if OnboardingPlan.objects.exists():
        return "Onboarding plans exist; demo data left as is."
    rng = random.Random(seed)
    admin = User.objects.filter(username="admin").first()
    templates = (
        {t.segments[0]: t for t in OnboardingTemplate.objects.filter(is_active=True) if t.segments}
        if OnboardingTemplate.objects.exists()
        else None
    )
    with transaction.atomic():
        templates = templates or _templates(admin)
    fallback = next(iter(templates.values()))
    made = 0
    onboarding = Account.objects.filter(stage=Stage.ONBOARDING, status=Account.Status.ACTIVE)
    adoption = Account.objects.filter(stage=Stage.ADOPTION, status=Account.Status.ACTIVE)
    for index, account in enumerate(
        onboarding.select_related("owner").order_by("pk")[:MAX_PLANS_PER_STAGE]
    ):
        with transaction.atomic():
            template = templates.get(account.segment, fallback)
            recent = index % RECENT_EVERY == 0 and _plan_reaching(
                account, template, day_this_month(rng, today), checkpoint=False
            )
            if not recent:
                _plan(account, template, RUNNING_STATES[index % len(RUNNING_STATES)], rng, today)
        made += 1
    for index, account in enumerate(
        adoption.select_related("owner").order_by("pk")[:MAX_PLANS_PER_STAGE]
    ):
        with transaction.atomic():
            template = templates.get(account.segment, fallback)
            # Adoption counts checkpoints due before today: yesterday at the latest.
            recent = index % RECENT_EVERY == 0 and _plan_reaching(
                account, template, day_this_month(rng, today, before_today=True), checkpoint=True
            )
            if not recent:
                _plan(account, template, PlanStatus.COMPLETED, rng, today)
        made += 1
    return f"Created {len(templates)} templates and {made} onboarding plans."

"""factory_boy factories for every model the tests build."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import factory
from django.contrib.auth.models import Group

from accounts.models import (
    Account,
    Contact,
    Deal,
    Pipeline,
    PipelineStage,
    Segment,
    Stage,
    UsageSnapshot,
    User,
)


class UserFactory(factory.django.DjangoModelFactory[User]):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password("pw")

    @factory.post_generation
    def role(obj: User, create: bool, extracted: str | None, **kwargs: object) -> None:
        if create and extracted:
            obj.groups.add(Group.objects.get_or_create(name=extracted)[0])


class AccountFactory(factory.django.DjangoModelFactory[Account]):
    class Meta:
        model = Account

    name = factory.Sequence(lambda n: f"Account {n:04d}")
    domain = factory.Sequence(lambda n: f"account{n}.example")
    segment = Segment.MID_MARKET
    arr = Decimal("50000.00")
    contract_start = factory.LazyFunction(lambda: date.today() - timedelta(days=200))
    renewal_date = factory.LazyFunction(lambda: date.today() + timedelta(days=165))
    stage = Stage.ADOPTION


class ContactFactory(factory.django.DjangoModelFactory[Contact]):
    class Meta:
        model = Contact

    account = factory.SubFactory(AccountFactory)
    name = factory.Faker("name")
    email = factory.Sequence(lambda n: f"contact{n}@example.com")
    role = Contact.Role.CHAMPION


class PipelineFactory(factory.django.DjangoModelFactory[Pipeline]):
    class Meta:
        model = Pipeline

    label = factory.Sequence(lambda n: f"Pipeline {n}")


class PipelineStageFactory(factory.django.DjangoModelFactory[PipelineStage]):
    class Meta:
        model = PipelineStage

    pipeline = factory.SubFactory(PipelineFactory)
    label = factory.Sequence(lambda n: f"Stage {n}")


class DealFactory(factory.django.DjangoModelFactory[Deal]):
    class Meta:
        model = Deal

    account = factory.SubFactory(AccountFactory)
    name = factory.Sequence(lambda n: f"Deal {n}")
    stage = factory.SubFactory(PipelineStageFactory)
    pipeline = factory.SelfAttribute("stage.pipeline")
    amount = Decimal("10000.00")
    kind = Deal.Kind.NEW


class UsageSnapshotFactory(factory.django.DjangoModelFactory[UsageSnapshot]):
    class Meta:
        model = UsageSnapshot

    account = factory.SubFactory(AccountFactory)
    date = factory.LazyFunction(date.today)
    active_users = 40
    seats_purchased = 50
    seats_used = 45
    logins_30d = 400


# --- Onboarding -------------------------------------------------------------

from django.utils import timezone  # noqa: E402

from onboarding.models import (  # noqa: E402
    Milestone,
    MilestoneKind,
    MilestoneTemplate,
    OnboardingPlan,
    OnboardingTemplate,
)

STANDARD_MILESTONES: list[dict[str, object]] = [
    {"title": "Kickoff call", "kind": MilestoneKind.KICKOFF, "due_offset_days": 3},
    {"title": "Workspace configured", "kind": MilestoneKind.CONFIGURATION, "due_offset_days": 10},
    {
        "title": "First report shared",
        "kind": MilestoneKind.FIRST_VALUE,
        "due_offset_days": 21,
        "is_first_value": True,
    },
    {
        "title": "Admin training",
        "kind": MilestoneKind.TRAINING,
        "due_offset_days": 25,
        "required": False,
    },
    {"title": "Go-live", "kind": MilestoneKind.GO_LIVE, "due_offset_days": 30},
]


class OnboardingTemplateFactory(factory.django.DjangoModelFactory[OnboardingTemplate]):
    """An active template with STANDARD_MILESTONES; `milestones=[...]` to choose."""

    class Meta:
        model = OnboardingTemplate
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Onboarding template {n}")
    segments = factory.LazyFunction(lambda: [Segment.MID_MARKET])
    is_active = True

    @factory.post_generation
    def milestones(
        obj: OnboardingTemplate, create: bool, extracted: list | None, **kw: object
    ) -> None:
        if not create:
            return
        specs = STANDARD_MILESTONES if extracted is None else extracted
        for position, spec in enumerate(specs):
            MilestoneTemplate.objects.create(template=obj, position=position, **spec)


class OnboardingPlanFactory(factory.django.DjangoModelFactory[OnboardingPlan]):
    """Started through the service, as a CSM would: milestones copied, status derived."""

    class Meta:
        model = OnboardingPlan

    account = factory.SubFactory(AccountFactory, stage=Stage.ONBOARDING)
    template = factory.SubFactory(OnboardingTemplateFactory)
    start_date = factory.LazyFunction(timezone.localdate)

    @classmethod
    def _create(cls, model_class: type, *args: object, **kwargs: object) -> OnboardingPlan:
        from onboarding.services import plan_start

        return plan_start(
            account=kwargs["account"],  # type: ignore[arg-type]
            template=kwargs["template"],  # type: ignore[arg-type]
            start_date=kwargs["start_date"],  # type: ignore[arg-type]
            by=kwargs.get("started_by"),  # type: ignore[arg-type]
        )


class MilestoneFactory(factory.django.DjangoModelFactory[Milestone]):
    """An ad-hoc milestone on a plan (the plan's template milestones come with it)."""

    class Meta:
        model = Milestone

    plan = factory.SubFactory(OnboardingPlanFactory)
    title = factory.Sequence(lambda n: f"Milestone {n}")
    kind = MilestoneKind.CONFIGURATION
    due_date = factory.LazyFunction(lambda: timezone.localdate() + timedelta(days=10))
    is_adhoc = True
    position = 99


# ---- success (plans, reviews, renewals) ----
from success.models import (  # noqa: E402
    BusinessReview,
    Objective,
    Renewal,
    ReviewKind,
    SuccessPlan,
    SuccessTask,
)


class SuccessPlanFactory(factory.django.DjangoModelFactory[SuccessPlan]):
    class Meta:
        model = SuccessPlan

    account = factory.SubFactory(AccountFactory)
    desired_outcomes = "Cut onboarding time for new hires in half."
    internal_notes = "Sponsor is sceptical; budget review in Q3."


class ObjectiveFactory(factory.django.DjangoModelFactory[Objective]):
    class Meta:
        model = Objective

    plan = factory.SubFactory(SuccessPlanFactory)
    title = factory.Sequence(lambda n: f"Objective {n}")
    metric = "Days to productivity"
    baseline = Decimal("30")
    target = Decimal("15")
    current_value = Decimal("30")
    due_date = factory.LazyFunction(lambda: date.today() + timedelta(days=90))


class SuccessTaskFactory(factory.django.DjangoModelFactory[SuccessTask]):
    class Meta:
        model = SuccessTask

    account = factory.SubFactory(AccountFactory)
    title = factory.Sequence(lambda n: f"Task {n}")
    due_date = factory.LazyFunction(lambda: date.today() + timedelta(days=7))


class BusinessReviewFactory(factory.django.DjangoModelFactory[BusinessReview]):
    class Meta:
        model = BusinessReview

    account = factory.SubFactory(AccountFactory)
    kind = ReviewKind.QBR
    scheduled_for = factory.LazyFunction(lambda: date.today() + timedelta(days=14))
    owner = factory.SelfAttribute("account.owner")
    agenda = "Goals, usage, roadmap"


class RenewalFactory(factory.django.DjangoModelFactory[Renewal]):
    class Meta:
        model = Renewal

    account = factory.SubFactory(AccountFactory)
    renewal_date = factory.SelfAttribute("account.renewal_date")
    current_arr = factory.SelfAttribute("account.arr")
    forecast_arr = factory.SelfAttribute("account.arr")

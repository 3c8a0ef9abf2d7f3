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


class UserFactory(factory.django.DjangoModelFactory):
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


class AccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Account

    name = factory.Sequence(lambda n: f"Account {n:04d}")
    domain = factory.Sequence(lambda n: f"account{n}.example")
    segment = Segment.MID_MARKET
    arr = Decimal("50000.00")
    contract_start = factory.LazyFunction(lambda: date.today() - timedelta(days=200))
    renewal_date = factory.LazyFunction(lambda: date.today() + timedelta(days=165))
    stage = Stage.ADOPTION


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    account = factory.SubFactory(AccountFactory)
    name = factory.Faker("name")
    email = factory.Sequence(lambda n: f"contact{n}@example.com")
    role = Contact.Role.CHAMPION


class PipelineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Pipeline

    label = factory.Sequence(lambda n: f"Pipeline {n}")


class PipelineStageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PipelineStage

    pipeline = factory.SubFactory(PipelineFactory)
    label = factory.Sequence(lambda n: f"Stage {n}")


class DealFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Deal

    account = factory.SubFactory(AccountFactory)
    name = factory.Sequence(lambda n: f"Deal {n}")
    stage = factory.SubFactory(PipelineStageFactory)
    pipeline = factory.SelfAttribute("stage.pipeline")
    amount = Decimal("10000.00")
    kind = Deal.Kind.NEW


class UsageSnapshotFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = UsageSnapshot

    account = factory.SubFactory(AccountFactory)
    date = factory.LazyFunction(date.today)
    active_users = 40
    seats_purchased = 50
    seats_used = 45
    logins_30d = 400

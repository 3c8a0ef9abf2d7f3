"""factory_boy factories for the support app's models (tickets, surveys, engagements)."""

from __future__ import annotations

from datetime import timedelta

import factory
from django.utils import timezone

from accounts.support.models import (
    Engagement,
    FeedbackSubmission,
    Ticket,
    TicketPipeline,
    TicketStage,
)
from tests.factories import AccountFactory


class TicketPipelineFactory(factory.django.DjangoModelFactory[TicketPipeline]):
    class Meta:
        model = TicketPipeline

    label = factory.Sequence(lambda n: f"Support {n}")
    hubspot_id = factory.Sequence(lambda n: f"tp{n}")


class TicketStageFactory(factory.django.DjangoModelFactory[TicketStage]):
    class Meta:
        model = TicketStage

    pipeline = factory.SubFactory(TicketPipelineFactory)
    label = factory.Sequence(lambda n: f"Ticket stage {n}")
    hubspot_id = factory.Sequence(lambda n: f"ts{n}")
    is_closed = False


class TicketFactory(factory.django.DjangoModelFactory[Ticket]):
    class Meta:
        model = Ticket

    account = factory.SubFactory(AccountFactory)
    subject = factory.Sequence(lambda n: f"Ticket {n}")
    stage = factory.SubFactory(TicketStageFactory)
    pipeline = factory.SelfAttribute("stage.pipeline")
    priority = Ticket.Priority.MEDIUM
    opened_at = factory.LazyFunction(lambda: timezone.now() - timedelta(days=2))
    is_closed = factory.LazyAttribute(lambda t: t.stage.is_closed)
    hubspot_id = factory.Sequence(lambda n: str(500_000 + n))


class FeedbackSubmissionFactory(factory.django.DjangoModelFactory[FeedbackSubmission]):
    class Meta:
        model = FeedbackSubmission

    account = factory.SubFactory(AccountFactory)
    survey_type = FeedbackSubmission.SurveyType.NPS
    survey_name = "Quarterly NPS"
    score = 9
    response_group = FeedbackSubmission.Group.PROMOTER
    submitted_at = factory.LazyFunction(lambda: timezone.now() - timedelta(days=3))
    hubspot_id = factory.Sequence(lambda n: str(600_000 + n))


class EngagementFactory(factory.django.DjangoModelFactory[Engagement]):
    class Meta:
        model = Engagement

    account = factory.SubFactory(AccountFactory)
    kind = Engagement.Kind.CALL
    subject = factory.Sequence(lambda n: f"Call {n}")
    occurred_at = factory.LazyFunction(lambda: timezone.now() - timedelta(days=1))
    direction = Engagement.Direction.OUTBOUND
    is_touch = True
    hubspot_id = factory.Sequence(lambda n: str(700_000 + n))

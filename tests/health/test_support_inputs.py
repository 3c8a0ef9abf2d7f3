"""Support records synced from HubSpot (tickets, survey answers, touches) as health
inputs: scored with the model's rules, winning over the usage snapshot's typed
numbers, named as their source in the breakdown and on the pages, read in a flat
number of queries."""

from __future__ import annotations

import html
import re
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import Account
from accounts.support.models import FeedbackSubmission, Ticket
from success.health import inputs as health_inputs
from success.health import services
from success.health.models import HealthMeasure, HealthModel, HealthScore
from tests.factories import AccountFactory, UsageSnapshotFactory
from tests.support.factories import (
    EngagementFactory,
    FeedbackSubmissionFactory,
    TicketFactory,
    TicketStageFactory,
)

pytestmark = pytest.mark.django_db
TODAY = date(2026, 11, 23)


def at(day: date, hour: int = 10) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour)))


def _measures(model: HealthModel, *specs: dict[str, Any]) -> None:
    model.measures.all().delete()
    for spec in specs:
        HealthMeasure.objects.create(model=model, weight=1, **spec)


@pytest.fixture
def model() -> HealthModel:
    active = HealthModel.objects.get(status="active")
    _measures(
        active,
        {"input": "csat", "low": 1, "high": 5},
        {"input": "open_tickets", "low": 0, "high": 10, "direction": "lower"},
        {"input": "escalated_tickets", "low": 0, "high": 4, "direction": "lower"},
        {"input": "days_since_touch", "low": 7, "high": 67, "direction": "lower"},
    )
    return active


def _support_story(account: Account, day: date = TODAY) -> None:
    """3 tickets open on `day` (one urgent), one closed; CSAT answers 4 and 5; an
    NPS promoter and a detractor; the last touch 10 days before."""
    open_stage = TicketStageFactory.create()
    closed_stage = TicketStageFactory.create(pipeline=open_stage.pipeline, is_closed=True)
    for days_ago, priority in ((3, "URGENT"), (12, "LOW"), (40, "MEDIUM")):
        TicketFactory.create(
            account=account,
            stage=open_stage,
            priority=priority,
            opened_at=at(day - timedelta(days_ago)),
        )
    TicketFactory.create(
        account=account,
        stage=closed_stage,
        opened_at=at(day - timedelta(20)),
        closed_at=at(day - timedelta(18)),
    )
    for score, days_ago in ((4, 30), (5, 5)):
        FeedbackSubmissionFactory.create(
            account=account,
            survey_type=FeedbackSubmission.SurveyType.CSAT,
            score=score,
            response_group="",
            submitted_at=at(day - timedelta(days_ago)),
        )
    FeedbackSubmissionFactory.create(account=account, submitted_at=at(day - timedelta(8)))
    FeedbackSubmissionFactory.create(
        account=account,
        score=3,
        response_group=FeedbackSubmission.Group.DETRACTOR,
        submitted_at=at(day - timedelta(9)),
    )
    EngagementFactory.create(account=account, occurred_at=at(day - timedelta(10)))
    EngagementFactory.create(account=account, occurred_at=at(day - timedelta(30)))


def _breakdown(score: HealthScore) -> dict[str, dict[str, Any]]:
    return {c["input"]: c for c in score.breakdown}


def test_synced_tickets_surveys_and_touches_are_scored_and_win_over_the_snapshot(
    model: HealthModel,
) -> None:
    account = AccountFactory.create()
    # Typed numbers that the synced records must replace.
    UsageSnapshotFactory.create(
        account=account, date=TODAY - timedelta(1), csat=Decimal("2.0"), open_tickets=9, nps=-40
    )
    _support_story(account)
    typed_only = AccountFactory.create()
    UsageSnapshotFactory.create(
        account=typed_only, date=TODAY - timedelta(1), csat=Decimal("2.0"), open_tickets=9
    )

    services.health_scores_compute(today=TODAY)

    score = HealthScore.objects.get(account=account, date=TODAY)
    parts = _breakdown(score)
    # CSAT (4+5)/2 = 4.5 -> (4.5-1)/4 = 87.5; 3 open of 0..10, lower better -> 70;
    # 1 escalated of 0..4 -> 75; touched 10 days ago, 7..67 -> 95.
    assert {k: (v["value"], v["score"]) for k, v in parts.items()} == {
        "csat": (4.5, 87.5),
        "open_tickets": (3.0, 70.0),
        "escalated_tickets": (1.0, 75.0),
        "days_since_touch": (10.0, 95.0),
    }
    assert score.score == round((87.5 + 70 + 75 + 95) / 4) == 82
    assert {k: v["source"] for k, v in parts.items()} == {
        "csat": "HubSpot surveys",
        "open_tickets": "HubSpot tickets",
        "escalated_tickets": "HubSpot tickets",
        "days_since_touch": "HubSpot engagements",
    }
    # Without synced records the typed numbers stay, and say so.
    typed = _breakdown(HealthScore.objects.get(account=typed_only, date=TODAY))
    assert (typed["csat"]["value"], typed["csat"]["source"]) == (2.0, "usage snapshot")
    assert (typed["open_tickets"]["value"], typed["open_tickets"]["source"]) == (
        9.0,
        "usage snapshot",
    )


def test_nps_and_ticket_windows_from_synced_records() -> None:
    account = AccountFactory.create()
    _support_story(account)
    # Two tickets opened 30-60 days before, 3 in the last 30 (the open 3 and 12 days
    # ago and the closed one 20 days ago) -> +50 %.
    stage = TicketStageFactory.create()
    TicketFactory.create(account=account, stage=stage, opened_at=at(TODAY - timedelta(45)))
    values = health_inputs.gather_with_sources(Account.objects.all(), TODAY).inputs[account.pk]
    assert values["nps"] == 0.0  # one promoter, one detractor: (1 - 1) / 2
    assert values["tickets_opened_30d"] == 3.0
    assert values["ticket_trend_30d"] == 50.0
    assert values["open_tickets"] == 4.0  # 3, 12, 40 and 45 days old


def test_a_past_day_counts_the_tickets_open_then(model: HealthModel) -> None:
    """Scoring history (the demo's weekly back-scoring): a ticket opened later is not
    open yet, one closed later was still open."""
    account = AccountFactory.create()
    stage = TicketStageFactory.create()
    closed = TicketStageFactory.create(pipeline=stage.pipeline, is_closed=True)
    day = TODAY - timedelta(14)
    TicketFactory.create(account=account, stage=stage, opened_at=at(TODAY - timedelta(2)))
    TicketFactory.create(
        account=account,
        stage=closed,
        opened_at=at(day - timedelta(5)),
        closed_at=at(day + timedelta(3)),
    )
    then = health_inputs.gather(Account.objects.all(), day)[account.pk]
    now = health_inputs.gather(Account.objects.all(), TODAY)[account.pk]
    assert (then["open_tickets"], now["open_tickets"]) == (1.0, 1.0)
    assert (then["tickets_opened_30d"], now["tickets_opened_30d"]) == (1.0, 2.0)


def test_no_surveys_means_missing_inputs_whose_weight_goes_to_the_rest(
    model: HealthModel,
) -> None:
    account = AccountFactory.create()
    stage = TicketStageFactory.create()
    for days_ago in (2, 5):
        TicketFactory.create(
            account=account, stage=stage, opened_at=at(TODAY - timedelta(days_ago))
        )
    services.health_scores_compute(today=TODAY)
    score = HealthScore.objects.get(account=account, date=TODAY)
    # Open 2 of 0..10 -> 80; escalated 0 -> 100; no CSAT answer, no touch: missing.
    assert score.missing == ["csat", "days_since_touch"]
    assert score.score == 90
    assert {c["input"]: c["weight"] for c in score.breakdown} == {
        "open_tickets": 0.5,
        "escalated_tickets": 0.5,
    }


def test_an_account_with_no_ticket_on_record_has_no_ticket_inputs() -> None:
    """No ticket at all is no data, not a perfect zero."""
    account = AccountFactory.create()
    EngagementFactory.create(account=account, occurred_at=at(TODAY - timedelta(3)))
    values = health_inputs.gather(Account.objects.all(), TODAY)[account.pk]
    assert values.get("open_tickets") is None
    assert values.get("escalated_tickets") is None
    assert values["days_since_touch"] == 3.0


def _portfolio(n: int) -> None:
    for _ in range(n):
        account = AccountFactory.create()
        UsageSnapshotFactory.create(account=account, date=TODAY - timedelta(1))
        _support_story(account)


def _gather_queries() -> tuple[int, int]:
    with CaptureQueriesContext(connection) as ctx:
        gathered = health_inputs.gather_with_sources(health_inputs.scorable_accounts(), TODAY)
    return len(ctx.captured_queries), len(gathered.inputs)


def test_gathering_costs_the_same_queries_for_5_and_50_accounts() -> None:
    _portfolio(5)
    five, scored = _gather_queries()
    assert scored == 5
    _portfolio(45)
    fifty, scored = _gather_queries()
    assert scored == 50
    assert five == fifty


def test_the_account_page_and_the_explanation_name_each_source(
    client: Any, viewer: Any, model: HealthModel
) -> None:
    today = timezone.localdate()
    account = AccountFactory.create()
    UsageSnapshotFactory.create(account=account, date=today - timedelta(1), csat=Decimal("1.5"))
    _support_story(account, day=today)
    services.health_scores_compute(today=today)
    client.force_login(viewer)

    page = html.unescape(client.get(account.get_absolute_url()).content.decode())
    inputs = re.search(r'id="health-inputs">(.*?)</p>', page, re.S)
    assert inputs, "the health card lists the inputs and their sources"
    line = re.sub(r"\s+", " ", inputs.group(1))
    assert "CSAT 4.5 (HubSpot surveys)" in line
    assert "Open support tickets 3 (HubSpot tickets)" in line
    assert "Days since the last touch 10 (HubSpot engagements)" in line
    # The weakest measure is the open tickets (70/100): the sentence says where from.
    assert "(value 3, from HubSpot tickets)" in page

    explained = html.unescape(
        client.get(reverse("health:account", args=[account.pk])).content.decode()
    )
    assert re.search(r"CSAT \(1-5\)</td><td[^>]*>4\.5</td><td[^>]*>HubSpot surveys<", explained)


def test_the_model_page_says_where_each_input_comes_from(client: Any, viewer: Any) -> None:
    client.force_login(viewer)
    page = html.unescape(client.get(reverse("health:models")).content.decode())
    assert "HubSpot surveys, else usage snapshot" in page  # CSAT in the default model
    assert "HubSpot tickets, else usage snapshot" in page


def test_admin_adds_support_inputs_in_the_editor(
    client: Any, admin_user: Any, django_capture_on_commit_callbacks: Any
) -> None:
    account = AccountFactory.create()
    stage = TicketStageFactory.create()
    for days_ago in (1, 2, 3, 4):
        TicketFactory.create(
            account=account,
            stage=stage,
            opened_at=timezone.now() - timedelta(days=days_ago),
            priority=Ticket.Priority.URGENT,
        )
    client.force_login(admin_user)
    client.post(reverse("health:model_new_version"))
    draft = HealthModel.objects.get(status="draft")
    form = {
        "model-name": "Support",
        "model-green_min": "70",
        "model-yellow_min": "40",
        "model-note": "Tickets",
        "m-TOTAL_FORMS": "2",
        "m-INITIAL_FORMS": "0",
        "m-0-input": "tickets_opened_30d",
        "m-0-weight": "2",
        "m-0-rule": "linear",
        "m-0-direction": "lower",
        "m-0-low": "0",
        "m-0-high": "8",
        "m-0-steps": "",
        "m-1-input": "escalated_tickets",
        "m-1-weight": "1",
        "m-1-rule": "steps",
        "m-1-direction": "lower",
        "m-1-low": "0",
        "m-1-high": "100",
        "m-1-steps": "0:100, 2:50, 5:10",
    }
    response = client.post(reverse("health:model_edit", args=[draft.pk]), form)
    assert response.url == reverse("health:model_preview", args=[draft.pk])
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("health:model_activate", args=[draft.pk]))
    score = HealthScore.objects.get(account=account, date=timezone.localdate())
    # 4 opened of 0..8, lower better -> 50 (weight 2/3); 4 escalated -> step 5 -> 10.
    assert score.score == round(50 * 2 / 3 + 10 / 3) == 37
    assert score.band == "red"

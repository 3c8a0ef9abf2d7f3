"""Per-account support figures: open and escalated tickets, opened in 30 days and the
trend, median time to close, NPS, CSAT, detractors and last touch; the same queries for
one account or many."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from accounts.support.models import Engagement, FeedbackSubmission, Ticket
from accounts.support.selectors import (
    account_last_touches,
    account_open_tickets,
    account_support_figures,
    support_figures,
)
from tests.factories import AccountFactory
from tests.support.factories import (
    EngagementFactory,
    FeedbackSubmissionFactory,
    TicketFactory,
    TicketStageFactory,
)

pytestmark = pytest.mark.django_db


def _book(account: Any) -> None:
    """A week-old account history: 3 open tickets (one urgent, one archived), 2
    closed; surveys and touches."""
    now = timezone.now()
    closed_stage = TicketStageFactory.create(is_closed=True)
    TicketFactory.create(account=account, priority=Ticket.Priority.URGENT)
    TicketFactory.create(account=account, opened_at=now - timedelta(days=40))
    TicketFactory.create(account=account, archived_at=now)
    for hours in (10, 30):
        TicketFactory.create(
            account=account,
            stage=closed_stage,
            opened_at=now - timedelta(days=45, hours=hours),
            closed_at=now - timedelta(days=45),
        )
    nps = FeedbackSubmission.SurveyType.NPS
    group = FeedbackSubmission.Group
    for score, kind in ((10, group.PROMOTER), (9, group.PROMOTER), (8, group.PASSIVE)):
        FeedbackSubmissionFactory.create(
            account=account, survey_type=nps, score=score, response_group=kind
        )
    FeedbackSubmissionFactory.create(
        account=account, survey_type=nps, score=2, response_group=group.DETRACTOR, comment="Slow"
    )
    FeedbackSubmissionFactory.create(  # too old for the 90 days
        account=account,
        survey_type=nps,
        score=0,
        response_group=group.DETRACTOR,
        submitted_at=now - timedelta(days=120),
    )
    for csat in ("4", "5"):
        FeedbackSubmissionFactory.create(
            account=account,
            survey_type=FeedbackSubmission.SurveyType.CSAT,
            score=Decimal(csat),
            response_group="",
        )
    EngagementFactory.create(account=account, occurred_at=now - timedelta(days=4))
    EngagementFactory.create(account=account, occurred_at=now - timedelta(days=2), is_touch=False)
    EngagementFactory.create(account=account, occurred_at=now + timedelta(days=2))  # planned


def test_figures_of_one_account() -> None:
    account = AccountFactory.create()
    _book(account)
    f = account_support_figures(account_id=account.pk)
    assert (f.open_tickets, f.escalated_open) == (2, 1)
    assert (f.opened_30d, f.opened_prev_30d) == (1, 3)
    assert f.opened_trend_pct == -67
    assert f.weekly_opened[-1] == 1 and sum(f.weekly_opened) == 4  # open 2, closed 2 in 8 weeks
    assert f.median_close_hours == 20.0
    assert (f.nps, f.nps_responses) == (25, 4)  # (2 promoters - 1 detractor) / 4
    assert (f.csat, f.csat_responses, f.detractors) == (Decimal("4.50"), 2, 1)
    touch = Engagement.objects.filter(is_touch=True, occurred_at__lte=timezone.now()).get()
    assert f.last_touch_at == touch.occurred_at


def test_an_account_without_support_data_has_missing_inputs_not_zeros() -> None:
    f = account_support_figures(account_id=AccountFactory.create().pk)
    assert (f.nps, f.csat, f.median_close_hours, f.last_touch_at) == (None, None, None, None)
    assert f.opened_trend_pct is None and not f.has_support_data


@pytest.mark.parametrize("accounts", [1, 20])
def test_figures_for_many_accounts_cost_four_queries(
    accounts: int, django_assert_num_queries: Any
) -> None:
    book = AccountFactory.create_batch(accounts)
    for account in book:
        _book(account)
    # ticket counts, close times, survey figures, last touches
    with django_assert_num_queries(4):
        figures = support_figures(account_ids=[a.pk for a in book])
    assert {f.open_tickets for f in figures.values()} == {2}


def test_open_tickets_list_escalated_first_then_oldest() -> None:
    account = AccountFactory.create()
    now = timezone.now()
    old = TicketFactory.create(account=account, opened_at=now - timedelta(days=9))
    new = TicketFactory.create(account=account, opened_at=now - timedelta(days=1))
    high = TicketFactory.create(
        account=account, opened_at=now - timedelta(hours=1), priority=Ticket.Priority.HIGH
    )
    assert account_open_tickets(account_id=account.pk) == [high, old, new]


def test_last_touches_leave_out_planned_and_automated_ones() -> None:
    account = AccountFactory.create()
    now = timezone.now()
    done = EngagementFactory.create(account=account, occurred_at=now - timedelta(days=1))
    EngagementFactory.create(account=account, occurred_at=now + timedelta(days=1))
    EngagementFactory.create(account=account, is_touch=False)
    assert list(account_last_touches(account_id=account.pk)) == [done]


def test_a_held_review_freezes_the_support_figures(csm: Any) -> None:
    from datetime import date

    from success import services

    account = AccountFactory.create(owner=csm)
    _book(account)
    review = services.review_schedule(
        account=account, kind="qbr", scheduled_for=date.today(), by=csm
    )
    services.review_hold(review=review, held_on=date.today(), sentiment="neutral", by=csm)
    TicketFactory.create_batch(3, account=account)  # after the review: not in its snapshot
    review.refresh_from_db()
    frozen = review.snapshot["support"]
    assert (frozen["open_tickets"], frozen["escalated_open"], frozen["nps"]) == (2, 1, 25)
    assert (frozen["csat"], frozen["detractors"]) == ("4.50", 1)
    assert frozen["last_touch_at"] is not None

"""The account page is read with plain SQL and written in Python (lifecycle/account_page,
for speed: docs/performance.md). It must be the page the apps' selectors and the page's
templates made: tests/lifecycle/account_page_before.py is that view, over those
selectors and the templates kept beside it, mounted at /_before/accounts/<pk>/. Both
pages are requested for every account of a demo portfolio, as a leader, a CSM and a
viewer, and for an account whose every panel holds text to escape, and compared,
whitespace aside."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Account, Event, User
from accounts.support.models import Engagement, FeedbackSubmission, Ticket
from lifecycle.demo import build_all
from onboarding.models import Milestone, OnboardingPlan, OnboardingTemplate
from success.alerts.models import Alert
from success.health.models import HealthOverride, HealthScore
from success.models import SuccessPlan
from tests.factories import (
    AccountFactory,
    BusinessReviewFactory,
    ContactFactory,
    DealFactory,
    ObjectiveFactory,
    OnboardingPlanFactory,
    SuccessPlanFactory,
    SuccessTaskFactory,
)
from tests.support.factories import (
    EngagementFactory,
    FeedbackSubmissionFactory,
    TicketFactory,
)

pytestmark = pytest.mark.django_db

NASTY = "Acme & <Co> \"quoted\" 'single'"
TOKEN = re.compile(r'(csrfmiddlewaretoken" value="|X-CSRFToken": ")[^"]+')


def _normal(html: str) -> str:
    html = TOKEN.sub(r"\1-", html)
    return re.sub(r"\s+", " ", html).strip()


def _both(client: Any, pk: int) -> tuple[str, str]:
    before = client.get(f"/_before/accounts/{pk}/")
    after = client.get(reverse("account", args=[pk]))
    assert before.status_code == after.status_code == 200
    return _normal(before.content.decode()), _normal(after.content.decode())


def _escape_everywhere(account: Account) -> None:
    """Text to escape in every panel, HubSpot links, a direction, an override two bands
    off the computed score, a linked account."""
    now = timezone.now()
    owner = account.owner
    assert owner is not None
    User.objects.filter(pk=owner.pk).update(first_name="<Ann>", last_name="O'Neil & Co")
    Account.objects.filter(pk=account.pk).update(
        name=NASTY, domain="a&b.example", hubspot_id="9<1>", currency="E&R"
    )
    contact = ContactFactory.create(account=account, name=NASTY, title="<CTO>", email="x@y.z")
    ContactFactory.create(account=account, name="No title", title="", email="")
    DealFactory.create(account=account, name=NASTY, amount=Decimal("1234.50"), close_date=None)
    TicketFactory.create(
        account=account,
        contact=contact,
        owner=owner,
        subject=NASTY,
        hubspot_id="77",
        priority=Ticket.Priority.URGENT,
        opened_at=now - timedelta(days=3, hours=2),
    )
    TicketFactory.create(
        account=account, subject="Plain", priority="", opened_at=now - timedelta(days=40)
    )
    TicketFactory.create(
        account=account,
        subject="Closed",
        is_closed=True,
        opened_at=now - timedelta(days=20),
        closed_at=now - timedelta(days=18, hours=5),
    )
    FeedbackSubmissionFactory.create(
        account=account,
        contact=contact,
        comment=NASTY * 10,
        score=Decimal("2"),
        response_group=FeedbackSubmission.Group.DETRACTOR,
        submitted_at=now - timedelta(days=5),
    )
    FeedbackSubmissionFactory.create(
        account=account,
        survey_type=FeedbackSubmission.SurveyType.CSAT,
        score=Decimal("4.25"),
        response_group="",
        comment="",
        submitted_at=now - timedelta(days=200),
    )
    EngagementFactory.create(
        account=account,
        contact=contact,
        owner=owner,
        subject=NASTY,
        hubspot_id="55",
        kind=Engagement.Kind.CALL,
        direction=Engagement.Direction.INBOUND,
        is_touch=True,
        occurred_at=now - timedelta(hours=7),
    )
    EngagementFactory.create(
        account=account, subject="", is_touch=True, occurred_at=now - timedelta(days=2)
    )
    Event.objects.create(
        account=account, kind=Event.Kind.NOTE, summary=NASTY, link="/x?a=1&b=<2>", occurred_at=now
    )
    plan = SuccessPlan.objects.filter(account=account, replaced_at__isnull=True).first()
    if plan is None:
        plan = SuccessPlanFactory.create(account=account)
    SuccessPlan.objects.filter(pk=plan.pk).update(desired_outcomes=NASTY * 12)
    objective = ObjectiveFactory.create(
        plan=plan, title=NASTY, metric="<m>", current_value=Decimal("12.50"), target=Decimal("20")
    )
    SuccessTaskFactory.create(
        account=account, objective=objective, title=NASTY, assignee_user=owner
    )
    SuccessTaskFactory.create(
        account=account,
        title="Ask",
        assignee_contact=contact,
        due_date=timezone.localdate() - timedelta(days=3),
    )
    BusinessReviewFactory.create(
        account=account, owner=owner, scheduled_for=timezone.localdate() - timedelta(days=2)
    )
    latest = HealthScore.objects.filter(account=account).order_by("-date").first()
    if latest is not None:
        HealthOverride.objects.create(
            account=account,
            score=5 if latest.band == "green" else 95,
            reason=NASTY,
            created_by=owner,
        )
    Alert.objects.filter(account=account).update(message=NASTY)
    # A finished plan (listed with its time to value) and a running one.
    if not OnboardingPlan.objects.filter(account=account).exists():
        OnboardingPlanFactory.create(
            account=account, start_date=timezone.localdate() - timedelta(days=90)
        )
    OnboardingPlan.objects.filter(account=account, finished_on__isnull=True).update(
        finished_on=timezone.localdate() - timedelta(days=30), ttv_days=21
    )
    running = OnboardingPlanFactory.create(account=account)
    OnboardingTemplate.objects.filter(pk=running.template_id).update(name=NASTY)
    Milestone.objects.filter(plan=running).update(title=NASTY)


def test_every_demo_account_page_is_the_templates_page(
    client: Any, settings: Any, install_data: None
) -> None:
    build_all(accounts=24, seed=7, reset=False, log=lambda _m: None)
    settings.ROOT_URLCONF = "tests.lifecycle.account_page_before"
    settings.HUBSPOT_PORTAL_ID = "424242"
    # A scored account (the demo scores with the default model and runs the default
    # playbooks, which a transactional test earlier in the same worker may have
    # flushed: install_data makes them again), made csm1's so the page is also compared
    # as its editor.
    richest = Account.objects.filter(health_scores__isnull=False).order_by("pk").first()
    assert richest is not None
    Account.objects.filter(pk=richest.pk).update(owner=User.objects.get(username="csm1"))
    richest.refresh_from_db()
    _escape_everywhere(richest)
    AccountFactory.create(owner=None, renewal_date=None)  # every panel empty
    pages = []
    for username in ("leader", "csm1", "viewer"):
        client.force_login(User.objects.get(username=username))
        for pk in Account.objects.order_by("pk").values_list("pk", flat=True):
            before, after = _both(client, pk)
            assert after == before, (username, pk)
            pages.append(after)
    # What the pages compared held between them: every panel's lists and branches.
    held = " ".join(pages)
    for part in (
        "Start a playbook",
        "objective met",
        "Open alerts",
        "Earlier plans",
        ", TTV 21 d",
        '<ul class="list-plain onb-compact"> <li>',
        "Upcoming</h3>",
        "Past</h3>",
        "succ-late",
        "Open tickets</h3>",
        "Survey answers",
        "Last touches",
        "Needs a look",
        "override by",
        "Sync journal",
        "No deals yet.",
        "Inputs: ",
        "Nothing has happened on this account yet.",
        "No usage data yet.",
        "(inbound)",
        "Acme &amp; &lt;Co&gt; &quot;quoted&quot; &#x27;single&#x27;",
        "https://app.hubspot.com/contacts/424242/record/0-5/77",
    ):
        assert part in held, part

"""The support alert kinds: a detractor answer, an escalated ticket open too long,
tickets rising on the previous 30 days, no touch on a large account. Each fires on a
record that matches and not on one just past the boundary, never twice, and costs the
same queries for 5 accounts as for 50."""

from __future__ import annotations

import html
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.support.models import FeedbackSubmission, Ticket
from lifecycle.notifications.models import Notification, RuleSetting
from success.alerts import services
from success.alerts.models import Alert, AlertRule, RuleKind
from tests.factories import AccountFactory, UsageSnapshotFactory
from tests.support.factories import (
    EngagementFactory,
    FeedbackSubmissionFactory,
    TicketFactory,
    TicketStageFactory,
)

pytestmark = pytest.mark.django_db
TODAY = date(2026, 11, 23)


def at(days_ago: int, hour: int = 12) -> datetime:
    """A time on the day `days_ago` days before TODAY, in the project's zone."""
    return datetime.combine(
        TODAY - timedelta(days=days_ago), time(hour), tzinfo=timezone.get_current_timezone()
    )


def _detractor(account: Any, days_ago: int, **kw: Any) -> FeedbackSubmission:
    values = {"score": 3, "response_group": FeedbackSubmission.Group.DETRACTOR, **kw}
    return FeedbackSubmissionFactory.create(account=account, submitted_at=at(days_ago), **values)


def test_detractor_rule_opens_one_alert_per_answer_for_the_owner_and_notifies_at_once(
    csm: Any,
) -> None:
    rule = AlertRule.objects.create(name="Detractor", kind=RuleKind.DETRACTOR, days=30)
    account = AccountFactory.create(owner=csm)
    first = _detractor(account, 29, comment="Tickets sit open for weeks")
    second = _detractor(account, 0, survey_type="CES", score=2)
    _detractor(account, 30)  # one day before the window
    FeedbackSubmissionFactory.create(account=account, submitted_at=at(1))  # a promoter
    passive = FeedbackSubmissionFactory.create(
        account=account, score=7, response_group="PASSIVE", submitted_at=at(1)
    )
    run = services.alerts_evaluate(today=TODAY)
    assert run.opened == {"Detractor": 2}
    alerts = {a.feedback_id: a for a in Alert.objects.all()}
    assert set(alerts) == {first.pk, second.pk} and passive.pk not in alerts
    alert = alerts[first.pk]
    assert (alert.owner, alert.rule, alert.key) == (csm, rule, f"feedback:{first.pk}")
    assert alert.message.startswith("Detractor: a contact answered the NPS survey with 3 out of 10")
    assert "“Tickets sit open for weeks”" in alert.message
    assert "with 2 out of 7" in alerts[second.pk].message
    # A detractor cannot wait for the digest: the owner hears at once.
    notes = Notification.objects.filter(recipient=csm, kind="alert")
    assert notes.count() == 2 and all("Detractor" in n.title for n in notes)
    # Again: nothing new; the answer leaving the window leaves the alert to a person.
    assert services.alerts_evaluate(today=TODAY).opened == {"Detractor": 0}
    run = services.alerts_evaluate(today=TODAY + timedelta(days=5))
    assert run.cleared == {"Detractor": 0}
    assert Alert.objects.get(feedback=first).status == Alert.Status.OPEN
    assert Alert.objects.count() == 2


def test_a_resolved_detractor_alert_does_not_reopen(csm: Any) -> None:
    AlertRule.objects.create(
        name="Detractor", kind=RuleKind.DETRACTOR, days=30, reopen_after_days=1
    )
    answer = _detractor(AccountFactory.create(owner=csm), 2)
    services.alerts_evaluate(today=TODAY)
    alert = Alert.objects.get(feedback=answer)
    services.alert_close(alert=alert, status="resolved", note="Called them", by=csm)
    run = services.alerts_evaluate(today=TODAY + timedelta(days=3))
    assert run.reopened == {"Detractor": 0} and run.opened == {"Detractor": 0}
    assert Alert.objects.get().status == Alert.Status.RESOLVED


def test_an_admin_can_keep_detractor_alerts_for_the_digest(csm: Any) -> None:
    rule = AlertRule.objects.create(name="Detractor", kind=RuleKind.DETRACTOR, days=30)
    RuleSetting.objects.create(rule=rule, immediate=False)
    _detractor(AccountFactory.create(owner=csm), 1)
    services.alerts_evaluate(today=TODAY)
    assert Alert.objects.count() == 1 and not Notification.objects.exists()


def test_escalated_ticket_rule_per_ticket_from_n_days_open(csm: Any) -> None:
    AlertRule.objects.create(name="Escalated", kind=RuleKind.ESCALATED_TICKET, days=3)
    account = AccountFactory.create(owner=csm)
    old = TicketFactory.create(
        account=account, priority="URGENT", subject="Users locked out", opened_at=at(3, 23)
    )
    TicketFactory.create(account=account, priority="HIGH", opened_at=at(2, 1))  # 2 days
    TicketFactory.create(account=account, priority="MEDIUM", opened_at=at(20))  # not escalated
    closed_stage = TicketStageFactory.create(is_closed=True)
    TicketFactory.create(account=account, priority="HIGH", opened_at=at(9), stage=closed_stage)
    assert services.alerts_evaluate(today=TODAY).opened == {"Escalated": 1}
    alert = Alert.objects.get()
    assert (alert.ticket, alert.owner) == (old, csm)
    assert alert.message == "Urgent ticket open 3 days (since Nov 20, 2026): “Users locked out”"
    assert services.alerts_evaluate(today=TODAY).opened == {"Escalated": 0}
    # The ticket closes: the alert resolves itself.
    Ticket.objects.filter(pk=old.pk).update(is_closed=True)
    assert services.alerts_evaluate(today=TODAY).cleared == {"Escalated": 1}


def _tickets(account: Any, recent: int, before: int) -> None:
    for i in range(recent):
        TicketFactory.create(account=account, opened_at=at(i % 30))
    for i in range(before):
        TicketFactory.create(account=account, opened_at=at(30 + i % 30))


def test_tickets_up_rule_needs_the_rise_and_the_minimum_count() -> None:
    AlertRule.objects.create(name="Up", kind=RuleKind.TICKETS_UP, threshold=50, minimum=5)
    rising = AccountFactory.create(name="Rising")
    _tickets(rising, recent=6, before=4)  # +50%
    fresh = AccountFactory.create(name="Fresh")
    _tickets(fresh, recent=5, before=0)  # none before, the minimum reached
    noise = AccountFactory.create(name="Noise")
    _tickets(noise, recent=2, before=1)  # +100%, but 2 tickets
    slow = AccountFactory.create(name="Slow")
    _tickets(slow, recent=5, before=4)  # +25%
    TicketFactory.create(account=slow, opened_at=at(60))  # out of both windows
    services.alerts_evaluate(today=TODAY)
    messages = {a.account.name: a.message for a in Alert.objects.select_related("account")}
    assert messages == {
        "Rising": "6 support tickets opened in the last 30 days, up 50% from 4 in the 30 before",
        "Fresh": "5 support tickets opened in the last 30 days, none in the 30 before",
    }


def test_no_touch_rule_on_large_accounts_without_touch_or_login() -> None:
    AlertRule.objects.create(
        name="Quiet", kind=RuleKind.NO_TOUCH, days=30, arr_threshold=Decimal("50000")
    )
    quiet = AccountFactory.create(name="Quiet", arr=Decimal("80000"))
    EngagementFactory.create(account=quiet, occurred_at=at(30))
    AccountFactory.create(name="Never", arr=Decimal("50000"))
    touched = AccountFactory.create(name="Touched", arr=Decimal("80000"))
    EngagementFactory.create(account=touched, occurred_at=at(29))
    logged_in = AccountFactory.create(name="Logged in", arr=Decimal("80000"))
    UsageSnapshotFactory.create(account=logged_in, date=TODAY - timedelta(days=10), logins_30d=4)
    small = AccountFactory.create(name="Small", arr=Decimal("49999"))
    untouched_call = AccountFactory.create(name="Missed call", arr=Decimal("80000"))
    EngagementFactory.create(account=untouched_call, occurred_at=at(1), is_touch=False)
    services.alerts_evaluate(today=TODAY)
    messages = {a.account.name: a.message for a in Alert.objects.select_related("account")}
    assert set(messages) == {"Quiet", "Never", "Missed call"}
    assert messages["Quiet"] == (
        "No touch and no product login in 30 days (last on Oct 24, 2026); ARR 80,000 USD"
    )
    assert "(none on record)" in messages["Never"]
    assert small.pk and Alert.objects.count() == 3
    assert services.alerts_evaluate(today=TODAY).opened == {"Quiet": 0}


def _portfolio(n: int) -> None:
    for _ in range(n):
        account = AccountFactory.create(arr=Decimal("90000"))
        _detractor(account, 1)
        TicketFactory.create(account=account, priority="HIGH", opened_at=at(10))
        _tickets(account, recent=5, before=0)
        EngagementFactory.create(account=account, occurred_at=at(45))


def _queries() -> int:
    Alert.objects.all().delete()
    with CaptureQueriesContext(connection) as ctx:
        services.alerts_evaluate(today=TODAY)
    return len(ctx.captured_queries)


def test_the_support_rules_cost_the_same_queries_for_5_and_50_accounts() -> None:
    rules: list[tuple[RuleKind, dict[str, Any]]] = [
        (RuleKind.DETRACTOR, {"days": 30}),
        (RuleKind.ESCALATED_TICKET, {"days": 3}),
        (RuleKind.TICKETS_UP, {"threshold": 50, "minimum": 5}),
        (RuleKind.NO_TOUCH, {"days": 30, "arr_threshold": Decimal("1000")}),
    ]
    for kind, extra in rules:
        AlertRule.objects.create(name=kind.label, kind=kind, **extra)
    _portfolio(5)
    small = _queries()
    assert Alert.objects.count() == 5 * 4
    _portfolio(45)
    assert _queries() == small
    assert Alert.objects.count() == 50 * 4


@pytest.mark.parametrize(
    ("post", "field", "message"),
    [
        ({"kind": "escalated_ticket", "days": "-2"}, "days", "not zero or negative"),
        ({"kind": "escalated_ticket", "days": "0"}, "days", "not zero or negative"),
        ({"kind": "escalated_ticket"}, "days", "Required for “Escalated ticket open too long”"),
        (
            {"kind": "tickets_up", "threshold": "50", "minimum": "1"},
            "minimum",
            "At least 2 tickets, so one ticket more than none or one is not a rise.",
        ),
        ({"kind": "tickets_up", "threshold": "50"}, "minimum", "and at least (tickets"),
        ({"kind": "no_touch", "days": "30"}, "arr_threshold", "on accounts with ARR at least"),
        (
            {"kind": "no_touch", "days": "30", "arr_threshold": "-5"},
            "arr_threshold",
            "Enter an ARR of 0 or more (not negative).",
        ),
        ({"kind": "health_drop", "days": "7", "threshold": "150"}, "threshold", "100% at most"),
    ],
)
def test_rule_form_refuses_bad_numbers_with_clear_messages(
    client: Any, admin_user: Any, post: dict[str, str], field: str, message: str
) -> None:
    client.force_login(admin_user)
    response = client.post(reverse("alerts:rule_create"), {"name": "R", "due_in_days": "3", **post})
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert field in errors and message in html.unescape(" ".join(errors[field]))
    assert not AlertRule.objects.exists()


def test_rule_form_saves_a_no_touch_rule_and_the_list_describes_it(
    client: Any, admin_user: Any
) -> None:
    client.force_login(admin_user)
    page = client.get(reverse("alerts:rule_create")).content.decode()
    assert "so 1 → 2 is not" in html.unescape(page)
    response = client.post(
        reverse("alerts:rule_create"),
        {
            "name": "Quiet big ones",
            "kind": "no_touch",
            "days": "30",
            "arr_threshold": "50000",
            "due_in_days": "3",
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    rule = AlertRule.objects.get()
    assert (rule.days, rule.arr_threshold) == (30, Decimal("50000"))
    listing = html.unescape(client.get(reverse("alerts:rules")).content.decode())
    assert "No touch on a large account: no touch and no login for (days) 30" in listing

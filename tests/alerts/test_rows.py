"""The alerts page writes its rows in Python (success/alerts/rows.py, for speed:
docs/performance.md); they must be the markup the row template wrote. The
template below is that row template as it was, rendered by Django for the same
alerts: every status, snoozed, reopened, with and without an owner, tickets and
survey answers with and without a HubSpot address, overdue and not, text that
needs escaping."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.template import engines
from django.test import RequestFactory
from django.utils import timezone

from accounts.models import Account, User
from accounts.support.models import FeedbackSubmission, Ticket
from success.alerts.forms import AlertCloseForm
from success.alerts.models import Alert, AlertRule
from success.alerts.rows import alert_rows
from success.alerts.selectors import AlertRow, alert_list_rows, alerts_for
from tests.factories import AccountFactory
from tests.support.factories import FeedbackSubmissionFactory, TicketFactory

# The row loop of templates/alerts/alert_list.html before the rows moved to Python.
ROW_TEMPLATE = (Path(__file__).parent / "alert_row_template.html").read_text()

TODAY = date(2026, 3, 10)


def _alerts() -> list[Alert]:
    owner = User(pk=3, username="csm", first_name="Ana", last_name="<Lopez>")
    account = Account(pk=41, name="Acme & <Co>")
    rule = AlertRule(pk=2, name='Usage "drop"')
    opened = timezone.make_aware(datetime(2026, 3, 1, 23, 30))
    alerts = []
    pk = 100
    for status in ("open", "acknowledged", "resolved", "dismissed"):
        for record in ("", "ticket", "ticket-hs", "feedback", "feedback-hs"):
            for variant in range(3):
                pk += 1
                alert = Alert(
                    pk=pk,
                    account=account,
                    rule=rule,
                    owner=owner if variant != 1 else None,
                    message=f"Message <{pk}> & 'quoted'",
                    status=status,
                    opened_at=opened,
                    due_on=TODAY + timedelta(days=variant - 1),
                    note="Why <not>" if variant == 2 else "",
                    snoozed_until=TODAY + timedelta(days=7) if variant != 1 else None,
                    condition_cleared_at=opened if variant == 2 else None,
                    reopen_note="Back & again" if variant != 0 else "",
                )
                if record.startswith("ticket"):
                    alert.ticket = Ticket(pk=pk, hubspot_id="77" if record.endswith("hs") else None)
                if record.startswith("feedback"):
                    alert.feedback = FeedbackSubmission(
                        pk=pk, hubspot_id="88" if record.endswith("hs") else None
                    )
                alerts.append(alert)
    return alerts


def _row(a: Alert) -> AlertRow:
    """The values the page reads for the alert (selectors.alert_list_rows)."""
    owner = a.owner
    return AlertRow(
        pk=a.pk,
        account_id=a.account_id,
        account_name=a.account.name,
        rule_name=a.rule.name,
        message=a.message,
        status=a.status,
        opened_at=a.opened_at,
        due_on=a.due_on,
        note=a.note,
        snoozed_until=a.snoozed_until,
        condition_cleared_at=a.condition_cleared_at,
        reopen_note=a.reopen_note,
        ticket_id=a.ticket.pk if a.ticket else None,
        ticket_hubspot_id=a.ticket.hubspot_id if a.ticket else None,
        feedback_id=a.feedback.pk if a.feedback else None,
        feedback_hubspot_id=a.feedback.hubspot_id if a.feedback else None,
        owner_username=owner.username if owner else None,
        owner_first_name=owner.first_name if owner else None,
        owner_last_name=owner.last_name if owner else None,
    )


@pytest.mark.parametrize("can_write", [True, False])
def test_rows_are_the_row_templates_markup(settings: Any, can_write: bool) -> None:
    settings.HUBSPOT_PORTAL_ID = "123"
    request = RequestFactory().get("/alerts/?status=&q=<x>&page=2")
    alerts = _alerts()
    choices = AlertCloseForm.base_fields["snooze_days"].choices  # type: ignore[attr-defined]
    rows = alert_rows(
        map(_row, alerts),
        request=request,
        csrf_token="the-token",
        today=TODAY,
        can_write=can_write,
        snooze_choices=choices,
    )
    token = re.search(r'csrfmiddlewaretoken" value="([^"]+)"', "".join(rows))
    expected = (
        engines["django"]
        .from_string(ROW_TEMPLATE)
        .render(
            {
                "page": {"object_list": alerts},
                "can_write": can_write,
                "today": TODAY,
                "snooze_choices": choices,
                "request": request,
                # the rows' one token for the page, so both sides write the same one
                "csrf_token": token.group(1) if token else "",
            }
        )
    )
    assert "  " + "".join(f"\n  {row}\n  " for row in rows) == expected
    assert (token is not None) == can_write
    assert "&lt;Lopez&gt;" in expected and "Acme &amp; &lt;Co&gt;" in expected
    assert "Open the ticket in HubSpot" in expected and "See the survey answer" in expected


def test_the_pages_values_are_the_alerts_own(db: Any, csm: Any, leader: Any) -> None:
    """alert_list_rows reads each AlertRow field from the column the row template
    read from the alert (its account, rule, owner, ticket or survey answer)."""
    rule = AlertRule.objects.create(name="Rule <1>", kind="onboarding_late")
    account = AccountFactory.create(owner=csm, name="Acme & <Co>")
    opened = timezone.now() - timedelta(days=2)
    records: list[dict[str, Any]] = [
        {},
        {"ticket": TicketFactory.create(account=account, hubspot_id="77")},
        {"ticket": TicketFactory.create(account=account, hubspot_id=None)},
        {"feedback": FeedbackSubmissionFactory.create(account=account, hubspot_id="88")},
    ]
    for n, record in enumerate(records):
        Alert.objects.create(
            account=account,
            rule=rule,
            key=str(n),
            owner=csm if n % 2 else None,
            message=f"Message {n}",
            due_on=TODAY + timedelta(days=n % 2),
            opened_at=opened,
            note="a note" if n == 3 else "",
            snoozed_until=TODAY if n == 2 else None,
            reopen_note="again" if n == 1 else "",
            **record,
        )
    for user in (csm, leader):
        values = [AlertRow._make(r) for r in alert_list_rows(user=user, status="")]
        assert values == [_row(a) for a in alerts_for(user=user, status="")]
        assert len(values) == 4

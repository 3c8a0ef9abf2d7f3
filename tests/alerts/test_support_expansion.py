"""Expansion from support: a ticket or note with the admin's hint raises one support
signal, linked to it, due 24 hours later; the signal page shows per source how many
were followed up in time, and the late ones."""

from __future__ import annotations

import html
from datetime import timedelta
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.support.models import Engagement
from success.alerts import selectors
from success.alerts.models import ExpansionHint, ExpansionSignal
from success.alerts.support import support_expansion_raise
from tests.factories import AccountFactory
from tests.support.factories import EngagementFactory, TicketFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def hint() -> ExpansionHint:
    return ExpansionHint.objects.create(
        ticket_categories="UPGRADE_REQUEST", keywords="more seats\nupgrade"
    )


def test_hinted_tickets_and_notes_raise_one_support_signal_each_due_in_24_hours(
    hint: ExpansionHint, csm: Any
) -> None:
    account = AccountFactory.create(owner=csm)
    by_category = TicketFactory.create(
        account=account, category="UPGRADE_REQUEST", subject="Quote please"
    )
    by_subject = TicketFactory.create(account=account, subject="Upgrade to the Pro plan?")
    TicketFactory.create(account=account, subject="Upgraded browser, page blank")  # no word
    TicketFactory.create(
        account=account, subject="Need more seats", opened_at=timezone.now() - timedelta(days=8)
    )
    note = EngagementFactory.create(
        account=account,
        owner=csm,
        kind="note",
        subject="QBR prep",
        text="They want MORE seats in Q1.",
    )
    EngagementFactory.create(account=account, kind="email", subject="Re: more seats")
    now = timezone.now()
    signals = support_expansion_raise(now=now)
    assert {(s.ticket_id, s.engagement_id) for s in signals} == {
        (by_category.pk, None),
        (by_subject.pk, None),
        (None, note.pk),
    }
    assert all(
        s.source == "support" and s.follow_up_by == now + timedelta(hours=24) for s in signals
    )
    notes = {s.record: s.note for s in ExpansionSignal.objects.all()}
    assert notes[by_category] == (
        "Support ticket “Quote please” hints at expansion (category UPGRADE_REQUEST)."
    )
    assert notes[by_subject].endswith("(“upgrade” in the subject).")
    assert notes[note].startswith(f"Note by {csm.get_full_name()} mentions “more seats”")
    # Once per record, however often it is read again.
    assert support_expansion_raise() == []
    assert ExpansionSignal.objects.count() == 3


def test_no_hint_or_a_paused_hint_raises_nothing(csm: Any) -> None:
    TicketFactory.create(category="UPGRADE_REQUEST")
    assert support_expansion_raise() == []
    ExpansionHint.objects.create(ticket_categories="UPGRADE_REQUEST", is_active=False)
    assert support_expansion_raise() == []


def test_follow_up_figures_per_source_and_the_late_ones(client: Any, leader: Any) -> None:
    account = AccountFactory.create(name="Globex")
    now = timezone.now()

    def signal(source: str, raised_hours_ago: int, followed_after: int | None) -> ExpansionSignal:
        raised = now - timedelta(hours=raised_hours_ago)
        return ExpansionSignal.objects.create(
            account=account,
            source=source,
            note=f"{source} {raised_hours_ago} {followed_after}",
            raised_at=raised,
            follow_up_by=raised + timedelta(hours=24),
            followed_up_at=raised + timedelta(hours=followed_after)
            if followed_after is not None
            else None,
        )

    signal("support", 48, 3)  # in time
    signal("support", 48, 24)  # at the due time: in time
    late = signal("support", 60, 30)  # late
    overdue = signal("support", 30, None)  # overdue
    signal("support", 2, None)  # still in time
    signal("csm", 50, 1)
    report = selectors.signal_follow_ups(user=leader)
    rows = {r.source: r for r in report.rows}
    support = rows["support"]
    assert (support.total, support.in_time, support.late, support.overdue, support.waiting) == (
        5,
        2,
        1,
        1,
        1,
    )
    assert (support.due, support.in_time_pct) == (4, 50)
    assert (rows["csm"].in_time, rows["csm"].in_time_pct) == (1, 100)
    assert (rows["rule"].total, rows["rule"].in_time_pct) == (0, None)
    assert [s.pk for s in report.late] == [overdue.pk, late.pk]
    client.force_login(leader)
    page = html.unescape(client.get(reverse("alerts:signals")).content.decode())
    assert "Followed up in time, per source" in page and "(50% of 4 due)" in page
    assert "support 30 None" in page and "not followed up" in page


def test_signal_page_queries_do_not_grow_with_signals(
    client: Any, leader: Any, django_assert_max_num_queries: Any
) -> None:
    def load(n: int) -> None:
        for i in range(n):
            ExpansionSignal.objects.create(
                account=AccountFactory.create(),
                source=["csm", "support", "rule"][i % 3],
                note="x",
                follow_up_by=timezone.now() - timedelta(hours=1),
            )

    client.force_login(leader)
    load(5)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        assert client.get(reverse("alerts:signals")).status_code == 200
    load(45)
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(reverse("alerts:signals"))


def test_admin_sets_the_hints_with_clear_messages(client: Any, admin_user: Any, csm: Any) -> None:
    client.force_login(admin_user)
    url = reverse("alerts:hints")
    response = client.post(url, {"ticket_categories": "Upgrade request!", "keywords": "up"})
    errors = response.context["form"].errors
    assert "letters, digits, _" in errors["ticket_categories"][0]
    assert "too short: up" in errors["keywords"][0]
    response = client.post(url, {"ticket_categories": "", "keywords": "", "is_active": "on"})
    assert "Name at least one ticket category or keyword." in html.unescape(
        response.content.decode()
    )
    assert not ExpansionHint.objects.exists()
    response = client.post(
        url,
        {
            "ticket_categories": "upgrade_request, UPGRADE_REQUEST",
            "keywords": "more seats\n\nupgrade",
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    hint = ExpansionHint.objects.get()
    assert (hint.category_list, hint.keyword_list) == (
        ["UPGRADE_REQUEST"],
        ["more seats", "upgrade"],
    )
    client.force_login(csm)
    assert client.get(url).status_code == 403
    assert Engagement.objects.count() == 0


def test_demo_has_one_active_rule_of_each_support_kind_and_a_support_signal() -> None:
    from success.alerts import demo
    from success.alerts.models import AlertRule, RuleKind
    from tests.factories import UserFactory

    csm1 = UserFactory.create(username="csm1")
    account = AccountFactory.create(owner=csm1)
    TicketFactory.create(account=account)
    message = demo.build(seed=1, today=timezone.localdate())
    kinds = set(AlertRule.objects.filter(is_active=True).values_list("kind", flat=True))
    assert {
        RuleKind.DETRACTOR,
        RuleKind.ESCALATED_TICKET,
        RuleKind.TICKETS_UP,
        RuleKind.NO_TOUCH,
    } <= kinds
    support = ExpansionSignal.objects.filter(source="support", account=account)
    assert {bool(s.ticket_id) for s in support} == {True, False}  # a ticket and a note
    assert "4 support rules" in message and "2 support signals" in message

from __future__ import annotations

import html
from datetime import date, timedelta
from typing import Any

import pytest
from django.urls import reverse

from success.alerts.models import Alert, AlertRule, ExpansionSignal, RuleKind
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db


def _alert(account: Any, rule: AlertRule) -> Alert:
    return Alert.objects.create(
        account=account,
        rule=rule,
        owner=account.owner,
        message=f"Call {account.name}",
        due_on=date.today() - timedelta(days=1),
    )


def test_csm_sees_only_their_accounts_alerts_leader_sees_all(
    client: Any, csm: Any, other_csm: Any, leader: Any
) -> None:
    rule = AlertRule.objects.create(name="Late", kind=RuleKind.ONBOARDING_LATE)
    _alert(AccountFactory.create(owner=csm, name="Mine"), rule)
    _alert(AccountFactory.create(owner=other_csm, name="Theirs"), rule)
    client.force_login(csm)
    page = client.get(reverse("alerts:list")).content.decode()
    assert "Call Mine" in page and "Call Theirs" not in page and "overdue" in page
    client.force_login(leader)
    page = client.get(reverse("alerts:list")).content.decode()
    assert "Call Mine" in page and "Call Theirs" in page


def test_owner_resolves_an_alert_and_another_csm_cannot(
    client: Any, csm: Any, other_csm: Any
) -> None:
    rule = AlertRule.objects.create(name="Late", kind=RuleKind.ONBOARDING_LATE)
    alert = _alert(AccountFactory.create(owner=csm), rule)
    client.force_login(other_csm)
    response = client.post(reverse("alerts:close", args=[alert.pk]), {"status": "resolved"})
    assert response.status_code == 403
    client.force_login(csm)
    client.post(reverse("alerts:close", args=[alert.pk]), {"status": "resolved", "note": "Done"})
    alert.refresh_from_db()
    assert alert.status == "resolved"


def test_rule_form_explains_missing_parameters(client: Any, admin_user: Any) -> None:
    client.force_login(admin_user)
    response = client.post(
        reverse("alerts:rule_create"),
        {"name": "Renewals", "kind": "renewal_without_review", "days": "90", "due_in_days": "3"},
    )
    assert "no review in the last (days)" in html.unescape(response.content.decode())
    assert not AlertRule.objects.exists()


def test_csm_raises_and_follows_up_an_expansion_signal(client: Any, csm: Any) -> None:
    account = AccountFactory.create(owner=csm)
    client.force_login(csm)
    client.post(
        reverse("alerts:signal_raise", args=[account.pk]),
        {"source": "support", "note": "Asked about SSO for 200 more users"},
    )
    signal = ExpansionSignal.objects.get()
    assert (signal.source, signal.raised_by) == ("support", csm)
    page = client.get(reverse("alerts:signals")).content.decode()
    assert "Asked about SSO" in page
    client.post(reverse("alerts:signal_follow_up", args=[signal.pk]), {"outcome": "Demo booked"})
    signal.refresh_from_db()
    assert signal.outcome == "Demo booked" and signal.followed_up_by == csm


def test_csm_snoozes_a_dismissal_and_finds_it_under_the_snoozed_filter(
    client: Any, csm: Any, django_assert_num_queries: Any
) -> None:
    rule = AlertRule.objects.create(name="Late", kind=RuleKind.ONBOARDING_LATE)
    alerts = [_alert(AccountFactory.create(owner=csm, name=f"Acme {i}"), rule) for i in range(3)]
    client.force_login(csm)
    response = client.post(
        reverse("alerts:close", args=[alerts[0].pk]),
        {"status": "dismissed", "note": "Known: data migration week", "snooze_days": "14"},
        follow=True,
    )
    until = date.today() + timedelta(days=14)
    assert f"Alert dismissed until {until:%b} {until.day}, {until.year}" in html.unescape(
        response.content.decode()
    )
    live = client.get(reverse("alerts:list")).content.decode()
    assert "Call Acme 0" not in live and "Call Acme 1" in live
    # session, user with their groups, count, rules (the filter), alerts with account,
    # owner, rule
    with django_assert_num_queries(5):
        snoozed = client.get(reverse("alerts:list"), {"status": "snoozed"}).content.decode()
    assert "Call Acme 0" in snoozed and "Call Acme 1" not in snoozed
    assert f"snoozed until {until:%b} {until.day}, {until.year}" in snoozed


def test_a_bad_snooze_changes_nothing(client: Any, csm: Any) -> None:
    rule = AlertRule.objects.create(name="Late", kind=RuleKind.ONBOARDING_LATE)
    alert = _alert(AccountFactory.create(owner=csm), rule)
    client.force_login(csm)
    client.post(
        reverse("alerts:close", args=[alert.pk]),
        {"status": "dismissed", "note": "x", "snooze_days": "5000"},
    )
    alert.refresh_from_db()
    assert (alert.status, alert.snoozed_until) == ("open", None)


def test_the_timeline_labels_alert_entries_alert_not_health(client: Any, csm: Any) -> None:
    from django.utils import timezone

    from success.alerts import services

    AlertRule.objects.create(name="Late onboarding", kind=RuleKind.ONBOARDING_LATE)
    account = AccountFactory.create(owner=csm, onboarding_status="late")
    services.alerts_evaluate(today=timezone.localdate())
    client.force_login(csm)
    page = html.unescape(client.get(reverse("account", args=[account.pk])).content.decode())
    entry = page[page.index("Late onboarding: ") - 400 : page.index("Late onboarding: ") + 400]
    assert '<div class="actor">Alert</div>' in entry
    assert '<div class="actor">Health' not in entry

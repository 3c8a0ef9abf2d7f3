"""LiveAlertCount: the live alerts per account owner that PostgreSQL's triggers keep
(alerts migration 0009) stay what COUNT(*) finds after every kind of alert and account
write, and the alerts page counts its live inbox from them as counting does."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.db import connection
from django.db.models import Count
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import Account
from success.alerts.models import Alert, AlertRule, LiveAlertCount, RuleKind
from success.alerts.selectors import alerts_count, alerts_matching, live_alert_counts
from tests.factories import AccountFactory, UserFactory

pytestmark = pytest.mark.django_db

LIVE = [Alert.Status.OPEN, Alert.Status.ACKNOWLEDGED]


def _counted() -> dict[int | None, int]:
    live = Alert.objects.filter(status__in=LIVE).order_by()
    return dict(
        live.values_list("account__owner_id")
        .annotate(n=Count("pk"))
        .values_list("account__owner_id", "n")
    )


def _kept() -> dict[int | None, int]:
    kept = live_alert_counts()
    assert kept is not None
    return kept


def _alert(account: Account, rule: AlertRule, status: str = "open", key: str = "") -> Alert:
    return Alert.objects.create(
        account=account,
        rule=rule,
        key=key,
        owner=account.owner,
        message=f"Call {account.name}",
        due_on=date.today(),
        status=status,
    )


def test_counts_follow_every_kind_of_alert_and_account_write() -> None:
    ann, bob = UserFactory.create(), UserFactory.create()
    rule = AlertRule.objects.create(name="Late", kind=RuleKind.ONBOARDING_LATE)
    other = AlertRule.objects.create(name="Quiet", kind=RuleKind.NO_LOGIN, days=30)
    assert live_alert_counts() == {}
    a1, a2 = AccountFactory.create(owner=ann), AccountFactory.create(owner=ann)
    b1, nobody = AccountFactory.create(owner=bob), AccountFactory.create(owner=None)
    _alert(a1, rule)
    _alert(a1, other, status="acknowledged")
    _alert(a2, rule, status="resolved")  # not live
    Alert.objects.bulk_create(
        [
            Alert(account=acc, rule=other, key=key, message="m", due_on=date.today(), status=status)
            for acc, status, key in [
                (b1, "open", "b"),
                (nobody, "open", "n"),
                (a2, "dismissed", "d"),
                (b1, "open", "b2"),
            ]
        ]
    )
    assert _kept() == _counted() == {ann.pk: 2, bob.pk: 2, None: 1}

    closing = Alert.objects.filter(account=a1, rule=rule).get()
    closing.status = Alert.Status.RESOLVED
    closing.save()  # every column written: its liveness changed
    reopened = Alert.objects.get(account=a2, status="resolved")
    reopened.status, reopened.message = Alert.Status.OPEN, "Again"
    reopened.save()
    reopened.message = "Edited"
    reopened.save()  # neither liveness nor account changed
    Alert.objects.filter(account=b1).update(status=Alert.Status.ACKNOWLEDGED)  # still live
    Alert.objects.filter(account=nobody).update(account=b1)  # moved between owners
    Alert.objects.filter(status="dismissed").update(status="open", account=nobody)
    assert _kept() == _counted() == {ann.pk: 2, bob.pk: 3, None: 1}

    a1.owner = bob
    a1.save()  # the account's live alerts move with it
    a1.arr += 1
    a1.save()  # not its owner
    Account.objects.filter(pk=nobody.pk).update(owner=ann)
    Account.objects.filter(owner=bob).update(health_score=40)  # not counted
    assert _kept() == _counted() == {ann.pk: 2, bob.pk: 4}

    bob.delete()  # their accounts become unassigned (SET NULL)
    assert _kept() == _counted() == {ann.pk: 2, None: 4}
    b1.delete()  # Django deletes its alerts first
    Alert.objects.filter(account=a2).delete()
    assert _kept() == _counted() == {ann.pk: 1, None: 1}


def test_an_account_deleted_before_its_alerts_counts_them_once() -> None:
    ann = UserFactory.create()
    rule = AlertRule.objects.create(name="Late", kind=RuleKind.ONBOARDING_LATE)
    gone, kept = AccountFactory.create(owner=ann), AccountFactory.create(owner=ann)
    _alert(gone, rule)
    _alert(gone, rule, status="acknowledged", key="x")
    _alert(kept, rule)
    with connection.cursor() as cursor:  # raw SQL: the account first (checks deferred)
        cursor.execute("DELETE FROM accounts_account WHERE id = %s", [gone.pk])
        assert _kept() == {ann.pk: 1}
        cursor.execute("DELETE FROM alerts_alert WHERE account_id = %s", [gone.pk])
    assert _kept() == _counted() == {ann.pk: 1}


@pytest.mark.django_db(transaction=True)  # TRUNCATE waits for no deferred check
def test_truncate_empties_the_counts() -> None:
    rule = AlertRule.objects.create(name="Late", kind=RuleKind.ONBOARDING_LATE)
    _alert(AccountFactory.create(), rule)
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE alerts_alert CASCADE")
    assert live_alert_counts() == {}
    assert not LiveAlertCount.objects.exists()


@pytest.mark.parametrize("role", ["csm", "leader"])
@pytest.mark.parametrize("status", ["live", "", "open", "snoozed", "resolved"])
def test_the_page_counts_as_counting_does(
    client: Any, csm: Any, other_csm: Any, leader: Any, role: str, status: str, settings: Any
) -> None:
    rule = AlertRule.objects.create(name="Late", kind=RuleKind.ONBOARDING_LATE)
    for i in range(9):
        owner = [csm, other_csm, None][i % 3]
        _alert(AccountFactory.create(owner=owner), rule, status=["open", "resolved"][i % 4 == 3])
    user = {"csm": csm, "leader": leader}[role]
    counted = alerts_matching(user=user, status=status).count()
    assert alerts_count(user=user, status=status) == counted
    client.force_login(user)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("alerts:list"), {"status": status})
    assert response.status_code == 200
    assert response.context["page"].paginator.count == counted
    kept_read = [q for q in queries if LiveAlertCount._meta.db_table in q["sql"]]
    assert len(kept_read) == (1 if status == "live" else 0)


def test_a_rule_filter_is_counted(client: Any, csm: Any) -> None:
    late = AlertRule.objects.create(name="Late", kind=RuleKind.ONBOARDING_LATE)
    quiet = AlertRule.objects.create(name="Quiet", kind=RuleKind.NO_LOGIN, days=30)
    account = AccountFactory.create(owner=csm)
    _alert(account, late)
    _alert(account, quiet)
    client.force_login(csm)
    response = client.get(reverse("alerts:list"), {"rule": str(quiet.pk)})
    assert response.context["page"].paginator.count == 1
    assert alerts_count(user=csm, rule_id=quiet.pk) == 1
    assert alerts_count(user=csm) == 2


def test_the_page_shows_the_kept_count_and_its_pages(client: Any, csm: Any) -> None:
    rule = AlertRule.objects.create(name="Late", kind=RuleKind.ONBOARDING_LATE)
    account = AccountFactory.create(owner=csm)
    Alert.objects.bulk_create(
        Alert(account=account, rule=rule, key=str(i), message="m", due_on=date.today())
        for i in range(1001)
    )
    client.force_login(csm)
    page = client.get(reverse("alerts:list"), {"page": "2"}).content.decode()
    assert "1,001 alerts" in page
    assert "Page 2 of 21" in page
    assert 'rel="prev"' in page and 'rel="next"' in page

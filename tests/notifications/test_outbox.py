"""The outbox: notifications written with their event, one delivery per
notification and channel, claimed by one worker, retried with backoff,
failures shown to admins."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import Account
from lifecycle.notifications import outbox
from lifecycle.notifications.models import Delivery, Notification, SlackWebhook
from success.alerts.models import ExpansionSignal
from success.alerts.services import expansion_signal_raise

from .servers import SlackServer, SmtpServer


def test_a_rolled_back_signal_leaves_no_notification(owned: Account, csm: Any) -> None:
    with pytest.raises(RuntimeError), transaction.atomic():
        expansion_signal_raise(account=owned, note="Wants 40 seats", source="csm", by=csm)
        assert Notification.objects.count() == 1  # written inside the event's transaction
        raise RuntimeError("the event fails after the signal was written")
    assert not ExpansionSignal.objects.exists()
    assert not Notification.objects.exists()
    assert not Delivery.objects.exists()


def test_a_signal_writes_one_notification_with_one_delivery_per_channel(
    owned: Account, csm: Any, company_channel: SlackWebhook
) -> None:
    signal = expansion_signal_raise(account=owned, note="Wants 40 seats", source="csm", by=csm)
    n = Notification.objects.get()
    assert (n.key, n.recipient, n.in_app) == (f"expansion_signal:{signal.pk}:{csm.pk}", csm, True)
    assert sorted(d.channel for d in n.deliveries.all()) == ["email", "slack"]
    email = n.deliveries.get(channel="email")
    assert email.address == "csm@example.com"
    assert email.status == Delivery.Status.PENDING
    # The idempotency key: the same notification, channel and target cannot be queued twice.
    with pytest.raises(IntegrityError), transaction.atomic():
        Delivery.objects.create(notification=n, channel="email", key=email.key, address="x@y.z")


def test_only_one_worker_wins_a_claim_and_a_live_lease_is_not_taken(
    owned: Account, csm: Any
) -> None:
    expansion_signal_raise(account=owned, note="Wants 40 seats", source="csm", by=csm)
    delivery = Delivery.objects.get()
    now = timezone.now()
    first = outbox.delivery_claim(delivery_id=delivery.pk, now=now)
    assert first is not None and first.attempts == 1
    assert outbox.delivery_claim(delivery_id=delivery.pk, now=now) is None
    # Once the lease ran out (its worker died), another worker may take it.
    later = now + timedelta(seconds=121)
    again = outbox.delivery_claim(delivery_id=delivery.pk, now=later)
    assert again is not None and again.attempts == 2


def test_deliveries_are_sent_after_commit_by_the_task(
    owned: Account,
    csm: Any,
    smtp: SmtpServer,
    slack: SlackServer,
    company_channel: SlackWebhook,
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        expansion_signal_raise(account=owned, note="Wants 40 seats", source="csm", by=csm)
    assert [m["Subject"] for m in smtp.messages] == ["Expansion signal: Acme Corp"]
    assert len(slack.received) == 1
    assert set(Delivery.objects.values_list("status", flat=True)) == {"sent"}


def test_failures_back_off_then_fail_and_show_on_the_admin_page(
    owned: Account,
    csm: Any,
    slack: SlackServer,
    company_channel: SlackWebhook,
    admin_user: Any,
    client: Any,
    settings: Any,
) -> None:
    settings.NOTIFY_MAX_ATTEMPTS = 3
    slack.expect("500", "500", "500")
    expansion_signal_raise(account=owned, note="Wants 40 seats", source="csm", by=csm)
    delivery = Delivery.objects.get(channel="slack")
    start = timezone.now()
    assert outbox.delivery_send(delivery_id=delivery.pk) == "retrying"
    delivery.refresh_from_db()
    first_wait = (delivery.next_attempt_at - start).total_seconds()
    assert delivery.attempts == 1 and 0.2 <= first_wait < 1.0
    assert "Slack 500" in delivery.last_error
    # Not due yet: the sweep leaves it alone.
    assert delivery.pk not in outbox.deliveries_due(now=timezone.now())
    time.sleep(first_wait)
    assert outbox.delivery_send(delivery_id=delivery.pk, inline_wait=5) == "failed"
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("failed", 3)
    assert slack.state.answers == [500, 500, 500]
    assert slack.received == []

    client.force_login(admin_user)
    page = client.get(reverse("notifications:deliveries")).content.decode()
    assert "Slack 500" in page and "#cs-alerts" in page and "Failed" in page
    response = client.post(reverse("notifications:delivery_retry", args=[delivery.pk]))
    assert response.status_code == 302
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("pending", 0)


def test_the_deliveries_page_costs_the_same_queries_for_more_rows(
    owned: Account, csm: Any, admin_user: Any, client: Any, django_assert_num_queries: Any
) -> None:
    for i in range(3):
        expansion_signal_raise(account=owned, note=f"Signal {i}", source="csm", by=csm)
    Delivery.objects.update(status="failed", last_error="SMTP 550")
    client.force_login(admin_user)
    # session, user with their role, count, page rows, delivery counts
    with django_assert_num_queries(5):
        assert client.get(reverse("notifications:deliveries")).status_code == 200
    for i in range(5):
        expansion_signal_raise(account=owned, note=f"More {i}", source="csm", by=csm)
    Delivery.objects.update(status="failed", last_error="SMTP 550")
    with django_assert_num_queries(5):
        assert client.get(reverse("notifications:deliveries")).status_code == 200


def test_only_admins_see_the_deliveries_page(client: Any, csm: Any) -> None:
    client.force_login(csm)
    assert client.get(reverse("notifications:deliveries")).status_code == 403

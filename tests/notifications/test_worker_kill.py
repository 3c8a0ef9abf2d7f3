"""A delivery worker killed for real (SIGKILL, its own process) in the middle of
a send: the delivery is not lost (its lease runs out and the sweep sends it) and
not doubled (while the lease is live nobody else sends it)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from accounts.models import Account
from lifecycle.notifications import outbox
from lifecycle.notifications.models import Delivery, Notification, SlackWebhook
from success.alerts.services import expansion_signal_raise

from .servers import SlackServer

WORKER = textwrap.dedent(
    """
    import django, sys
    django.setup()
    from lifecycle.notifications import tasks
    print(tasks.deliver([int(sys.argv[1])]))
    """
)
LEASE_SECONDS = 6


def _database_url() -> str:
    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_send_neither_loses_nor_doubles_the_message(
    owned: Account, csm: Any, slack: SlackServer, company_channel: SlackWebhook, settings: Any
) -> None:
    settings.NOTIFY_LEASE_SECONDS = LEASE_SECONDS
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
    company_channel.is_active = False
    company_channel.save()
    # Committed, so its own task sent the email; the Slack delivery is queued
    # by hand here for the worker process to pick up.
    expansion_signal_raise(account=owned, note="Wants 40 seats", source="csm", by=csm)
    notification = Notification.objects.get()
    delivery = Delivery.objects.create(
        notification=notification,
        channel="slack",
        webhook=company_channel,
        key=Delivery.make_key(notification.key, "slack", str(company_channel.pk)),
    )
    slack.expect("hold:10")
    worker = subprocess.Popen(
        [sys.executable, "-c", WORKER, str(delivery.pk)],
        cwd=Path(settings.BASE_DIR),
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "lifecycle.settings.test",
            "DATABASE_URL": _database_url(),
            "NOTIFY_LEASE_SECONDS": str(LEASE_SECONDS),
        },
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while slack.state.requests == 0:  # Slack holds the worker's request
        assert worker.poll() is None, worker.communicate()
        assert time.monotonic() < deadline, "the worker never started sending"
        time.sleep(0.02)
    # The worker holds the delivery: a sweep now sends nothing (no double).
    assert outbox.deliveries_due(now=timezone.now()) == []
    assert outbox.delivery_send(delivery_id=delivery.pk) == "skipped"
    worker.send_signal(signal.SIGKILL)
    worker.communicate(timeout=30)
    assert worker.returncode == -signal.SIGKILL
    held = Delivery.objects.get(pk=delivery.pk)
    assert (held.status, held.attempts) == ("sending", 1)
    assert slack.received == []

    time.sleep(LEASE_SECONDS + 0.2)  # the dead worker's lease runs out
    assert outbox.deliveries_due(now=timezone.now()) == [delivery.pk]
    outcome = outbox.deliveries_send(ids=outbox.deliveries_due(now=timezone.now()))
    assert outcome.sent == [delivery.pk], Delivery.objects.get(pk=delivery.pk).last_error
    assert len(slack.received) == 1
    done = Delivery.objects.get(pk=delivery.pk)
    assert (done.status, done.attempts) == ("sent", 2)
    # And nothing is due any more.
    assert outbox.deliveries_due(now=timezone.now()) == []

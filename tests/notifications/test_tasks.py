"""The scheduled jobs (declared in lifecycle/schedules.py): the sweep sends
what is due, the digest pass queues the digests whose local hour came."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import time_machine
from django.utils import timezone
from django.utils.module_loading import import_string

from accounts.models import Account
from lifecycle.notifications import tasks
from lifecycle.notifications.models import Delivery, Profile
from lifecycle.schedules import SCHEDULES
from success.alerts.services import expansion_signal_raise

from .book import book
from .servers import SmtpServer


def test_the_notification_jobs_are_declared_and_importable() -> None:
    funcs = {s.func for s in SCHEDULES}
    assert {
        "lifecycle.notifications.tasks.deliveries_sweep",
        "lifecycle.notifications.tasks.digests_send",
    } <= funcs
    for func in funcs:
        assert callable(import_string(func))


def test_the_sweep_sends_a_retry_once_it_is_due(smtp: SmtpServer, owned: Account, csm: Any) -> None:
    expansion_signal_raise(account=owned, note="Wants 40 seats", source="csm", by=csm)
    Delivery.objects.update(next_attempt_at=timezone.now() + timedelta(hours=1))
    assert tasks.deliveries_sweep() == "sent 0, retrying 0, failed 0"
    Delivery.objects.update(next_attempt_at=timezone.now() - timedelta(seconds=1))
    assert tasks.deliveries_sweep() == "sent 1, retrying 0, failed 0"
    assert [m["Subject"] for m in smtp.messages] == ["Expansion signal: Acme Corp"]


def test_the_digest_pass_queues_those_whose_hour_came(
    csm: Any, other_csm: Any, django_capture_on_commit_callbacks: Any, smtp: SmtpServer
) -> None:
    # At a fixed hour (UTC, the project's default zone in tests): run at 23:00, the
    # next hour was capped to 23 as well, both were due, and their order decided.
    with time_machine.travel(datetime(2026, 11, 30, 10, 15, tzinfo=UTC), tick=False):
        now = timezone.now()
        Profile.objects.create(user=csm, digest_hour=10)
        Profile.objects.create(user=other_csm, digest_hour=11)
        book(csm, now, timezone.get_default_timezone())
        book(other_csm, now, timezone.get_default_timezone())
        with django_capture_on_commit_callbacks(execute=True):
            result = tasks.digests_send()
    assert result == "queued 1 digests"
    assert [m["To"] for m in smtp.messages] == [csm.email]

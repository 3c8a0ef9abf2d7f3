"""Slack: immediate notifications as Block Kit messages through an incoming
webhook, retried on 429 (Retry-After honoured) and 5xx, never twice per event."""

from __future__ import annotations

import time
from typing import Any

from accounts.models import Account
from lifecycle.notifications.models import Delivery, Notification, SlackWebhook
from success.alerts.services import expansion_signal_raise
from tests.factories import UserFactory

from .servers import SlackServer


def test_a_signal_reaches_slack_once_within_seconds_when_the_endpoint_fails_twice(
    owned: Account,
    csm: Any,
    slack: SlackServer,
    company_channel: SlackWebhook,
    settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
    slack.expect("429:1", "500", "200")
    started = time.monotonic()
    with django_capture_on_commit_callbacks(execute=True):
        signal = expansion_signal_raise(account=owned, note="Wants 40 seats", source="csm", by=csm)
    elapsed = time.monotonic() - started
    assert slack.state.answers == [429, 500, 200]
    assert len(slack.received) == 1
    # Retry-After: 1 was honoured, then the 0.2 s base backoff doubled.
    assert 1.0 <= elapsed < 10
    delivery = Delivery.objects.get(channel="slack")
    assert (delivery.status, delivery.attempts) == ("sent", 3)
    message = slack.received[0]
    assert message["text"] == "Expansion signal: Acme Corp"
    header, section, actions = message["blocks"]
    assert header["type"] == "header" and section["type"] == "section"
    assert "Wants 40 seats" in section["text"]["text"]
    button = actions["elements"][0]
    assert button["url"].startswith("https://lifecycle.example.com/notifications/o/")
    # A second run over the same event sends nothing more.
    from lifecycle.notifications import outbox

    assert outbox.delivery_send(delivery_id=delivery.pk) == "skipped"
    assert len(slack.received) == 1
    assert Notification.objects.get().key.startswith(f"expansion_signal:{signal.pk}:")


def test_slack_refusing_the_webhook_fails_at_once(
    owned: Account, csm: Any, slack: SlackServer, company_channel: SlackWebhook
) -> None:
    from lifecycle.notifications import outbox

    slack.expect("404")
    expansion_signal_raise(account=owned, note="Wants 40 seats", source="csm", by=csm)
    delivery = Delivery.objects.get(channel="slack")
    assert outbox.delivery_send(delivery_id=delivery.pk, inline_wait=10) == "failed"
    delivery.refresh_from_db()
    assert delivery.attempts == 1 and "no_service" in delivery.last_error


def test_a_teams_channel_gets_its_peoples_signals_only(
    owned: Account, csm: Any, other_csm: Any, slack: SlackServer
) -> None:
    from lifecycle.notifications.models import Profile
    from tests.factories import AccountFactory

    lead = UserFactory.create(username="lead", role="leader")
    team = SlackWebhook.objects.create(name="#team-lead", url=slack.url, team_leader=lead)
    Profile.objects.create(user=csm, team_leader=lead)
    theirs = AccountFactory.create(owner=other_csm)
    expansion_signal_raise(account=owned, note="Mine", source="csm", by=csm)
    expansion_signal_raise(account=theirs, note="Theirs", source="csm", by=other_csm)
    slack_notes = list(
        Delivery.objects.filter(channel="slack").values_list("notification__body", "webhook")
    )
    assert len(slack_notes) == 1
    assert slack_notes[0][0].startswith("Mine") and slack_notes[0][1] == team.pk

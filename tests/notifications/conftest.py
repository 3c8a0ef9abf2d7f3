from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from accounts.models import Account
from lifecycle.notifications.models import SlackWebhook
from tests.factories import AccountFactory

from .servers import SlackServer, SmtpServer


@pytest.fixture
def smtp(settings: Any) -> Iterator[SmtpServer]:
    """A real SMTP server on localhost; Django's SMTP backend sends to it."""
    with SmtpServer() as server:
        settings.MAILERS = {
            "default": {
                "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
                "OPTIONS": {"host": "127.0.0.1", "port": server.port, "timeout": 10},
            }
        }
        yield server


@pytest.fixture
def slack() -> Iterator[SlackServer]:
    with SlackServer() as server:
        yield server


@pytest.fixture(autouse=True)
def fast_retries(settings: Any) -> None:
    settings.NOTIFY_RETRY_BASE_SECONDS = 0.2
    settings.SITE_URL = "https://lifecycle.example.com"


@pytest.fixture
def company_channel(db: Any, slack: SlackServer) -> SlackWebhook:
    return SlackWebhook.objects.create(name="#cs-alerts", url=slack.url)


@pytest.fixture
def owned(csm: Any) -> Account:
    csm.email = "csm@example.com"
    csm.save(update_fields=["email"])
    return AccountFactory.create(name="Acme Corp", owner=csm, arr=Decimal("250000"))

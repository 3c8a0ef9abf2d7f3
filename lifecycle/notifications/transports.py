"""How a delivery leaves: email through Django's email framework, Slack through
an incoming webhook (Block Kit). Each raises Retryable or Permanent on failure."""

from __future__ import annotations

import json
import smtplib
import urllib.error
import urllib.request

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string

from .models import Delivery, Kind, Notification
from .tokens import absolute, open_url, unsubscribe_url


class Retryable(Exception):
    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Permanent(Exception):
    pass


def email_message(delivery: Delivery) -> EmailMultiAlternatives:
    """The email for one delivery: plain text and HTML, a link that opens (and
    marks read) the notification, and a one-click unsubscribe for its kind."""
    n: Notification = delivery.notification
    context = {
        "n": n,
        "open_url": open_url(n.pk),
        "page_url": absolute(n.path),
        "unsubscribe_url": unsubscribe_url(user_id=n.recipient_id or 0, kind=n.kind),
        "kind_label": Kind(n.kind).label,
        "site_url": settings.SITE_URL,
    }
    text = render_to_string("notifications/email/message.txt", context)
    html = render_to_string("notifications/email/message.html", context)
    message = EmailMultiAlternatives(
        subject=n.title,
        body=text,
        to=[delivery.address],
        headers={
            "Message-ID": delivery.message_id,
            "List-Unsubscribe": f"<{context['unsubscribe_url']}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "X-Lifecycle-Kind": n.kind,
        },
    )
    message.attach_alternative(html, "text/html")
    return message


def send_email(delivery: Delivery) -> None:
    message = email_message(delivery)
    try:
        message.send()
    except smtplib.SMTPResponseException as exc:
        text = f"SMTP {exc.smtp_code}: {exc.smtp_error!r}"
        if 400 <= exc.smtp_code < 500:
            raise Retryable(text) from exc
        raise Permanent(text) from exc
    except smtplib.SMTPRecipientsRefused as exc:
        raise Permanent(f"Recipient refused: {exc.recipients}") from exc
    except (OSError, smtplib.SMTPException) as exc:
        raise Retryable(f"{type(exc).__name__}: {exc}") from exc


def slack_payload(notification: Notification) -> dict[str, object]:
    """A Block Kit message: the title, the text, and a button that opens the page."""
    link = open_url(notification.pk)
    return {
        "text": notification.title,
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": notification.title[:150]}},
            {"type": "section", "text": {"type": "mrkdwn", "text": notification.body[:2900]}},
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "text": {"type": "plain_text", "text": "Open in Lifecycle"},
                        "url": link,
                        "action_id": "open",
                    }
                ],
            },
        ],
    }


def send_slack(delivery: Delivery) -> None:
    assert delivery.webhook is not None
    body = json.dumps(slack_payload(delivery.notification)).encode()
    request = urllib.request.Request(
        delivery.webhook.url,
        data=body,
        method="POST",
        headers={"Content-Type": "application/json", "X-Lifecycle-Delivery": delivery.key},
    )
    try:
        with urllib.request.urlopen(
            request, timeout=settings.NOTIFY_SEND_TIMEOUT_SECONDS
        ) as response:
            response.read()
    except urllib.error.HTTPError as exc:
        detail = f"Slack {exc.code}: {exc.read()[:200].decode(errors='replace')}"
        if exc.code == 429:
            raw = exc.headers.get("Retry-After", "")
            retry_after = float(raw) if raw.replace(".", "", 1).isdigit() else None
            raise Retryable(detail, retry_after=retry_after) from exc
        if exc.code >= 500:
            raise Retryable(detail) from exc
        raise Permanent(detail) from exc
    except (urllib.error.URLError, OSError) as exc:
        raise Retryable(f"{type(exc).__name__}: {exc}") from exc


def send(delivery: Delivery) -> None:
    if delivery.channel == "email":
        send_email(delivery)
    else:
        send_slack(delivery)

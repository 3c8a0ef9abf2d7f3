"""Signed links that work without signing in: unsubscribe from one kind, and
open a notification (marking it read) from an email or a Slack message."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.urls import reverse

UNSUBSCRIBE_SALT = "lifecycle.notifications.unsubscribe"
OPEN_SALT = "lifecycle.notifications.open"


@dataclass(frozen=True)
class Unsubscribe:
    user_id: int
    kind: str


def absolute(path: str) -> str:
    return f"{settings.SITE_URL.rstrip('/')}{path}"


def unsubscribe_token(*, user_id: int, kind: str) -> str:
    return signing.dumps({"u": user_id, "k": kind}, salt=UNSUBSCRIBE_SALT, compress=True)


def unsubscribe_read(token: str) -> Unsubscribe | None:
    """The user and kind a token names, or None when it was tampered with."""
    try:
        data = signing.loads(token, salt=UNSUBSCRIBE_SALT)
        return Unsubscribe(user_id=int(data["u"]), kind=str(data["k"]))
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return None


def unsubscribe_url(*, user_id: int, kind: str) -> str:
    token = unsubscribe_token(user_id=user_id, kind=kind)
    return absolute(reverse("notifications:unsubscribe", args=[token]))


def open_url(notification_id: int) -> str:
    token = signing.dumps(notification_id, salt=OPEN_SALT)
    return absolute(reverse("notifications:open_signed", args=[token]))


def open_read(token: str) -> int | None:
    try:
        return int(signing.loads(token, salt=OPEN_SALT))
    except (signing.BadSignature, TypeError, ValueError):
        return None

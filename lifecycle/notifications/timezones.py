"""Each person's time zone, kept in their session so pages activate it without
a query (lifecycle.middleware.UserTimeZoneMiddleware)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

SESSION_KEY = "lifecycle_time_zone"


def zone_of(user: Any) -> str:
    from .models import Profile

    zone = Profile.objects.filter(user=user).values_list("time_zone", flat=True).first()
    return zone or str(settings.TIME_ZONE)


def remember_time_zone(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    """user_logged_in receiver: read the zone once, at sign-in."""
    if request is not None and hasattr(request, "session"):
        request.session[SESSION_KEY] = zone_of(user)

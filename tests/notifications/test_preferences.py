"""Preferences per person (kinds, channels, digest hour, time zone), admin
defaults, and each person's zone on their pages."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import time_machine
from django.urls import reverse

from accounts.models import Account
from lifecycle.notifications.models import Notification, Preference, Profile
from success.alerts.services import expansion_signal_raise
from tests.factories import AccountFactory, SuccessTaskFactory

FORM = {
    "time_zone": "Asia/Tokyo",
    "digest_hour": "7",
    "digest_email": "on",
    "alert_email": "on",
    "alert_in_app": "on",
    "expansion_signal_in_app": "on",
}


def test_a_person_saves_zone_hour_and_channels(client: Any, csm: Any, owned: Account) -> None:
    client.force_login(csm)
    response = client.post(reverse("notifications:preferences"), FORM)
    assert response.status_code == 302
    profile = Profile.objects.get(user=csm)
    assert (profile.time_zone, profile.digest_hour) == ("Asia/Tokyo", 7)
    signal_pref = Preference.objects.get(user=csm, kind="expansion_signal")
    assert (signal_pref.email, signal_pref.in_app) == (False, True)
    # Their choice is followed: in the app, no email.
    expansion_signal_raise(account=owned, note="Wants 40 seats", source="csm", by=csm)
    n = Notification.objects.get()
    assert n.in_app and not n.deliveries.filter(channel="email").exists()
    # And pages use the new zone at once.
    page = client.get(reverse("notifications:preferences")).content.decode()
    assert '<option value="Asia/Tokyo" selected>' in page


def test_an_unknown_zone_is_refused_and_nothing_changes(client: Any, csm: Any) -> None:
    client.force_login(csm)
    response = client.post(
        reverse("notifications:preferences"), {**FORM, "time_zone": "Mars/Olympus"}
    )
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not Profile.objects.filter(user=csm).exists()
    assert not Preference.objects.filter(user=csm).exists()


def test_admin_defaults_apply_to_people_who_never_chose(
    client: Any, admin_user: Any, csm: Any, owned: Account
) -> None:
    client.force_login(admin_user)
    response = client.post(
        reverse("notifications:settings"),
        {"digest_email": "on", "alert_email": "on", "expansion_signal_in_app": "on"},
    )
    assert response.status_code == 302
    expansion_signal_raise(account=owned, note="Wants 40 seats", source="csm", by=csm)
    n = Notification.objects.get()
    assert n.in_app and not n.deliveries.exists()


def test_only_admins_set_defaults(client: Any, csm: Any) -> None:
    client.force_login(csm)
    assert client.post(reverse("notifications:settings"), {}).status_code == 403


def test_a_csm_in_tokyo_sees_due_today_for_tokyos_today(client: Any, csm: Any) -> None:
    # 20:00 UTC on Nov 23 is 05:00 on Nov 24 in Tokyo.
    account = AccountFactory.create(owner=csm)
    SuccessTaskFactory.create(
        account=account, assignee_user=csm, title="Call the sponsor", due_date=date(2026, 11, 24)
    )
    SuccessTaskFactory.create(
        account=account, assignee_user=csm, title="Send the deck", due_date=date(2026, 11, 23)
    )
    with time_machine.travel(datetime(2026, 11, 23, 20, 0, tzinfo=UTC), tick=False):
        client.force_login(csm)
        utc_page = client.get(reverse("success:my_work")).content.decode()
        Profile.objects.create(user=csm, time_zone="Asia/Tokyo")
        client.force_login(csm)  # signing in reads the zone
        tokyo_page = client.get(reverse("success:my_work")).content.decode()

    def row(page: str, title: str) -> str:
        start = page.index(title)
        return page[page.rindex("<tr", 0, start) : page.index("</tr>", start)]

    # In UTC it is still Nov 23: the deck is due today, the call tomorrow.
    assert "due today" in row(utc_page, "Send the deck")
    assert "overdue" not in row(utc_page, "Send the deck")
    assert "due today" not in row(utc_page, "Call the sponsor")
    # In Tokyo it is Nov 24: the call is due today and the deck overdue.
    assert "due today" in row(tokyo_page, "Call the sponsor")
    assert "overdue" in row(tokyo_page, "Send the deck")


def test_the_preferences_page_saves_the_zone_for_the_session(client: Any, csm: Any) -> None:
    client.force_login(csm)
    client.post(reverse("notifications:preferences"), FORM)
    from lifecycle.notifications.timezones import SESSION_KEY

    assert client.session[SESSION_KEY] == "Asia/Tokyo"

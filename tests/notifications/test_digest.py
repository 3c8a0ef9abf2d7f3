"""Daily digests: what each person needs today in their own zone, at their
hour, received over real SMTP, with working unsubscribe and read links."""

from __future__ import annotations

import io
import re
import zoneinfo
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from lifecycle.notifications import digest
from lifecycle.notifications.models import Delivery, Notification, Preference, Profile
from lifecycle.settings.base import mailers_from_env
from tests.factories import UserFactory

from .book import book
from .servers import SmtpServer, body

TOKYO = zoneinfo.ZoneInfo("Asia/Tokyo")


def send_now() -> str:
    out = io.StringIO()
    call_command("send_digests", "--now", "--user", "csm", "--inline", stdout=out)
    return out.getvalue()


def test_send_digests_now_delivers_csm1s_digest_over_smtp(
    smtp: SmtpServer, csm: Any, client: Any
) -> None:
    book(csm, timezone.now(), zoneinfo.ZoneInfo("UTC"))
    send_now()
    assert len(smtp.messages) == 1
    message = smtp.messages[0]
    assert message["To"] == csm.email
    assert message["Subject"].startswith("Lifecycle digest for ")
    assert message["Message-ID"] == Delivery.objects.get().message_id
    text = body(message, "plain")
    html = body(message, "html")
    for expected in (
        "Overdue alerts (1)",
        "No login for 30 days",
        "New alerts (1)",
        "Health dropped 25%",
        "Tasks due today (1)",
        "Send the ROI deck",
        "Tasks overdue (1)",
        "Book the exec sponsor call",
        "Expansion signals due within 12 hours (1)",
        "Asked for 50 more seats",
        "Renewals in the next 90 days at risk or without a review (1)",
        "within 30 days · At risk",
        "Onboarding milestones late",
        "Kick-off call",
    ):
        assert expected in text, expected
    assert "Kick-off call" in html and '<a href="https://lifecycle.example.com/' in html
    # Links are absolute, from SITE_URL.
    assert "https://lifecycle.example.com/my-work/" in text
    unsubscribe = message["List-Unsubscribe"]
    assert re.fullmatch(
        r"<https://lifecycle\.example\.com/notifications/unsubscribe/\S+/>", unsubscribe
    )
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    # The link works without signing in: one-click POST as a mail client sends it.
    path = unsubscribe.strip("<>").removeprefix("https://lifecycle.example.com")
    response = client.post(path, {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200 and b"Unsubscribed" in response.content
    assert Preference.objects.get(user=csm, kind="digest").email is False
    # So the next digest is not sent, even on demand.
    send_now()
    assert len(smtp.messages) == 1


def test_the_open_link_in_an_email_marks_it_read_without_signing_in(
    smtp: SmtpServer, csm: Any, client: Any
) -> None:
    book(csm, timezone.now(), zoneinfo.ZoneInfo("UTC"))
    send_now()
    text = body(smtp.messages[0], "plain")
    link = re.search(r"Open in Lifecycle: https://lifecycle\.example\.com(\S+)", text)
    assert link is not None
    response = client.get(link.group(1))
    assert response.status_code == 302 and response["Location"] == reverse("success:my_work")
    assert Notification.objects.get().read_at is not None
    tampered = link.group(1).replace("/o/", "/o/x")
    assert client.get(tampered).status_code == 400


def test_an_unsubscribe_link_asks_first_and_refuses_a_forged_token(csm: Any, client: Any) -> None:
    from lifecycle.notifications.tokens import unsubscribe_token

    token = unsubscribe_token(user_id=csm.pk, kind="expansion_signal")
    page = client.get(reverse("notifications:unsubscribe", args=[token]))
    assert page.status_code == 200 and b"Stop these emails?" in page.content
    assert not Preference.objects.filter(user=csm).exists()
    forged = client.post(reverse("notifications:unsubscribe", args=[token[:-2] + "xx"]))
    assert forged.status_code == 400
    assert not Preference.objects.filter(user=csm).exists()


def test_nothing_to_say_means_no_email(smtp: SmtpServer, csm: Any) -> None:
    now = timezone.now()
    assert digest.digests_write(digests=digest.digests_build(users=[csm], now=now), now=now) == 0
    assert smtp.messages == [] and not Notification.objects.exists()
    # The day is still noted, so the frequent schedule does not look again today.
    assert Profile.objects.get(user=csm).last_digest_on == now.date()


def test_a_digest_is_due_at_the_persons_local_hour_once_a_day(csm: Any, other_csm: Any) -> None:
    Profile.objects.create(user=csm, time_zone="Asia/Tokyo", digest_hour=8)
    Profile.objects.create(user=other_csm, time_zone="America/New_York", digest_hour=20)
    before = datetime(2026, 11, 23, 22, 30, tzinfo=UTC)  # 07:30 in Tokyo
    at = datetime(2026, 11, 23, 23, 5, tzinfo=UTC)  # 08:05 in Tokyo, 18:05 in New York
    assert digest.due_now(users=[csm, other_csm], now=before) == []
    assert digest.due_now(users=[csm, other_csm], now=at) == [csm]
    book(csm, at, TOKYO)
    assert digest.digests_send_due(now=at) == 1
    n = Notification.objects.get()
    assert n.key == f"digest:{csm.pk}:2026-11-24"  # Tokyo's date, not UTC's
    assert str(Profile.objects.get(user=csm).last_digest_on) == "2026-11-24"
    assert digest.digests_send_due(now=at + timedelta(minutes=10)) == 0


def test_tokyos_today_decides_what_is_due_and_overdue(csm: Any) -> None:
    Profile.objects.create(user=csm, time_zone="Asia/Tokyo")
    now = datetime(2026, 11, 23, 23, 5, tzinfo=UTC)  # Nov 24 in Tokyo
    book(csm, now, TOKYO)
    (d,) = digest.digests_build(users=[csm], now=now)
    sections = {s.key: [line.title for line in s.lines] for s in d.sections}
    assert d.today.isoformat() == "2026-11-24"
    assert sections["tasks_due"] == ["Send the ROI deck"]  # due Nov 24
    assert sections["tasks_overdue"] == ["Book the exec sponsor call"]  # due Nov 23


def test_a_leader_gets_the_teams_roll_up(csm: Any, other_csm: Any) -> None:
    lead = UserFactory.create(username="lead", role="leader")
    Profile.objects.create(user=csm, team_leader=lead)
    now = timezone.now()
    book(csm, now, zoneinfo.ZoneInfo("UTC"))
    by_user = {d.user: d for d in digest.digests_build(users=[lead, csm, other_csm], now=now)}
    team = by_user[lead].team
    assert [(r.name, r.overdue_alerts, r.overdue_tasks, r.renewals_at_risk) for r in team] == [
        (str(csm), 1, 1, 1)
    ]
    assert not by_user[lead].is_empty and by_user[other_csm].is_empty
    _subject, text, html = digest.digest_render(by_user[lead])
    assert "Your team" in text and str(csm) in html
    assert by_user[csm].team == []


@pytest.mark.parametrize("people", [2, 8])
def test_building_digests_costs_the_same_queries_for_any_number_of_people(
    people: int, db: Any, django_assert_num_queries: Any
) -> None:
    now = timezone.now()
    lead = UserFactory.create(username="lead", role="leader")
    users = [lead]
    for i in range(people):
        csm = UserFactory.create(username=f"c{i}", role="csm")
        Profile.objects.create(user=csm, team_leader=lead, time_zone="Asia/Tokyo")
        book(csm, now, TOKYO)
        users.append(csm)
    # profiles; alerts, tasks, signals, renewals, milestones; roles; the leader's
    # roll-up: team, CSMs, four counts. Then the write: savepoint, existing keys,
    # notifications, deliveries, profiles, release.
    with django_assert_num_queries(13 + 6):
        digests = digest.digests_build(users=users, now=now)
        assert digest.digests_write(digests=digests, now=now) == people + 1


def test_email_settings_come_from_the_environment() -> None:
    assert mailers_from_env({})["default"]["BACKEND"].endswith("console.EmailBackend")
    smtp = mailers_from_env(
        {
            "EMAIL_HOST": "smtp.example.com",
            "EMAIL_PORT": "587",
            "EMAIL_USE_TLS": "1",
            "EMAIL_HOST_USER": "lifecycle",
            "EMAIL_HOST_PASSWORD": "secret",
        }
    )["default"]
    assert smtp["BACKEND"].endswith("smtp.EmailBackend")
    assert smtp["OPTIONS"] == {
        "host": "smtp.example.com",
        "port": 587,
        "use_tls": True,
        "username": "lifecycle",
        "password": "secret",
        "timeout": 10,
    }

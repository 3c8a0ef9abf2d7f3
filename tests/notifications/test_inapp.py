"""The bell and the inbox: unread notifications in the app; opening one here,
or from the link in an email or Slack, marks it read."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from accounts.models import Account
from lifecycle.notifications.models import Notification
from lifecycle.notifications.tokens import open_url
from success.alerts.services import expansion_signal_raise


def test_the_bell_counts_unread_and_the_inbox_lists_them(
    owned: Account, csm: Any, client: Any
) -> None:
    for note in ("Wants 40 seats", "Asked about SSO"):
        expansion_signal_raise(account=owned, note=note, source="csm", by=csm)
    client.force_login(csm)
    page = client.get(reverse("home")).content.decode()
    assert f'hx-get="{reverse("notifications:bell")}"' in page  # the nav loads the count
    bell = client.get(reverse("notifications:bell")).content.decode()
    assert '<span class="bell-count" id="bell-count">2</span>' in bell
    inbox = client.get(reverse("notifications:inbox")).content.decode()
    assert inbox.count("Expansion signal: Acme Corp") == 2 and "2 unread" in inbox


def test_opening_a_notification_marks_it_read_and_goes_to_its_page(
    owned: Account, csm: Any, client: Any
) -> None:
    expansion_signal_raise(account=owned, note="Wants 40 seats", source="csm", by=csm)
    n = Notification.objects.get()
    client.force_login(csm)
    response = client.get(reverse("notifications:open", args=[n.pk]))
    assert response.status_code == 302 and response["Location"] == n.path
    n.refresh_from_db()
    assert n.read_at is not None
    assert "bell-count" not in client.get(reverse("notifications:bell")).content.decode()


def test_someone_elses_notification_is_not_found(
    owned: Account, csm: Any, other_csm: Any, client: Any
) -> None:
    expansion_signal_raise(account=owned, note="Wants 40 seats", source="csm", by=csm)
    client.force_login(other_csm)
    n = Notification.objects.get()
    assert client.get(reverse("notifications:open", args=[n.pk])).status_code == 404
    assert Notification.objects.get().read_at is None


def test_the_link_in_slack_marks_it_read_here_without_signing_in(
    owned: Account, csm: Any, client: Any
) -> None:
    expansion_signal_raise(account=owned, note="Wants 40 seats", source="csm", by=csm)
    n = Notification.objects.get()
    path = open_url(n.pk).removeprefix("https://lifecycle.example.com")
    assert client.get(path).status_code == 302
    n.refresh_from_db()
    assert n.read_at is not None


def test_mark_all_read(owned: Account, csm: Any, client: Any) -> None:
    for note in ("One", "Two"):
        expansion_signal_raise(account=owned, note=note, source="csm", by=csm)
    client.force_login(csm)
    client.post(reverse("notifications:read_all"))
    assert not Notification.objects.filter(read_at__isnull=True).exists()


def test_the_inbox_costs_the_same_queries_for_more_notifications(
    owned: Account, csm: Any, client: Any, django_assert_num_queries: Any
) -> None:
    client.force_login(csm)
    expansion_signal_raise(account=owned, note="One", source="csm", by=csm)
    # session, user with their role, page count, unread count, page rows (with accounts)
    with django_assert_num_queries(5):
        client.get(reverse("notifications:inbox"))
    for i in range(6):
        expansion_signal_raise(account=owned, note=f"More {i}", source="csm", by=csm)
    with django_assert_num_queries(5):
        client.get(reverse("notifications:inbox"))

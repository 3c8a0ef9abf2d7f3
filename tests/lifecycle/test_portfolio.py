from __future__ import annotations

import csv
import html
import io
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Event, Segment, Stage
from accounts.services import event_record
from tests.factories import AccountFactory, ContactFactory, DealFactory, UsageSnapshotFactory

pytestmark = pytest.mark.django_db


def _names(response: Any) -> list[str]:
    return [a.name for a in response.context["page"].object_list]


def test_csm_sees_their_own_book_by_default(client: Any, csm: Any, other_csm: Any) -> None:
    AccountFactory.create(name="Mine", owner=csm)
    AccountFactory.create(name="Theirs", owner=other_csm)
    client.force_login(csm)
    assert _names(client.get(reverse("portfolio"))) == ["Mine"]
    assert _names(client.get(reverse("portfolio"), {"owner": "all"})) == ["Mine", "Theirs"]


def test_leader_sees_every_account_by_default(client: Any, leader: Any, csm: Any) -> None:
    AccountFactory.create(name="A", owner=csm)
    AccountFactory.create(name="B", owner=None)
    client.force_login(leader)
    assert _names(client.get(reverse("portfolio"))) == ["A", "B"]
    assert _names(client.get(reverse("portfolio"), {"owner": "none"})) == ["B"]


def test_filters_combine_search_segment_stage_and_renewal_window(client: Any, leader: Any) -> None:
    today = date.today()
    AccountFactory.create(
        name="Acme Soon",
        segment=Segment.SMB,
        stage=Stage.RENEWAL,
        renewal_date=today + timedelta(days=20),
    )
    AccountFactory.create(
        name="Acme Later",
        segment=Segment.SMB,
        stage=Stage.RENEWAL,
        renewal_date=today + timedelta(days=200),
    )
    AccountFactory.create(
        name="Acme Enterprise",
        segment=Segment.ENTERPRISE,
        stage=Stage.RENEWAL,
        renewal_date=today + timedelta(days=20),
    )
    AccountFactory.create(
        name="Other",
        segment=Segment.SMB,
        stage=Stage.RENEWAL,
        renewal_date=today + timedelta(days=20),
    )
    client.force_login(leader)
    response = client.get(
        reverse("portfolio"),
        {"q": "acme", "segment": "smb", "stage": "renewal", "renewal_within": "30"},
    )
    assert _names(response) == ["Acme Soon"]


def test_sorting_by_arr_descending(client: Any, leader: Any) -> None:
    for name, arr in [("Small", "10"), ("Big", "1000"), ("Mid", "100")]:
        AccountFactory.create(name=name, arr=Decimal(arr))
    client.force_login(leader)
    assert _names(client.get(reverse("portfolio"), {"sort": "-arr"})) == ["Big", "Mid", "Small"]


def test_invalid_filter_shows_an_error_instead_of_failing(client: Any, leader: Any) -> None:
    AccountFactory.create()
    client.force_login(leader)
    response = client.get(reverse("portfolio"), {"renewal_within": "-4"})
    assert response.status_code == 200
    assert "renewal_within" in response.context["filter"].errors


def test_pagination_splits_pages(client: Any, leader: Any, settings: Any) -> None:
    settings.PORTFOLIO_PAGE_SIZE = 2
    for i in range(5):
        AccountFactory.create(name=f"Acc {i}")
    client.force_login(leader)
    response = client.get(reverse("portfolio"), {"page": 3})
    assert _names(response) == ["Acc 4"]
    assert response.context["page"].paginator.num_pages == 3


def test_htmx_request_gets_only_the_results_fragment(client: Any, leader: Any) -> None:
    AccountFactory.create(name="Fragment Co")
    client.force_login(leader)
    body = client.get(reverse("portfolio"), headers={"HX-Request": "true"}).content.decode()
    assert body.lstrip().startswith('<section id="results"')
    assert "Fragment Co" in body and "<html" not in body


def test_empty_book_says_what_to_do(client: Any, csm: Any) -> None:
    client.force_login(csm)
    assert "Your book is empty." in client.get(reverse("portfolio")).content.decode()


@pytest.mark.parametrize("rows", [5, 50])
def test_portfolio_query_count_does_not_grow_with_rows(
    client: Any, leader: Any, csm: Any, rows: int, django_assert_num_queries: Any, settings: Any
) -> None:
    settings.PORTFOLIO_PAGE_SIZE = 100
    for _ in range(rows):
        AccountFactory.create(owner=csm)
    client.force_login(leader)
    # session, user, everyone (owner choices, the user's role), the live-account counts
    # the database keeps (accounts.LiveAccountCount: no COUNT(*) of every live account),
    # the page's rows
    with django_assert_num_queries(5):
        response = client.get(reverse("portfolio"))
    assert len(response.context["page"].object_list) == rows


@pytest.mark.parametrize("rows", [5, 50])
def test_account_page_query_count_does_not_grow_with_rows(
    client: Any, leader: Any, rows: int, django_assert_num_queries: Any
) -> None:
    account = AccountFactory.create(hubspot_id="9001", owner=leader)
    for _ in range(rows):
        ContactFactory.create(account=account)
        DealFactory.create(account=account)
    UsageSnapshotFactory.create(account=account)
    client.force_login(leader)
    # session; user with their role; then the page's 17 statements in one round trip
    # (plain_sql.read_ahead): account, contacts, deals, timeline (events, engagements),
    # latest usage, success (current plan, reviews, open renewal, open tasks), health
    # (latest score, live override), live alerts, playbooks (the account's runs, the
    # playbooks to start), support (tickets for the figures and the open list, survey
    # answers for the figures and the latest; the last touches are among the timeline's
    # engagements); then the names of the people shown (owner, actors, assignees), read
    # once; and the open sync conflicts (linked accounts only)
    with django_assert_num_queries(2 + 1 + 1 + 1):
        response = client.get(reverse("account", args=[account.pk]))
    assert response.content.decode().count('class="badge">Champion') == rows


def test_export_honours_the_filters(client: Any, leader: Any) -> None:
    AccountFactory.create(name="Keep", segment=Segment.ENTERPRISE, arr=Decimal("1234.50"))
    AccountFactory.create(name="Drop", segment=Segment.SMB)
    client.force_login(leader)
    response = client.get(reverse("portfolio_export"), {"segment": "enterprise"})
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [(r["name"], r["arr"]) for r in rows] == [("Keep", "1234.50")]


def test_stage_change_page_requires_a_reason_and_records_it(client: Any, csm: Any) -> None:
    account = AccountFactory.create(owner=csm, stage=Stage.ADOPTION)
    client.force_login(csm)
    url = reverse("accounts:stage", args=[account.pk])
    response = client.post(url, {"to_stage": "at_risk", "reason": ""})
    assert response.status_code == 200 and "This field is required." in response.content.decode()
    account.refresh_from_db()
    assert account.stage == Stage.ADOPTION
    response = client.post(url, {"to_stage": "at_risk", "reason": "Usage halved"}, follow=True)
    assert "Stage Adoption → At risk: Usage halved" in response.content.decode()


def test_csm_editing_another_csms_account_sees_what_is_missing(
    client: Any, csm: Any, other_csm: Any
) -> None:
    account = AccountFactory.create(owner=other_csm, name="Not Yours Inc")
    client.force_login(csm)
    response = client.get(reverse("accounts:edit", args=[account.pk]))
    assert response.status_code == 403
    assert "Only the account's owner, a CS leader or an admin can change Not Yours Inc." in (
        html.unescape(response.content.decode())
    )


def test_edit_form_rerenders_with_messages_and_changes_nothing(client: Any, csm: Any) -> None:
    account = AccountFactory.create(owner=csm, name="Stable", currency="USD")
    client.force_login(csm)
    response = client.post(
        reverse("accounts:edit", args=[account.pk]),
        {"name": "", "segment": "smb", "arr": "abc", "currency": "$$$", "status": "active"},
    )
    page = response.content.decode()
    assert "Use a three-letter currency code" in page and "Enter a number." in page
    account.refresh_from_db()
    assert account.name == "Stable"


def _touched(account: Any, days_ago: int, by: Any) -> None:
    event_record(
        account=account,
        kind=Event.Kind.NOTE,
        summary="Check-in call",
        actor=by,
        occurred_at=timezone.now() - timedelta(days=days_ago),
    )


def test_sort_by_least_recent_activity_puts_never_touched_accounts_first(
    client: Any, leader: Any, csm: Any
) -> None:
    for name, days in (("Recent", 1), ("Quiet", 40), ("Never", None), ("Older", 90)):
        account = AccountFactory.create(name=name, owner=csm)
        if days is not None:
            _touched(account, days, csm)
    client.force_login(leader)
    assert _names(client.get(reverse("portfolio"), {"sort": "activity"})) == [
        "Never",
        "Older",
        "Quiet",
        "Recent",
    ]
    assert _names(client.get(reverse("portfolio"), {"sort": "-activity"})) == [
        "Recent",
        "Quiet",
        "Older",
        "Never",
    ]
    quiet = client.get(reverse("portfolio"), {"quiet_for": "30", "sort": "activity"})
    assert _names(quiet) == ["Never", "Older", "Quiet"]
    bad = client.get(reverse("portfolio"), {"quiet_for": "-3"})
    assert "quiet_for" in bad.content.decode()


@pytest.mark.parametrize("rows", [5, 50])
def test_activity_filter_and_sort_cost_flat_queries(
    client: Any, leader: Any, csm: Any, rows: int, django_assert_num_queries: Any, settings: Any
) -> None:
    settings.PORTFOLIO_PAGE_SIZE = 100
    for i in range(rows):
        _touched(AccountFactory.create(owner=csm), 31 + i, csm)
    client.force_login(leader)
    # session, user, everyone (owner choices, the user's role), the count with the page
    # (the quiet days narrow the list below what the database's kept counts say)
    with django_assert_num_queries(4):
        response = client.get(reverse("portfolio"), {"quiet_for": "30", "sort": "-activity"})
    assert len(response.context["page"].object_list) == rows

"""My work opens on what is due now (overdue, the next 7 days: the first rows of
each, with counts) and shows every section a page at a time: every item is on
exactly one page, in the order the whole list has, and the counts are right."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import pytest
from django.urls import reverse

from accounts.models import Account
from success.selectors.work import PER_PAGE, PREVIEW, SECTIONS, my_work, work_sections
from tests.factories import (
    AccountFactory,
    BusinessReviewFactory,
    RenewalFactory,
    SuccessTaskFactory,
)

pytestmark = pytest.mark.django_db

URL = reverse("success:my_work")


def _book(csm: Any) -> None:
    """Items in every section, more than a page in one, with ties on the same day
    between kinds (tasks, action items, reviews, renewals) and within a kind."""
    today = date.today()
    account = AccountFactory.create(owner=csm, renewal_date=None)
    for i in range(3):
        SuccessTaskFactory.create(
            account=account, assignee_user=csm, title=f"late {i}", due_date=today - timedelta(2)
        )
    for i in range(30):
        SuccessTaskFactory.create(
            account=account, assignee_user=csm, title=f"week {i}", due_date=today + timedelta(i % 8)
        )
    for i in range(230):
        SuccessTaskFactory.create(
            account=account,
            assignee_user=csm,
            title=f"later {i}",
            due_date=today + timedelta(days=8 + i % 20),
        )
    for i in range(6):
        review = BusinessReviewFactory.create(
            account=account, owner=csm, scheduled_for=today + timedelta(days=8 + i)
        )
        SuccessTaskFactory.create(
            account=account,
            assignee_user=csm,
            review=review,
            title=f"action {i}",
            due_date=today + timedelta(days=8 + i),
        )
    for i in range(5):
        RenewalFactory.create(
            account=AccountFactory.create(owner=csm, renewal_date=None),
            renewal_date=today + timedelta(days=9 + i),
        )
    # not theirs, done, or on an archived account: never listed
    SuccessTaskFactory.create(account=account, title="someone else's", due_date=today)
    RenewalFactory.create(
        account=AccountFactory.create(owner=csm, status=Account.Status.ARCHIVED),
        renewal_date=today + timedelta(days=9),
    )
    for i in range(2):
        SuccessTaskFactory.create(
            account=account, assignee_user=csm, title=f"undated {i}", due_date=None
        )


def _rows(body: str) -> list[tuple[str, str]]:
    """Each row's link and title, in page order."""
    return re.findall(r'<a class="row-title" href="([^"]+)">([^<]*)</a>', body)


def _expected(items: list[Any]) -> list[tuple[str, str]]:
    return [(i.url, i.title) for i in items]


def test_every_item_is_on_exactly_one_page_in_list_order(client: Any, csm: Any) -> None:
    _book(csm)
    client.force_login(csm)
    everything = my_work(user=csm, today=date.today())
    assert len(everything) == 3 + 30 + 230 + 6 + 6 + 5 + 2
    seen: list[tuple[str, str]] = []
    for key in SECTIONS:
        page = 1
        while True:
            body = client.get(f"{URL}?section={key}&page={page}").content.decode()
            rows = _rows(body)
            assert 0 < len(rows) <= PER_PAGE
            seen += rows
            if 'rel="next"' not in body:
                break
            page += 1
    assert seen == _expected(everything)  # nothing lost, nothing twice, same order
    # a day's items keep the list's order across the page break: kind, then id
    later = [i for i in everything if i.due and i.due >= date.today() + timedelta(days=8)]
    assert [i.kind for i in later[:14]].count("action") >= 1


def test_counts_and_the_first_view(client: Any, csm: Any) -> None:
    _book(csm)
    client.force_login(csm)
    body = client.get(URL).content.decode()
    counts = {s.key: s.count for s in work_sections(user=csm, today=date.today(), show=(), limit=0)}
    assert counts == {"overdue": 3, "week": 30, "later": 230 + 6 + 6 + 5, "undated": 2}
    assert '282 items, <span class="succ-late">3 overdue</span>' in body
    assert '<h2 id="work-overdue">Overdue <span class="muted">(3)</span></h2>' in body
    assert '<h2 id="work-week">Next 7 days <span class="muted">(30)</span></h2>' in body
    assert 'href="?section=later">Later (247)</a>' in body
    assert 'href="?section=undated">No date (2)</a>' in body
    # what is due now, the first rows of each section, then a link to all of it
    everything = my_work(user=csm, today=date.today())
    assert _rows(body) == _expected(everything[: 3 + PREVIEW])
    assert '<a class="btn btn-small" href="?section=week">5 more — show all 30</a>' in body
    assert "later 0" not in body


def test_a_section_page_says_where_it_is(client: Any, csm: Any) -> None:
    _book(csm)
    client.force_login(csm)
    body = client.get(f"{URL}?section=later&page=2").content.decode()
    assert "Showing 101–200 of 247" in body and "Page 2 of 3" in body
    assert '<strong aria-current="page">Later (247)</strong>' in body
    assert 'href="?section=later&page=3" rel="next"' in body
    # a row ticked off there comes back to the same page
    assert 'name="next" value="/my-work/?section=later&amp;page=2"' in body


def test_past_the_last_page_shows_the_last_and_a_bad_section_the_first_view(
    client: Any, csm: Any
) -> None:
    _book(csm)
    client.force_login(csm)
    last = client.get(f"{URL}?section=later&page=3").content.decode()
    past = client.get(f"{URL}?section=later&page=9").content.decode()
    assert _rows(past) == _rows(last) and len(_rows(last)) == 47 and "Page 3 of 3" in past
    assert _rows(client.get(f"{URL}?section=later&page=x").content.decode()) == _rows(
        client.get(f"{URL}?section=later").content.decode()
    )
    assert _rows(client.get(f"{URL}?section=nope").content.decode()) == _rows(
        client.get(URL).content.decode()
    )


def test_nothing_due_now_points_to_the_rest(client: Any, csm: Any) -> None:
    SuccessTaskFactory.create(
        account=AccountFactory.create(owner=csm, renewal_date=None),
        assignee_user=csm,
        title="Next month",
        due_date=date.today() + timedelta(days=30),
    )
    client.force_login(csm)
    body = client.get(URL).content.decode()
    assert "Nothing overdue or due in the next 7 days." in body
    assert 'href="?section=later">Later (1)</a>' in body and "Next month" not in body

"""LiveAccountCount: the live accounts per owner that PostgreSQL's triggers keep
(migration 0019) stay what COUNT(*) finds after every kind of account write, and the
portfolio shows the same counts and pages from them as from COUNT(*)."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.paginator import Paginator
from django.db import connection
from django.db.models import Count
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import Account
from accounts.selectors import live_account_counts
from tests.factories import AccountFactory, UserFactory

pytestmark = pytest.mark.django_db


def _counted() -> dict[tuple[int | None, str, str], int]:
    live = Account.objects.exclude(status=Account.Status.ARCHIVED).order_by()
    return {
        (owner, segment, stage): n
        for owner, segment, stage, n in live.values_list("owner_id", "segment", "stage")
        .annotate(n=Count("pk"))
        .order_by()
    }


def _kept() -> dict[tuple[int | None, str, str], int]:
    kept = live_account_counts()
    assert kept is not None
    return {(c.owner_id, c.segment, c.stage): c.accounts for c in kept}


def _per_owner() -> dict[int | None, int]:
    owners: dict[int | None, int] = {}
    for (owner, _, _), n in _kept().items():
        owners[owner] = owners.get(owner, 0) + n
    return owners


def test_counts_follow_every_kind_of_account_write() -> None:
    ann, bob = UserFactory.create(), UserFactory.create()
    assert live_account_counts() == []
    for i in range(5):
        AccountFactory.create(owner=ann if i % 2 else bob)
    AccountFactory.create(owner=None)
    Account.objects.bulk_create(
        [
            Account(name=f"Bulk {i}", owner=ann, status="archived" if i == 3 else "active")
            for i in range(6)
        ]
    )
    assert _kept() == _counted()
    assert _per_owner() == {ann.pk: 7, bob.pk: 3, None: 1}

    moved = Account.objects.filter(owner=bob).first()
    assert moved is not None
    moved.owner = ann
    moved.save()  # every column updated: only the owner's change counts
    moved.arr = moved.arr + 1
    moved.save()
    Account.objects.filter(owner=None).update(owner=bob)
    Account.objects.filter(owner=bob).update(health_score=40)  # not counted
    archived = Account.objects.filter(owner=ann, status="active").first()
    assert archived is not None
    archived.status = Account.Status.ARCHIVED
    archived.save(update_fields=["status"])
    Account.objects.filter(status="archived", name="Bulk 3").update(
        status=Account.Status.ACTIVE, owner=None
    )  # restored and moved at once
    Account.objects.filter(name="Bulk 0").update(segment="enterprise", stage="renewal")
    Account.objects.filter(name="Bulk 1").update(stage="renewal")
    assert _kept() == _counted()
    assert _per_owner() == {ann.pk: 7, bob.pk: 3, None: 1}

    for account in Account.objects.filter(owner=ann, status="active").order_by("pk")[:2]:
        account.delete()
    Account.objects.filter(status="archived").delete()  # not counted either way
    bob.delete()  # their accounts become unassigned (SET NULL)
    assert _kept() == _counted()
    assert _per_owner() == {ann.pk: 5, None: 4}


@pytest.mark.django_db(transaction=True)  # TRUNCATE waits for no deferred check
def test_truncate_empties_the_counts() -> None:
    AccountFactory.create_batch(3)
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE accounts_account CASCADE")
    assert live_account_counts() == []


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"sort": "-arr"},
        {"sort": "owner"},
        {"sort": "-owner", "page": "2"},
        {"owner": "me"},
        {"owner": "me", "sort": "owner"},
        {"owner": "none"},
        {"owner": "none", "sort": "-owner"},
        {"owner": "{ann}", "sort": "renewal"},
        {"owner": "{csm}", "sort": "-owner"},
        {"owner": "no-such-owner"},  # not a choice: every account, as the filter reads it
        {"segment": "enterprise", "sort": "owner"},
        {"segment": "enterprise", "stage": "renewal", "sort": "-arr"},
        {"owner": "{ann}", "stage": "renewal", "sort": "-owner"},
        {"stage": "adoption", "page": "2"},
        {"segment": "smb", "q": "Account"},  # the search is counted
        {"q": "  "},
        {"renewal_within": "200"},
        {"page": "2"},
        {"page": "4"},
    ],
)
def test_portfolio_counts_and_pages_as_counting_does(
    client: Any, leader: Any, csm: Any, params: dict[str, str], settings: Any
) -> None:
    settings.PORTFOLIO_PAGE_SIZE = 4
    ann = UserFactory.create(first_name="Ann")
    ann.groups.add(*csm.groups.all())
    for i in range(13):
        AccountFactory.create(
            owner=[ann, csm, None, leader][i % 4],
            segment="enterprise" if i % 3 else "smb",
            stage="renewal" if i % 5 < 2 else "adoption",
            status="archived" if i == 5 else "active",
        )
    params = {k: v.format(ann=ann.pk, csm=csm.pk) for k, v in params.items()}
    client.force_login(leader)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("portfolio"), params)
    assert response.status_code == 200
    # Only the search and the renewal window are counted; the rest read the kept counts.
    narrowed = bool(params.get("q", "").strip() or params.get("renewal_within"))
    assert any("COUNT(" in q["sql"] for q in queries.captured_queries) == narrowed
    page = response.context["page"]
    accounts = response.context["filter"].qs  # what the page counts and pages
    counted = Paginator(accounts, 4)
    assert page.paginator.count == counted.count == accounts.count() > 0
    expected = counted.get_page(params.get("page"))
    assert page.number == expected.number
    assert [row.pk for row in page.object_list] == [a.pk for a in expected.object_list]

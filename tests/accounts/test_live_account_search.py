"""LiveAccountSearch: the names and domains PostgreSQL's triggers keep for the
portfolio search's count (migration 0020) stay what the accounts hold after every
kind of account write, and the portfolio counts a search from them exactly as
`name ILIKE %q% OR domain ILIKE %q%` counts it on the accounts."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.db.models import Q
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import Account, LiveAccountSearch
from accounts.portfolio_sql import live_search_count
from tests.factories import AccountFactory, UserFactory

pytestmark = pytest.mark.django_db


def _expected() -> dict[int, str]:
    """Each live account's name and domain as PostgreSQL upper-cases them."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, UPPER(name::text) || E'\\n' || UPPER(domain::text) "
            "FROM accounts_account WHERE status <> 'archived'"
        )
        return dict(cursor.fetchall())


def _kept() -> dict[int, str]:
    return dict(LiveAccountSearch.objects.values_list("account_id", "text"))


def test_kept_text_follows_every_kind_of_account_write() -> None:
    owner = UserFactory.create()
    assert _kept() == {}
    acme = AccountFactory.create(name="Acme Café", domain="acme.example")
    AccountFactory.create(name="Gone", domain="", status=Account.Status.ARCHIVED)
    Account.objects.bulk_create(
        [
            Account(name=f"Bulk {i}", domain=f"bulk{i}.example", status=status)
            for i, status in enumerate(["active", "archived", "active"])
        ]
    )
    assert _kept() == _expected()
    assert _kept()[acme.pk] == "ACME CAFÉ\nACME.EXAMPLE"
    assert len(_kept()) == 3

    acme.name = "Acme Industries"
    acme.save()  # every column written: the name changed
    acme.arr += 1
    acme.owner = owner
    acme.save()  # the name and domain did not: the trigger does not fire
    Account.objects.filter(name="Bulk 0").update(domain="renamed.example")
    Account.objects.filter(name="Bulk 2").update(status=Account.Status.ARCHIVED)
    Account.objects.filter(name="Bulk 1").update(status=Account.Status.ACTIVE, name="Back")
    Account.objects.filter(name="Gone").update(status=Account.Status.ACTIVE)  # restored
    Account.objects.update(health_score=40)  # not the search's columns
    assert _kept() == _expected()
    assert _kept()[acme.pk] == "ACME INDUSTRIES\nACME.EXAMPLE"

    acme.delete()
    Account.objects.filter(name="Back").delete()
    Account.objects.filter(status=Account.Status.ARCHIVED).delete()
    assert _kept() == _expected()
    assert sorted(_kept().values()) == ["BULK 0\nRENAMED.EXAMPLE", "GONE\n"]


@pytest.mark.django_db(transaction=True)  # TRUNCATE waits for no deferred check
def test_truncate_empties_the_kept_text() -> None:
    AccountFactory.create_batch(3)
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE accounts_account CASCADE")
    assert _kept() == {}


def _count(term: str) -> int:
    found = live_search_count(term)
    assert found is not None
    sql, params = found
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0]


@pytest.mark.parametrize(
    "term",
    ["acme", "ACME", "café", "CAFÉ", "example", "100%", "_co", "a\\b", ".", "x" * 300],
)
def test_the_kept_count_is_the_search_count(term: str) -> None:
    for name, domain in [
        ("Acme 100%", "acme.example"),
        ("Beta_co", ""),
        ("Café Noir", "cafe.example"),
        ("a\\b tools", "ab.example"),
        ("Plain", "plain.example"),
    ]:
        AccountFactory.create(name=name, domain=domain)
    AccountFactory.create(name="Acme archived", domain="", status=Account.Status.ARCHIVED)
    searched = Account.objects.exclude(status=Account.Status.ARCHIVED).filter(
        Q(name__icontains=term) | Q(domain__icontains=term)
    )
    assert _count(term) == searched.count()


def test_a_term_across_name_and_domain_is_counted_on_the_accounts() -> None:
    AccountFactory.create(name="Acme", domain="bolt.example")
    assert live_search_count("acme\nbolt") is None  # the kept text would match it
    assert live_search_count("acme") is not None


def test_the_portfolio_search_counts_from_the_kept_text(client: Any, leader: Any) -> None:
    for i in range(7):
        AccountFactory.create(name=f"Tech {i}" if i % 2 else f"Other {i}", domain="")
    client.force_login(leader)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("portfolio"), {"q": "tech", "owner": "all"})
    assert response.status_code == 200
    assert response.context["page"].paginator.count == 3
    searched = [q["sql"] for q in queries if LiveAccountSearch._meta.db_table in q["sql"]]
    assert len(searched) == 1
    # With another filter the search is counted on the accounts, with that filter.
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("portfolio"), {"q": "tech", "segment": "smb"})
    assert not [q for q in queries if LiveAccountSearch._meta.db_table in q["sql"]]

"""lifecycle.ops.planner: Lifecycle's PostgreSQL connections price a random page read
as data in memory, and the renewals page's totals look its accounts up by key."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Account
from lifecycle.settings import base
from success.models import Renewal
from success.selectors.renewals import renewals_pipeline, renewals_totals
from tests.factories import AccountFactory, RenewalFactory

pytestmark = pytest.mark.django_db(transaction=True)  # new connections


def _show() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW random_page_cost")
        return str(cursor.fetchone()[0])


def test_each_new_connection_gets_the_setting(settings: Any) -> None:
    connection.close()
    assert _show() == "1.1"
    settings.DATABASE_RANDOM_PAGE_COST = 2.5
    connection.close()
    assert _show() == "2.5"


def test_none_leaves_the_servers_own(settings: Any) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT boot_val FROM pg_settings WHERE name = 'random_page_cost'")
        server = cursor.fetchone()[0]
    settings.DATABASE_RANDOM_PAGE_COST = None
    connection.close()
    assert _show() == server


@pytest.mark.parametrize(("value", "read"), [("", None), ("1.1", 1.1), (" 2 ", 2.0)])
def test_the_environment_sets_it(monkeypatch: Any, value: str, read: float | None) -> None:
    monkeypatch.setenv("DATABASE_RANDOM_PAGE_COST", value)
    assert base._random_page_cost() == read


@pytest.mark.parametrize("value", ["fast", "0", "-1", "nan"])
def test_a_bad_value_stops_the_start_with_what_is_wrong(monkeypatch: Any, value: str) -> None:
    monkeypatch.setenv("DATABASE_RANDOM_PAGE_COST", value)
    with pytest.raises(ImproperlyConfigured, match="DATABASE_RANDOM_PAGE_COST must be"):
        base._random_page_cost()


def test_renewal_totals_read_their_accounts_by_key() -> None:
    """The plan the setting is for: a few open renewals among many accounts are
    joined by primary-key probes, not by reading every account."""
    accounts = Account.objects.bulk_create(AccountFactory.build_batch(5000), batch_size=1000)
    for account in accounts[::34]:  # spread over the table, as renewals are
        RenewalFactory.create(account=account, status=Renewal.Status.OPEN)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE accounts_account")
        cursor.execute("ANALYZE success_renewal")
    connection.close()
    query = renewals_pipeline().order_by()
    totals = renewals_totals(renewals=query)
    assert sum(p.count for p in totals) == 148
    with CaptureQueriesContext(connection) as sent:
        renewals_totals(renewals=query)
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + sent[0]["sql"])
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "Seq Scan on accounts_account" not in plan, plan
    assert "accounts_account_pkey" in plan, plan
